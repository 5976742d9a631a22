// Two-entry stream FIFO. ready_o is a flop output, so the producer's accept decision never waits
// on the consumer's ready_i (no combinational path through the FIFO), and a full rate stream
// passes without bubbles: at one in and one out per clock the FIFO holds one entry.
`default_nettype none

module chio_fifo2 #(
  parameter int unsigned Width = 8  // bits per entry
) (
  input  wire logic             clk_i,
  input  wire logic             rst_ni,
  // input stream
  input  wire logic             valid_i,
  output      logic             ready_o,
  input  wire logic [Width-1:0] data_i,
  // output stream
  output      logic             valid_o,
  input  wire logic             ready_i,
  output      logic [Width-1:0] data_o,
  // no entry held
  output      logic             empty_o
);
  if (Width < 1) begin : gen_width_check
    $error("chio_fifo2: Width must be at least 1");
  end

  logic [Width-1:0] mem_q [2];
  logic             wptr_q, rptr_q;
  logic [1:0]       count_q, count_d;
  logic             push, pop;

  assign push = valid_i && ready_o;
  assign pop = valid_o && ready_i;
  assign count_d = count_q + 2'(push) - 2'(pop);

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      wptr_q <= 1'b0;
      rptr_q <= 1'b0;
      count_q <= 2'd0;
    end else begin
      if (push) wptr_q <= !wptr_q;
      if (pop) rptr_q <= !rptr_q;
      count_q <= count_d;
    end
  end

  always_ff @(posedge clk_i) begin
    if (push) mem_q[wptr_q] <= data_i;
  end

  assign ready_o = (count_q != 2'd2);
  assign valid_o = (count_q != 2'd0);
  assign data_o = mem_q[rptr_q];
  assign empty_o = (count_q == 2'd0);

`ifndef SYNTHESIS
  // Output stream rule: valid holds and the entry stays put until it is taken.
  a_out_stable: assert property (@(posedge clk_i) disable iff (!rst_ni)
      valid_o && !ready_i |=> valid_o && $stable(data_o));
  a_count_range: assert property (@(posedge clk_i) disable iff (!rst_ni) count_q <= 2'd2);
`endif
endmodule

`default_nettype wire
