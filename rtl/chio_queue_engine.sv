// chio queue engine: work queue (send/receive) and completion ring (CQ/EQ) index state, doorbell
// checks, dequeue, completion slot allocation, arming and events. The C++ seam
// tlm-model/queue_engine/queue_engine.h mirrors these streams one call per stream, and
// queue_engine_ref.h states the rules exactly; chio_qe_wq_logic / chio_qe_cr_logic implement them.
//
// Pipeline (one op per clock, any mix of streams):
//   accept: chio_qe_in_arb picks one input; its queue's state word is read from a 1R1W RAM.
//   S1:     the RAM word (or the bypassed word written the clock before) goes through the op's
//           logic; the new word is written back and the outputs enter their FIFOs.
// Hazard: an op accepted in the clock in which the op ahead of it writes the same queue reads the
// old word (read-during-write), so S1 takes the word from the forwarding register, which always
// holds the last word written to that RAM. S1 advances only when every output FIFO has room, so a
// stalled output freezes the pipeline without losing state.
// After reset the engine clears both RAMs (max(NumWq, NumCr) clocks, inputs not ready).
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

  // ---------------------------------------------------------------------------------------------
  // Input streams into one op per clock
  // ---------------------------------------------------------------------------------------------
  logic in_valid [NumOps];
  logic in_ready [NumOps];
  op_t  in_op    [NumOps];
  logic arb_valid, take, in_fire;
  op_t  arb_op;

  always_comb begin
    for (int unsigned k = 0; k < NumOps; k++) in_op[k] = '0;
    in_valid[OP_WQ_CFG] = wq_cfg_valid_i;
    in_op[OP_WQ_CFG].op = OP_WQ_CFG;
    in_op[OP_WQ_CFG].id = wq_cfg_wqid_i;
    in_op[OP_WQ_CFG].enable = wq_cfg_enable_i;
    in_op[OP_WQ_CFG].sched = wq_cfg_sched_i;
    in_op[OP_WQ_CFG].fn = wq_cfg_owner_fn_i;
    in_op[OP_WQ_CFG].log_size = wq_cfg_log_size_i;
    in_valid[OP_CR_CFG] = cr_cfg_valid_i;
    in_op[OP_CR_CFG].op = OP_CR_CFG;
    in_op[OP_CR_CFG].id = cr_cfg_crid_i;
    in_op[OP_CR_CFG].enable = cr_cfg_enable_i;
    in_op[OP_CR_CFG].fn = cr_cfg_owner_fn_i;
    in_op[OP_CR_CFG].log_size = cr_cfg_log_size_i;
    in_op[OP_CR_CFG].target = cr_cfg_target_i;
    in_valid[OP_DB] = db_valid_i;
    in_op[OP_DB].op = OP_DB;
    in_op[OP_DB].fn = db_fn_i;
    in_op[OP_DB].id = db_wqid_i;
    in_op[OP_DB].idx = db_pi_i;
    in_valid[OP_DEQ] = deq_req_valid_i;
    in_op[OP_DEQ].op = OP_DEQ;
    in_op[OP_DEQ].id = deq_req_wqid_i;
    in_valid[OP_DEQ_COMMIT] = deq_commit_valid_i;
    in_op[OP_DEQ_COMMIT].op = OP_DEQ_COMMIT;
    in_op[OP_DEQ_COMMIT].id = deq_commit_wqid_i;
    in_valid[OP_CQ] = cq_req_valid_i;
    in_op[OP_CQ].op = OP_CQ;
    in_op[OP_CQ].id = cq_req_crid_i;
    in_valid[OP_CQ_COMMIT] = cq_commit_valid_i;
    in_op[OP_CQ_COMMIT].op = OP_CQ_COMMIT;
    in_op[OP_CQ_COMMIT].id = cq_commit_crid_i;
    in_op[OP_CQ_COMMIT].solicited = cq_commit_solicited_i;
    in_valid[OP_ARM] = arm_valid_i;
    in_op[OP_ARM].op = OP_ARM;
    in_op[OP_ARM].fn = arm_fn_i;
    in_op[OP_ARM].id = arm_crid_i;
    in_op[OP_ARM].idx = arm_ci_i;
    in_op[OP_ARM].arm = arm_arm_i;
    in_op[OP_ARM].solicited = arm_solicited_i;
  end

  assign wq_cfg_ready_o = in_ready[OP_WQ_CFG];
  assign cr_cfg_ready_o = in_ready[OP_CR_CFG];
  assign db_ready_o = in_ready[OP_DB];
  assign deq_req_ready_o = in_ready[OP_DEQ];
  assign deq_commit_ready_o = in_ready[OP_DEQ_COMMIT];
  assign cq_req_ready_o = in_ready[OP_CQ];
  assign cq_commit_ready_o = in_ready[OP_CQ_COMMIT];
  assign arm_ready_o = in_ready[OP_ARM];

  chio_qe_in_arb u_arb (
    .clk_i, .rst_ni,
    .valid_i(in_valid), .ready_o(in_ready), .op_i(in_op),
    .take_i(take), .valid_o(arb_valid), .op_o(arb_op)
  );

  // ---------------------------------------------------------------------------------------------
  // Pipeline and state
  // ---------------------------------------------------------------------------------------------
  logic init_q;
  logic [InitBits-1:0] init_cnt_q;
  logic s1_valid_q, s1_fire, out_room, out_empty;
  op_t  s1_op_q;

  function automatic logic is_wq_op(op_e op);
    return op inside {OP_WQ_CFG, OP_DB, OP_DEQ, OP_DEQ_COMMIT};
  endfunction

  // A new op enters when S1 is empty or moves on this clock.
  assign take = !init_q && (!s1_valid_q || s1_fire);
  assign in_fire = take && arb_valid;
  assign s1_fire = s1_valid_q && out_room;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      init_q <= 1'b1;
      init_cnt_q <= '0;
      s1_valid_q <= 1'b0;
    end else begin
      if (init_q) begin
        init_cnt_q <= init_cnt_q + 1'b1;
        if (&init_cnt_q) init_q <= 1'b0;
      end
      if (take) s1_valid_q <= arb_valid;
    end
  end

  always_ff @(posedge clk_i) begin
    if (in_fire) s1_op_q <= arb_op;
  end

  wq_state_t wq_cur, wq_nxt;
  cr_state_t cr_cur, cr_nxt;
  logic      wq_we, cr_we, wq_id_ok, cr_id_ok;
  logic      wq_err, cr_err, work, evt, deq_resp, cq_resp;
  err_t      wq_err_data, cr_err_data;
  deq_resp_t deq_resp_data;
  cq_resp_t  cq_resp_data;

  chio_qe_state #(.IdBits(WqIdBits), .InitBits(InitBits), .state_t(wq_state_t)) u_wq_state (
    .clk_i, .rst_ni, .init_i(init_q), .init_cnt_i(init_cnt_q),
    .re_i(in_fire && is_wq_op(arb_op.op)), .raddr_i(arb_op.id[WqIdBits-1:0]),
    .s1_addr_i(s1_op_q.id[WqIdBits-1:0]), .cur_o(wq_cur),
    .we_i(s1_fire && wq_we), .wdata_i(wq_nxt)
  );
  chio_qe_state #(.IdBits(CrIdBits), .InitBits(InitBits), .state_t(cr_state_t)) u_cr_state (
    .clk_i, .rst_ni, .init_i(init_q), .init_cnt_i(init_cnt_q),
    .re_i(in_fire && !is_wq_op(arb_op.op)), .raddr_i(arb_op.id[CrIdBits-1:0]),
    .s1_addr_i(s1_op_q.id[CrIdBits-1:0]), .cur_o(cr_cur),
    .we_i(s1_fire && cr_we), .wdata_i(cr_nxt)
  );

  assign wq_id_ok = (s1_op_q.id >> WqIdBits) == '0;
  assign cr_id_ok = (s1_op_q.id >> CrIdBits) == '0;

  chio_qe_wq_logic u_wq_logic (
    .op_i(s1_op_q), .id_ok_i(wq_id_ok), .cur_i(wq_cur), .nxt_o(wq_nxt), .we_o(wq_we),
    .work_o(work), .deq_resp_o(deq_resp), .deq_resp_data_o(deq_resp_data),
    .err_o(wq_err), .err_data_o(wq_err_data)
  );
  chio_qe_cr_logic u_cr_logic (
    .op_i(s1_op_q), .id_ok_i(cr_id_ok), .cur_i(cr_cur), .nxt_o(cr_nxt), .we_o(cr_we),
    .event_o(evt), .cq_resp_o(cq_resp), .cq_resp_data_o(cq_resp_data),
    .err_o(cr_err), .err_data_o(cr_err_data)
  );

  // ---------------------------------------------------------------------------------------------
  // Output streams
  // ---------------------------------------------------------------------------------------------
  chio_qe_outputs u_out (
    .clk_i, .rst_ni, .fire_i(s1_fire), .room_o(out_room), .empty_o(out_empty),
    .work_i(work), .work_wqid_i(s1_op_q.id),
    .event_i(evt), .event_data_i('{crid: s1_op_q.id, target: cr_cur.target}),
    .err_i(wq_err || cr_err), .err_data_i(wq_err ? wq_err_data : cr_err_data),
    .deq_resp_i(deq_resp), .deq_resp_data_i(deq_resp_data),
    .cq_resp_i(cq_resp), .cq_resp_data_i(cq_resp_data),
    .work_valid_o, .work_ready_i, .work_wqid_o,
    .event_valid_o, .event_ready_i, .event_crid_o, .event_target_o,
    .err_valid_o, .err_ready_i, .err_code_o, .err_is_cr_o, .err_id_o, .err_fn_o,
    .deq_resp_valid_o, .deq_resp_ready_i, .deq_resp_status_o, .deq_resp_wqid_o,
    .deq_resp_index_o,
    .cq_resp_valid_o, .cq_resp_ready_i, .cq_resp_status_o, .cq_resp_crid_o, .cq_resp_index_o,
    .cq_resp_phase_o
  );

  assign idle_o = !init_q && !s1_valid_q && out_empty;

`ifndef SYNTHESIS
  // Queue invariants, checked on every word written back by an op: for an enabled work queue
  // ci <= fetch <= pi and pi - ci <= size; a token is only ever outstanding for a sched queue.
  // For an enabled ring ci <= cpi <= pi and pi - ci <= size.
  a_wq_invariant: assert property (@(posedge clk_i) disable iff (!rst_ni)
      s1_fire && wq_we && wq_nxt.enable |->
      ({1'b0, idx_t'(wq_nxt.pi - wq_nxt.ci)} <= ring_size(wq_nxt.log_size)) &&
      (idx_t'(wq_nxt.fetch - wq_nxt.ci) <= idx_t'(wq_nxt.pi - wq_nxt.ci)) &&
      (!wq_nxt.queued || wq_nxt.sched));
  a_cr_invariant: assert property (@(posedge clk_i) disable iff (!rst_ni)
      s1_fire && cr_we && cr_nxt.enable |->
      ({1'b0, idx_t'(cr_nxt.pi - cr_nxt.ci)} <= ring_size(cr_nxt.log_size)) &&
      (idx_t'(cr_nxt.cpi - cr_nxt.ci) <= idx_t'(cr_nxt.pi - cr_nxt.ci)));
  // One op touches one kind of state, and makes at most one error.
  a_one_state: assert property (@(posedge clk_i) disable iff (!rst_ni)
      !(wq_we && cr_we) && !(wq_err && cr_err));
  // Nothing is accepted while the RAMs are being cleared.
  a_no_op_in_init: assert property (@(posedge clk_i) disable iff (!rst_ni)
      init_q |-> !s1_valid_q);
`endif
endmodule

`default_nettype wire
