// Doorbell lane (D) of the queue engine, combinational: wq_cfg's doorbell-side word and db.
// Rules of the C++ reference (tlm-model/queue_engine/queue_engine_ref.h), in its check order:
// - wq_cfg: ignored for an id >= NumWq or log_size > MAX_WQ_LOG_SIZE; else the word is rewritten
//   (enable, sched, owner, log_size from the op; pi 0; tok_d 0, the other lanes clear tok_q).
// - db: disabled/unknown -> DB_DISABLED; wrong fn -> DB_OWNER; pi - ci > size or pi - old pi >
//   size -> DB_RANGE (dropped); else pi updated, and a sched queue with fetch != pi and no token
//   outstanding emits `work` (tok_d flips: queued becomes 1).
// D acts first among the lanes, so the other lanes' words it reads are those before this clock.
`default_nettype none

module chio_qe_db_logic
  import chio_spec_pkg::*;
  import chio_qe_pkg::*;
(
  input  wire op_t       op_i,       // OP_WQ_CFG or OP_DB
  input  wire logic      id_ok_i,    // op_i.id < NumWq
  input  wire wq_dword_t dw_i,       // current words of queue op_i.id
  input  wire wq_qword_t qw_i,
  input  wire wq_kword_t kw_i,
  output      wq_dword_t nxt_o,      // doorbell word to write back
  output      logic      we_o,
  output      logic      work_o,     // emit work{op_i.id}
  output      logic      err_o,      // emit err_data_o
  output      err_t      err_data_o
);
  // Fields of the shared op word that other lanes' ops carry.
  logic unused_op;
  assign unused_op = ^{op_i.arm, op_i.solicited, op_i.target};

  always_comb begin
    nxt_o = dw_i;
    we_o = 1'b0;
    work_o = 1'b0;
    err_o = 1'b0;
    err_data_o = '0;
    err_data_o.code = QE_ERR_NONE;
    err_data_o.id = op_i.id;
    err_data_o.fn = op_i.fn;
    if (op_i.op == OP_WQ_CFG) begin
      if (id_ok_i && op_i.log_size <= SeamLogSizeBits'(MAX_WQ_LOG_SIZE)) begin
        nxt_o = '0;  // pi 0, tok_d 0
        nxt_o.enable = op_i.enable;
        nxt_o.sched = op_i.sched;
        nxt_o.owner = op_i.fn;
        nxt_o.log_size = LOG_SIZE_BITS'(op_i.log_size);
        we_o = 1'b1;
      end
    end else if (!id_ok_i || !dw_i.enable) begin
      err_o = 1'b1;
      err_data_o.code = QE_ERR_DB_DISABLED;
    end else if (op_i.fn != dw_i.owner) begin
      err_o = 1'b1;
      err_data_o.code = QE_ERR_DB_OWNER;
    end else if (!in_range(op_i.idx, kw_i.ci, op_i.idx, dw_i.pi, dw_i.log_size)) begin
      err_o = 1'b1;
      err_data_o.code = QE_ERR_DB_RANGE;
    end else begin
      we_o = 1'b1;
      nxt_o.pi = op_i.idx;
      if (dw_i.sched && qw_i.fetch != op_i.idx && !(dw_i.tok_d ^ qw_i.tok_q)) begin
        nxt_o.tok_d = !dw_i.tok_d;
        work_o = 1'b1;
      end
    end
  end
endmodule

`default_nettype wire
