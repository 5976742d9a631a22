// The hot queue engine seam: the adapter talks to its queue engine only through this interface.
//
// Contract
// - Every call mirrors one valid/ready stream of the RTL block rtl/chio_queue_engine.sv, with
//   the same names: inputs `wq_cfg`, `cr_cfg`, `db`, `deq_req`, `deq_commit`, `cq_req`,
//   `cq_commit`, `arm`; outputs `deq_resp`, `cq_resp` (returned by the request call), and the
//   output streams `work` ("queue has work", to the scheduler), `event` and `err`, which the
//   caller drains with pop_*().
// - Implementations (C++ reference, Verilated RTL, lockstep pair) must produce identical
//   responses and identical per-stream output sequences for the same call sequence. Outputs
//   caused by a call are visible to pop_*() as soon as that call returns.
// - Work queues are identified by wqid = qpn * 2 + (1 for a receive queue); completion rings by
//   crid = cqn, or spec::limits::MAX_CQ + eqn for event queues. Indices are free-running
//   16-bit counters; a ring slot is index & (size - 1).
// - Inputs come from guests (doorbells) and must never crash an implementation: bad values are
//   answered with a status or an `err` output, as the spec's queue_engine tables define.
//
// Queue state per work queue: enable, sched (takes part in scheduling: send queues), owner
// function, log2 size, producer index pi (last doorbell), fetch index (next to dequeue),
// consumer index ci (next to commit), and "queued" (a `work` token is outstanding).
// Per completion ring: enable, error, owner, log2 size, target (EQ number for a CQ, MSI-X vector
// for an EQ), allocated index pi, committed index cpi, consumer index ci, armed, armed_solicited.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "chio/spec/spec.h"

namespace chio::model {

// Configure (create, reset or disable) a work queue. Enabling sets pi = fetch = ci = 0.
struct qe_wq_cfg {
    uint16_t wqid = 0;
    bool enable = false;
    bool sched = false;  // send queues: doorbells raise `work` tokens
    uint8_t owner_fn = 0;
    uint8_t log_size = 0;  // 0..spec::limits::MAX_WQ_LOG_SIZE
};

// Configure a completion ring (CQ or EQ). Enabling sets pi = cpi = ci = 0, clears arm and error.
struct qe_cr_cfg {
    uint16_t crid = 0;
    bool enable = false;
    uint8_t owner_fn = 0;
    uint8_t log_size = 0;  // 0..spec::limits::MAX_CQ_LOG_SIZE
    uint16_t target = 0;   // CQ: EQ number; EQ: MSI-X vector
};

// Doorbell for a send or receive queue: the new producer index.
// Accepted when the queue is enabled, fn owns it, and 0 <= pi - ci <= size and pi - old pi <=
// size (mod 2^16); otherwise dropped with an `err` (DB_DISABLED, DB_OWNER, DB_RANGE).
struct qe_db {
    uint8_t fn = 0;
    uint16_t wqid = 0;
    uint16_t pi = 0;
};

// Dequeue the next work queue entry (send queue picked by the scheduler, or a receive queue
// targeted by an incoming message).
struct qe_deq_req {
    uint16_t wqid = 0;
};
struct qe_deq_resp {
    spec::qe::status status = spec::qe::status::OK;  // OK, EMPTY or DISABLED
    uint16_t wqid = 0;
    uint16_t index = 0;  // free-running index of the dequeued entry
    bool operator==(const qe_deq_resp& o) const {
        return status == o.status && wqid == o.wqid && index == o.index;
    }
};

// Retire the oldest dequeued entry (its slot may be reused by the producer).
struct qe_deq_commit {
    uint16_t wqid = 0;
};

// Allocate the next completion-ring slot.
struct qe_cq_req {
    uint16_t crid = 0;
};
struct qe_cq_resp {
    spec::qe::status status = spec::qe::status::OK;  // OK, FULL or DISABLED
    uint16_t crid = 0;
    uint16_t index = 0;
    bool phase = false;  // owner bit to write: 1 on the first pass over the ring, then alternating
    bool operator==(const qe_cq_resp& o) const {
        return status == o.status && crid == o.crid && index == o.index && phase == o.phase;
    }
};

// The entry at the oldest allocated slot has been written to host memory.
struct qe_cq_commit {
    uint16_t crid = 0;
    bool solicited = false;
};

// CQ/EQ doorbell: new consumer index, optionally arming for an event.
struct qe_arm {
    uint8_t fn = 0;
    uint16_t crid = 0;
    uint16_t ci = 0;
    bool arm = false;
    bool solicited = false;  // with arm: only a solicited completion fires
};

// Output: this send queue has work not yet dequeued (one token outstanding per queue).
struct qe_work {
    uint16_t wqid = 0;
    bool operator==(const qe_work& o) const { return wqid == o.wqid; }
};

// Output: an armed ring got a completion: fire target (CQ: write an EQE to EQ `target`;
// EQ: send MSI-X vector `target`). The ring is disarmed.
struct qe_event {
    uint16_t crid = 0;
    uint16_t target = 0;
    bool operator==(const qe_event& o) const { return crid == o.crid && target == o.target; }
};

// Output: an input was refused.
struct qe_err {
    spec::qe::error code = spec::qe::error::NONE;
    bool is_cr = false;  // id is a crid (else a wqid)
    uint16_t id = 0;
    uint8_t fn = 0;  // function that sent the refused input (0 for internal inputs)
    bool operator==(const qe_err& o) const {
        return code == o.code && is_cr == o.is_cr && id == o.id && fn == o.fn;
    }
};

class queue_engine {
public:
    virtual ~queue_engine() = default;

    virtual void wq_cfg(const qe_wq_cfg& c) = 0;
    virtual void cr_cfg(const qe_cr_cfg& c) = 0;
    virtual void db(const qe_db& d) = 0;
    virtual qe_deq_resp deq(const qe_deq_req& r) = 0;
    virtual void deq_commit(const qe_deq_commit& c) = 0;
    virtual qe_cq_resp cq(const qe_cq_req& r) = 0;
    virtual void cq_commit(const qe_cq_commit& c) = 0;
    virtual void arm(const qe_arm& a) = 0;

    virtual bool pop_work(qe_work& w) = 0;
    virtual bool pop_event(qe_event& e) = 0;
    virtual bool pop_err(qe_err& e) = 0;

    // Clock cycles the implementation has run (0 for the untimed C++ reference).
    virtual uint64_t cycles() const = 0;
    // Lockstep: number of compared outputs and mismatches (0 for single implementations).
    virtual uint64_t compared() const { return 0; }
    virtual uint64_t mismatches() const { return 0; }
    virtual const char* kind() const = 0;
};

enum class queue_engine_kind { model, rtl, lockstep };

// Parses "model", "rtl" or "lockstep"; false for anything else.
bool parse_queue_engine_kind(const std::string& s, queue_engine_kind& out);
const char* to_string(queue_engine_kind k);

// Options for the RTL-backed engines. trace_file: when not empty, the Verilated model writes a
// VCD of its signals there (merged into the run's one waveform by the tracer).
struct queue_engine_options {
    std::string trace_file;
    // Simulated time per RTL clock, for trace time stamps (picoseconds; 250 MHz).
    uint64_t clock_ps = 4000;
    // Current simulated time in picoseconds, for trace time stamps. The RTL runs in batches
    // inside zero-time calls; its trace time is max(last + clock, now()) so it never goes back.
    std::function<uint64_t()> now_ps;
    // Trace only clocks stamped in [trace_from_ps, trace_to_ps]: recording a window costs
    // nothing outside it. Verilator's first dump writes every signal, so the window opens with
    // the values current at its start.
    uint64_t trace_from_ps = 0;
    uint64_t trace_to_ps = UINT64_MAX;
};

std::unique_ptr<queue_engine> make_queue_engine(queue_engine_kind k,
                                                const queue_engine_options& opt = {});

}  // namespace chio::model
