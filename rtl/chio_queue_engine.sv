// chio queue engine: work queue (send/receive) and completion ring (CQ/EQ) index state, doorbell
// checks, dequeue, completion slot allocation, arming and events. The C++ seam
// tlm-model/queue_engine/queue_engine.h mirrors these streams one call per stream, and
// queue_engine_ref.h states the rules exactly; chio_qe_{db,deq,commit,cr}_logic implement them.
//
// Four lanes, each taking one op per clock (so a doorbell, a dequeue, a commit and a ring op can
// all be accepted in the same clock):
//   D: wq_cfg, db      Q: wq_cfg, deq_req      K: wq_cfg, deq_commit
//   C: cr_cfg, cq_req, cq_commit, arm (round robin, chio_qe_in_arb)
// wq_cfg (rare, internal) takes lanes D, Q and K together and has priority over their streams.
// Ops accepted in one clock act in lane order D, Q, K, C (chio_qe_wq_lanes merges same-clock
// writes to the same queue); their `work` and `err` elements enter the streams in that order.
// Pipeline, shared by all lanes:
//   accept: each lane's op reads its queue's words from 1R1W RAMs (one copy per reading lane).
//   S1:     the words (or the forwarded words written the clock before) go through the lanes'
//           logic; new words are written back and the outputs enter their FIFOs.
// S1 completes only when every output FIFO has room, so a stalled output freezes all lanes
// without losing state. After reset the engine clears its RAMs (max(NumWq, NumCr) clocks, inputs
// not ready).
`default_nettype none

module chio_queue_engine
  import chio_spec_pkg::*;
  import chio_qe_pkg::*;
#(
  // Work queue id bits held (4096 queues: a send and a receive queue per QP); smaller for tests.
  parameter int unsigned WqIdBits = WQ_ID_BITS,
  // Completion ring id bits held (2048 ids: MAX_CQ CQs, then the EQs); smaller for tests.
  parameter int unsigned CrIdBits = CR_ID_BITS
) (
  input  wire logic       clk_i,
  input  wire logic       rst_ni,
  // wq_cfg: create, reset or disable a work queue
  input  wire logic       wq_cfg_valid_i,
  output      logic       wq_cfg_ready_o,
  input  wire id_t        wq_cfg_wqid_i,
  input  wire logic       wq_cfg_enable_i,
  input  wire logic       wq_cfg_sched_i,
  input  wire fn_t        wq_cfg_owner_fn_i,
  input  wire seam_lsz_t  wq_cfg_log_size_i,
  // cr_cfg: create, reset or disable a completion ring
  input  wire logic       cr_cfg_valid_i,
  output      logic       cr_cfg_ready_o,
  input  wire id_t        cr_cfg_crid_i,
  input  wire logic       cr_cfg_enable_i,
  input  wire fn_t        cr_cfg_owner_fn_i,
  input  wire seam_lsz_t  cr_cfg_log_size_i,
  input  wire target_t    cr_cfg_target_i,
  // db: work queue doorbell (guest)
  input  wire logic       db_valid_i,
  output      logic       db_ready_o,
  input  wire fn_t        db_fn_i,
  input  wire id_t        db_wqid_i,
  input  wire idx_t       db_pi_i,
  // deq_req / deq_resp: dequeue the next entry of a work queue
  input  wire logic       deq_req_valid_i,
  output      logic       deq_req_ready_o,
  input  wire id_t        deq_req_wqid_i,
  output      logic       deq_resp_valid_o,
  input  wire logic       deq_resp_ready_i,
  output      qe_status_e deq_resp_status_o,
  output      id_t        deq_resp_wqid_o,
  output      idx_t       deq_resp_index_o,
  // deq_commit: retire the oldest dequeued entry
  input  wire logic       deq_commit_valid_i,
  output      logic       deq_commit_ready_o,
  input  wire id_t        deq_commit_wqid_i,
  // cq_req / cq_resp: allocate the next completion ring slot
  input  wire logic       cq_req_valid_i,
  output      logic       cq_req_ready_o,
  input  wire id_t        cq_req_crid_i,
  output      logic       cq_resp_valid_o,
  input  wire logic       cq_resp_ready_i,
  output      qe_status_e cq_resp_status_o,
  output      id_t        cq_resp_crid_o,
  output      idx_t       cq_resp_index_o,
  output      logic       cq_resp_phase_o,
  // cq_commit: the oldest allocated slot has been written
  input  wire logic       cq_commit_valid_i,
  output      logic       cq_commit_ready_o,
  input  wire id_t        cq_commit_crid_i,
  input  wire logic       cq_commit_solicited_i,
  // arm: ring consumer doorbell (guest)
  input  wire logic       arm_valid_i,
  output      logic       arm_ready_o,
  input  wire fn_t        arm_fn_i,
  input  wire id_t        arm_crid_i,
  input  wire idx_t       arm_ci_i,
  input  wire logic       arm_arm_i,
  input  wire logic       arm_solicited_i,
  // work: a send queue has work (to the scheduler)
  output      logic       work_valid_o,
  input  wire logic       work_ready_i,
  output      id_t        work_wqid_o,
  // event: an armed ring got a completion
  output      logic       event_valid_o,
  input  wire logic       event_ready_i,
  output      id_t        event_crid_o,
  output      target_t    event_target_o,
  // err: an input was refused
  output      logic       err_valid_o,
  input  wire logic       err_ready_i,
  output      qe_error_e  err_code_o,
  output      logic       err_is_cr_o,
  output      id_t        err_id_o,
  output      fn_t        err_fn_o,
  // no op in flight, no output pending, reset clearing done
  output      logic       idle_o
);
  localparam int unsigned InitBits = (WqIdBits > CrIdBits) ? WqIdBits : CrIdBits;

  // Elaboration checks: the sizes the rules rely on.
  if (WqIdBits < 1 || WqIdBits > SeamIdBits || CrIdBits < 1 || CrIdBits > SeamIdBits)
  begin : gen_id_bits_check
    $error("chio_queue_engine: id bits must be 1..SeamIdBits");
  end
  if ((1 << WQ_ID_BITS) < 2 * MAX_QP || (1 << CR_ID_BITS) < MAX_CQ + MAX_EQ)
  begin : gen_spec_ids_check
    $error("chio_queue_engine: spec id widths too small for MAX_QP / MAX_CQ + MAX_EQ");
  end
  // A full ring (pi - ci == size) must be told apart from an empty one in 16-bit indices, and
  // the maximum log size must fit the stored field.
  if (MAX_WQ_LOG_SIZE >= INDEX_BITS || MAX_CQ_LOG_SIZE >= INDEX_BITS ||
      MAX_WQ_LOG_SIZE >= (1 << LOG_SIZE_BITS) || MAX_CQ_LOG_SIZE >= (1 << LOG_SIZE_BITS))
  begin : gen_log_size_check
    $error("chio_queue_engine: MAX_*_LOG_SIZE must be below INDEX_BITS and fit LOG_SIZE_BITS");
  end

`ifndef SYNTHESIS
  // The hand-counted widths of the flat per-lane vectors (chio_qe_pkg) match the structs.
  if (OpBits != $bits(op_t) || ErrBits != $bits(err_t)) begin : gen_flat_width_check
    $error("chio_queue_engine: chio_qe_pkg OpBits/ErrBits do not match op_t/err_t");
  end
`endif

  // ---------------------------------------------------------------------------------------------
  // Input streams into lanes
  // ---------------------------------------------------------------------------------------------
  localparam int unsigned D = LANE_D;
  localparam int unsigned Q = LANE_Q;
  localparam int unsigned K = LANE_K;
  localparam int unsigned C = LANE_C;

  // One op_t signal per stream and per lane, not arrays: yosys 0.23 mis-reads packed arrays of
  // structs (docs/rtl.md, Synthesis).
  op_t cfg_op, db_op, deq_op, commit_op, cr_cfg_op, cq_op, cq_commit_op, arm_op;
  logic cfg_now;  // wq_cfg takes lanes D, Q and K this clock
  logic [3:0] c_in_valid, c_in_ready;  // cr_cfg, cq_req, cq_commit, arm
  logic [NumLanes-1:0] lane_valid;
  op_t  lane_op_d, lane_op_q, lane_op_k, lane_op_c;   // entering the lanes
  logic init_q, take, s1_fire, out_room, out_empty;
  logic [InitBits-1:0] init_cnt_q;
  logic [NumLanes-1:0] s1_valid_q;
  op_t  s1_op_d_q, s1_op_q_q, s1_op_k_q, s1_op_c_q;   // in S1

  // One op word per input stream; fields a stream does not carry are 0. (Field by field: yosys
  // 0.23 reads no assignment patterns.)
  always_comb begin
    cfg_op = '0;
    cfg_op.op = OP_WQ_CFG;
    cfg_op.id = wq_cfg_wqid_i;
    cfg_op.enable = wq_cfg_enable_i;
    cfg_op.sched = wq_cfg_sched_i;
    cfg_op.fn = wq_cfg_owner_fn_i;
    cfg_op.log_size = wq_cfg_log_size_i;
    db_op = '0;
    db_op.op = OP_DB;
    db_op.fn = db_fn_i;
    db_op.id = db_wqid_i;
    db_op.idx = db_pi_i;
    deq_op = '0;
    deq_op.op = OP_DEQ;
    deq_op.id = deq_req_wqid_i;
    commit_op = '0;
    commit_op.op = OP_DEQ_COMMIT;
    commit_op.id = deq_commit_wqid_i;
    cr_cfg_op = '0;
    cr_cfg_op.op = OP_CR_CFG;
    cr_cfg_op.id = cr_cfg_crid_i;
    cr_cfg_op.enable = cr_cfg_enable_i;
    cr_cfg_op.fn = cr_cfg_owner_fn_i;
    cr_cfg_op.log_size = cr_cfg_log_size_i;
    cr_cfg_op.target = cr_cfg_target_i;
    cq_op = '0;
    cq_op.op = OP_CQ;
    cq_op.id = cq_req_crid_i;
    cq_commit_op = '0;
    cq_commit_op.op = OP_CQ_COMMIT;
    cq_commit_op.id = cq_commit_crid_i;
    cq_commit_op.solicited = cq_commit_solicited_i;
    arm_op = '0;
    arm_op.op = OP_ARM;
    arm_op.fn = arm_fn_i;
    arm_op.id = arm_crid_i;
    arm_op.idx = arm_ci_i;
    arm_op.arm = arm_arm_i;
    arm_op.solicited = arm_solicited_i;
  end
  assign c_in_valid = {arm_valid_i, cq_commit_valid_i, cq_req_valid_i, cr_cfg_valid_i};

  assign cfg_now = wq_cfg_valid_i;
  assign lane_valid[D] = cfg_now || db_valid_i;
  assign lane_valid[Q] = cfg_now || deq_req_valid_i;
  assign lane_valid[K] = cfg_now || deq_commit_valid_i;
  assign lane_op_d = cfg_now ? cfg_op : db_op;
  assign lane_op_q = cfg_now ? cfg_op : deq_op;
  assign lane_op_k = cfg_now ? cfg_op : commit_op;

  assign wq_cfg_ready_o = take && cfg_now;
  assign db_ready_o = take && !cfg_now;
  assign deq_req_ready_o = take && !cfg_now;
  assign deq_commit_ready_o = take && !cfg_now;
  assign cr_cfg_ready_o = c_in_ready[0];
  assign cq_req_ready_o = c_in_ready[1];
  assign cq_commit_ready_o = c_in_ready[2];
  assign arm_ready_o = c_in_ready[3];

  chio_qe_in_arb #(.NumIn(4)) u_c_arb (
    .clk_i, .rst_ni, .valid_i(c_in_valid), .ready_o(c_in_ready),
    .op_i({arm_op, cq_commit_op, cq_op, cr_cfg_op}), .take_i(take), .valid_o(lane_valid[C]),
    .op_o(lane_op_c)
  );

  // ---------------------------------------------------------------------------------------------
  // Pipeline: all lanes take ops together when S1 is empty or completes this clock
  // ---------------------------------------------------------------------------------------------
  assign take = !init_q && (s1_valid_q == '0 || s1_fire);
  assign s1_fire = (s1_valid_q != '0) && out_room;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      init_q <= 1'b1;
      init_cnt_q <= '0;
      s1_valid_q <= '0;
    end else begin
      if (init_q) begin
        init_cnt_q <= init_cnt_q + 1'b1;
        if (&init_cnt_q) init_q <= 1'b0;
      end
      if (take) s1_valid_q <= lane_valid;
    end
  end

  always_ff @(posedge clk_i) begin
    if (take && lane_valid[D]) s1_op_d_q <= lane_op_d;
    if (take && lane_valid[Q]) s1_op_q_q <= lane_op_q;
    if (take && lane_valid[K]) s1_op_k_q <= lane_op_k;
    if (take && lane_valid[C]) s1_op_c_q <= lane_op_c;
  end

  logic [1:0]              work;          // lanes D, Q
  logic [2*SeamIdBits-1:0] work_wqid;
  logic [2:0]              err;           // lanes D, K, C
  logic [2*ErrBits-1:0]    err_data_wq;   // err_t of lanes D, K
  err_t                    err_data_c;
  logic       deq_resp;
  deq_resp_t  deq_resp_data;

  chio_qe_wq_lanes #(.WqIdBits(WqIdBits), .InitBits(InitBits)) u_wq (
    .clk_i, .rst_ni, .init_i(init_q), .init_cnt_i(init_cnt_q),
    .re_i({3{take}} & lane_valid[K:D]), .rid_i({lane_op_k.id, lane_op_q.id, lane_op_d.id}),
    .s1_valid_i(s1_valid_q[K:D]), .s1_op_i({s1_op_k_q, s1_op_q_q, s1_op_d_q}),
    .fire_i(s1_fire), .work_o(work), .work_wqid_o(work_wqid), .err_o(err[1:0]),
    .err_data_o(err_data_wq),
    .deq_resp_o(deq_resp), .deq_resp_data_o(deq_resp_data)
  );

  // Lane C: completion rings.
  cr_state_t cr_cur, cr_nxt;
  logic      cr_we, cr_id_ok, c_err, c_event, c_cq_resp;
  cq_resp_t  cq_resp_data;

  logic [CrIdBits-1:0] cr_raddr, cr_addr;
  assign cr_raddr = lane_op_c.id[CrIdBits-1:0];
  assign cr_addr = s1_op_c_q.id[CrIdBits-1:0];
  assign cr_id_ok = (s1_op_c_q.id >> CrIdBits) == '0;

  chio_qe_state #(.IdBits(CrIdBits), .InitBits(InitBits), .NumRd(1), .Width($bits(cr_nxt)))
  u_cr_state (
    .clk_i, .rst_ni, .init_i(init_q), .init_cnt_i(init_cnt_q),
    .re_i(take && lane_valid[C]), .raddr_i(cr_raddr), .s1_addr_i(cr_addr),
    .cur_o(cr_cur), .we_i(s1_fire && s1_valid_q[C] && cr_we), .waddr_i(cr_addr),
    .wdata_i(cr_nxt)
  );
  chio_qe_cr_logic u_cr_logic (
    .op_i(s1_op_c_q), .id_ok_i(cr_id_ok), .cur_i(cr_cur), .nxt_o(cr_nxt), .we_o(cr_we),
    .event_o(c_event), .cq_resp_o(c_cq_resp), .cq_resp_data_o(cq_resp_data),
    .err_o(c_err), .err_data_o(err_data_c)
  );
  assign err[2] = s1_valid_q[C] && c_err;

  // ---------------------------------------------------------------------------------------------
  // Output streams
  // ---------------------------------------------------------------------------------------------
  chio_qe_outputs u_out (
    .clk_i, .rst_ni, .fire_i(s1_fire), .room_o(out_room), .empty_o(out_empty),
    .work_i(work), .work_wqid_i(work_wqid),
    .event_i(s1_valid_q[C] && c_event),
    .event_data_i({s1_op_c_q.id, cr_cur.target}),  // event_t
    .err_i(err), .err_data_i({err_data_c, err_data_wq}),
    .deq_resp_i(deq_resp), .deq_resp_data_i(deq_resp_data),
    .cq_resp_i(s1_valid_q[C] && c_cq_resp), .cq_resp_data_i(cq_resp_data),
    .work_valid_o, .work_ready_i, .work_wqid_o,
    .event_valid_o, .event_ready_i, .event_crid_o, .event_target_o,
    .err_valid_o, .err_ready_i, .err_code_o, .err_is_cr_o, .err_id_o, .err_fn_o,
    .deq_resp_valid_o, .deq_resp_ready_i, .deq_resp_status_o, .deq_resp_wqid_o,
    .deq_resp_index_o,
    .cq_resp_valid_o, .cq_resp_ready_i, .cq_resp_status_o, .cq_resp_crid_o, .cq_resp_index_o,
    .cq_resp_phase_o
  );

  assign idle_o = !init_q && s1_valid_q == '0 && out_empty;

`ifndef SYNTHESIS
  // Input stream rules for the lane D/Q/K streams (lane C's are checked in its arbiter): valid
  // holds and the payload stays put until the handshake.
  a_wq_cfg_held: assert property (@(posedge clk_i) disable iff (!rst_ni)
      wq_cfg_valid_i && !wq_cfg_ready_o |=> wq_cfg_valid_i && $stable(cfg_op));
  a_db_held: assert property (@(posedge clk_i) disable iff (!rst_ni)
      db_valid_i && !db_ready_o |=> db_valid_i && $stable(db_op));
  a_deq_req_held: assert property (@(posedge clk_i) disable iff (!rst_ni)
      deq_req_valid_i && !deq_req_ready_o |=> deq_req_valid_i && $stable(deq_op));
  a_deq_commit_held: assert property (@(posedge clk_i) disable iff (!rst_ni)
      deq_commit_valid_i && !deq_commit_ready_o |=> deq_commit_valid_i && $stable(commit_op));
  // Ring invariants on every word written back: for an enabled ring ci <= cpi <= pi and
  // pi - ci <= size.
  a_cr_invariant: assert property (@(posedge clk_i) disable iff (!rst_ni)
      s1_fire && s1_valid_q[C] && cr_we && cr_nxt.enable |->
      ({1'b0, INDEX_BITS'(cr_nxt.pi - cr_nxt.ci)} <= ring_size(cr_nxt.log_size)) &&
      (INDEX_BITS'(cr_nxt.cpi - cr_nxt.ci) <= INDEX_BITS'(cr_nxt.pi - cr_nxt.ci)));
  // Nothing is accepted while the RAMs are being cleared.
  a_no_op_in_init: assert property (@(posedge clk_i) disable iff (!rst_ni)
      init_q |-> s1_valid_q == '0);

  // Cover points of the ring lane (C); counted with verilator --coverage-user (./chio coverage).
  logic c_fire, c_prev_fire_q, c_prev_commit_q;
  id_t  c_prev_id_q;
  assign c_fire = s1_fire && s1_valid_q[C];
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      c_prev_fire_q <= 1'b0;
      c_prev_commit_q <= 1'b0;
      c_prev_id_q <= '0;
    end else begin
      c_prev_fire_q <= c_fire;
      c_prev_commit_q <= c_fire && s1_op_c_q.op == OP_CQ_COMMIT && cr_we;
      c_prev_id_q <= s1_op_c_q.id;
    end
  end
  // A completion ring is full: the allocation is refused (FULL, CQ_OVERFLOW).
  c_cq_full: cover property (@(posedge clk_i) disable iff (!rst_ni)
      c_fire && c_cq_resp && cq_resp_data.status == QE_ST_FULL);
  // Ring wrap: an allocation on a later pass over the ring (phase 0).
  c_cq_wrap: cover property (@(posedge clk_i) disable iff (!rst_ni)
      c_fire && c_cq_resp && cq_resp_data.status == QE_ST_OK && !cq_resp_data.phase);
  // The consumer catches up: an accepted arm doorbell leaves the ring empty (ci == cpi == pi).
  c_cr_empty: cover property (@(posedge clk_i) disable iff (!rst_ni)
      c_fire && s1_op_c_q.op == OP_ARM && cr_we && cr_nxt.ci == cr_nxt.pi);
  // Arm racing a completion: the arm finds completions its consumer index has not seen and fires
  // the event at once instead of arming.
  c_arm_race_event: cover property (@(posedge clk_i) disable iff (!rst_ni)
      c_fire && s1_op_c_q.op == OP_ARM && c_event);
  // ... and the arm right behind a completion commit on the same ring (forwarded state).
  c_arm_after_commit: cover property (@(posedge clk_i) disable iff (!rst_ni)
      c_fire && s1_op_c_q.op == OP_ARM && cr_we && c_prev_commit_q &&
      c_prev_id_q == s1_op_c_q.id);
  // Back to back on one ring: two ring ops on the same ring in consecutive clocks.
  c_cr_back_to_back: cover property (@(posedge clk_i) disable iff (!rst_ni)
      c_fire && c_prev_fire_q && cr_id_ok && c_prev_id_q == s1_op_c_q.id);
`endif
endmodule

`default_nettype wire
