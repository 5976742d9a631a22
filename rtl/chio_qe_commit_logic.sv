// Commit lane (K) of the queue engine, combinational: wq_cfg's commit-side word and deq_commit.
// Rules of the C++ reference (tlm-model/queue_engine/queue_engine_ref.h):
// - wq_cfg: (same validity rule as lane D) ci 0.
// - deq_commit: disabled/unknown, or ci == fetch (nothing dequeued and uncommitted) ->
//   BAD_COMMIT (fn 0); else ci++.
// K acts after D and Q: dw_i and qw_i must include their writes of this clock to the same queue.
`default_nettype none

module chio_qe_commit_logic
  import chio_spec_pkg::*;
  import chio_qe_pkg::*;
(
  input  wire op_t       op_i,       // OP_WQ_CFG or OP_DEQ_COMMIT
  input  wire logic      id_ok_i,    // op_i.id < NumWq
  input  wire wq_dword_t dw_i,       // current words of queue op_i.id
  input  wire wq_qword_t qw_i,
  input  wire wq_kword_t kw_i,
  output      wq_kword_t nxt_o,      // commit word to write back
  output      logic      we_o,
  output      logic      err_o,      // emit err_data_o
  output      err_t      err_data_o
);
  // Fields of the op and queue words this lane does not use.
  logic unused;
  assign unused = ^{op_i.fn, op_i.idx, op_i.enable, op_i.sched, op_i.arm, op_i.solicited,
                    op_i.target, dw_i.sched, dw_i.owner, dw_i.log_size, dw_i.pi, dw_i.tok_d,
                    qw_i.tok_q};

  always_comb begin
    nxt_o = kw_i;
    we_o = 1'b0;
    err_o = 1'b0;
    err_data_o = '0;
    err_data_o.code = QE_ERR_BAD_COMMIT;
    err_data_o.id = op_i.id;
    if (op_i.op == OP_WQ_CFG) begin
      if (id_ok_i && op_i.log_size <= SeamLogSizeBits'(MAX_WQ_LOG_SIZE)) begin
        nxt_o = '0;
        we_o = 1'b1;
      end
    end else if (!id_ok_i || !dw_i.enable || kw_i.ci == qw_i.fetch) begin
      err_o = 1'b1;
    end else begin
      we_o = 1'b1;
      nxt_o.ci = kw_i.ci + INDEX_BITS'(1);
    end
  end
endmodule

`default_nettype wire
