// C++ reference implementation of the queue engine seam (untimed). It is the oracle the RTL
// (rtl/chio_queue_engine.sv) is checked against, so every rule below is exact: the RTL and the
// lockstep pair must produce the same responses and output streams for the same calls.
//
// Notation: all index arithmetic is modulo 2^16 (free-running 16-bit counters); size = 1 <<
// log_size. "err X" means one element {X, is_cr, id, fn} on the `err` stream.
//
// Configuration (internal inputs from the command processor, not guest doorbells)
// - wq_cfg / cr_cfg with an id >= NUM_WQ / NUM_CR or a log_size above MAX_WQ_LOG_SIZE /
//   MAX_CQ_LOG_SIZE is ignored (no state change, no output): the command layer validates those
//   fields and reports the bad one itself.
// - Otherwise the entry is rewritten: enable, sched/target, owner, log_size from the input, all
//   indices 0, queued/armed/armed_solicited/error cleared (whether enabling or disabling). A
//   `work` token issued before a reset may still be in the scheduler; its deq then answers
//   EMPTY or dequeues the new work, both harmless.
//
// Work queue rules
// - db: wqid >= NUM_WQ or disabled -> err DB_DISABLED; fn != owner -> err DB_OWNER;
//   (pi - ci) > size or (pi - old pi) > size -> err DB_RANGE (dropped, state unchanged);
//   else pi = new pi, and a sched queue with fetch != pi and no token outstanding (!queued)
//   emits work{wqid} and sets queued. Errors carry is_cr = false, id = wqid, fn = db fn.
// - deq: wqid >= NUM_WQ or disabled -> DISABLED (state unchanged); fetch == pi -> EMPTY and
//   queued cleared; else OK with index = fetch, fetch++, queued cleared, and a sched queue that
//   still has fetch != pi emits work{wqid} again and sets queued (the token goes to the back of
//   the scheduler FIFO: round robin between queues). Non-OK responses carry index 0.
// - deq_commit: wqid >= NUM_WQ, disabled, or ci == fetch (nothing dequeued and uncommitted) ->
//   err BAD_COMMIT {is_cr = false, wqid, fn 0}; else ci++.
//
// Completion ring rules (CQ or EQ)
// - cq: crid >= NUM_CR, disabled or in error -> DISABLED; pi - ci == size -> FULL, err
//   CQ_OVERFLOW {is_cr, crid, fn 0}, and the ring is put in error; else OK with index = pi,
//   phase = !((pi >> log_size) & 1) (1 on the first pass, then alternating), pi++. Non-OK
//   responses carry index 0 and phase 0.
// - cq_commit: crid >= NUM_CR, disabled, or cpi == pi (nothing allocated and uncommitted) ->
//   err BAD_COMMIT {is_cr, crid, fn 0}; else cpi++, and an armed ring whose arm is not
//   solicited-only, or whose commit is solicited, emits event{crid, target} and is disarmed.
//   The error state does not block commits of slots allocated before it.
// - arm: crid >= NUM_CR or disabled -> err DB_DISABLED; fn != owner -> err DB_OWNER;
//   (cpi - ci) > size or (ci - old ci) > size -> err DB_RANGE (the consumer index may only move
//   forward, and not past the committed entries); errors carry is_cr, crid, fn. Else ci = new
//   ci; with arm set: a non-solicited arm while entries are already waiting (cpi != ci) emits
//   event{crid, target} at once and leaves the ring disarmed (the consumer missed nothing);
//   otherwise the ring is armed with armed_solicited = solicited. Without arm, the arm state is
//   unchanged.
//
// Invariants kept by these rules for an enabled queue: ci <= fetch <= pi and pi - ci <= size
// (so a producer never overwrites an unconsumed slot); for a ring ci <= cpi <= pi and pi - ci <=
// size (so the FULL test pi - ci == size is exact).
#pragma once

#include <deque>
#include <vector>

#include "tlm-model/queue_engine/queue_engine.h"

namespace chio::model {

class queue_engine_ref : public queue_engine {
public:
    queue_engine_ref();

    void wq_cfg(const qe_wq_cfg& c) override;
    void cr_cfg(const qe_cr_cfg& c) override;
    void db(const qe_db& d) override;
    qe_deq_resp deq(const qe_deq_req& r) override;
    void deq_commit(const qe_deq_commit& c) override;
    qe_cq_resp cq(const qe_cq_req& r) override;
    void cq_commit(const qe_cq_commit& c) override;
    void arm(const qe_arm& a) override;

    bool pop_work(qe_work& w) override;
    bool pop_event(qe_event& e) override;
    bool pop_err(qe_err& e) override;

    uint64_t cycles() const override { return 0; }
    const char* kind() const override { return "model"; }

    // The state of one queue, read only: the adapter's queue mirror (tlm-model/adapter/
    // queue_mirror.h) runs a reference engine beside any implementation and reads a VF's ring
    // indices from it when the VF's state is saved. nullptr for an id out of range.
    struct wq_state;
    struct cr_state;
    const wq_state* wq(uint16_t wqid) const { return wqid < m_wq.size() ? &m_wq[wqid] : nullptr; }
    const cr_state* cr(uint16_t crid) const { return crid < m_cr.size() ? &m_cr[crid] : nullptr; }

    struct wq_state {
        bool enable = false;
        bool sched = false;
        uint8_t owner = 0;
        uint8_t log_size = 0;
        uint16_t pi = 0;
        uint16_t fetch = 0;
        uint16_t ci = 0;
        bool queued = false;
    };
    struct cr_state {
        bool enable = false;
        bool error = false;
        uint8_t owner = 0;
        uint8_t log_size = 0;
        uint16_t target = 0;
        uint16_t pi = 0;
        uint16_t cpi = 0;
        uint16_t ci = 0;
        bool armed = false;
        bool armed_solicited = false;
    };

private:
    void push_err(spec::qe::error code, bool is_cr, uint16_t id, uint8_t fn);

    std::vector<wq_state> m_wq;
    std::vector<cr_state> m_cr;
    std::deque<qe_work> m_work;
    std::deque<qe_event> m_event;
    std::deque<qe_err> m_err;
};

}  // namespace chio::model
