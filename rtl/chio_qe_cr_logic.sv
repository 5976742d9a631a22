// Completion ring (CQ/EQ) operations of the queue engine (combinational): from one accepted op
// and the ring's current state, the next state and the outputs. The rules are those of the C++
// reference (tlm-model/queue_engine/queue_engine_ref.h), in the same order of checks:
// - cr_cfg: ignored for an id >= NumCr or log_size > MAX_CQ_LOG_SIZE; else rewrites the entry
//   with all indices 0, error and arm clear.
// - cq: disabled/unknown/in error -> DISABLED; pi - ci == size -> FULL, CQ_OVERFLOW and the ring
//   goes to error; else OK with index pi, phase !pi[log_size], pi++.
// - cq_commit: disabled/unknown or cpi == pi -> BAD_COMMIT (fn 0); else cpi++, and an armed ring
//   (solicited-only arms need a solicited commit) emits `event` and is disarmed.
// - arm: disabled/unknown -> DB_DISABLED; wrong fn -> DB_OWNER; cpi - ci > size or ci - old ci >
//   size -> DB_RANGE; else ci updated; with arm, a non-solicited arm while entries wait emits
//   `event` at once, otherwise the ring is armed.
`default_nettype none

module chio_qe_cr_logic
  import chio_spec_pkg::*;
  import chio_qe_pkg::*;
(
  input  wire op_t       op_i,
  input  wire logic      id_ok_i,    // op_i.id < NumCr
  input  wire cr_state_t cur_i,      // current state of ring op_i.id
  output      cr_state_t nxt_o,      // state to write back
  output      logic      we_o,       // write nxt_o back
  output      logic      event_o,    // emit event{op_i.id, target}
  output      logic      cq_resp_o,  // emit cq_resp_data_o
  output      cq_resp_t  cq_resp_data_o,
  output      logic      err_o,      // emit err_data_o
  output      err_t      err_data_o
);
  logic live;  // the ring exists and is enabled
  idx_t fill;  // allocated, not yet consumed entries

  // Field of the shared op word that only work queue ops carry.
  logic unused_op;
  assign unused_op = op_i.sched;

  assign live = id_ok_i && cur_i.enable;
  assign fill = cur_i.pi - cur_i.ci;

  always_comb begin
    nxt_o = cur_i;
    we_o = 1'b0;
    event_o = 1'b0;
    cq_resp_o = 1'b0;
    cq_resp_data_o = '0;
    cq_resp_data_o.status = QE_ST_OK;
    cq_resp_data_o.crid = op_i.id;
    err_o = 1'b0;
    err_data_o = '0;
    err_data_o.code = QE_ERR_NONE;
    err_data_o.is_cr = 1'b1;
    err_data_o.id = op_i.id;

    unique case (op_i.op)
      OP_CR_CFG: begin
        if (id_ok_i && op_i.log_size <= SeamLogSizeBits'(MAX_CQ_LOG_SIZE)) begin
          nxt_o = '0;
          nxt_o.enable = op_i.enable;
          nxt_o.owner = op_i.fn;
          nxt_o.log_size = LOG_SIZE_BITS'(op_i.log_size);
          nxt_o.target = op_i.target;
          we_o = 1'b1;
        end
      end
      OP_CQ: begin
        cq_resp_o = 1'b1;
        if (!live || cur_i.error) begin
          cq_resp_data_o.status = QE_ST_DISABLED;
        end else if ({1'b0, fill} == ring_size(cur_i.log_size)) begin
          cq_resp_data_o.status = QE_ST_FULL;
          we_o = 1'b1;
          nxt_o.error = 1'b1;
          err_o = 1'b1;
          err_data_o.code = QE_ERR_CQ_OVERFLOW;
        end else begin
          cq_resp_data_o.index = cur_i.pi;
          cq_resp_data_o.phase = !cur_i.pi[cur_i.log_size];
          we_o = 1'b1;
          nxt_o.pi = cur_i.pi + INDEX_BITS'(1);
        end
      end
      OP_CQ_COMMIT: begin
        if (!live || cur_i.cpi == cur_i.pi) begin
          err_o = 1'b1;
          err_data_o.code = QE_ERR_BAD_COMMIT;
        end else begin
          we_o = 1'b1;
          nxt_o.cpi = cur_i.cpi + INDEX_BITS'(1);
          if (cur_i.armed && (!cur_i.armed_solicited || op_i.solicited)) begin
            event_o = 1'b1;
            nxt_o.armed = 1'b0;
            nxt_o.armed_solicited = 1'b0;
          end
        end
      end
      OP_ARM: begin
        err_data_o.fn = op_i.fn;
        if (!live) begin
          err_o = 1'b1;
          err_data_o.code = QE_ERR_DB_DISABLED;
        end else if (op_i.fn != cur_i.owner) begin
          err_o = 1'b1;
          err_data_o.code = QE_ERR_DB_OWNER;
        end else if (!in_range(cur_i.cpi, op_i.idx, op_i.idx, cur_i.ci, cur_i.log_size)) begin
          err_o = 1'b1;
          err_data_o.code = QE_ERR_DB_RANGE;
        end else begin
          we_o = 1'b1;
          nxt_o.ci = op_i.idx;
          if (op_i.arm) begin
            if (!op_i.solicited && cur_i.cpi != op_i.idx) begin
              event_o = 1'b1;
              nxt_o.armed = 1'b0;
              nxt_o.armed_solicited = 1'b0;
            end else begin
              nxt_o.armed = 1'b1;
              nxt_o.armed_solicited = op_i.solicited;
            end
          end
        end
      end
      default: ;  // work queue ops: chio_qe_wq_logic
    endcase
  end
endmodule

`default_nettype wire
