#include "driver/shared_receive_queue.h"

#include <cerrno>
#include <cstring>

#include "driver/observer.h"
#include "driver/rings.h"

namespace chio::drv {

namespace cmd = spec::cmd;
namespace db = spec::bar0::db;

shared_receive_queue::shared_receive_queue(bus& b, uint64_t db_page)
    : m_bus(b), m_db_page(db_page) {}

shared_receive_queue::~shared_receive_queue() {
    m_bus.dma_free(m_ring);
    m_bus.dma_free(m_dbrec);
}

cmd_result shared_receive_queue::create(command_channel& c, uint32_t pd, unsigned log_size) {
    cmd_result r;
    if (log_size == 0 || log_size > spec::limits::MAX_WQ_LOG_SIZE) {
        r.status = cmd::status::BAD_PARAM;
        return r;
    }
    m_ring = m_bus.dma_alloc(sizeof(spec::recv_wqe) << log_size, 4096);
    m_dbrec = m_bus.dma_alloc(sizeof(spec::db_record), 64);
    if (m_ring.cpu == nullptr || m_dbrec.cpu == nullptr) {
        r.status = cmd::status::NO_RES;
        return r;
    }
    cmd::create_srq_in in{};
    in.pdn = pd;
    in.log_size = log_size;
    in.ring_addr = m_ring.bus;
    in.db_rec_addr = m_dbrec.bus;
    cmd::create_srq_out out{};
    r = c.exec(cmd::opcode::CREATE_SRQ, &in, cmd::CREATE_SRQ_IN_SIZE, &out,
               cmd::CREATE_SRQ_OUT_SIZE);
    if (!r.ok()) return r;
    m_srqn = out.srqn;
    m_log = log_size;
    m_slots.assign(size_t{1} << log_size, slot_record{});
    m_valid = true;
    if (observer* o = m_bus.watcher()) o->srq_created(m_srqn, log_size);
    return r;
}

cmd_result shared_receive_queue::destroy(command_channel& c) {
    cmd::destroy_srq_in in{};
    in.srqn = m_srqn;
    const cmd_result r =
        c.exec(cmd::opcode::DESTROY_SRQ, &in, cmd::DESTROY_SRQ_IN_SIZE, nullptr, 0);
    if (r.ok()) m_valid = false;
    return r;
}

int shared_receive_queue::post_recv(const recv_wr& wr) {
    if (!m_valid || wr.num_sge > spec::limits::MAX_RECV_SGE) return EINVAL;
    const uint32_t slot = ring_slot(m_pi, m_log);
    if (m_slots[slot].busy) return ENOMEM;
    spec::recv_wqe w{};
    w.wr_id = wr.wr_id;
    w.num_sge = static_cast<uint8_t>(wr.num_sge);
    uint64_t capacity = 0;
    for (uint32_t i = 0; i < wr.num_sge; ++i) {
        w.sg_list[i] = {wr.sg_list[i].addr, wr.sg_list[i].length, wr.sg_list[i].lkey};
        capacity += wr.sg_list[i].length;
    }
    std::memcpy(&static_cast<spec::recv_wqe*>(m_ring.cpu)[slot], &w, sizeof(w));
    m_slots[slot] = {true, wr.wr_id, capacity};
    if (observer* o = m_bus.watcher()) o->posted_srq_recv(m_srqn, m_pi, w);
    ++m_pi;
    static_cast<spec::db_record*>(m_dbrec.cpu)->rq_pi = m_pi;
    m_bus.barrier(barrier_kind::to_device);
    m_bus.mmio_write64(m_db_page + db::SRQ_DB,
                       db::SRQ_DB_SRQN.make(m_srqn) | db::SRQ_DB_PI.make(m_pi));
    return 0;
}

bool shared_receive_queue::retire(uint16_t wqe_index, uint64_t& wr_id, uint64_t& capacity) {
    if (!m_valid) return false;
    slot_record& s = m_slots[ring_slot(wqe_index, m_log)];
    if (!s.busy) return false;
    s.busy = false;
    wr_id = s.wr_id;
    capacity = s.capacity;
    return true;
}

}  // namespace chio::drv
