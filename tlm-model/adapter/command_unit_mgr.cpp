// The PF's manager commands (the deck's mAPI), per-function quotas and the destruction of a
// function's resources at its reset (docs/virtualization.md).
//
// Rules: manager commands are PF only; from a VF they complete with BAD_OP and change nothing
// (to a VF they do not exist, catalogue B9). A `fn` field names a function that can exist
// (0..TotalVFs), else BAD_PARAM. Quota checks come before the free-slot search, so a function
// at its quota gets LIM_ERR while the device still has room; NO_RES means the device is full.
#include <cstring>

#include "tlm-model/adapter/command_unit.h"

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
constexpr uint32_t NUM_FUNCTIONS = 1 + spec::pci::TOTAL_VFS;

template <typename T>
uint32_t owned_by(const std::vector<T>& v, uint16_t fn) {
    uint32_t n = 0;
    for (const T& x : v) n += x.valid && x.fn == fn ? 1 : 0;
    return n;
}

}  // namespace

bool command_unit::manager_only(cmd::opcode op) {
    switch (op) {
        case cmd::opcode::SET_VF_QUOTA:
        case cmd::opcode::SET_VF_ADDR:
        case cmd::opcode::SET_VF_QOS:
        case cmd::opcode::SET_QP_QOS:
        case cmd::opcode::QUERY_VF_STATS:
        case cmd::opcode::RESET_VF:
        case cmd::opcode::SUSPEND_VF:
        case cmd::opcode::SAVE_VF:
        case cmd::opcode::LOAD_VF:
        case cmd::opcode::RESUME_VF:
        case cmd::opcode::READ_DIRTY:
            return true;
        default:
            return false;
    }
}

bool command_unit::within_quota(uint16_t fn, res_kind k) const {
    const function_ctx* f =
        fn < m_core.ctx.fns.size() ? &m_core.ctx.fns[fn] : nullptr;  // const lookup
    if (f == nullptr) return false;
    const device_contexts& c = m_core.ctx;
    const function_quota& q = f->quota;
    switch (k) {
        case res_kind::qp:
            return q.qps == 0 || owned_by(c.qps, fn) < q.qps;
        case res_kind::cq:
            return q.cqs == 0 || owned_by(c.cqs, fn) < q.cqs;
        case res_kind::eq:
            return q.eqs == 0 || owned_by(c.eqs, fn) < q.eqs;
        case res_kind::mr:
            return q.mrs == 0 || owned_by(c.mrs, fn) < q.mrs;
        case res_kind::pd:
            return q.pds == 0 || owned_by(c.pds, fn) < q.pds;
        case res_kind::srq:
            return q.srqs == 0 || owned_by(c.srqs, fn) < q.srqs;
        case res_kind::ah:
            return q.ahs == 0 || owned_by(c.ahs, fn) < q.ahs;
    }
    return false;
}

command_unit::result command_unit::set_vf_quota(const uint8_t* in) {
    const auto i = load<cmd::set_vf_quota_in>(in);
    if (i.fn >= NUM_FUNCTIONS) return {status::BAD_PARAM, field(0)};
    const uint32_t limits[] = {spec::limits::MAX_QP, spec::limits::MAX_CQ, spec::limits::MAX_EQ,
                               spec::limits::MAX_MR, spec::limits::MAX_PD, spec::limits::MAX_SRQ,
                               spec::limits::MAX_AH};
    const uint32_t values[] = {i.qps, i.cqs, i.eqs, i.mrs, i.pds, i.srqs, i.ahs};
    for (uint32_t k = 0; k < 7; ++k) {
        if (values[k] > limits[k]) return {status::LIM_ERR, field(k + 1)};
    }
    m_core.ctx.fns[i.fn].quota = {i.qps, i.cqs, i.eqs, i.mrs, i.pds, i.srqs, i.ahs};
    return {};
}

command_unit::result command_unit::set_vf_addr(const uint8_t* in) {
    const auto i = load<cmd::set_vf_addr_in>(in);
    if (i.fn >= NUM_FUNCTIONS) return {status::BAD_PARAM, field(0)};
    if (i.spoof_check > 1) return {status::BAD_PARAM, field(1)};
    // A MAC is 48 bits and must be unicast (bit 0 of its first byte clear).
    if ((i.mac >> 48) != 0 || ((i.mac >> 40) & 1) != 0) return {status::BAD_PARAM, field(2)};
    function_ctx& f = m_core.ctx.fns[i.fn];
    f.mac = mac_from_u64(i.mac);
    f.gid_value = gid_from_u64(i.gid_hi, i.gid_lo);
    f.spoof_check = i.spoof_check != 0;
    return {};
}

command_unit::result command_unit::set_vf_qos(const uint8_t* in) {
    const auto i = load<cmd::set_vf_qos_in>(in);
    if (i.fn >= NUM_FUNCTIONS) return {status::BAD_PARAM, field(0)};
    if (i.weight == 0) return {status::BAD_PARAM, field(1)};
    function_ctx& f = m_core.ctx.fns[i.fn];
    f.qos_weight = i.weight;
    f.max_rate_mbps = i.max_rate_mbps;
    return {};
}

command_unit::result command_unit::set_qp_qos(const uint8_t* in) {
    const auto i = load<cmd::set_qp_qos_in>(in);
    qp_ctx* q = m_core.ctx.qp(i.qpn);  // any function's QP: the manager provisions them all
    if (q == nullptr) return {status::BAD_RES, field(0)};
    if (i.weight == 0) return {status::BAD_PARAM, field(1)};
    q->qos_weight = i.weight;
    q->rate_limit_mbps = i.rate_limit_mbps;
    return {};
}

command_unit::result command_unit::query_vf_stats(const uint8_t* in, uint8_t* out) {
    const auto i = load<cmd::query_vf_stats_in>(in);
    if (i.fn >= NUM_FUNCTIONS) return {status::BAD_PARAM, field(0)};
    const function_ctx& f = m_core.ctx.fns[i.fn];
    cmd::query_vf_stats_out o{};
    o.tx_packets = f.tx_packets;
    o.tx_bytes = f.tx_bytes;
    o.rx_packets = f.rx_packets;
    o.rx_bytes = f.rx_bytes;
    o.tx_dropped = f.tx_dropped;
    o.rx_dropped = f.rx_dropped;
    o.errors = f.errors;
    std::memcpy(out, &o, sizeof(o));
    return {};
}

command_unit::result command_unit::reset_vf(const uint8_t* in) {
    const auto i = load<cmd::reset_vf_in>(in);
    // Only a VF has a function level reset of its own; the PF resets through DEV_CTRL.RESET.
    if (i.fn == 0 || i.fn >= NUM_FUNCTIONS) return {status::BAD_PARAM, field(0)};
    const function_ctx& f = m_core.ctx.fns[i.fn];
    if (!f.enabled) return {status::BAD_RES_STATE, field(0)};
    if (m_core.reset_function) m_core.reset_function(static_cast<uint16_t>(i.fn));
    return {};
}

command_unit::result command_unit::set_addr(uint16_t fn, const uint8_t* in) {
    const auto i = load<cmd::set_addr_in>(in);
    if ((i.mac >> 48) != 0 || ((i.mac >> 40) & 1) != 0) return {status::BAD_PARAM, field(0)};
    // Accepted even when it differs from the assignment: the spoof check acts on the packets.
    function_ctx& f = m_core.ctx.fns[fn];
    f.src_override = true;
    f.src_mac = mac_from_u64(i.mac);
    f.src_gid = gid_from_u64(i.gid_hi, i.gid_lo);
    return {};
}

void command_unit::destroy_function(uint16_t fn) {
    device_contexts& c = m_core.ctx;
    // QPs first: each goes to RESET (queues disabled, nothing completes any more) and drops
    // its references, exactly as DESTROY_QP does.
    for (uint32_t n = 0; n < c.qps.size(); ++n) {
        qp_ctx& q = c.qps[n];
        if (!q.valid || q.fn != fn) continue;
        const spec::qp_state cur = q.state;
        q.state = spec::qp_state::RESET;
        m_on_transition(n, cur, spec::qp_state::RESET);
        q = qp_ctx{};
    }
    for (uint32_t n = 0; n < c.srqs.size(); ++n) {
        if (!c.srqs[n].valid || c.srqs[n].fn != fn) continue;
        m_core.qe->wq_cfg({srq_wqid(n), false, false, 0, 0});
        c.srqs[n] = srq_ctx{};
    }
    for (uint32_t n = 0; n < c.cqs.size(); ++n) {
        if (!c.cqs[n].valid || c.cqs[n].fn != fn) continue;
        m_core.qe->cr_cfg({cq_crid(n), false, 0, 0, 0});
        c.cqs[n] = cq_ctx{};
    }
    for (uint32_t n = 0; n < c.eqs.size(); ++n) {
        if (!c.eqs[n].valid || c.eqs[n].fn != fn) continue;
        m_core.qe->cr_cfg({eq_crid(n), false, 0, 0, 0});
        c.eqs[n] = eq_ctx{};
    }
    if (fn < m_core.async_eqn.size()) m_core.async_eqn[fn] = -1;
    for (auto& a : c.ahs) {
        if (a.valid && a.fn == fn) a = ah_ctx{};
    }
    for (auto& m : c.mrs) {
        if (!m.valid || m.fn != fn) continue;
        const uint8_t variant = m.variant;  // stale keys never match a later registration
        m = mr_ctx{};
        m.variant = variant;
    }
    for (auto& p : c.pds) {
        if (p.valid && p.fn == fn) p = pd_ctx{};
    }
    // The driver's own source choice is function state; the manager's assignment is not.
    if (fn < c.fns.size()) c.fns[fn].src_override = false;
    m_core.collect();
}

}  // namespace chio::model
