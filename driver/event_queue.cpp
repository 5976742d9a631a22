#include "driver/event_queue.h"

#include <cstring>

#include "driver/rings.h"

namespace chio::drv {

namespace cmd = spec::cmd;
namespace db = spec::bar0::db;

event_queue::event_queue(bus& b, uint64_t db_page) : m_bus(b), m_db_page(db_page) {}

event_queue::~event_queue() { m_bus.dma_free(m_ring); }

cmd_result event_queue::create(command_channel& c, unsigned log_size, unsigned vector) {
    cmd_result r;
    if (log_size == 0 || log_size > spec::limits::MAX_CQ_LOG_SIZE) {
        r.status = cmd::status::BAD_PARAM;
        return r;
    }
    const size_t bytes = sizeof(spec::eqe) << log_size;
    m_ring = m_bus.dma_alloc(bytes, 4096);
    if (m_ring.cpu == nullptr) {
        r.status = cmd::status::NO_RES;
        return r;
    }
    cmd::create_eq_in in{};
    in.log_size = log_size;
    in.msix_vector = vector;
    in.ring_addr = m_ring.bus;
    cmd::create_eq_out out{};
    r = c.exec(cmd::opcode::CREATE_EQ, &in, cmd::CREATE_EQ_IN_SIZE, &out, cmd::CREATE_EQ_OUT_SIZE);
    if (!r.ok()) {
        m_bus.dma_free(m_ring);
        m_ring = {};
        return r;
    }
    m_eqn = out.eqn;
    m_vector = vector;
    m_log_size = log_size;
    m_ci = 0;
    m_valid = true;
    return r;
}

cmd_result event_queue::destroy(command_channel& c) {
    cmd::destroy_eq_in in{};
    in.eqn = m_eqn;
    const cmd_result r = c.exec(cmd::opcode::DESTROY_EQ, &in, cmd::DESTROY_EQ_IN_SIZE, nullptr, 0);
    if (r.ok()) m_valid = false;
    return r;
}

bool event_queue::poll(spec::eqe& out) {
    if (!m_valid) return false;
    const auto* ring = static_cast<const spec::eqe*>(m_ring.cpu);
    const spec::eqe* e = &ring[ring_slot(m_ci, m_log_size)];
    if ((reinterpret_cast<const volatile uint8_t*>(e)[offsetof(spec::eqe, owner)] & 1u) !=
        ring_phase(m_ci, m_log_size)) {
        return false;
    }
    m_bus.barrier(barrier_kind::from_device);
    std::memcpy(&out, e, sizeof(out));
    ++m_ci;
    return true;
}

void event_queue::arm() {
    if (!m_valid) return;
    const uint64_t v =
        db::EQ_DB_EQN.make(m_eqn) | db::EQ_DB_CI.make(m_ci & 0xFFFF) | db::EQ_DB_ARM.make(1);
    m_bus.mmio_write64(m_db_page + db::EQ_DB, v);
}

}  // namespace chio::drv
