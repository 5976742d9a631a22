// Work queue lanes of the queue engine: doorbell (D), dequeue (Q) and commit (K), each taking one
// op per clock. Each lane owns one word of a queue's state (chio_qe_pkg: wq_dword_t, wq_qword_t,
// wq_kword_t) and is its RAMs' only writer; the words a lane reads live in RAM copies of its own,
// so every RAM has one read and one write port.
// Order: the lanes' ops of one clock act as if D ran first, then Q, then K. A later lane reading
// a word an earlier lane writes in the same clock for the same queue takes the new word (the
// merges below); words written in earlier clocks come from the RAMs or their forwarding
// registers (chio_qe_state).
`default_nettype none

module chio_qe_wq_lanes
  import chio_spec_pkg::*;
  import chio_qe_pkg::*;
#(
  parameter int unsigned WqIdBits = WQ_ID_BITS,  // 2^WqIdBits work queues
  parameter int unsigned InitBits = WQ_ID_BITS   // width of the clearing counter (>= WqIdBits)
) (
  input  wire logic                      clk_i,
  input  wire logic                      rst_ni,
  input  wire logic                      init_i,      // clearing the RAMs after reset
  input  wire logic [InitBits-1:0]       init_cnt_i,
  // ops entering lanes D, Q, K (index 0, 1, 2): read their queue's words
  input  wire logic [2:0]                re_i,
  input  wire id_t  [2:0]                rid_i,
  // the lanes' ops in S1; they complete (write back, emit) when fire_i
  input  wire logic [2:0]                s1_valid_i,
  input  wire op_t  [2:0]                s1_op_i,
  input  wire logic                      fire_i,
  // outputs of the S1 ops (valid with s1_valid_i; pushed on fire_i)
  output      logic [1:0]                work_o,      // lanes D, Q
  output      id_t  [1:0]                work_wqid_o,
  output      logic [1:0]                err_o,       // lanes D, K
  output      err_t [1:0]                err_data_o,
  output      logic                      deq_resp_o,  // lane Q
  output      deq_resp_t                 deq_resp_data_o
);
  localparam int unsigned D = 0;
  localparam int unsigned Q = 1;
  localparam int unsigned K = 2;

  typedef logic [WqIdBits-1:0] addr_t;

  addr_t [2:0]     raddr, s1_addr;
  logic  [2:0]     id_ok;
  wq_dword_t [2:0] dw_cur;        // D word as read by D, Q, K
  wq_qword_t [2:0] qw_cur;        // Q word as read by D, Q, K
  wq_kword_t [1:0] kw_cur;        // K word as read by D (0) and K (1)
  wq_dword_t       d_nxt, dw_q, dw_k;
  wq_qword_t       q_nxt, qw_k;
  wq_kword_t       k_nxt;
  logic            d_we, q_we, k_we, d_work, q_work, d_err, k_err;

  for (genvar l = 0; l < 3; l++) begin : gen_addr
    assign raddr[l] = rid_i[l][WqIdBits-1:0];
    assign s1_addr[l] = s1_op_i[l].id[WqIdBits-1:0];
    assign id_ok[l] = (s1_op_i[l].id >> WqIdBits) == '0;
  end

  chio_qe_state #(.IdBits(WqIdBits), .InitBits(InitBits), .NumRd(3), .state_t(wq_dword_t))
  u_dw (
    .clk_i, .rst_ni, .init_i, .init_cnt_i, .re_i, .raddr_i(raddr), .s1_addr_i(s1_addr),
    .cur_o(dw_cur), .we_i(fire_i && s1_valid_i[D] && d_we), .waddr_i(s1_addr[D]),
    .wdata_i(d_nxt)
  );
  chio_qe_state #(.IdBits(WqIdBits), .InitBits(InitBits), .NumRd(3), .state_t(wq_qword_t))
  u_qw (
    .clk_i, .rst_ni, .init_i, .init_cnt_i, .re_i, .raddr_i(raddr), .s1_addr_i(s1_addr),
    .cur_o(qw_cur), .we_i(fire_i && s1_valid_i[Q] && q_we), .waddr_i(s1_addr[Q]),
    .wdata_i(q_nxt)
  );
  chio_qe_state #(.IdBits(WqIdBits), .InitBits(InitBits), .NumRd(2), .state_t(wq_kword_t))
  u_kw (
    .clk_i, .rst_ni, .init_i, .init_cnt_i, .re_i({re_i[K], re_i[D]}),
    .raddr_i({raddr[K], raddr[D]}), .s1_addr_i({s1_addr[K], s1_addr[D]}), .cur_o(kw_cur),
    .we_i(fire_i && s1_valid_i[K] && k_we), .waddr_i(s1_addr[K]), .wdata_i(k_nxt)
  );

  // Same-clock merges: a later lane sees an earlier lane's write to the same queue.
  assign dw_q = (s1_valid_i[D] && d_we && s1_addr[D] == s1_addr[Q]) ? d_nxt : dw_cur[Q];
  assign dw_k = (s1_valid_i[D] && d_we && s1_addr[D] == s1_addr[K]) ? d_nxt : dw_cur[K];
  assign qw_k = (s1_valid_i[Q] && q_we && s1_addr[Q] == s1_addr[K]) ? q_nxt : qw_cur[K];

  chio_qe_db_logic u_d (
    .op_i(s1_op_i[D]), .id_ok_i(id_ok[D]), .dw_i(dw_cur[D]), .qw_i(qw_cur[D]), .kw_i(kw_cur[0]),
    .nxt_o(d_nxt), .we_o(d_we), .work_o(d_work), .err_o(d_err), .err_data_o(err_data_o[0])
  );
  chio_qe_deq_logic u_q (
    .op_i(s1_op_i[Q]), .id_ok_i(id_ok[Q]), .dw_i(dw_q), .qw_i(qw_cur[Q]), .nxt_o(q_nxt),
    .we_o(q_we), .work_o(q_work), .deq_resp_data_o
  );
  chio_qe_commit_logic u_k (
    .op_i(s1_op_i[K]), .id_ok_i(id_ok[K]), .dw_i(dw_k), .qw_i(qw_k), .kw_i(kw_cur[1]),
    .nxt_o(k_nxt), .we_o(k_we), .err_o(k_err), .err_data_o(err_data_o[1])
  );

  assign work_o = {s1_valid_i[Q] && q_work, s1_valid_i[D] && d_work};
  assign work_wqid_o = {s1_op_i[Q].id, s1_op_i[D].id};
  assign err_o = {s1_valid_i[K] && k_err, s1_valid_i[D] && d_err};
  assign deq_resp_o = s1_valid_i[Q] && s1_op_i[Q].op == OP_DEQ;

`ifndef SYNTHESIS
  // Queue invariants, on each lane's view after its op (D's view is before Q and K act; K's is
  // after all three): for an enabled queue ci <= fetch <= pi and pi - ci <= size, and a token
  // is only ever outstanding for a sched queue.
  function automatic logic wq_ok(logic enable, logic sched, lsz_t log_size, idx_t pi,
                                 idx_t fetch, idx_t ci, logic queued);
    idx_t fill, fetched;
    fill = pi - ci;
    fetched = fetch - ci;
    return !enable || (({1'b0, fill} <= ring_size(log_size)) && (fetched <= fill) &&
                       (!queued || sched));
  endfunction
  a_wq_invariant_d: assert property (@(posedge clk_i) disable iff (!rst_ni)
      fire_i && s1_valid_i[D] && d_we && s1_op_i[D].op == OP_DB |->
      wq_ok(d_nxt.enable, d_nxt.sched, d_nxt.log_size, d_nxt.pi, qw_cur[D].fetch, kw_cur[0].ci,
            d_nxt.tok_d ^ qw_cur[D].tok_q));
  a_wq_invariant_k: assert property (@(posedge clk_i) disable iff (!rst_ni)
      fire_i && s1_valid_i[K] && k_we && s1_op_i[K].op == OP_DEQ_COMMIT |->
      wq_ok(dw_k.enable, dw_k.sched, dw_k.log_size, dw_k.pi, qw_k.fetch, k_nxt.ci,
            dw_k.tok_d ^ qw_k.tok_q));
  // wq_cfg occupies lanes D, Q and K together.
  a_cfg_joint: assert property (@(posedge clk_i) disable iff (!rst_ni)
      (s1_valid_i[D] && s1_op_i[D].op == OP_WQ_CFG) |->
      s1_valid_i[Q] && s1_valid_i[K] && s1_op_i[Q] == s1_op_i[D] && s1_op_i[K] == s1_op_i[D]);
`endif
endmodule

`default_nettype wire
