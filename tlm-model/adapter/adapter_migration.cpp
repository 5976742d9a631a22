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
#include <map>

#include "tlm-model/adapter/adapter.h"
#include "tlm-model/adapter/transport_state.h"

namespace chio::model {

namespace cmd = spec::cmd;
using cmd::status;
using sc_core::SC_NS;
using sc_core::sc_time;

namespace {

// The settle period: longer than any single engine step (a WQE fetch or one packet's
// processing, about 1 us on a loaded Gen3 link).
constexpr double SETTLE_NS = 2000.0;
constexpr uint32_t DMA_CHUNK = 4096;

template <typename T>
bool owns_any(const std::vector<T>& v, uint16_t fn) {
    return std::any_of(v.begin(), v.end(), [fn](const T& x) { return x.valid && x.fn == fn; });
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
    // Saved atomic results: of a QP in the blob, at most as many per QP as a responder keeps.
    std::map<uint32_t, uint32_t> per_qp;
    for (const auto& a : s.atomics) {
        if (!has(s.qps, a.qp) || ++per_qp[a.qp] > responder_state::MAX_SAVED_ATOMICS)
            return bad(vf_section::qp_atomic);
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
