// queue_mirror: the adapter's queue engine wrapped with a reference engine that follows it.
//
// Contract
// - Every input goes to the real engine (model, RTL or lockstep) and to a private
//   queue_engine_ref; responses and outputs are the real engine's. The reference engine is the
//   oracle the RTL is checked against, so both hold the same ring indices; the mirror's outputs
//   are discarded.
// - Why: a VF's state blob (docs/migration.md) holds its ring indices (producer, fetch and
//   consumer index of each work queue; allocated, committed and consumer index and arm state of
//   each completion ring). The queue-engine seam has no read port for them (the RTL has none),
//   so firmware keeps a shadow, as this mirror does.
// - replay_*(): bring a freshly enabled queue to saved indices using only the seam's ordinary
//   inputs (doorbells, dequeues, commits, slot requests, consumer doorbells), so every
//   implementation reaches the same state. Outputs the replay causes (work tokens) stay in the
//   real engine's streams for the caller's collect().
#pragma once

#include <memory>

#include "tlm-model/queue_engine/queue_engine.h"
#include "tlm-model/queue_engine/queue_engine_ref.h"

namespace chio::model {

struct wq_indices {
    uint16_t pi = 0, fetch = 0, ci = 0;
};
struct cr_indices {
    uint16_t pi = 0, cpi = 0, ci = 0;
    bool armed = false, armed_solicited = false;
};

class queue_mirror final : public queue_engine {
public:
    explicit queue_mirror(std::unique_ptr<queue_engine> real) : m_real(std::move(real)) {}

    void wq_cfg(const qe_wq_cfg& c) override;
    void cr_cfg(const qe_cr_cfg& c) override;
    void db(const qe_db& d) override;
    qe_deq_resp deq(const qe_deq_req& r) override;
    void deq_commit(const qe_deq_commit& c) override;
    qe_cq_resp cq(const qe_cq_req& r) override;
    void cq_commit(const qe_cq_commit& c) override;
    void arm(const qe_arm& a) override;

    bool pop_work(qe_work& w) override { return m_real->pop_work(w); }
    bool pop_event(qe_event& e) override { return m_real->pop_event(e); }
    bool pop_err(qe_err& e) override { return m_real->pop_err(e); }

    uint64_t cycles() const override { return m_real->cycles(); }
    uint64_t compared() const override { return m_real->compared(); }
    uint64_t mismatches() const override { return m_real->mismatches(); }
    const char* kind() const override { return m_real->kind(); }

    queue_engine& real() { return *m_real; }
    wq_indices wq(uint16_t wqid) const;
    cr_indices cr(uint16_t crid) const;
    // Drives an enabled, empty work queue owned by fn to `to` (needs to.pi - to.ci <= size,
    // to.ci <= to.fetch <= to.pi, the engine's own invariants).
    void replay_wq(uint16_t wqid, uint8_t fn, uint8_t log_size, const wq_indices& to);
    // Drives an enabled, empty completion ring owned by fn to `to` (pi == cpi: a ring is saved
    // only with every allocated slot written).
    void replay_cr(uint16_t crid, uint8_t fn, uint8_t log_size, const cr_indices& to);

private:
    void drain_mirror();

    std::unique_ptr<queue_engine> m_real;
    queue_engine_ref m_ref;
};

}  // namespace chio::model
