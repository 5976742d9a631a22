#include "driver/queue_pair.h"

#include <cerrno>
#include <cstring>

#include "driver/observer.h"
#include "driver/rings.h"

namespace chio::drv {

namespace cmd = spec::cmd;
namespace db = spec::bar0::db;
using spec::qp_state;

queue_pair::queue_pair(bus& b, uint64_t db_page) : m_bus(b), m_db_page(db_page) {}

queue_pair::~queue_pair() {
    if (on_destroy) on_destroy();
    m_bus.dma_free(m_sq);
    m_bus.dma_free(m_rq);
    m_bus.dma_free(m_dbrec);
}

cmd_result queue_pair::create(command_channel& c, spec::qp_type type, uint32_t send_cqn,
                              uint32_t recv_cqn, unsigned sq_log_size, unsigned rq_log_size,
                              uint32_t pd, uint32_t srqn) {
    cmd_result r;
    const unsigned max = spec::limits::MAX_WQ_LOG_SIZE;
    if (sq_log_size == 0 || sq_log_size > max || rq_log_size == 0 || rq_log_size > max) {
        r.status = cmd::status::BAD_PARAM;
        return r;
    }
    m_sq = m_bus.dma_alloc(sizeof(spec::send_wqe) << sq_log_size, 4096);
    m_rq = m_bus.dma_alloc(sizeof(spec::recv_wqe) << rq_log_size, 4096);
    m_dbrec = m_bus.dma_alloc(sizeof(spec::db_record), 64);
    if (m_sq.cpu == nullptr || m_rq.cpu == nullptr || m_dbrec.cpu == nullptr) {
        r.status = cmd::status::NO_RES;
        return r;
    }
    cmd::create_qp_in in{};
    in.qp_type = static_cast<uint32_t>(type);
    in.send_cqn = send_cqn;
    in.recv_cqn = recv_cqn;
    in.sq_log_size = sq_log_size;
    in.rq_log_size = rq_log_size;
    in.pd = pd;
    in.sq_addr = m_sq.bus;
    in.rq_addr = m_rq.bus;
    in.db_rec_addr = m_dbrec.bus;
    in.srqn = srqn;
    cmd::create_qp_out out{};
    r = c.exec(cmd::opcode::CREATE_QP, &in, cmd::CREATE_QP_IN_SIZE, &out, cmd::CREATE_QP_OUT_SIZE);
    if (!r.ok()) return r;
    m_qpn = out.qpn;
    m_type = type;
    m_srqn = srqn;
    m_sq_log = sq_log_size;
    m_rq_log = rq_log_size;
    m_sq_posted.assign(size_t{1} << sq_log_size, send_record{});
    m_rq_posted.assign(size_t{1} << rq_log_size, recv_record{});
    m_state = qp_state::RESET;
    m_valid = true;
    m_send_cqn = send_cqn;
    m_recv_cqn = recv_cqn;
    if (observer* o = m_bus.watcher()) {
        o->qp_created(m_qpn, type, send_cqn, recv_cqn, srqn, sq_log_size, rq_log_size);
    }
    return r;
}

cmd_result queue_pair::modify(command_channel& c, qp_state state, uint32_t attr_mask,
                              const qp_attr_values& v) {
    cmd::modify_qp_in in{};
    in.qpn = m_qpn;
    in.new_state = static_cast<uint32_t>(state);
    in.attr_mask = attr_mask;
    in.dest_qpn = v.dest_qpn;
    in.rq_psn = v.rq_psn;
    in.sq_psn = v.sq_psn;
    in.path_mtu = static_cast<uint32_t>(v.path_mtu);
    in.port = v.port;
    in.access_flags = v.access_flags;
    in.qkey = v.qkey;
    namespace pk = spec::packed;
    in.timers = static_cast<uint32_t>(pk::QP_TIMERS_TIMEOUT.make(v.timeout) |
                                      pk::QP_TIMERS_RETRY_CNT.make(v.retry_cnt) |
                                      pk::QP_TIMERS_RNR_RETRY.make(v.rnr_retry) |
                                      pk::QP_TIMERS_MIN_RNR_TIMER.make(v.min_rnr_timer));
    in.rd_atomic =
        static_cast<uint32_t>(pk::QP_RD_ATOMIC_MAX_RD_ATOMIC.make(v.max_rd_atomic) |
                              pk::QP_RD_ATOMIC_MAX_DEST_RD_ATOMIC.make(v.max_dest_rd_atomic));
    in.dest_mac = v.dest_mac;
    in.dest_gid_hi = v.dest_gid_hi;
    in.dest_gid_lo = v.dest_gid_lo;
    in.rate_limit = v.rate_limit_mbps;
    in.qos_weight = v.qos_weight;
    const cmd_result r = c.exec(cmd::opcode::MODIFY_QP, &in, cmd::MODIFY_QP_IN_SIZE, nullptr, 0);
    if (r.ok() && (attr_mask & spec::qp_attr::STATE)) {
        if (state == qp_state::RESET) {
            // The device restarts both rings at index 0; so does the driver.
            m_sq_pi = m_sq_ci = m_rq_pi = m_rq_ci = m_sq_rung = 0;
            std::memset(m_dbrec.cpu, 0, sizeof(spec::db_record));
        }
        m_state = state;
    }
    if (r.ok()) {
        if (observer* o = m_bus.watcher()) o->qp_modified(m_qpn, state, attr_mask, v);
    }
    return r;
}

cmd_result queue_pair::query(command_channel& c, cmd::query_qp_out& out) {
    cmd::query_qp_in in{};
    in.qpn = m_qpn;
    return c.exec(cmd::opcode::QUERY_QP, &in, cmd::QUERY_QP_IN_SIZE, &out, cmd::QUERY_QP_OUT_SIZE);
}

cmd_result queue_pair::destroy(command_channel& c) {
    cmd::destroy_qp_in in{};
    in.qpn = m_qpn;
    const cmd_result r = c.exec(cmd::opcode::DESTROY_QP, &in, cmd::DESTROY_QP_IN_SIZE, nullptr, 0);
    if (r.ok()) {
        m_valid = false;
        if (observer* o = m_bus.watcher()) o->qp_destroyed(m_qpn);
    }
    return r;
}

int queue_pair::post_send(const send_wr& wr, bool ring_doorbell) {
    // Sends are legal in RTS and SQD, and in ERR where the device flushes them (catalogue C12,
    // C13); everything else is refused before anything is written.
    if (!m_valid ||
        (m_state != qp_state::RTS && m_state != qp_state::SQD && m_state != qp_state::ERR)) {
        return EINVAL;
    }
    const bool inl = (wr.flags & spec::wqe_flags::INLINE) != 0;
    if (inl ? (wr.inline_len > spec::limits::MAX_INLINE || (wr.inline_len && !wr.inline_data))
            : wr.num_sge > spec::limits::MAX_SGE) {
        return EINVAL;
    }
    if (send_outstanding() >= (1u << m_sq_log)) return ENOMEM;
    spec::send_wqe w{};
    w.opcode = static_cast<uint8_t>(wr.opcode);
    w.flags = static_cast<uint8_t>(wr.flags);
    w.imm = wr.imm;
    w.wr_id = wr.wr_id;
    w.remote_addr = wr.remote_addr;
    w.rkey = wr.rkey;
    w.compare_add = wr.compare_add;
    w.swap = wr.swap;
    w.ud_ah = wr.ah;
    w.ud_qpn = wr.remote_qpn;
    w.ud_qkey = wr.remote_qkey;
    if (inl) {
        w.inline_len = wr.inline_len;
        if (wr.inline_len) std::memcpy(w.sg_list, wr.inline_data, wr.inline_len);
    } else {
        w.num_sge = static_cast<uint8_t>(wr.num_sge);
        for (uint32_t i = 0; i < wr.num_sge; ++i) {
            w.sg_list[i] = {wr.sg_list[i].addr, wr.sg_list[i].length, wr.sg_list[i].lkey};
        }
    }
    auto* ring = static_cast<spec::send_wqe*>(m_sq.cpu);
    const uint32_t slot = ring_slot(m_sq_pi, m_sq_log);
    std::memcpy(&ring[slot], &w, sizeof(w));
    m_sq_posted[slot] = {wr.wr_id, (wr.flags & spec::wqe_flags::SIGNALED) != 0};
    if (observer* o = m_bus.watcher()) o->posted_send(m_qpn, m_sq_pi, w);
    ++m_sq_pi;
    if (ring_doorbell) ring_sq();
    return 0;
}

int queue_pair::post_recv(const recv_wr& wr) {
    // A QP on a shared receive queue has no receive queue of its own.
    if (!m_valid || m_state == qp_state::RESET || m_srqn != spec::cmd::NO_SRQ) return EINVAL;
    if (wr.num_sge > spec::limits::MAX_RECV_SGE) return EINVAL;
    if (recv_outstanding() >= (1u << m_rq_log)) return ENOMEM;
    spec::recv_wqe w{};
    w.wr_id = wr.wr_id;
    w.num_sge = static_cast<uint8_t>(wr.num_sge);
    uint64_t capacity = 0;
    for (uint32_t i = 0; i < wr.num_sge; ++i) {
        w.sg_list[i] = {wr.sg_list[i].addr, wr.sg_list[i].length, wr.sg_list[i].lkey};
        capacity += wr.sg_list[i].length;
    }
    auto* ring = static_cast<spec::recv_wqe*>(m_rq.cpu);
    const uint32_t slot = ring_slot(m_rq_pi, m_rq_log);
    std::memcpy(&ring[slot], &w, sizeof(w));
    m_rq_posted[slot] = {wr.wr_id, capacity};
    if (observer* o = m_bus.watcher()) o->posted_recv(m_qpn, m_rq_pi, w);
    ++m_rq_pi;
    ring_rq();
    return 0;
}

void queue_pair::ring_sq() {
    auto* rec = static_cast<spec::db_record*>(m_dbrec.cpu);
    rec->sq_pi = m_sq_pi;
    m_bus.barrier(barrier_kind::to_device);
    const bool one = static_cast<uint16_t>(m_sq_pi - m_sq_rung) == 1;
    m_sq_rung = m_sq_pi;
    if (m_wqe_in_db && one) {
        // The WQE, then the SQ_WQE_DB word right after it, in one write-combined burst.
        uint8_t block[sizeof(spec::send_wqe) + 8];
        static_assert(sizeof(block) <= MMIO_BLOCK_MAX_BYTES, "one mmio_write_block()");
        const auto* ring = static_cast<const spec::send_wqe*>(m_sq.cpu);
        std::memcpy(block, &ring[ring_slot(static_cast<uint16_t>(m_sq_pi - 1), m_sq_log)],
                    sizeof(spec::send_wqe));
        const uint64_t v = db::SQ_WQE_DB_QPN.make(m_qpn) | db::SQ_WQE_DB_PI.make(m_sq_pi);
        std::memcpy(block + sizeof(spec::send_wqe), &v, 8);
        m_bus.mmio_write_block(m_db_page + spec::bar0::WQE_DB_OFFSET, block, sizeof(block));
        return;
    }
    m_bus.mmio_write64(m_db_page + db::SQ_DB,
                       db::SQ_DB_QPN.make(m_qpn) | db::SQ_DB_PI.make(m_sq_pi));
}

void queue_pair::ring_rq() {
    auto* rec = static_cast<spec::db_record*>(m_dbrec.cpu);
    rec->rq_pi = m_rq_pi;
    m_bus.barrier(barrier_kind::to_device);
    m_bus.mmio_write64(m_db_page + db::RQ_DB,
                       db::RQ_DB_QPN.make(m_qpn) | db::RQ_DB_PI.make(m_rq_pi));
}

bool queue_pair::retire_send(uint16_t wqe_index) {
    // The completed index must lie in [ci, pi): anything else was never posted (catalogue I1).
    if (static_cast<uint16_t>(wqe_index - m_sq_ci) >= send_outstanding()) return false;
    m_sq_ci = static_cast<uint16_t>(wqe_index + 1);
    return true;
}

bool queue_pair::retire_recv(uint16_t wqe_index) {
    if (static_cast<uint16_t>(wqe_index - m_rq_ci) >= recv_outstanding()) return false;
    m_rq_ci = static_cast<uint16_t>(wqe_index + 1);
    return true;
}

uint64_t queue_pair::send_wr_id(uint16_t wqe_index) const {
    return m_sq_posted.empty() ? 0 : m_sq_posted[ring_slot(wqe_index, m_sq_log)].wr_id;
}

bool queue_pair::send_gap(uint16_t wqe_index) const {
    for (uint16_t i = m_sq_ci; i != wqe_index; ++i) {
        if (m_sq_posted[ring_slot(i, m_sq_log)].signaled) return true;
    }
    return false;
}

uint64_t queue_pair::recv_wr_id(uint16_t wqe_index) const {
    return m_rq_posted.empty() ? 0 : m_rq_posted[ring_slot(wqe_index, m_rq_log)].wr_id;
}

uint64_t queue_pair::recv_capacity(uint16_t wqe_index) const {
    return m_rq_posted.empty() ? 0 : m_rq_posted[ring_slot(wqe_index, m_rq_log)].capacity;
}

void queue_pair::flush(std::vector<spec::cqe>& send, std::vector<spec::cqe>& recv) {
    auto make = [this](uint64_t wr_id, uint16_t index, spec::cqe_opcode op) {
        spec::cqe c{};
        c.wr_id = wr_id;
        c.qpn = m_qpn;
        c.wqe_index = index;
        c.opcode = static_cast<uint8_t>(op);
        c.status = static_cast<uint8_t>(spec::cqe_status::WR_FLUSH_ERR);
        return c;
    };
    // Bounded by the ring sizes: at most 2^log outstanding per ring.
    for (; m_sq_ci != m_sq_pi; ++m_sq_ci) {
        send.push_back(make(send_wr_id(m_sq_ci), m_sq_ci, spec::cqe_opcode::SEND));
    }
    if (m_srqn == spec::cmd::NO_SRQ) {
        for (; m_rq_ci != m_rq_pi; ++m_rq_ci) {
            recv.push_back(make(recv_wr_id(m_rq_ci), m_rq_ci, spec::cqe_opcode::RECV));
        }
    }
    m_state = spec::qp_state::ERR;
    // Later posts are refused synchronously (EINVAL): nothing can reach a lost device, and a
    // WQE the device never sees must not wait for a completion (catalogue C13, documented).
    m_valid = false;
}

}  // namespace chio::drv
