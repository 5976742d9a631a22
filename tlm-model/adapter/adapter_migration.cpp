// VF migration in the adapter (docs/migration.md): suspend a VF to a consistent point, save its
// state as a blob, load a blob into a VF of this or another adapter, resume it; and the dirty-page
// log for pre-copy.
//
// Consistency rule: SUSPEND_VF stops the VF at packet and WQE-fetch boundaries, not at message
// boundaries. From the moment it starts, the VF's send queues are not served, its incoming
// packets are dropped and its transport timers hold (so nothing it receives changes its state
// any more); the command completes once the VF has had no DMA in flight, no queued event,
// EQE or MSI-X message and no queued command for two settle periods in a row (a packet or turn
// that had started when the flag rose finishes within one). SAVE_VF then gives back to the ring
// every send WQE taken but not completed (see vf_qp_rec): after LOAD_VF + RESUME_VF they are sent
// again with their original PSNs and the peer's responder treats what it already has as
// duplicates (IBA 9.9.2), so each completes exactly once.
#include <algorithm>
#include <cstring>

#include "tlm-model/adapter/adapter.h"

namespace chio::model {

namespace cmd = spec::cmd;
using cmd::status;
using sc_core::SC_NS;
using sc_core::sc_time;
namespace reg = spec::bar0::reg;
namespace pc = spec::pci::pcie_cap;
namespace mc = spec::pci::msix_cap;

namespace {

// The settle period: longer than any single engine step (a WQE fetch or one packet's
// processing, about 1 us on a loaded Gen3 link).
constexpr double SETTLE_NS = 2000.0;
constexpr uint32_t DMA_CHUNK = 4096;
constexpr uint32_t MSIX_ENTRY = spec::pci::msix_entry::SIZE;

template <typename T>
bool owns_any(const std::vector<T>& v, uint16_t fn) {
    return std::any_of(v.begin(), v.end(), [fn](const T& x) { return x.valid && x.fn == fn; });
}

vf_ring_idx to_rec(const wq_indices& w) { return {w.pi, w.fetch, w.ci, 0, 0}; }
wq_indices to_wq(const vf_ring_idx& r) { return {r.pi, r.fetch_or_cpi, r.ci}; }
vf_ring_idx to_rec(const cr_indices& c) {
    // A ring is saved with every allocated slot written (writes are issued in the same step as
    // their allocation), so pi == cpi.
    return {c.cpi, c.cpi, c.ci, static_cast<uint8_t>(c.armed),
            static_cast<uint8_t>(c.armed_solicited)};
}
cr_indices to_cr(const vf_ring_idx& r) {
    return {r.fetch_or_cpi, r.fetch_or_cpi, r.ci, r.armed != 0, r.armed_solicited != 0};
}

}  // namespace

bool adapter::busy(uint16_t fn) const {
    if (m_fstate[fn].inflight > 0) return true;
    const device_contexts& c = m_core.ctx;
    auto mine = [&](uint16_t crid) {
        if (crid < spec::limits::MAX_CQ) return c.cqs[crid].valid && c.cqs[crid].fn == fn;
        const uint32_t eqn = crid - spec::limits::MAX_CQ;
        return eqn < c.eqs.size() && c.eqs[eqn].valid && c.eqs[eqn].fn == fn;
    };
    return std::any_of(m_core.events.begin(), m_core.events.end(),
                       [&](const qe_event& e) { return mine(e.crid); }) ||
           std::any_of(m_core.async_events.begin(), m_core.async_events.end(),
                       [fn](const async_eqe& a) { return a.fn == fn; }) ||
           std::any_of(m_msix_out.begin(), m_msix_out.end(),
                       [fn](const auto& m) { return m.first == fn; }) ||
           std::any_of(m_cmds.begin(), m_cmds.end(), [fn](const auto& m) { return m.first == fn; });
}

migr_result adapter::suspend_vf(uint16_t fn) {
    if (m_fstate[fn].resetting) return {status::BAD_RES_STATE, 1};
    m_core.ctx.fns[fn].suspended = true;
    const sc_time deadline =
        sc_core::sc_time_stamp() + sc_time(spec::limits::SUSPEND_DRAIN_US * 1000.0, SC_NS);
    for (int quiet = 0; quiet < 2;) {
        // Not drained in time: the VF stays suspended (RESUME_VF or a reset undoes it).
        if (sc_core::sc_time_stamp() > deadline) return {status::BAD_RES_STATE, 1};
        sc_core::wait(sc_time(SETTLE_NS, SC_NS));
        quiet = busy(fn) ? 0 : quiet + 1;
    }
    return {};
}

vf_state adapter::capture(uint16_t fn) {
    const device_contexts& c = m_core.ctx;
    vf_state s;
    s.source_fn = fn;
    const function_ctx& f = c.fns[fn];
    const function_quota& q = f.quota;
    s.function = {{q.qps, q.cqs, q.eqs, q.mrs, q.pds, q.srqs, q.ahs},
                  f.qos_weight,
                  f.max_rate_mbps,
                  f.src_override ? 1u : 0u,
                  mac_to_u64(f.src_mac),
                  gid_hi(f.src_gid),
                  gid_lo(f.src_gid),
                  m_core.async_eqn[fn]};
    const bar0_regs& r = m_fns[fn]->regs;
    s.regs = {r.get(reg::CMD_ADDR_LO), r.get(reg::CMD_ADDR_HI), r.get(reg::SCRATCH),
              r.get(reg::DEV_CTRL)};
    config_space& cfg = m_fns[fn]->cfg;
    cfg.read(spec::pci::cfg::COMMAND, s.config.command, 2);
    cfg.read(spec::pci::PCIE_CAP_OFFSET + pc::DEV_CTRL, s.config.dev_ctrl, 2);
    cfg.read(spec::pci::MSIX_CAP_OFFSET + mc::MSG_CTRL, s.config.msix_ctrl, 2);
    const msix_table& mx = m_fns[fn]->msix;
    for (uint32_t v = 0; v < msix_table::NUM_VECTORS; ++v) {
        uint32_t w[4] = {};
        for (uint32_t k = 0; k < 4; ++k) {
            mx.read(msix_table::TABLE_OFFSET + v * MSIX_ENTRY + 4 * k,
                    reinterpret_cast<uint8_t*>(&w[k]), 4);
        }
        s.msix.push_back({v, uint64_t{w[1]} << 32 | w[0], w[2], w[3], mx.pending(v) ? 1u : 0u});
    }
    for (uint32_t i = 0; i < c.pds.size(); ++i) {
        if (c.pds[i].valid && c.pds[i].fn == fn) s.pds.push_back({i, c.pds[i].refs});
    }
    for (uint32_t i = 0; i < c.mrs.size(); ++i) {
        const mr_ctx& m = c.mrs[i];
        if (m.valid && m.fn == fn) {
            s.mrs.push_back({i, m.pd, m.access, m.variant, m.iova, m.length, m.pa});
        }
    }
    for (uint32_t i = 0; i < c.ahs.size(); ++i) {
        const ah_ctx& a = c.ahs[i];
        if (a.valid && a.fn == fn) {
            s.ahs.push_back(
                {i, a.pd, mac_to_u64(a.av.dest_mac), gid_hi(a.av.dest_gid), gid_lo(a.av.dest_gid)});
        }
    }
    for (uint32_t i = 0; i < c.eqs.size(); ++i) {
        const eq_ctx& e = c.eqs[i];
        if (!e.valid || e.fn != fn) continue;
        s.eqs.push_back(
            {i, e.log_size, e.vector, e.cq_refs, e.ring, to_rec(m_mirror->cr(eq_crid(i)))});
    }
    for (uint32_t i = 0; i < c.cqs.size(); ++i) {
        const cq_ctx& k = c.cqs[i];
        if (!k.valid || k.fn != fn) continue;
        s.cqs.push_back({i, k.log_size, k.eqn, k.qp_refs, k.error ? 1u : 0u, k.ring,
                         to_rec(m_mirror->cr(cq_crid(i)))});
    }
    for (uint32_t i = 0; i < c.srqs.size(); ++i) {
        const srq_ctx& k = c.srqs[i];
        if (!k.valid || k.fn != fn) continue;
        s.srqs.push_back(
            {i, k.pd, k.log_size, k.qp_refs, k.ring, to_rec(m_mirror->wq(srq_wqid(i)))});
    }
    for (uint32_t i = 0; i < c.qps.size(); ++i) {
        const qp_ctx& k = c.qps[i];
        if (!k.valid || k.fn != fn) continue;
        vf_qp_rec x;
        x.index = i;
        x.type = static_cast<uint32_t>(k.type);
        x.state = static_cast<uint32_t>(k.state);
        x.send_cqn = k.send_cqn;
        x.recv_cqn = k.recv_cqn;
        x.sq_log_size = k.sq_log_size;
        x.rq_log_size = k.rq_log_size;
        x.pd = k.pd;
        x.srqn = k.srqn;
        x.parked = k.parked ? 1 : 0;
        x.qos_weight = k.qos_weight;
        x.rate_limit_mbps = k.rate_limit_mbps;
        x.sq_addr = k.sq_addr;
        x.rq_addr = k.rq_addr;
        x.db_rec_addr = k.db_rec_addr;
        const qp_attrs& a = k.attrs;
        x.dest_qpn = a.dest_qpn;
        x.rq_psn = a.rq_psn;
        x.sq_psn = a.sq_psn;
        x.path_mtu = a.path_mtu;
        x.port = a.port;
        x.access_flags = a.access_flags;
        x.qkey = a.qkey;
        x.timers = a.timers;
        x.rd_atomic = a.rd_atomic;
        x.av_mac = mac_to_u64(a.av.dest_mac);
        x.av_gid_hi = gid_hi(a.av.dest_gid);
        x.av_gid_lo = gid_lo(a.av.dest_gid);
        const qp_transport& t = m_qp.transport(i);
        if (k.state != spec::qp_state::RESET) {
            // Send WQEs taken but not completed go back to the ring (fetch = ci), and the next
            // PSN is the first of the oldest of them.
            wq_indices sq = m_mirror->wq(sq_wqid(i));
            sq.fetch = sq.ci;
            x.sq = to_rec(sq);
            if (k.srqn < 0) x.rq = to_rec(m_mirror->wq(rq_wqid(i)));
        }
        x.next_psn =
            t.req.outstanding.empty() ? t.req.next_psn : t.req.outstanding.front().first_psn;
        x.retry_left = t.req.retry_left;
        x.rnr_left = t.req.rnr_left;
        const responder_state& rs = t.resp;
        x.epsn = rs.epsn;
        x.msn = rs.msn;
        x.nak_sent = rs.nak_sent ? 1 : 0;
        x.in_send = rs.in_send ? 1 : 0;
        x.rwqe_index = rs.rwqe_index;
        x.rwqe_wqid = rs.rwqe_wqid;
        x.offset = rs.offset;
        x.in_write = rs.in_write ? 1 : 0;
        x.write_len = rs.write_len;
        x.write_off = rs.write_off;
        x.write_pa = rs.write_pa;
        x.rwqe = rs.rwqe;
        s.qps.push_back(x);
    }
    return s;
}

migr_result adapter::save_vf(uint16_t fn, uint64_t addr, uint32_t len) {
    if (!m_core.ctx.fns[fn].suspended) return {status::BAD_RES_STATE, 1};
    const std::vector<uint8_t> blob = encode_vf_state(capture(fn));
    migr_result r;
    r.size = static_cast<uint32_t>(blob.size());
    r.qps = static_cast<uint32_t>(
        std::count_if(m_core.ctx.qps.begin(), m_core.ctx.qps.end(),
                      [fn](const qp_ctx& q) { return q.valid && q.fn == fn; }));
    if (len < blob.size()) {
        r.status = status::SMALL_BUF;
        r.syndrome = 2;
        return r;
    }
    for (size_t off = 0; off < blob.size(); off += DMA_CHUNK) {
        const size_t n = std::min<size_t>(DMA_CHUNK, blob.size() - off);
        if (!write(0, addr + off, blob.data() + off, n)) {
            r.status = status::INT_ERR;
            r.syndrome = 3;
            return r;
        }
    }
    return r;
}

migr_result adapter::check_load(uint16_t fn, const vf_state& s) const {
    const device_contexts& c = m_core.ctx;
    // Blob-internal consistency: numbers in range, references to objects the blob holds.
    auto bad = [](vf_section sec) {
        migr_result r;
        r.status = status::BAD_BLOB;
        r.syndrome = static_cast<uint32_t>(sec);
        return r;
    };
    auto has = [](const auto& v, uint32_t n) {
        return std::any_of(v.begin(), v.end(), [n](const auto& x) { return x.index == n; });
    };
    for (const auto& m : s.msix) {
        if (m.vector >= msix_table::NUM_VECTORS) return bad(vf_section::msix);
    }
    for (const auto& p : s.pds) {
        if (p.index >= c.pds.size()) return bad(vf_section::pd);
    }
    for (const auto& m : s.mrs) {
        if (m.index >= c.mrs.size() || m.variant > 0xFF || !has(s.pds, m.pd))
            return bad(vf_section::mr);
    }
    for (const auto& a : s.ahs) {
        if (a.index >= c.ahs.size() || !has(s.pds, a.pd)) return bad(vf_section::ah);
    }
    for (const auto& e : s.eqs) {
        if (e.index >= c.eqs.size() || e.log_size < 1 ||
            e.log_size > spec::limits::MAX_CQ_LOG_SIZE || e.vector >= msix_table::NUM_VECTORS)
            return bad(vf_section::eq);
    }
    for (const auto& k : s.cqs) {
        if (k.index >= c.cqs.size() || k.log_size < 1 ||
            k.log_size > spec::limits::MAX_CQ_LOG_SIZE || !has(s.eqs, k.eqn))
            return bad(vf_section::cq);
    }
    for (const auto& k : s.srqs) {
        if (k.index >= c.srqs.size() || k.log_size < 1 ||
            k.log_size > spec::limits::MAX_WQ_LOG_SIZE || !has(s.pds, k.pd))
            return bad(vf_section::srq);
    }
    for (const auto& q : s.qps) {
        const bool srq_ok = q.srqn < 0 || has(s.srqs, static_cast<uint32_t>(q.srqn));
        if (q.index >= c.qps.size() || q.sq_log_size > spec::limits::MAX_WQ_LOG_SIZE ||
            q.rq_log_size > spec::limits::MAX_WQ_LOG_SIZE ||
            q.state > static_cast<uint32_t>(spec::qp_state::ERR) ||
            q.type > static_cast<uint32_t>(spec::qp_type::UD) || !has(s.cqs, q.send_cqn) ||
            !has(s.cqs, q.recv_cqn) || !has(s.pds, q.pd) || !srq_ok)
            return bad(vf_section::qp);
    }
    if (s.function.async_eqn >= 0 && !has(s.eqs, static_cast<uint32_t>(s.function.async_eqn)))
        return bad(vf_section::function);
    // The target function's quota (the manager's assignment on this adapter), field 1.
    const function_quota& q = c.fns[fn].quota;
    const std::pair<uint32_t, size_t> counts[] = {{q.qps, s.qps.size()}, {q.cqs, s.cqs.size()},
                                                  {q.eqs, s.eqs.size()}, {q.mrs, s.mrs.size()},
                                                  {q.pds, s.pds.size()}, {q.srqs, s.srqs.size()},
                                                  {q.ahs, s.ahs.size()}};
    for (const auto& [limit, n] : counts) {
        if (limit != 0 && n > limit) return {status::LIM_ERR, 1};
    }
    // Every number must be free here: the guest and its peers keep using them.
    auto taken = [](const auto& table, const auto& recs) {
        return std::any_of(recs.begin(), recs.end(),
                           [&](const auto& r) { return table[r.index].valid; });
    };
    if (taken(c.pds, s.pds) || taken(c.mrs, s.mrs) || taken(c.ahs, s.ahs) || taken(c.eqs, s.eqs) ||
        taken(c.cqs, s.cqs) || taken(c.srqs, s.srqs) || taken(c.qps, s.qps)) {
        return {status::NO_RES, 1};
    }
    return {};
}

migr_result adapter::load_vf(uint16_t fn, uint64_t addr, uint32_t len) {
    const device_contexts& c = m_core.ctx;
    // The target is a VF after reset: it owns nothing (and is not in the middle of a reset).
    if (m_fstate[fn].resetting || owns_any(c.qps, fn) || owns_any(c.cqs, fn) ||
        owns_any(c.eqs, fn) || owns_any(c.pds, fn) || owns_any(c.mrs, fn) || owns_any(c.srqs, fn) ||
        owns_any(c.ahs, fn)) {
        return {status::BAD_RES_STATE, 1};
    }
    std::vector<uint8_t> blob(len);
    for (size_t off = 0; off < len; off += DMA_CHUNK) {
        const size_t n = std::min<size_t>(DMA_CHUNK, len - off);
        if (!read(0, addr + off, blob.data() + off, n)) return {status::INT_ERR, 3};
    }
    vf_state s;
    const vf_decode_result d = decode_vf_state(blob.data(), blob.size(), s);
    if (d.status == vf_decode_result::code::bad_version) {
        migr_result r{status::BAD_VERSION, 2};
        r.size = spec::limits::VF_STATE_VERSION;
        return r;
    }
    if (d.status == vf_decode_result::code::bad_blob) {
        migr_result r{status::BAD_BLOB, 2};
        r.size = d.at;
        return r;
    }
    migr_result r = check_load(fn, s);
    if (r.status != status::OK) return r;
    apply(fn, s);
    r.qps = static_cast<uint32_t>(s.qps.size());
    r.size = len;
    return r;
}

void adapter::apply(uint16_t fn, const vf_state& s) {
    device_contexts& c = m_core.ctx;
    const auto f8 = static_cast<uint8_t>(fn);
    function_ctx& f = c.fns[fn];
    f.src_override = s.function.src_override != 0;
    f.src_mac = mac_from_u64(s.function.src_mac);
    f.src_gid = gid_from_u64(s.function.src_gid_hi, s.function.src_gid_lo);
    f.suspended = true;  // until RESUME_VF
    m_core.async_eqn[fn] = s.function.async_eqn;
    for (const auto& p : s.pds) c.pds[p.index] = {true, fn, p.refs};
    for (const auto& m : s.mrs) {
        c.mrs[m.index] = {true,   fn,       m.pd, m.access,
                          m.iova, m.length, m.pa, static_cast<uint8_t>(m.variant)};
    }
    for (const auto& a : s.ahs) {
        c.ahs[a.index] = {true, fn, a.pd,
                          address_vector{mac_from_u64(a.mac), gid_from_u64(a.gid_hi, a.gid_lo)}};
    }
    for (const auto& e : s.eqs) {
        c.eqs[e.index] = {true, fn, static_cast<uint8_t>(e.log_size), e.vector, e.ring, e.cq_refs};
        const auto lg = static_cast<uint8_t>(e.log_size);
        m_mirror->cr_cfg({eq_crid(e.index), true, f8, lg, static_cast<uint16_t>(e.vector)});
        m_mirror->replay_cr(eq_crid(e.index), f8, lg, to_cr(e.idx));
    }
    for (const auto& k : s.cqs) {
        const auto lg = static_cast<uint8_t>(k.log_size);
        c.cqs[k.index] = {true, fn, lg, k.eqn, k.ring, k.qp_refs, k.error != 0};
        m_mirror->cr_cfg({cq_crid(k.index), true, f8, lg, static_cast<uint16_t>(k.eqn)});
        m_mirror->replay_cr(cq_crid(k.index), f8, lg, to_cr(k.idx));
    }
    for (const auto& k : s.srqs) {
        const auto lg = static_cast<uint8_t>(k.log_size);
        c.srqs[k.index] = {true, fn, k.pd, lg, k.ring, k.qp_refs};
        m_mirror->wq_cfg({srq_wqid(k.index), true, false, f8, lg});
        m_mirror->replay_wq(srq_wqid(k.index), f8, lg, to_wq(k.idx));
    }
    for (const auto& q : s.qps) apply_qp(fn, q);
    // Device-side registers and config space the driver programmed, as it left them.
    bar0_regs& regs = m_fns[fn]->regs;
    regs.set(reg::CMD_ADDR_LO, s.regs.cmd_addr_lo);
    regs.set(reg::CMD_ADDR_HI, s.regs.cmd_addr_hi);
    regs.set(reg::SCRATCH, s.regs.scratch);
    config_space& cfg = m_fns[fn]->cfg;
    cfg.write(spec::pci::cfg::COMMAND, s.config.command, 2);
    const uint32_t dev_ctrl =
        static_cast<uint32_t>(pc::DEV_CTRL_INITIATE_FLR.set(s.config.dev_ctrl, 0));
    cfg.write(spec::pci::PCIE_CAP_OFFSET + pc::DEV_CTRL, dev_ctrl, 2);
    msix_table& mx = m_fns[fn]->msix;
    for (const auto& m : s.msix) {
        const uint32_t w[4] = {static_cast<uint32_t>(m.addr), static_cast<uint32_t>(m.addr >> 32),
                               m.data, m.ctrl};
        for (uint32_t k = 0; k < 4; ++k) {
            mx.write(msix_table::TABLE_OFFSET + m.vector * MSIX_ENTRY + 4 * k,
                     reinterpret_cast<const uint8_t*>(&w[k]), 4);
        }
    }
    cfg.write(spec::pci::MSIX_CAP_OFFSET + mc::MSG_CTRL, s.config.msix_ctrl, 2);
    // A vector that was pending stays pending (or fires, if it is unmasked here).
    for (const auto& m : s.msix) {
        if (m.pending == 0) continue;
        const auto fr = mx.fire(m.vector, cfg.msix_enabled(), cfg.msix_function_masked());
        if (fr.st == msix_table::fire_status::sent) m_msix_out.emplace_back(fn, fr.msg);
    }
    m_msix_ev.notify(sc_core::SC_ZERO_TIME);
    m_core.collect();
}

void adapter::apply_qp(uint16_t fn, const vf_qp_rec& r) {
    const auto f8 = static_cast<uint8_t>(fn);
    qp_ctx& q = m_core.ctx.qps[r.index];
    q = qp_ctx{};
    q.valid = true;
    q.fn = fn;
    q.type = static_cast<spec::qp_type>(r.type);
    q.state = static_cast<spec::qp_state>(r.state);
    q.send_cqn = r.send_cqn;
    q.recv_cqn = r.recv_cqn;
    q.sq_log_size = static_cast<uint8_t>(r.sq_log_size);
    q.rq_log_size = static_cast<uint8_t>(r.rq_log_size);
    q.pd = r.pd;
    q.sq_addr = r.sq_addr;
    q.rq_addr = r.rq_addr;
    q.db_rec_addr = r.db_rec_addr;
    q.srqn = r.srqn;
    q.parked = r.parked != 0;
    q.qos_weight = r.qos_weight;
    q.rate_limit_mbps = r.rate_limit_mbps;
    qp_attrs& a = q.attrs;
    a.dest_qpn = r.dest_qpn;
    a.rq_psn = r.rq_psn;
    a.sq_psn = r.sq_psn;
    a.path_mtu = r.path_mtu;
    a.port = r.port;
    a.access_flags = r.access_flags;
    a.qkey = r.qkey;
    a.timers = r.timers;
    a.rd_atomic = r.rd_atomic;
    a.av = {mac_from_u64(r.av_mac), gid_from_u64(r.av_gid_hi, r.av_gid_lo)};
    qp_transport& t = m_qp.transport(r.index);
    t = qp_transport{};
    t.req.next_psn = r.next_psn;
    t.req.retry_left = r.retry_left;
    t.req.rnr_left = r.rnr_left;
    responder_state& rs = t.resp;
    rs.epsn = r.epsn;
    rs.msn = r.msn;
    rs.nak_sent = r.nak_sent != 0;
    rs.in_send = r.in_send != 0;
    rs.rwqe_index = static_cast<uint16_t>(r.rwqe_index);
    rs.rwqe_wqid = static_cast<uint16_t>(r.rwqe_wqid);
    rs.offset = r.offset;
    rs.in_write = r.in_write != 0;
    rs.write_len = r.write_len;
    rs.write_off = r.write_off;
    rs.write_pa = r.write_pa;
    rs.rwqe = r.rwqe;
    if (q.state == spec::qp_state::RESET) return;
    // Queues exist from INIT on (qp_engine::on_transition); their indices are replayed.
    m_mirror->wq_cfg({sq_wqid(r.index), true, true, f8, q.sq_log_size});
    m_mirror->replay_wq(sq_wqid(r.index), f8, q.sq_log_size, to_wq(r.sq));
    if (q.srqn < 0) {
        m_mirror->wq_cfg({rq_wqid(r.index), true, false, f8, q.rq_log_size});
        m_mirror->replay_wq(rq_wqid(r.index), f8, q.rq_log_size, to_wq(r.rq));
    }
    m_core.collect();  // work tokens of the replayed send queue wait in the scheduler
}

migr_result adapter::resume_vf(uint16_t fn) {
    device_contexts& c = m_core.ctx;
    if (!c.fns[fn].suspended) return {status::BAD_RES_STATE, 1};
    c.fns[fn].suspended = false;
    for (uint32_t n = 0; n < c.qps.size(); ++n) {
        const qp_ctx& q = c.qps[n];
        if (!q.valid || q.fn != fn) continue;
        // A QP saved in an error state still owes its flush completions.
        if (q.state == spec::qp_state::ERR || q.state == spec::qp_state::SQE) {
            m_core.request_flush(n);
        }
    }
    m_qp.resume();
    return {};
}

migr_result adapter::read_dirty(uint16_t fn, uint64_t addr, uint32_t pages, uint64_t first_page) {
    std::vector<uint8_t> bitmap;
    const dirty_log::taken t = m_dirty.take(fn, first_page, pages, bitmap);
    for (size_t off = 0; off < bitmap.size(); off += DMA_CHUNK) {
        const size_t n = std::min<size_t>(DMA_CHUNK, bitmap.size() - off);
        if (!write(0, addr + off, bitmap.data() + off, n)) return {status::INT_ERR, 3};
    }
    migr_result r;
    r.dirty = t.dirty;
    r.qps = t.outside;
    return r;
}

}  // namespace chio::model
