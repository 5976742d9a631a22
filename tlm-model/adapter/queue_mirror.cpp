#include "tlm-model/adapter/queue_mirror.h"

#include <algorithm>

namespace chio::model {

void queue_mirror::drain_mirror() {
    // The mirror's outputs duplicate the real engine's: dropped so its queues stay empty.
    qe_work w;
    qe_event e;
    qe_err x;
    while (m_ref.pop_work(w)) {
    }
    while (m_ref.pop_event(e)) {
    }
    while (m_ref.pop_err(x)) {
    }
}

void queue_mirror::wq_cfg(const qe_wq_cfg& c) {
    m_real->wq_cfg(c);
    m_ref.wq_cfg(c);
}

void queue_mirror::cr_cfg(const qe_cr_cfg& c) {
    m_real->cr_cfg(c);
    m_ref.cr_cfg(c);
}

void queue_mirror::db(const qe_db& d) {
    m_real->db(d);
    m_ref.db(d);
    drain_mirror();
}

qe_deq_resp queue_mirror::deq(const qe_deq_req& r) {
    const qe_deq_resp resp = m_real->deq(r);
    m_ref.deq(r);
    drain_mirror();
    return resp;
}

void queue_mirror::deq_commit(const qe_deq_commit& c) {
    m_real->deq_commit(c);
    m_ref.deq_commit(c);
    drain_mirror();
}

qe_cq_resp queue_mirror::cq(const qe_cq_req& r) {
    const qe_cq_resp resp = m_real->cq(r);
    m_ref.cq(r);
    drain_mirror();
    return resp;
}

void queue_mirror::cq_commit(const qe_cq_commit& c) {
    m_real->cq_commit(c);
    m_ref.cq_commit(c);
    drain_mirror();
}

void queue_mirror::arm(const qe_arm& a) {
    m_real->arm(a);
    m_ref.arm(a);
    drain_mirror();
}

wq_indices queue_mirror::wq(uint16_t wqid) const {
    const auto* s = m_ref.wq(wqid);
    return s == nullptr ? wq_indices{} : wq_indices{s->pi, s->fetch, s->ci};
}

cr_indices queue_mirror::cr(uint16_t crid) const {
    const auto* s = m_ref.cr(crid);
    return s == nullptr ? cr_indices{}
                        : cr_indices{s->pi, s->cpi, s->ci, s->armed, s->armed_solicited};
}

void queue_mirror::replay_wq(uint16_t wqid, uint8_t fn, uint8_t log_size, const wq_indices& to) {
    const uint16_t size = static_cast<uint16_t>(1u << log_size);
    // Whole rings' worth at a time up to the consumer index: post, take and retire.
    uint16_t cur = 0;
    while (cur != to.ci) {
        const uint16_t step = std::min<uint16_t>(size, static_cast<uint16_t>(to.ci - cur));
        db({fn, wqid, static_cast<uint16_t>(cur + step)});
        for (uint16_t i = 0; i < step; ++i) {
            deq({wqid});
            deq_commit({wqid});
        }
        cur = static_cast<uint16_t>(cur + step);
    }
    // Entries taken but not retired (a receive WQE a message in progress holds).
    if (to.fetch != to.ci) {
        db({fn, wqid, to.fetch});
        for (uint16_t i = 0; i != static_cast<uint16_t>(to.fetch - to.ci); ++i) deq({wqid});
    }
    // Entries posted and not yet taken.
    if (to.pi != to.fetch) db({fn, wqid, to.pi});
}

void queue_mirror::replay_cr(uint16_t crid, uint8_t fn, uint8_t log_size, const cr_indices& to) {
    const uint16_t size = static_cast<uint16_t>(1u << log_size);
    uint16_t cur = 0;
    while (cur != to.ci) {
        const uint16_t step = std::min<uint16_t>(size, static_cast<uint16_t>(to.ci - cur));
        for (uint16_t i = 0; i < step; ++i) {
            cq({crid});
            cq_commit({crid, false});
        }
        cur = static_cast<uint16_t>(cur + step);
        arm({fn, crid, cur, false, false});
    }
    // Entries written and not yet consumed by the driver.
    for (uint16_t i = 0; i != static_cast<uint16_t>(to.cpi - to.ci); ++i) {
        cq({crid});
        cq_commit({crid, false});
    }
    // Arm last: an armed ring has no event due (a non-solicited arm implies cpi == ci).
    if (to.armed) arm({fn, crid, to.ci, true, to.armed_solicited});
}

}  // namespace chio::model
