#include "driver/completion_queue.h"

#include <cstring>

#include "driver/observer.h"
#include "driver/rings.h"

namespace chio::drv {

namespace cmd = spec::cmd;
namespace db = spec::bar0::db;

completion_queue::completion_queue(bus& b, uint64_t db_page, retire_fn retire)
    : m_bus(b), m_db_page(db_page), m_retire(std::move(retire)) {}

completion_queue::~completion_queue() {
    if (on_destroy) on_destroy();
    m_bus.dma_free(m_ring);
}

cmd_result completion_queue::create(command_channel& c, unsigned log_size, uint32_t eqn) {
    cmd_result r;
    if (log_size == 0 || log_size > spec::limits::MAX_CQ_LOG_SIZE) {
        r.status = cmd::status::BAD_PARAM;
        return r;
    }
    m_ring = m_bus.dma_alloc(sizeof(spec::cqe) << log_size, 4096);
    if (m_ring.cpu == nullptr) {
        r.status = cmd::status::NO_RES;
        return r;
    }
    cmd::create_cq_in in{};
    in.log_size = log_size;
    in.eqn = eqn;
    in.ring_addr = m_ring.bus;
    cmd::create_cq_out out{};
    r = c.exec(cmd::opcode::CREATE_CQ, &in, cmd::CREATE_CQ_IN_SIZE, &out, cmd::CREATE_CQ_OUT_SIZE);
    if (!r.ok()) {
        m_bus.dma_free(m_ring);
        m_ring = {};
        return r;
    }
    m_cqn = out.cqn;
    m_log_size = log_size;
    m_ci = 0;
    m_valid = true;
    if (observer* o = m_bus.watcher()) o->cq_created(m_cqn, m_ring.bus, log_size);
    return r;
}

cmd_result completion_queue::destroy(command_channel& c) {
    cmd::destroy_cq_in in{};
    in.cqn = m_cqn;
    const cmd_result r = c.exec(cmd::opcode::DESTROY_CQ, &in, cmd::DESTROY_CQ_IN_SIZE, nullptr, 0);
    if (r.ok()) {
        m_valid = false;
        if (observer* o = m_bus.watcher()) o->cq_destroyed(m_cqn);
    }
    return r;
}

int completion_queue::poll(spec::cqe* wc, int max) {
    if (m_error) {
        int n = 0;
        observer* o = m_bus.watcher();
        for (; n < max && !m_soft.empty(); ++n) {
            wc[n] = m_soft.front();
            m_soft.pop_front();
            if (o != nullptr) o->polled(wc[n], true);
        }
        return n;
    }
    if (!m_valid) return 0;
    const auto* ring = static_cast<const spec::cqe*>(m_ring.cpu);
    int n = 0;
    const uint32_t start = m_ci;
    // At most one ring's worth of entries per call, dropped ones included: a device that keeps
    // writing entries the driver rejects cannot hold the caller here for ever (catalogue I3, I4).
    for (uint32_t budget = size(); n < max && budget != 0; --budget) {
        const spec::cqe* e = &ring[ring_slot(m_ci, m_log_size)];
        const auto* owner =
            reinterpret_cast<const volatile uint8_t*>(e) + offsetof(spec::cqe, owner);
        if ((*owner & 1u) != ring_phase(m_ci, m_log_size)) break;
        m_bus.barrier(barrier_kind::from_device);
        spec::cqe c;
        std::memcpy(&c, e, sizeof(c));
        ++m_ci;
        if (m_retire && !m_retire(c)) {
            ++m_dropped;
            continue;
        }
        wc[n++] = c;
    }
    if (n > 0) {
        if (observer* o = m_bus.watcher()) {
            for (int i = 0; i < n; ++i) o->polled(wc[i], false);
        }
    }
    if (m_ci != start) {
        // Free the consumed slots for the device.
        m_bus.mmio_write64(m_db_page + db::CQ_DB,
                           db::CQ_DB_CQN.make(m_cqn) | db::CQ_DB_CI.make(m_ci & 0xFFFF));
    }
    return n;
}

void completion_queue::arm(bool solicited_only) {
    if (!m_valid || m_error) return;
    m_bus.mmio_write64(m_db_page + db::CQ_DB, db::CQ_DB_CQN.make(m_cqn) |
                                                  db::CQ_DB_CI.make(m_ci & 0xFFFF) |
                                                  db::CQ_DB_ARM.make(1) |
                                                  db::CQ_DB_SOLICITED.make(solicited_only ? 1 : 0));
}

}  // namespace chio::drv
