#include "tlm-model/adapter/event_unit.h"

namespace chio::model {

using spec::qe::status;

event_unit::event_unit(adapter_core& core, std::function<void(spec::syndrome)> fatal)
    : m_core(core), m_fatal(std::move(fatal)) {}

bool event_unit::write_cqe(uint32_t cqn, spec::cqe cqe, bool solicited) {
    // A CQE is a posted write: the completing engine goes on once it is issued, unless the
    // link's posted credits are used up. It waits before it looks the CQ up and takes a slot,
    // so the CQ cannot change under it and slots are committed in the order they were taken.
    m_core.posted.admit();
    cq_ctx* cq = m_core.ctx.cq(cqn);
    if (cq == nullptr || cq->error) return false;
    const qe_cq_resp r = m_core.qe->cq({cq_crid(cqn)});
    m_core.collect();
    if (r.status != status::OK) {
        if (r.status == status::FULL) {
            // Overflow (catalogue C14): the CQ is in error, its owner hears of it, and the QPs
            // that complete into it go to ERR.
            cq->error = true;
            ++m_core.counters.cq_overflows;
            m_core.post_async(cq->fn, spec::eqe_type::CQ_ERROR, cqn);
            if (m_core.on_cq_error) m_core.on_cq_error(cqn);
        }
        return false;
    }
    cqe.owner = r.phase ? 1 : 0;
    const uint64_t addr = cq->ring + (r.index & ((1u << cq->log_size) - 1)) * sizeof(spec::cqe);
    const uint16_t fn = cq->fn;
    sc_core::sc_time delay;
    if (!m_core.dma->post_write(fn, addr, &cqe, sizeof(cqe), delay)) {
        // A CQE that cannot be written leaves the CQ unusable (catalogue G5).
        ++m_core.counters.dma_errors;
        cq->error = true;
        m_core.post_async(fn, spec::eqe_type::CQ_ERROR, cqn);
        if (m_core.on_cq_error) m_core.on_cq_error(cqn);
        sc_core::wait(delay);
        return false;
    }
    // Committed as the write is issued: the driver may see the entry and free its slot at once.
    m_core.qe->cq_commit({cq_crid(cqn), solicited});
    m_core.collect();
    m_core.posted.issued(delay);
    ++m_core.counters.cqes;
    if (m_core.probes.cqe) m_core.probes.cqe(cqn, cqe);
    return true;
}

bool event_unit::write_eqe(uint32_t eqn, spec::eqe eqe) {
    // Posted, as a CQE (write_cqe): the event thread goes on once the entry is issued. The
    // MSI-X message that may follow is a posted write behind it on the link, so the host
    // cannot see the interrupt before the entry has landed.
    m_core.posted.admit();
    eq_ctx* eq = m_core.ctx.eq(eqn);
    if (eq == nullptr) return false;
    const qe_cq_resp r = m_core.qe->cq({eq_crid(eqn)});
    m_core.collect();
    // An EQ overrun or a failed EQE write is fatal to the device when it is the PF's; a VF's
    // cannot take the device (and every other function) down: the event is dropped and counted
    // against the VF, whose driver recovers by resetting its function.
    if (r.status == status::FULL) {
        if (eq->fn == 0) {
            m_fatal(spec::syndrome::EQ_OVERRUN);
        } else if (function_ctx* f = m_core.ctx.function(eq->fn)) {
            ++f->errors;
        }
        return false;
    }
    if (r.status != status::OK) return false;
    eqe.owner = r.phase ? 1 : 0;
    const uint64_t addr = eq->ring + (r.index & ((1u << eq->log_size) - 1)) * sizeof(spec::eqe);
    sc_core::sc_time delay;
    if (!m_core.dma->post_write(eq->fn, addr, &eqe, sizeof(eqe), delay)) {
        ++m_core.counters.dma_errors;
        if (eq->fn == 0) {
            m_fatal(spec::syndrome::ENGINE_FATAL);
        } else if (function_ctx* f = m_core.ctx.function(eq->fn)) {
            ++f->errors;
        }
        sc_core::wait(delay);
        return false;
    }
    m_core.qe->cq_commit({eq_crid(eqn), false});
    m_core.collect();
    m_core.posted.issued(delay);
    ++m_core.counters.eqes;
    if (m_core.probes.eqe) m_core.probes.eqe(eqn, eqe);
    return true;
}

void event_unit::handle(const qe_event& e) {
    if (e.crid < spec::limits::MAX_CQ) {
        // An armed CQ got a completion: tell its EQ.
        spec::eqe eqe{};
        eqe.type = static_cast<uint8_t>(spec::eqe_type::COMPLETION);
        eqe.data = e.crid;
        write_eqe(e.target, eqe);
        return;
    }
    // An armed EQ got an entry: interrupt.
    const uint32_t eqn = e.crid - spec::limits::MAX_CQ;
    if (const eq_ctx* eq = m_core.ctx.eq(eqn)) {
        ++m_core.counters.msix;
        m_core.dma->msix(eq->fn, e.target);
    }
}

void event_unit::run() {
    for (;;) {
        if (!m_core.events.empty()) {
            const qe_event e = m_core.events.front();
            m_core.events.pop_front();
            handle(e);
        } else if (!m_core.async_events.empty()) {
            const async_eqe a = m_core.async_events.front();
            m_core.async_events.pop_front();
            const int32_t eqn = a.fn < m_core.async_eqn.size() ? m_core.async_eqn[a.fn] : -1;
            if (eqn >= 0) write_eqe(static_cast<uint32_t>(eqn), a.eqe);
        } else {
            sc_core::wait(m_core.event_ev);
        }
    }
}

}  // namespace chio::model
