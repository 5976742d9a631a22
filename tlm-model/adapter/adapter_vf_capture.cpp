// A VF's state between the adapter's contexts and vf_state (docs/migration.md): capture() for
// SAVE_VF, apply() for LOAD_VF. The rules for what is saved (the requester given back to the
// ring at a WQE boundary, the responder as it is) are in adapter_migration.cpp's header.
#include "tlm-model/adapter/adapter.h"

namespace chio::model {

namespace reg = spec::bar0::reg;
namespace pc = spec::pci::pcie_cap;
namespace mc = spec::pci::msix_cap;

namespace {

constexpr uint32_t MSIX_ENTRY = spec::pci::msix_entry::SIZE;

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
        s.qps.push_back(capture_qp(i));
        for (const auto& a : m_qp.transport(i).resp.atomics)
            s.atomics.push_back({i, a.psn, a.orig});
    }
    return s;
}

vf_qp_rec adapter::capture_qp(uint32_t i) {
    const qp_ctx& k = m_core.ctx.qps[i];
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
    x.next_psn = t.req.outstanding.empty() ? t.req.next_psn : t.req.outstanding.front().first_psn;
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
    return x;
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
        c.srqs[k.index] = {true, fn, k.pd, lg, k.ring, k.qp_refs, ++c.srq_incarnations};
        m_mirror->wq_cfg({srq_wqid(k.index), true, false, f8, lg});
        m_mirror->replay_wq(srq_wqid(k.index), f8, lg, to_wq(k.idx));
    }
    for (const auto& q : s.qps) apply_qp(fn, q);
    for (const auto& a : s.atomics) m_qp.transport(a.qp).resp.atomics.push_back({a.psn, a.orig});
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

}  // namespace chio::model
