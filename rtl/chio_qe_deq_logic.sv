// Dequeue lane (Q) of the queue engine, combinational: wq_cfg's dequeue-side word and deq.
// Rules of the C++ reference (tlm-model/queue_engine/queue_engine_ref.h):
// - wq_cfg: (same validity rule as lane D) fetch 0, tok_q 0.
// - deq: disabled/unknown -> DISABLED; fetch == pi -> EMPTY; else OK with index fetch, fetch++.
//   queued becomes 0, or 1 with a new `work` token when a sched queue still has fetch != pi;
//   tok_q is set so that tok_d ^ tok_q is that value.
// Q acts after D: dw_i must already include lane D's write of this clock to the same queue.
`default_nettype none

module chio_qe_deq_logic
  import chio_spec_pkg::*;
  import chio_qe_pkg::*;
(
  input  wire op_t       op_i,            // OP_WQ_CFG or OP_DEQ
  input  wire logic      id_ok_i,         // op_i.id < NumWq
  input  wire wq_dword_t dw_i,            // current words of queue op_i.id
  input  wire wq_qword_t qw_i,
  output      wq_qword_t nxt_o,           // dequeue word to write back
  output      logic      we_o,
  output      logic      work_o,          // emit work{op_i.id}
  output      deq_resp_t deq_resp_data_o  // response (every OP_DEQ makes one)
);
  idx_t fetch_inc;
  logic queued;

  // Fields of the op and doorbell words this lane does not use.
  logic unused;
  assign unused = ^{op_i.fn, op_i.idx, op_i.enable, op_i.sched, op_i.arm, op_i.solicited,
                    op_i.target, dw_i.owner, dw_i.log_size};

  assign fetch_inc = qw_i.fetch + INDEX_BITS'(1);

  always_comb begin
    nxt_o = qw_i;
    we_o = 1'b0;
    work_o = 1'b0;
    queued = 1'b0;
    deq_resp_data_o = '0;
    deq_resp_data_o.status = QE_ST_OK;
    deq_resp_data_o.wqid = op_i.id;
    if (op_i.op == OP_WQ_CFG) begin
      if (id_ok_i && op_i.log_size <= SeamLogSizeBits'(MAX_WQ_LOG_SIZE)) begin
        nxt_o = '0;
        we_o = 1'b1;
      end
    end else if (!id_ok_i || !dw_i.enable) begin
      deq_resp_data_o.status = QE_ST_DISABLED;
    end else begin
      we_o = 1'b1;
      if (qw_i.fetch == dw_i.pi) begin
        deq_resp_data_o.status = QE_ST_EMPTY;
      end else begin
        deq_resp_data_o.index = qw_i.fetch;
        nxt_o.fetch = fetch_inc;
        if (dw_i.sched && fetch_inc != dw_i.pi) begin
          queued = 1'b1;
          work_o = 1'b1;
        end
      end
      nxt_o.tok_q = dw_i.tok_d ^ queued;
    end
  end
endmodule

`default_nettype wire
