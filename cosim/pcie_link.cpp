#include "cosim/pcie_link.h"

#include <algorithm>
#include <cstdint>

#include "tlm-model/sim_time.h"

namespace chio::cosim {

using sc_core::sc_time;

namespace {

bool is_pow2(uint64_t v) { return v != 0 && (v & (v - 1)) == 0; }

// Pieces of [a, b) (a < b) cut at every multiple of `unit`. Every DMA read counts its pieces,
// so a power-of-two unit (all the command line allows) shifts instead of dividing.
uint64_t pieces(uint64_t a, uint64_t b, uint64_t unit) {
    if (is_pow2(unit)) {
        const int sh = __builtin_ctzll(unit);
        return ((b - 1) >> sh) - (a >> sh) + 1;
    }
    return (b - 1) / unit - a / unit + 1;
}

// True when [addr, end) is one read request: at most MRRS and inside one 4 KiB page (the
// common case: the adapter issues its payload reads MRRS at a time).
bool one_request(const pcie_link_params& p, uint64_t addr, uint64_t end) {
    return end - addr <= p.mrrs &&
           addr % READ_REQUEST_BOUNDARY + (end - addr) <= READ_REQUEST_BOUNDARY;
}

// Calls f(a, b) for each read request [a, b) of [addr, end) (addr < end) while f returns true:
// cut at MRRS from addr and at 4 KiB boundaries (PCIe 3.0 section 2.2.7). Steps are computed
// from what is left, so an address at the top of the 64-bit space cannot overflow.
template <typename F>
void for_each_request(const pcie_link_params& p, uint64_t addr, uint64_t end, F f) {
    const uint64_t mrrs = std::max<uint64_t>(p.mrrs, 1);
    for (uint64_t a = addr; a < end;) {
        const uint64_t step =
            std::min({end - a, mrrs, READ_REQUEST_BOUNDARY - a % READ_REQUEST_BOUNDARY});
        if (!f(a, a + step)) return;
        a += step;
    }
}

// The end of [addr, addr+len), clamped to the address space (a read that would wrap is counted
// up to the top; the completer would reject it anyway).
uint64_t end_of(uint64_t addr, uint64_t len) {
    return len > UINT64_MAX - addr ? UINT64_MAX : addr + len;
}

// Once a request starts MRRS-aligned (from the first 4 KiB boundary on, at the latest), every
// later request is an aligned MRRS block; with power-of-two MRRS and split size the cuts are
// then the multiples of the smaller of the two, and the rest is counted without a loop.
bool aligned_tail(const pcie_link_params& p, uint64_t a, uint64_t split) {
    return is_pow2(p.mrrs) && p.mrrs <= READ_REQUEST_BOUNDARY && is_pow2(split) && a % p.mrrs == 0;
}

}  // namespace

uint64_t completion_split_bytes(const pcie_link_params& p) {
    const uint64_t rcb = std::max<uint64_t>(p.rcb, 1);
    const uint64_t cap = std::min<uint64_t>(p.cpl_bytes, p.mps);
    return std::max(rcb, is_pow2(rcb) ? cap & ~(rcb - 1) : cap / rcb * rcb);
}

uint64_t read_request_tlps(const pcie_link_params& p, uint64_t addr, uint64_t len) {
    if (len == 0) return 1;
    const uint64_t end = end_of(addr, len);
    if (one_request(p, addr, end)) return 1;
    uint64_t n = 0;
    for_each_request(p, addr, end, [&](uint64_t a, uint64_t) {
        if (aligned_tail(p, a, 1)) {
            n += pieces(a, end, p.mrrs);
            return false;
        }
        ++n;
        return true;
    });
    return n;
}

uint64_t read_completion_tlps(const pcie_link_params& p, uint64_t addr, uint64_t len) {
    if (len == 0) return 1;
    const uint64_t split = completion_split_bytes(p);
    const uint64_t end = end_of(addr, len);
    if (one_request(p, addr, end)) return end > addr ? pieces(addr, end, split) : 0;
    uint64_t n = 0;
    for_each_request(p, addr, end, [&](uint64_t a, uint64_t b) {
        if (aligned_tail(p, a, split)) {
            n += pieces(a, end, std::min<uint64_t>(split, p.mrrs));
            return false;
        }
        n += pieces(a, b, split);
        return true;
    });
    return n;
}

sc_time pcie_link::serialize(uint64_t wire_bytes) const {
    // Direct-mapped on a multiplicative hash of the size (the top 4 bits of size x 2^64/phi).
    serialized& e = m_serialized[(wire_bytes * 0x9E3779B97F4A7C15ull) >> 60];
    if (e.wire_bytes != wire_bytes) {
        e.wire_bytes = wire_bytes;
        e.t = ns_time(static_cast<double>(wire_bytes) * 8.0 / m_p.tlp_rate_gbps);
    }
    return e.t;
}

sc_time pcie_link::occupy(direction& d, tlp_class c, sc_time at, uint64_t len, uint64_t tlps,
                          uint32_t overhead) {
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
    const double wait = time_ns(start - at);
    s.wait_ns += wait;
    s.max_wait_ns = std::max(s.max_wait_ns, wait);
    return start + ser;
}

sc_time pcie_link::occupy_posted(direction& d, sc_time at, uint64_t len) {
    const uint64_t mps = std::max<uint32_t>(m_p.mps, 1);
    const uint64_t tlps = len == 0 ? 1 : (len + mps - 1) / mps;
    return occupy(d, tlp_class::posted, at, len, tlps, m_p.req_overhead);
}

sc_time pcie_link::upstream_write(sc_time at, uint64_t len) {
    const sc_time done = occupy_posted(m_up, at, len);
    return done + ns_time(m_p.one_way_ns) - at;
}

sc_time pcie_link::upstream_read(sc_time at, uint64_t addr, uint64_t len) {
    // Read requests (cut at MRRS and 4 KiB, no payload) go up; completions (cut at the split
    // size, RCB-aligned) come down. The measured round trip already includes one request and
    // its completion; the link occupancy adds queueing behind other traffic in either direction.
    const uint64_t reqs = read_request_tlps(m_p, addr, len);
    const uint64_t cpls = read_completion_tlps(m_p, addr, len);
    const sc_time req_done = occupy(m_up, tlp_class::non_posted, at, 0, reqs, m_p.req_overhead);
    // The latency fit holds up to the largest measured size; bytes beyond it stream at the
    // completion goodput (overlapping requests), not at the fit's 0.29 ns/B (27.6 Gb/s), which
    // would cap every long DMA read far below the link. Their completions are those the whole
    // read has beyond the ones of its first `fit` bytes.
    const uint64_t fit = std::min<uint64_t>(len, m_p.read_rtt_fit_bytes);
    const uint64_t rest = len - fit;
    const uint64_t rest_tlps =
        rest == 0 ? 0 : cpls - (fit == 0 ? 0 : read_completion_tlps(m_p, addr, fit));
    const double rest_ns =
        static_cast<double>(rest + rest_tlps * m_p.cpl_overhead) * 8.0 / m_p.tlp_rate_gbps;
    // Host memory latency beyond the measurement delays every wave of requests.
    const double base_ns = m_p.read_rtt_base_ns + std::max(m_p.host_memory_ns, 0.0);
    // Tags: requests beyond max_read_tags wait for a completed one, a round trip per wave.
    const uint64_t tags = std::max<uint32_t>(m_p.max_read_tags, 1);
    const uint64_t waves = (reqs + tags - 1) / tags;
    const double wave_ns =
        base_ns + m_p.read_rtt_per_byte_ns * static_cast<double>(std::min<uint64_t>(len, m_p.mrrs));
    const sc_time rtt =
        ns_time(std::max(base_ns + m_p.read_rtt_per_byte_ns * static_cast<double>(fit) + rest_ns,
                         static_cast<double>(waves) * wave_ns));
    const sc_time cpl_done =
        occupy(m_down, tlp_class::completion, req_done, len, cpls, m_p.cpl_overhead);
    return std::max(at + rtt, cpl_done) - at;
}

sc_time pcie_link::downstream_write(sc_time at, uint64_t len) {
    const sc_time done = occupy_posted(m_down, at, len);
    return done + ns_time(m_p.one_way_ns) - at;
}

sc_time pcie_link::downstream_read(sc_time at, uint64_t addr, uint64_t len) {
    // The device completes with the same splitting rules as the root complex; its turnaround
    // beyond the baseline (mmio_read_ns) separates the request's arrival from the completion.
    const sc_time req = occupy(m_down, tlp_class::non_posted, at, 0,
                               read_request_tlps(m_p, addr, len), m_p.req_overhead);
    const sc_time turnaround = ns_time(m_p.one_way_ns + std::max(m_p.mmio_read_ns, 0.0));
    const sc_time cpl = occupy(m_up, tlp_class::completion, req + turnaround, len,
                               read_completion_tlps(m_p, addr, len), m_p.cpl_overhead);
    return cpl + ns_time(m_p.one_way_ns) - at;
}

}  // namespace chio::cosim
