// Input arbiter of a queue engine lane: picks one valid input stream per clock and hands it to
// the lane when the lane can take it. Round robin: the search starts after the stream granted
// last, so a saturated stream (e.g. back-to-back completions) cannot starve another (e.g. guest
// ring doorbells); each stream waits at most NumIn - 1 grants.
`default_nettype none

module chio_qe_in_arb
  import chio_qe_pkg::*;
#(
  parameter int unsigned NumIn = 2  // input streams (a power of two, at least 2)
) (
  input  wire logic             clk_i,
  input  wire logic             rst_ni,
  // one request per input stream
  input  wire logic [NumIn-1:0] valid_i,
  output      logic [NumIn-1:0] ready_o,
  input  wire logic [NumIn*OpBits-1:0] op_i,  // stream k's op_t at [k*OpBits +: OpBits]
  // the pipeline takes an op this clock if one is offered
  input  wire logic             take_i,
  output      logic             valid_o,
  output      op_t              op_o
);
  localparam int unsigned IdxBits = (NumIn > 1) ? $clog2(NumIn) : 1;
  typedef logic [IdxBits-1:0] op_idx_t;

  logic [NumIn-1:0] grant;
  op_idx_t           first_q, granted;  // search start; the stream granted this clock

  always_comb begin
    grant = '0;
    granted = first_q;
    valid_o = 1'b0;
    for (int unsigned i = 0; i < NumIn; i++) begin
      op_idx_t k;
      k = first_q + IdxBits'(i);  // wraps: NumIn is a power of two
      if (valid_i[k] && !valid_o) begin
        grant[k] = 1'b1;
        granted = k;
        valid_o = 1'b1;
      end
    end
    op_o = op_i[granted*OpBits +: OpBits];
    for (int unsigned k = 0; k < NumIn; k++) ready_o[k] = take_i && grant[k];
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) first_q <= '0;
    else if (take_i && valid_o) first_q <= granted + IdxBits'(1);
  end

  if (NumIn < 2 || NumIn != (1 << IdxBits)) begin : gen_num_in_check
    $error("chio_qe_in_arb: NumIn must be a power of two, at least 2 (index wrap)");
  end

`ifndef SYNTHESIS
  // Input stream rules (the producers' side, checked here): valid holds and the payload stays
  // put until the handshake.
  for (genvar k = 0; k < NumIn; k++) begin : gen_in_rules
    a_in_valid_held: assert property (@(posedge clk_i) disable iff (!rst_ni)
        valid_i[k] && !ready_o[k] |=> valid_i[k] && $stable(op_i[k*OpBits +: OpBits]));
  end
  a_grant_onehot: assert property (@(posedge clk_i) disable iff (!rst_ni) $onehot0(grant));
`endif
endmodule

`default_nettype wire
