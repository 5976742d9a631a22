// The queue-pair commands of the command unit: CREATE_QP, MODIFY_QP, QUERY_QP, DESTROY_QP.
#include <cstring>

#include "tlm-model/adapter/command_unit.h"
#include "tlm-model/adapter/qp_state_machine.h"

namespace chio::model {

namespace cmd = spec::cmd;
using cmd::status;

namespace {

template <typename T>
T load(const uint8_t* p) {
    T v;
    std::memcpy(&v, p, sizeof(T));
    return v;
}

constexpr uint32_t field(uint32_t index) { return index + 1; }

// The first two QP numbers are reserved (InfiniBand's QP0 and QP1).
constexpr uint32_t FIRST_QPN = 2;
constexpr uint32_t QPN_LIMIT = 1u << 24;  // QPNs are 24-bit on the wire
constexpr uint32_t NO_SRQ = cmd::NO_SRQ;

}  // namespace

command_unit::result command_unit::create_qp(uint16_t fn, const uint8_t* in, uint8_t* out) {
    const auto i = load<cmd::create_qp_in>(in);
    const auto type = static_cast<spec::qp_type>(i.qp_type);
    if (type != spec::qp_type::RC && type != spec::qp_type::UD)
        return {status::BAD_PARAM, field(0)};
    cq_ctx* scq = m_core.ctx.cq(i.send_cqn);
    if (scq == nullptr || scq->fn != fn) return {status::BAD_RES, field(1)};
    cq_ctx* rcq = m_core.ctx.cq(i.recv_cqn);
    if (rcq == nullptr || rcq->fn != fn) return {status::BAD_RES, field(2)};
    const uint32_t max_log = spec::limits::MAX_WQ_LOG_SIZE;
    if (i.sq_log_size == 0) return {status::BAD_PARAM, field(3)};
    if (i.sq_log_size > max_log) return {status::LIM_ERR, field(3)};
    if (i.rq_log_size == 0) return {status::BAD_PARAM, field(4)};
    if (i.rq_log_size > max_log) return {status::LIM_ERR, field(4)};
    pd_ctx* pd = m_core.ctx.pd(i.pd);
    if (pd == nullptr || pd->fn != fn) return {status::BAD_RES, field(5)};
    if (i.sq_addr == 0 || i.sq_addr % sizeof(spec::send_wqe) != 0)
        return {status::BAD_PARAM, field(6)};
    if (i.rq_addr == 0 || i.rq_addr % sizeof(spec::recv_wqe) != 0)
        return {status::BAD_PARAM, field(7)};
    if (i.db_rec_addr % sizeof(spec::db_record) != 0) return {status::BAD_PARAM, field(8)};
    srq_ctx* srq = nullptr;
    if (i.srqn != NO_SRQ) {
        srq = m_core.ctx.srq(i.srqn);
        if (srq == nullptr || srq->fn != fn || type != spec::qp_type::RC) {
            return {srq == nullptr || srq->fn != fn ? status::BAD_RES : status::BAD_PARAM,
                    field(9)};
        }
    }

    if (!within_quota(fn, res_kind::qp)) return {status::LIM_ERR, 0};
    auto& qps = m_core.ctx.qps;
    for (uint32_t n = FIRST_QPN; n < qps.size(); ++n) {
        if (qps[n].valid) continue;
        qp_ctx& q = qps[n];
        q = qp_ctx{};
        q.valid = true;
        q.fn = fn;
        q.type = type;
        q.state = spec::qp_state::RESET;
        q.send_cqn = i.send_cqn;
        q.recv_cqn = i.recv_cqn;
        q.sq_log_size = static_cast<uint8_t>(i.sq_log_size);
        q.rq_log_size = static_cast<uint8_t>(i.rq_log_size);
        q.pd = i.pd;
        q.sq_addr = i.sq_addr;
        q.rq_addr = i.rq_addr;
        q.db_rec_addr = i.db_rec_addr;
        q.srqn = srq != nullptr ? static_cast<int32_t>(i.srqn) : -1;
        ++scq->qp_refs;
        ++rcq->qp_refs;
        ++pd->refs;
        if (srq != nullptr) ++srq->qp_refs;
        cmd::create_qp_out o{};
        o.qpn = n;
        std::memcpy(out, &o, sizeof(o));
        return {};
    }
    return {status::NO_RES, 0};
}

command_unit::result command_unit::modify_qp(uint16_t fn, const uint8_t* in) {
    const auto i = load<cmd::modify_qp_in>(in);
    qp_ctx* q = m_core.ctx.qp(i.qpn);
    if (q == nullptr || q->fn != fn) return {status::BAD_RES, field(0)};
    namespace a = spec::qp_attr;
    const uint32_t known = a::STATE | a::PKEY_INDEX | a::ACCESS_FLAGS | a::PORT | a::QKEY | a::AV |
                           a::PATH_MTU | a::TIMEOUT | a::RETRY_CNT | a::RNR_RETRY | a::RQ_PSN |
                           a::MAX_QP_RD_ATOMIC | a::MIN_RNR_TIMER | a::SQ_PSN |
                           a::MAX_DEST_RD_ATOMIC | a::DEST_QPN | a::RATE_LIMIT | a::QOS_WEIGHT;
    if (i.attr_mask & ~known) return {status::BAD_PARAM, field(2)};
    const spec::qp_state cur = q->state;
    spec::qp_state next = cur;
    if (i.attr_mask & a::STATE) {
        if (i.new_state > static_cast<uint32_t>(spec::qp_state::ERR)) {
            return {status::BAD_PARAM, field(1)};
        }
        next = static_cast<spec::qp_state>(i.new_state);
    }
    switch (check_transition(q->type, cur, next, i.attr_mask)) {
        case transition_check::illegal_transition:
            return {status::BAD_QP_STATE, field(1)};
        case transition_check::bad_attrs:
            return {status::BAD_PARAM, field(2)};
        case transition_check::ok:
            break;
    }
    // Validate every supplied value before changing anything: a failed modify changes nothing.
    if ((i.attr_mask & a::DEST_QPN) && i.dest_qpn >= QPN_LIMIT)
        return {status::BAD_PARAM, field(3)};
    if ((i.attr_mask & a::RQ_PSN) && i.rq_psn >= QPN_LIMIT) return {status::BAD_PARAM, field(4)};
    if ((i.attr_mask & a::SQ_PSN) && i.sq_psn >= QPN_LIMIT) return {status::BAD_PARAM, field(5)};
    if ((i.attr_mask & a::PATH_MTU) &&
        (i.path_mtu < static_cast<uint32_t>(spec::path_mtu::MTU_256) ||
         i.path_mtu > static_cast<uint32_t>(spec::path_mtu::MTU_4096))) {
        return {status::BAD_PARAM, field(6)};
    }
    if ((i.attr_mask & a::PORT) && (i.port == 0 || i.port > spec::limits::NUM_PORTS)) {
        return {status::BAD_PARAM, field(7)};
    }
    namespace pk = spec::packed;
    const uint32_t timer_bits = static_cast<uint32_t>(
        pk::QP_TIMERS_TIMEOUT.in_place() | pk::QP_TIMERS_RETRY_CNT.in_place() |
        pk::QP_TIMERS_RNR_RETRY.in_place() | pk::QP_TIMERS_MIN_RNR_TIMER.in_place());
    if ((i.attr_mask & (a::TIMEOUT | a::RETRY_CNT | a::RNR_RETRY | a::MIN_RNR_TIMER)) &&
        (i.timers & ~timer_bits)) {
        return {status::BAD_PARAM, field(10)};
    }
    const uint32_t rd_bits = static_cast<uint32_t>(pk::QP_RD_ATOMIC_MAX_RD_ATOMIC.in_place() |
                                                   pk::QP_RD_ATOMIC_MAX_DEST_RD_ATOMIC.in_place());
    if ((i.attr_mask & (a::MAX_QP_RD_ATOMIC | a::MAX_DEST_RD_ATOMIC)) && (i.rd_atomic & ~rd_bits)) {
        return {status::BAD_PARAM, field(11)};
    }
    // QoS (docs/virtualization.md, "QoS"): a weight of 0 would give the QP no share at all.
    if ((i.attr_mask & a::QOS_WEIGHT) && (i.qos_weight == 0 || i.qos_weight > 0xFFFF)) {
        return {status::BAD_PARAM, field(16)};
    }

    if (i.attr_mask & a::DEST_QPN) q->attrs.dest_qpn = i.dest_qpn;
    if (i.attr_mask & a::RATE_LIMIT) q->rate_limit_mbps = i.rate_limit;
    if (i.attr_mask & a::QOS_WEIGHT) q->qos_weight = i.qos_weight;
    if (i.attr_mask & a::RQ_PSN) q->attrs.rq_psn = i.rq_psn;
    if (i.attr_mask & a::SQ_PSN) q->attrs.sq_psn = i.sq_psn;
    if (i.attr_mask & a::PATH_MTU) q->attrs.path_mtu = i.path_mtu;
    if (i.attr_mask & a::PORT) q->attrs.port = i.port;
    if (i.attr_mask & a::ACCESS_FLAGS) q->attrs.access_flags = i.access_flags;
    if (i.attr_mask & a::QKEY) q->attrs.qkey = i.qkey;
    if (i.attr_mask & a::AV) {
        q->attrs.av = {mac_from_u64(i.dest_mac), gid_from_u64(i.dest_gid_hi, i.dest_gid_lo)};
    }
    auto take = [&](uint32_t bit, const spec::field& f, uint32_t src, uint32_t& dst) {
        if (i.attr_mask & bit) dst = static_cast<uint32_t>(f.set(dst, f.get(src)));
    };
    take(a::TIMEOUT, pk::QP_TIMERS_TIMEOUT, i.timers, q->attrs.timers);
    take(a::RETRY_CNT, pk::QP_TIMERS_RETRY_CNT, i.timers, q->attrs.timers);
    take(a::RNR_RETRY, pk::QP_TIMERS_RNR_RETRY, i.timers, q->attrs.timers);
    take(a::MIN_RNR_TIMER, pk::QP_TIMERS_MIN_RNR_TIMER, i.timers, q->attrs.timers);
    take(a::MAX_QP_RD_ATOMIC, pk::QP_RD_ATOMIC_MAX_RD_ATOMIC, i.rd_atomic, q->attrs.rd_atomic);
    take(a::MAX_DEST_RD_ATOMIC, pk::QP_RD_ATOMIC_MAX_DEST_RD_ATOMIC, i.rd_atomic,
         q->attrs.rd_atomic);
    q->state = next;
    if (next != cur || next == spec::qp_state::RESET) m_on_transition(i.qpn, cur, next);
    return {};
}

command_unit::result command_unit::query_qp(uint16_t fn, const uint8_t* in, uint8_t* out) {
    const auto i = load<cmd::query_qp_in>(in);
    const qp_ctx* q = m_core.ctx.qp(i.qpn);
    if (q == nullptr || q->fn != fn) return {status::BAD_RES, field(0)};
    cmd::query_qp_out o{};
    o.state = static_cast<uint32_t>(q->state);
    o.dest_qpn = q->attrs.dest_qpn;
    o.rq_psn = q->attrs.rq_psn;
    o.sq_psn = q->attrs.sq_psn;
    o.path_mtu = q->attrs.path_mtu;
    o.port = q->attrs.port;
    o.access_flags = q->attrs.access_flags;
    o.qkey = q->attrs.qkey;
    o.timers = q->attrs.timers;
    o.rd_atomic = q->attrs.rd_atomic;
    o.dest_mac = mac_to_u64(q->attrs.av.dest_mac);
    o.dest_gid_hi = gid_hi(q->attrs.av.dest_gid);
    o.dest_gid_lo = gid_lo(q->attrs.av.dest_gid);
    std::memcpy(out, &o, sizeof(o));
    return {};
}

command_unit::result command_unit::destroy_qp(uint16_t fn, const uint8_t* in) {
    const auto i = load<cmd::destroy_qp_in>(in);
    qp_ctx* q = m_core.ctx.qp(i.qpn);
    if (q == nullptr || q->fn != fn) return {status::BAD_RES, field(0)};
    // Destroy is a move to RESET (queues disabled, nothing completes afterwards) plus freeing.
    const spec::qp_state cur = q->state;
    q->state = spec::qp_state::RESET;
    m_on_transition(i.qpn, cur, spec::qp_state::RESET);
    if (cq_ctx* c = m_core.ctx.cq(q->send_cqn)) --c->qp_refs;
    if (cq_ctx* c = m_core.ctx.cq(q->recv_cqn)) --c->qp_refs;
    if (pd_ctx* pd = m_core.ctx.pd(q->pd)) --pd->refs;
    if (q->srqn >= 0) {
        if (srq_ctx* s = m_core.ctx.srq(static_cast<uint32_t>(q->srqn))) --s->qp_refs;
    }
    *q = qp_ctx{};
    return {};
}

}  // namespace chio::model
