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
  input  wire logic [3*SeamIdBits-1:0]   rid_i,       // lane l's id at [l*SeamIdBits +: ...]
  // the lanes' ops in S1; they complete (write back, emit) when fire_i
  input  wire logic [2:0]                s1_valid_i,
  input  wire logic [3*OpBits-1:0]       s1_op_i,     // lane l's op_t at [l*OpBits +: OpBits]
  input  wire logic                      fire_i,
  // outputs of the S1 ops (valid with s1_valid_i; pushed on fire_i)
  output      logic [1:0]                work_o,      // lanes D, Q
  output      logic [2*SeamIdBits-1:0]   work_wqid_o,
  output      logic [1:0]                err_o,       // lanes D, K
  output      logic [2*ErrBits-1:0]      err_data_o,  // err_t of lanes D, K
  output      logic                      deq_resp_o,  // lane Q
  output      deq_resp_t                 deq_resp_data_o
);
  localparam int unsigned D = 0;
  localparam int unsigned Q = 1;
  localparam int unsigned K = 2;

  typedef logic [WqIdBits-1:0] addr_t;

  // Vectors with one element per lane are flat (yosys 0.23 mis-reads packed arrays of structs and
  // of typedefs); each lane's element is unpacked into a struct-typed wire once, here.
  op_t             op_d, op_q, op_k;         // the lanes' S1 ops
  addr_t           raddr_d, raddr_q, raddr_k, addr_d, addr_q, addr_k;
  logic            id_ok_d, id_ok_q, id_ok_k;
  wq_dword_t       dw_d, dw_q_ram, dw_k_ram; // D word as read by D, Q, K (RAM or forwarded)
  wq_qword_t       qw_d, qw_q, qw_k_ram;     // Q word as read by D, Q, K
  wq_kword_t       kw_d, kw_k;               // K word as read by D and K
  wq_dword_t       d_nxt, dw_q, dw_k;        // dw_q, dw_k: with D's write of this clock merged
  wq_qword_t       q_nxt, qw_k;              // qw_k: with Q's write of this clock merged
  wq_kword_t       k_nxt;
  err_t            err_d, err_k;
  logic            d_we, q_we, k_we, d_work, q_work, d_err, k_err;
  // Read ids: the high bits are unused (an out-of-range id is refused in S1 through id_ok,
  // whatever RAM word it read).
  /* verilator lint_off UNUSEDSIGNAL */
  id_t             rid_d, rid_q, rid_k;
  /* verilator lint_on UNUSEDSIGNAL */

  assign {rid_k, rid_q, rid_d} = rid_i;
  assign {op_k, op_q, op_d} = s1_op_i;
  assign raddr_d = rid_d[WqIdBits-1:0];
  assign raddr_q = rid_q[WqIdBits-1:0];
  assign raddr_k = rid_k[WqIdBits-1:0];
  assign addr_d = op_d.id[WqIdBits-1:0];
  assign addr_q = op_q.id[WqIdBits-1:0];
  assign addr_k = op_k.id[WqIdBits-1:0];
  assign id_ok_d = (op_d.id >> WqIdBits) == '0;
  assign id_ok_q = (op_q.id >> WqIdBits) == '0;
  assign id_ok_k = (op_k.id >> WqIdBits) == '0;

  chio_qe_state #(.IdBits(WqIdBits), .InitBits(InitBits), .NumRd(3), .Width($bits(d_nxt)))
  u_dw (
    .clk_i, .rst_ni, .init_i, .init_cnt_i, .re_i, .raddr_i({raddr_k, raddr_q, raddr_d}),
    .s1_addr_i({addr_k, addr_q, addr_d}), .cur_o({dw_k_ram, dw_q_ram, dw_d}),
    .we_i(fire_i && s1_valid_i[D] && d_we), .waddr_i(addr_d), .wdata_i(d_nxt)
  );
  chio_qe_state #(.IdBits(WqIdBits), .InitBits(InitBits), .NumRd(3), .Width($bits(q_nxt)))
  u_qw (
    .clk_i, .rst_ni, .init_i, .init_cnt_i, .re_i, .raddr_i({raddr_k, raddr_q, raddr_d}),
    .s1_addr_i({addr_k, addr_q, addr_d}), .cur_o({qw_k_ram, qw_q, qw_d}),
    .we_i(fire_i && s1_valid_i[Q] && q_we), .waddr_i(addr_q), .wdata_i(q_nxt)
  );
  chio_qe_state #(.IdBits(WqIdBits), .InitBits(InitBits), .NumRd(2), .Width($bits(k_nxt)))
  u_kw (
    .clk_i, .rst_ni, .init_i, .init_cnt_i, .re_i({re_i[K], re_i[D]}),
    .raddr_i({raddr_k, raddr_d}), .s1_addr_i({addr_k, addr_d}), .cur_o({kw_k, kw_d}),
    .we_i(fire_i && s1_valid_i[K] && k_we), .waddr_i(addr_k), .wdata_i(k_nxt)
  );

  // Same-clock merges: a later lane sees an earlier lane's write to the same queue.
  assign dw_q = (s1_valid_i[D] && d_we && addr_d == addr_q) ? d_nxt : dw_q_ram;
  assign dw_k = (s1_valid_i[D] && d_we && addr_d == addr_k) ? d_nxt : dw_k_ram;
  assign qw_k = (s1_valid_i[Q] && q_we && addr_q == addr_k) ? q_nxt : qw_k_ram;

  chio_qe_db_logic u_d (
    .op_i(op_d), .id_ok_i(id_ok_d), .dw_i(dw_d), .qw_i(qw_d), .kw_i(kw_d),
    .nxt_o(d_nxt), .we_o(d_we), .work_o(d_work), .err_o(d_err), .err_data_o(err_d)
  );
  chio_qe_deq_logic u_q (
    .op_i(op_q), .id_ok_i(id_ok_q), .dw_i(dw_q), .qw_i(qw_q), .nxt_o(q_nxt),
    .we_o(q_we), .work_o(q_work), .deq_resp_data_o
  );
  chio_qe_commit_logic u_k (
    .op_i(op_k), .id_ok_i(id_ok_k), .dw_i(dw_k), .qw_i(qw_k), .kw_i(kw_k),
    .nxt_o(k_nxt), .we_o(k_we), .err_o(k_err), .err_data_o(err_k)
  );

  assign work_o = {s1_valid_i[Q] && q_work, s1_valid_i[D] && d_work};
  assign work_wqid_o = {op_q.id, op_d.id};
  assign err_o = {s1_valid_i[K] && k_err, s1_valid_i[D] && d_err};
  assign err_data_o = {err_k, err_d};
  assign deq_resp_o = s1_valid_i[Q] && op_q.op == OP_DEQ;

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
      fire_i && s1_valid_i[D] && d_we && op_d.op == OP_DB |->
      wq_ok(d_nxt.enable, d_nxt.sched, d_nxt.log_size, d_nxt.pi, qw_d.fetch, kw_d.ci,
            d_nxt.tok_d ^ qw_d.tok_q));
  a_wq_invariant_k: assert property (@(posedge clk_i) disable iff (!rst_ni)
      fire_i && s1_valid_i[K] && k_we && op_k.op == OP_DEQ_COMMIT |->
      wq_ok(dw_k.enable, dw_k.sched, dw_k.log_size, dw_k.pi, qw_k.fetch, k_nxt.ci,
            dw_k.tok_d ^ qw_k.tok_q));
  // wq_cfg occupies lanes D, Q and K together.
  a_cfg_joint: assert property (@(posedge clk_i) disable iff (!rst_ni)
      (s1_valid_i[D] && op_d.op == OP_WQ_CFG) |->
      s1_valid_i[Q] && s1_valid_i[K] && op_q == op_d && op_k == op_d);

  // Cover points of the work queue lanes; counted with verilator --coverage-user.
  logic [2:0] prev_we_q;
  addr_t      prev_addr_d_q, prev_addr_q_q, prev_addr_k_q;
  logic db_fire, deq_ok;
  // Ring sizes as wires: Verilator 5.006 evaluates a function called inside a cover property
  // after the cover itself (a stale value), so covers use no function calls.
  logic [INDEX_BITS:0] size_d, size_q;
  assign size_d = ring_size(d_nxt.log_size);
  assign size_q = ring_size(dw_q.log_size);
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      prev_we_q <= '0;
      prev_addr_d_q <= '0;
      prev_addr_q_q <= '0;
      prev_addr_k_q <= '0;
    end else begin
      prev_we_q <= {fire_i && s1_valid_i[K] && k_we, fire_i && s1_valid_i[Q] && q_we,
                    fire_i && s1_valid_i[D] && d_we};
      prev_addr_d_q <= addr_d;
      prev_addr_q_q <= addr_q;
      prev_addr_k_q <= addr_k;
    end
  end
  assign db_fire = fire_i && s1_valid_i[D] && op_d.op == OP_DB;
  assign deq_ok = fire_i && deq_resp_o && deq_resp_data_o.status == QE_ST_OK;
  // Full: an accepted doorbell fills the ring (pi - ci == size).
  c_wq_full: cover property (@(posedge clk_i) disable iff (!rst_ni)
      db_fire && d_we && {1'b0, idx_t'(d_nxt.pi - kw_d.ci)} == size_d);
  // Empty: a dequeue finds nothing (EMPTY).
  c_wq_empty: cover property (@(posedge clk_i) disable iff (!rst_ni)
      fire_i && deq_resp_o && deq_resp_data_o.status == QE_ST_EMPTY);
  // Ring wrap: a dequeue takes the ring's last slot; the next one wraps to slot 0.
  c_wq_wrap: cover property (@(posedge clk_i) disable iff (!rst_ni)
      deq_ok && (({1'b0, q_nxt.fetch} & (size_q - 1'b1)) == '0));
  // Back to back on one queue, same lane, consecutive clocks (state from the forwarding register).
  c_db_back_to_back: cover property (@(posedge clk_i) disable iff (!rst_ni)
      db_fire && prev_we_q[D] && prev_addr_d_q == addr_d);
  c_deq_back_to_back: cover property (@(posedge clk_i) disable iff (!rst_ni)
      deq_ok && prev_we_q[Q] && prev_addr_q_q == addr_q);
  c_commit_back_to_back: cover property (@(posedge clk_i) disable iff (!rst_ni)
      fire_i && s1_valid_i[K] && k_we && op_k.op == OP_DEQ_COMMIT && prev_we_q[K] &&
      prev_addr_k_q == addr_k);
  // One queue in two lanes in one clock: a doorbell and a dequeue (merge of D's new word into Q).
  c_db_deq_same_clock: cover property (@(posedge clk_i) disable iff (!rst_ni)
      db_fire && d_we && deq_ok && addr_d == addr_q);
  // A dequeue and the commit of the entry just dequeued, same queue, same clock (Q into K).
  c_deq_commit_same_clock: cover property (@(posedge clk_i) disable iff (!rst_ni)
      deq_ok && fire_i && s1_valid_i[K] && k_we && op_k.op == OP_DEQ_COMMIT && addr_q == addr_k);
`endif
endmodule

`default_nettype wire
