// Input arbiter of the queue engine: picks one valid input stream per clock, by fixed priority
// (the op encoding of chio_qe_pkg::op_e: configuration, commits, requests, then doorbells), and
// hands it to the pipeline when the pipeline can take it. Fixed priority is enough here: each
// stream's producer waits on its own ready, and the guest doorbell streams come last so that they
// can never hold back internal traffic.
`default_nettype none

module chio_qe_in_arb
  import chio_qe_pkg::*;
(
  input  wire logic clk_i,
  input  wire logic rst_ni,
  // one request per input stream, indexed by op_e
  input  wire logic valid_i [NumOps],
  output      logic ready_o [NumOps],
  input  wire op_t  op_i    [NumOps],
  // the pipeline takes an op this clock if one is offered
  input  wire logic take_i,
  output      logic valid_o,
  output      op_t  op_o
);
  logic [NumOps-1:0] grant;

  always_comb begin
    grant = '0;
    valid_o = 1'b0;
    op_o = op_i[0];
    for (int unsigned k = 0; k < NumOps; k++) begin
      if (valid_i[k] && !valid_o) begin
        grant[k] = 1'b1;
        valid_o = 1'b1;
        op_o = op_i[k];
      end
    end
    for (int unsigned k = 0; k < NumOps; k++) ready_o[k] = take_i && grant[k];
  end

`ifndef SYNTHESIS
  // Input stream rules (the producers' side, checked here): valid holds and the payload stays
  // put until the handshake.
  for (genvar k = 0; k < NumOps; k++) begin : gen_in_rules
    // Local copies: Verilator 5.006 cannot take $stable of an unpacked array element here.
    logic valid, ready;
    op_t  op;
    assign valid = valid_i[k];
    assign ready = ready_o[k];
    assign op = op_i[k];
    a_in_valid_held: assert property (@(posedge clk_i) disable iff (!rst_ni)
        valid && !ready |=> valid && $stable(op));
  end
  a_grant_onehot: assert property (@(posedge clk_i) disable iff (!rst_ni) $onehot0(grant));
`endif
endmodule

`default_nettype wire
