// Stream FIFO with NumPush push ports and one output. The elements pushed in one clock enter in
// port order (port 0 first). room_o means "NumPush elements fit" and comes from flops only, so a
// producer's decision never waits on the consumer's ready_i (no combinational path through the
// FIFO); with Depth >= NumPush + 1 a stream of one element per clock passes without bubbles.
`default_nettype none

module chio_fifo_mp #(
  parameter int unsigned Width = 8,    // bits per element
  parameter int unsigned NumPush = 1,  // push ports
  parameter int unsigned Depth = 4,    // entries (a power of two, at least NumPush + 1)
  localparam int unsigned PtrBits = $clog2(Depth),
  localparam int unsigned CntBits = PtrBits + 1
) (
  input  wire logic                            clk_i,
  input  wire logic                            rst_ni,
  // input: push_i[p] adds data_i[p]; only when room_o
  input  wire logic [NumPush-1:0]              push_i,
  input  wire logic [NumPush*Width-1:0]       data_i,  // port p at [p*Width +: Width]
  output      logic                            room_o,
  // output stream
  output      logic                            valid_o,
  input  wire logic                            ready_i,
  output      logic [Width-1:0]                data_o,
  // no element held
  output      logic                            empty_o
);
  if (Width < 1 || NumPush < 1 || Depth < NumPush + 1 || Depth != (1 << PtrBits))
  begin : gen_param_check
    $error("chio_fifo_mp: need Width >= 1, NumPush >= 1, Depth a power of two > NumPush");
  end

  logic [Width-1:0]   mem_q [Depth];
  logic [PtrBits-1:0] wptr_q, rptr_q;
  logic [CntBits-1:0] count_q, pushes;
  logic [PtrBits-1:0] slot [NumPush];  // where each port's element goes
  logic               pop;

  always_comb begin
    pushes = '0;
    for (int unsigned p = 0; p < NumPush; p++) begin
      slot[p] = wptr_q + PtrBits'(pushes);
      pushes = pushes + CntBits'(push_i[p]);
    end
  end

  assign pop = valid_o && ready_i;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      wptr_q <= '0;
      rptr_q <= '0;
      count_q <= '0;
    end else begin
      wptr_q <= wptr_q + PtrBits'(pushes);
      if (pop) rptr_q <= rptr_q + 1'b1;
      count_q <= count_q + pushes - CntBits'(pop);
    end
  end

  always_ff @(posedge clk_i) begin
    for (int unsigned p = 0; p < NumPush; p++) begin
      if (push_i[p]) mem_q[slot[p]] <= data_i[p*Width +: Width];
    end
  end

  assign room_o = (CntBits'(Depth) - count_q) >= CntBits'(NumPush);
  assign valid_o = (count_q != '0);
  assign data_o = mem_q[rptr_q];
  assign empty_o = (count_q == '0);

`ifndef SYNTHESIS
  // Output stream rule: valid holds and the element stays put until it is taken.
  a_out_stable: assert property (@(posedge clk_i) disable iff (!rst_ni)
      valid_o && !ready_i |=> valid_o && $stable(data_o));
  // Pushes only with room (the user's rule): nothing is ever overwritten.
  a_push_with_room: assert property (@(posedge clk_i) disable iff (!rst_ni)
      (push_i != '0) |-> room_o);
  a_count_range: assert property (@(posedge clk_i) disable iff (!rst_ni)
      count_q <= CntBits'(Depth));
`endif
endmodule

`default_nettype wire
