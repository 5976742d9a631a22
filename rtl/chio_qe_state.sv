// One state table of the queue engine (work queues or completion rings): a 1R1W RAM with one
// word per queue, its clearing after reset, and the forwarding register that hides the RAM's
// read-during-write hazard from the pipeline.
// Rule: the forwarding register always holds the last word written (with its address), so when
// S1's address matches it, that word is the queue's current state whether the RAM read saw the
// write (earlier clock) or not (same clock). Clearing after reset invalidates it.
`default_nettype none

module chio_qe_state #(
  parameter int unsigned IdBits = 4,    // address bits: 2^IdBits queues
  parameter int unsigned InitBits = 4,  // width of the clearing counter (>= IdBits)
  parameter type state_t = logic [7:0]  // one queue's state word
) (
  input  wire logic                clk_i,
  input  wire logic                rst_ni,
  // clearing after reset: word init_cnt_i is written with zeros while init_i is set
  input  wire logic                init_i,
  input  wire logic [InitBits-1:0] init_cnt_i,
  // read of the queue of the op entering the pipeline
  input  wire logic                re_i,
  input  wire logic [IdBits-1:0]   raddr_i,
  // current state of the queue of the op in S1
  input  wire logic [IdBits-1:0]   s1_addr_i,
  output      state_t              cur_o,
  // write back from S1
  input  wire logic                we_i,
  input  wire state_t              wdata_i
);
  localparam int unsigned Width = $bits(state_t);

  if (InitBits < IdBits) begin : gen_init_bits_check
    $error("chio_qe_state: InitBits must be at least IdBits");
  end

  logic                we;
  logic [IdBits-1:0]   waddr;
  state_t              wdata, rdata;
  logic                clearing;
  logic                fwd_valid_q;
  logic [IdBits-1:0]   fwd_addr_q;
  state_t              fwd_data_q;

  // The clearing sweep covers the larger table; this one takes the words in its range.
  assign clearing = init_i && ((init_cnt_i >> IdBits) == '0);
  assign we = clearing || (!init_i && we_i);
  assign waddr = init_i ? init_cnt_i[IdBits-1:0] : s1_addr_i;
  assign wdata = init_i ? state_t'('0) : wdata_i;

  chio_ram_1r1w #(.Depth(1 << IdBits), .Width(Width)) u_ram (
    .clk_i, .re_i, .raddr_i, .rdata_o(rdata), .we_i(we), .waddr_i(waddr), .wdata_i(wdata)
  );

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) fwd_valid_q <= 1'b0;
    else if (init_i) fwd_valid_q <= 1'b0;
    else if (we_i) fwd_valid_q <= 1'b1;
  end
  always_ff @(posedge clk_i) begin
    if (!init_i && we_i) begin
      fwd_addr_q <= s1_addr_i;
      fwd_data_q <= wdata_i;
    end
  end

  assign cur_o = (fwd_valid_q && fwd_addr_q == s1_addr_i) ? fwd_data_q : rdata;
endmodule

`default_nettype wire
