#include "cosim/pcie_link.h"

#include <algorithm>

namespace chio::cosim {

using sc_core::SC_NS;
using sc_core::sc_time;

sc_time pcie_link::serialize(uint64_t wire_bytes) const {
    return sc_time(static_cast<double>(wire_bytes) * 8.0 / m_p.tlp_rate_gbps, SC_NS);
}

sc_time pcie_link::occupy(direction& d, tlp_class c, sc_time at, uint64_t len, uint32_t chunk,
                          uint32_t overhead) {
    const uint64_t tlps = len == 0 ? 1 : (len + chunk - 1) / chunk;
    const uint64_t wire = len + tlps * overhead;
    d.bytes += wire;
    const sc_time ser = serialize(wire);
    sc_time start;
    if (c == tlp_class::posted && m_p.posted_passes) {
        // Behind earlier posted TLPs only; a queued train of the other classes is passed after
        // the TLP on the wire (at most one of the largest: MPS payload) and pushed back by ours.
        start = std::max(at, d.posted_free);
        if (d.other_free > start) {
            const sc_time on_wire =
                serialize(m_p.mps + std::max(m_p.req_overhead, m_p.cpl_overhead));
            start = std::min(d.other_free, start + on_wire);
            d.other_free += ser;
        }
        d.posted_free = start + ser;
    } else {
        // Non-posted requests and completions never pass a posted TLP (table 2-39); without
        // posted_passes every class keeps its place in one queue.
        start = std::max({at, d.other_free, d.posted_free});
        d.other_free = start + ser;
        if (!m_p.posted_passes) d.posted_free = d.other_free;
    }
    pcie_class_stats& s = d.st[idx(c)];
    s.tlps += tlps;
    s.wire_bytes += wire;
    ++s.transfers;
    const double wait = (start - at).to_seconds() * 1e9;
    s.wait_ns += wait;
    s.max_wait_ns = std::max(s.max_wait_ns, wait);
    return start + ser;
}

sc_time pcie_link::upstream_write(sc_time at, uint64_t len) {
    const sc_time done = occupy(m_up, tlp_class::posted, at, len, m_p.mps, m_p.req_overhead);
    return done + sc_time(m_p.one_way_ns, SC_NS) - at;
}

sc_time pcie_link::upstream_read(sc_time at, uint64_t len) {
    // Read requests (one per MRRS chunk, no payload) go up; completions (split at MPS) come
    // down. The measured round trip already includes one request and its completion; the link
    // occupancy adds queueing behind other traffic in either direction.
    const uint64_t reqs = len == 0 ? 1 : (len + m_p.mrrs - 1) / m_p.mrrs;
    const sc_time req_done = occupy(m_up, tlp_class::non_posted, at, 0, 1,
                                    static_cast<uint32_t>(reqs) * m_p.req_overhead);
    // The latency fit holds up to the largest measured size; bytes beyond it stream at the
    // completion goodput (overlapping requests), not at the fit's 0.29 ns/B (27.6 Gb/s), which
    // would cap every long DMA read far below the link.
    const uint64_t fit = std::min<uint64_t>(len, m_p.read_rtt_fit_bytes);
    const uint64_t rest = len - fit;
    const uint64_t rest_tlps = (rest + m_p.mps - 1) / m_p.mps;
    const double rest_ns =
        static_cast<double>(rest + rest_tlps * m_p.cpl_overhead) * 8.0 / m_p.tlp_rate_gbps;
    // Tags: requests beyond max_read_tags wait for a completed one, a round trip per wave.
    const uint64_t tags = std::max<uint32_t>(m_p.max_read_tags, 1);
    const uint64_t waves = (reqs + tags - 1) / tags;
    const double wave_ns =
        m_p.read_rtt_base_ns +
        m_p.read_rtt_per_byte_ns * static_cast<double>(std::min<uint64_t>(len, m_p.mrrs));
    const sc_time rtt(std::max(m_p.read_rtt_base_ns +
                                   m_p.read_rtt_per_byte_ns * static_cast<double>(fit) + rest_ns,
                               static_cast<double>(waves) * wave_ns),
                      SC_NS);
    const sc_time cpl_done =
        occupy(m_down, tlp_class::completion, req_done, len, m_p.mps, m_p.cpl_overhead);
    return std::max(at + rtt, cpl_done) - at;
}

sc_time pcie_link::downstream_write(sc_time at, uint64_t len) {
    const sc_time done = occupy(m_down, tlp_class::posted, at, len, m_p.mps, m_p.req_overhead);
    return done + sc_time(m_p.one_way_ns, SC_NS) - at;
}

sc_time pcie_link::downstream_read(sc_time at, uint64_t len) {
    const sc_time req = occupy(m_down, tlp_class::non_posted, at, 0, 1, m_p.req_overhead);
    const sc_time cpl = occupy(m_up, tlp_class::completion, req + sc_time(m_p.one_way_ns, SC_NS),
                               len, m_p.mps, m_p.cpl_overhead);
    return cpl + sc_time(m_p.one_way_ns, SC_NS) - at;
}

}  // namespace chio::cosim
