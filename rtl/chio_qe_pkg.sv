// Types and helpers shared by the queue engine's modules (chio_queue_engine and its logic
// blocks). Every hardware width comes from chio_spec_pkg; the only widths typed here are the
// seam's field widths (tlm-model/queue_engine/queue_engine.h), which are wider than the stored
// fields on purpose: an out-of-range guest value must reach the engine to be refused by the same
// rule as in the C++ reference.
`default_nettype none

package chio_qe_pkg;
  import chio_spec_pkg::*;

  // Width of the id fields (wqid, crid) on the input and output streams: the seam's uint16_t.
  localparam int unsigned SeamIdBits = 16;
  // Width of the log2-size field on the configuration streams: the seam's uint8_t.
  localparam int unsigned SeamLogSizeBits = 8;
  // Width of a ring's target (CQ: EQ number; EQ: MSI-X vector): the seam's uint16_t.
  localparam int unsigned TargetBits = 16;

  typedef logic [INDEX_BITS-1:0] idx_t;
  typedef logic [FN_BITS-1:0] fn_t;
  typedef logic [LOG_SIZE_BITS-1:0] lsz_t;
  typedef logic [SeamIdBits-1:0] id_t;
  typedef logic [SeamLogSizeBits-1:0] seam_lsz_t;
  typedef logic [TargetBits-1:0] target_t;

  // One accepted input, whatever its stream.
  typedef enum logic [2:0] {
    OP_WQ_CFG     = 3'd0,
    OP_CR_CFG     = 3'd1,
    OP_DEQ_COMMIT = 3'd2,
    OP_CQ_COMMIT  = 3'd3,
    OP_DEQ        = 3'd4,
    OP_CQ         = 3'd5,
    OP_DB         = 3'd6,
    OP_ARM        = 3'd7
  } op_e;

  // Lanes: each takes one op per clock; ops taken in the same clock act in this order (D, Q, K,
  // C), which is also the order of their elements on a shared output stream (work, err).
  // wq_cfg takes lanes D, Q and K together (it rewrites all three words of the queue).
  typedef enum int unsigned {
    LANE_D = 0,  // wq_cfg, db
    LANE_Q = 1,  // wq_cfg, deq_req
    LANE_K = 2,  // wq_cfg, deq_commit
    LANE_C = 3   // cr_cfg, cq_req, cq_commit, arm
  } lane_e;
  localparam int unsigned NumLanes = 4;

  typedef struct packed {
    op_e       op;
    id_t       id;         // wqid or crid
    fn_t       fn;         // db/arm: sending function; cfg: owner function
    idx_t      idx;        // db: new pi; arm: new ci
    logic      enable;     // cfg
    logic      sched;      // wq_cfg
    logic      arm;        // arm
    logic      solicited;  // arm, cq_commit
    seam_lsz_t log_size;   // cfg
    target_t   target;     // cr_cfg
  } op_t;

  // Widths of the structs that travel in flat per-lane vectors ($bits of a type is beyond yosys
  // 0.23; chio_queue_engine checks these against $bits at elaboration).
  localparam int unsigned OpBits = 3 + SeamIdBits + FN_BITS + INDEX_BITS + 4 + SeamLogSizeBits +
                                   TargetBits;
  localparam int unsigned ErrBits = 3 + 1 + SeamIdBits + FN_BITS;

  // Per work queue state, split by writer so that the doorbell, dequeue and commit lanes each
  // own the word they write (one write port per RAM) and read the others' words from their own
  // RAM copies. "queued" (a work token outstanding) is tok_d ^ tok_q: the doorbell lane issues
  // tokens by flipping tok_d, the dequeue lane sets queued to its new value through tok_q.
  typedef struct packed {  // written by the doorbell lane (and wq_cfg)
    logic enable;
    logic sched;
    fn_t  owner;
    lsz_t log_size;
    idx_t pi;
    logic tok_d;
  } wq_dword_t;

  typedef struct packed {  // written by the dequeue lane (and wq_cfg)
    idx_t fetch;
    logic tok_q;
  } wq_qword_t;

  typedef struct packed {  // written by the commit lane (and wq_cfg)
    idx_t ci;
  } wq_kword_t;

  // Per completion ring state (one RAM word).
  typedef struct packed {
    logic    enable;
    logic    error;
    fn_t     owner;
    lsz_t    log_size;
    target_t target;
    idx_t    pi;
    idx_t    cpi;
    idx_t    ci;
    logic    armed;
    logic    armed_solicited;
  } cr_state_t;

  typedef struct packed {
    qe_status_e status;
    id_t        wqid;
    idx_t       index;
  } deq_resp_t;

  typedef struct packed {
    qe_status_e status;
    id_t        crid;
    idx_t       index;
    logic       phase;
  } cq_resp_t;

  typedef struct packed {
    id_t     crid;
    target_t target;
  } event_t;

  typedef struct packed {
    qe_error_e code;
    logic      is_cr;
    id_t       id;
    fn_t       fn;
  } err_t;

  // Ring size 2^log_size, one bit wider than an index: a distance of up to 2^16 - 1 is compared
  // against it.
  // (Functions assign their name instead of `return`, and casts are size casts, not type casts:
  // the subset yosys 0.23 reads, see docs/rtl.md "Synthesis".)
  localparam int unsigned RingSizeBits = INDEX_BITS + 1;
  function automatic logic [INDEX_BITS:0] ring_size(lsz_t log_size);
    ring_size = RingSizeBits'(1) << log_size;
  endfunction

  // Range rule of the reference for doorbells: the new index `nxt` may move forward from `old`
  // by at most a ring, and `ahead` may be at most a ring ahead of `behind` (mod 2^16).
  function automatic logic in_range(idx_t ahead, idx_t behind, idx_t nxt, idx_t old,
                                    lsz_t log_size);
    idx_t span, step;
    span = ahead - behind;
    step = nxt - old;
    in_range = ({1'b0, span} <= ring_size(log_size)) && ({1'b0, step} <= ring_size(log_size));
  endfunction
endpackage

`default_nettype wire
