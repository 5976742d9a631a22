// Work queue operations of the queue engine (combinational): from one accepted op and the
// queue's current state, the next state and the outputs. The rules are those of the C++
// reference (tlm-model/queue_engine/queue_engine_ref.h), in the same order of checks:
// - wq_cfg: ignored for an id >= NumWq or log_size > MAX_WQ_LOG_SIZE; else rewrites the entry
//   with all indices 0 and queued clear.
// - db: disabled/unknown -> DB_DISABLED; wrong fn -> DB_OWNER; pi - ci > size or pi - old pi >
//   size -> DB_RANGE (all dropped); else pi updated and a sched queue with fetch != pi and no
//   outstanding token emits `work` and becomes queued.
// - deq: disabled/unknown -> DISABLED; fetch == pi -> EMPTY; else OK with index fetch, fetch++;
//   queued is cleared, and re-set with a new `work` token if a sched queue still has work.
// - deq_commit: disabled/unknown or ci == fetch -> BAD_COMMIT (fn 0); else ci++.
`default_nettype none

module chio_qe_wq_logic
  import chio_spec_pkg::*;
  import chio_qe_pkg::*;
(
  input  wire op_t       op_i,
  input  wire logic      id_ok_i,     // op_i.id < NumWq
  input  wire wq_state_t cur_i,       // current state of queue op_i.id
  output      wq_state_t nxt_o,       // state to write back
  output      logic      we_o,        // write nxt_o back
  output      logic      work_o,      // emit work{op_i.id}
  output      logic      deq_resp_o,  // emit deq_resp_data_o
  output      deq_resp_t deq_resp_data_o,
  output      logic      err_o,       // emit err_data_o
  output      err_t      err_data_o
);
  logic      live;  // the queue exists and is enabled
  idx_t      fetch_inc;

  // Fields of the shared op word that only ring ops carry.
  logic unused_op;
  assign unused_op = ^{op_i.arm, op_i.solicited, op_i.target};

  assign live = id_ok_i && cur_i.enable;
  assign fetch_inc = cur_i.fetch + idx_t'(1);

  always_comb begin
    nxt_o = cur_i;
    we_o = 1'b0;
    work_o = 1'b0;
    deq_resp_o = 1'b0;
    deq_resp_data_o = '{status: QE_ST_OK, wqid: op_i.id, index: '0};
    err_o = 1'b0;
    err_data_o = '{code: QE_ERR_NONE, is_cr: 1'b0, id: op_i.id, fn: '0};

    unique case (op_i.op)
      OP_WQ_CFG: begin
        if (id_ok_i && op_i.log_size <= seam_lsz_t'(MAX_WQ_LOG_SIZE)) begin
          nxt_o = '{enable: op_i.enable, sched: op_i.sched, owner: op_i.fn,
                    log_size: lsz_t'(op_i.log_size), default: '0};
          we_o = 1'b1;
        end
      end
      OP_DB: begin
        err_data_o.fn = op_i.fn;
        if (!live) begin
          err_o = 1'b1;
          err_data_o.code = QE_ERR_DB_DISABLED;
        end else if (op_i.fn != cur_i.owner) begin
          err_o = 1'b1;
          err_data_o.code = QE_ERR_DB_OWNER;
        end else if (!in_range(op_i.idx, cur_i.ci, op_i.idx, cur_i.pi, cur_i.log_size)) begin
          err_o = 1'b1;
          err_data_o.code = QE_ERR_DB_RANGE;
        end else begin
          we_o = 1'b1;
          nxt_o.pi = op_i.idx;
          if (cur_i.sched && cur_i.fetch != op_i.idx && !cur_i.queued) begin
            nxt_o.queued = 1'b1;
            work_o = 1'b1;
          end
        end
      end
      OP_DEQ: begin
        deq_resp_o = 1'b1;
        if (!live) begin
          deq_resp_data_o.status = QE_ST_DISABLED;
        end else begin
          we_o = 1'b1;
          nxt_o.queued = 1'b0;
          if (cur_i.fetch == cur_i.pi) begin
            deq_resp_data_o.status = QE_ST_EMPTY;
          end else begin
            deq_resp_data_o.index = cur_i.fetch;
            nxt_o.fetch = fetch_inc;
            if (cur_i.sched && fetch_inc != cur_i.pi) begin
              nxt_o.queued = 1'b1;
              work_o = 1'b1;
            end
          end
        end
      end
      OP_DEQ_COMMIT: begin
        if (!live || cur_i.ci == cur_i.fetch) begin
          err_o = 1'b1;
          err_data_o.code = QE_ERR_BAD_COMMIT;
        end else begin
          we_o = 1'b1;
          nxt_o.ci = cur_i.ci + idx_t'(1);
        end
      end
      default: ;  // ring ops: chio_qe_cr_logic
    endcase
  end
endmodule

`default_nettype wire
