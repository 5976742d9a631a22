// Commands for protection domains, memory regions, address handles, shared receive queues and
// the port (catalogue sections B and E).
#include <cstring>

#include "tlm-model/adapter/command_unit.h"

namespace chio::model {

namespace cmd = spec::cmd;
namespace af = spec::access_flags;
using cmd::status;

namespace {

template <typename T>
T load(const uint8_t* p) {
    T v;
    std::memcpy(&v, p, sizeof(T));
    return v;
}

template <typename T>
void store(uint8_t* p, const T& v) {
    std::memcpy(p, &v, sizeof(T));
}

constexpr uint32_t field(uint32_t index) { return index + 1; }

constexpr uint32_t ALL_ACCESS =
    af::LOCAL_WRITE | af::REMOTE_WRITE | af::REMOTE_READ | af::REMOTE_ATOMIC;

// Allocates the lowest free slot at or after `first`; -1 when full.
template <typename T>
int64_t free_slot(std::vector<T>& v, size_t first = 0) {
    for (size_t i = first; i < v.size(); ++i) {
        if (!v[i].valid) return static_cast<int64_t>(i);
    }
    return -1;
}

}  // namespace

command_unit::result command_unit::query_port(uint16_t fn, const uint8_t* in, uint8_t* out) {
    const auto i = load<cmd::query_port_in>(in);
    if (i.port == 0 || i.port > spec::limits::NUM_PORTS) return {status::BAD_PARAM, field(0)};
    const port_config& p = m_core.port;
    cmd::query_port_out o{};
    o.state = static_cast<uint32_t>(p.up ? spec::port_state::ACTIVE : spec::port_state::DOWN);
    o.active_mtu = static_cast<uint32_t>(p.max_mtu);
    o.max_mtu = static_cast<uint32_t>(p.max_mtu);
    o.speed_gbps = static_cast<uint32_t>(p.gbps);
    // A function reports the identity it sends with: the manager's assignment, else (never
    // assigned) the port's own.
    const function_ctx* f = m_core.ctx.function(fn);
    const bool assigned = f != nullptr && mac_to_u64(f->mac) != 0;
    o.mac = mac_to_u64(assigned ? f->mac : p.mac);
    o.gid_hi = gid_hi(assigned ? f->gid_value : p.gid);
    o.gid_lo = gid_lo(assigned ? f->gid_value : p.gid);
    store(out, o);
    return {};
}

command_unit::result command_unit::create_pd(uint16_t fn, uint8_t* out) {
    if (!within_quota(fn, res_kind::pd)) return {status::LIM_ERR, 0};
    const int64_t n = free_slot(m_core.ctx.pds);
    if (n < 0) return {status::NO_RES, 0};
    m_core.ctx.pds[n] = pd_ctx{true, fn, 0};
    cmd::create_pd_out o{};
    o.pdn = static_cast<uint32_t>(n);
    store(out, o);
    return {};
}

command_unit::result command_unit::destroy_pd(uint16_t fn, const uint8_t* in) {
    const auto i = load<cmd::destroy_pd_in>(in);
    pd_ctx* pd = m_core.ctx.pd(i.pdn);
    if (pd == nullptr || pd->fn != fn) return {status::BAD_RES, field(0)};
    if (pd->refs != 0) return {status::RES_BUSY, field(0)};
    *pd = pd_ctx{};
    return {};
}

command_unit::result command_unit::reg_mr(uint16_t fn, const uint8_t* in, uint8_t* out) {
    const auto i = load<cmd::reg_mr_in>(in);
    pd_ctx* pd = m_core.ctx.pd(i.pdn);
    if (pd == nullptr || pd->fn != fn) return {status::BAD_RES, field(0)};
    if (i.access & ~ALL_ACCESS) return {status::BAD_PARAM, field(1)};
    // Remote write or atomic access requires local write (IBA 10.6.3.1; catalogue E1).
    if ((i.access & (af::REMOTE_WRITE | af::REMOTE_ATOMIC)) && !(i.access & af::LOCAL_WRITE)) {
        return {status::BAD_PARAM, field(1)};
    }
    if (i.iova + i.length < i.iova) return {status::BAD_PARAM, field(2)};
    if (i.length == 0 || i.length > spec::limits::MAX_MSG_SIZE * 2ull) {
        return {status::BAD_PARAM, field(3)};
    }
    if (i.pa + i.length < i.pa) return {status::BAD_PARAM, field(4)};
    if (!within_quota(fn, res_kind::mr)) return {status::LIM_ERR, 0};
    // Index 0 is never used, so a key of 0 is never valid.
    const int64_t n = free_slot(m_core.ctx.mrs, 1);
    if (n < 0) return {status::NO_RES, 0};
    mr_ctx& mr = m_core.ctx.mrs[n];
    const uint8_t variant = static_cast<uint8_t>(mr.variant + 1);
    mr = mr_ctx{true, fn, i.pdn, i.access, i.iova, i.length, i.pa, variant};
    ++pd->refs;
    cmd::reg_mr_out o{};
    o.lkey = o.rkey = mr_key(static_cast<uint32_t>(n), variant);
    store(out, o);
    return {};
}

command_unit::result command_unit::dereg_mr(uint16_t fn, const uint8_t* in) {
    const auto i = load<cmd::dereg_mr_in>(in);
    mr_ctx* mr = m_core.ctx.mr(i.lkey);
    if (mr == nullptr || mr->fn != fn) return {status::BAD_RES, field(0)};
    if (pd_ctx* pd = m_core.ctx.pd(mr->pd)) --pd->refs;
    const uint8_t variant = mr->variant;
    *mr = mr_ctx{};
    mr->variant = variant;  // the next registration in this slot gets a new key
    return {};
}

command_unit::result command_unit::create_ah(uint16_t fn, const uint8_t* in, uint8_t* out) {
    const auto i = load<cmd::create_ah_in>(in);
    pd_ctx* pd = m_core.ctx.pd(i.pdn);
    if (pd == nullptr || pd->fn != fn) return {status::BAD_RES, field(0)};
    if (i.port == 0 || i.port > spec::limits::NUM_PORTS) return {status::BAD_PARAM, field(1)};
    if (!within_quota(fn, res_kind::ah)) return {status::LIM_ERR, 0};
    const int64_t n = free_slot(m_core.ctx.ahs);
    if (n < 0) return {status::NO_RES, 0};
    ah_ctx& ah = m_core.ctx.ahs[n];
    ah = ah_ctx{
        true, fn, i.pdn, {mac_from_u64(i.dest_mac), gid_from_u64(i.dest_gid_hi, i.dest_gid_lo)}};
    ++pd->refs;
    cmd::create_ah_out o{};
    o.ahn = static_cast<uint32_t>(n);
    store(out, o);
    return {};
}

command_unit::result command_unit::destroy_ah(uint16_t fn, const uint8_t* in) {
    const auto i = load<cmd::destroy_ah_in>(in);
    ah_ctx* ah = m_core.ctx.ah(i.ahn);
    if (ah == nullptr || ah->fn != fn) return {status::BAD_RES, field(0)};
    if (pd_ctx* pd = m_core.ctx.pd(ah->pd)) --pd->refs;
    *ah = ah_ctx{};
    return {};
}

command_unit::result command_unit::create_srq(uint16_t fn, const uint8_t* in, uint8_t* out) {
    const auto i = load<cmd::create_srq_in>(in);
    pd_ctx* pd = m_core.ctx.pd(i.pdn);
    if (pd == nullptr || pd->fn != fn) return {status::BAD_RES, field(0)};
    if (i.log_size == 0) return {status::BAD_PARAM, field(1)};
    if (i.log_size > spec::limits::MAX_WQ_LOG_SIZE) return {status::LIM_ERR, field(1)};
    if (i.ring_addr == 0 || i.ring_addr % sizeof(spec::recv_wqe) != 0) {
        return {status::BAD_PARAM, field(2)};
    }
    if (!within_quota(fn, res_kind::srq)) return {status::LIM_ERR, 0};
    const int64_t n = free_slot(m_core.ctx.srqs);
    if (n < 0) return {status::NO_RES, 0};
    srq_ctx& q = m_core.ctx.srqs[n];
    q = srq_ctx{true,
                fn,
                i.pdn,
                static_cast<uint8_t>(i.log_size),
                i.ring_addr,
                0,
                ++m_core.ctx.srq_incarnations};
    ++pd->refs;
    m_core.qe->wq_cfg(
        {srq_wqid(static_cast<uint32_t>(n)), true, false, static_cast<uint8_t>(fn), q.log_size});
    m_core.collect();
    cmd::create_srq_out o{};
    o.srqn = static_cast<uint32_t>(n);
    store(out, o);
    return {};
}

command_unit::result command_unit::destroy_srq(uint16_t fn, const uint8_t* in) {
    const auto i = load<cmd::destroy_srq_in>(in);
    srq_ctx* q = m_core.ctx.srq(i.srqn);
    if (q == nullptr || q->fn != fn) return {status::BAD_RES, field(0)};
    if (q->qp_refs != 0) return {status::RES_BUSY, field(0)};
    m_core.qe->wq_cfg({srq_wqid(i.srqn), false, false, 0, 0});
    m_core.collect();
    if (pd_ctx* pd = m_core.ctx.pd(q->pd)) --pd->refs;
    *q = srq_ctx{};
    return {};
}

}  // namespace chio::model
