// PCIe link timing between the root complex and the adapter, per direction.
//
// Each direction is a resource that is busy while a TLP serializes ("busy until" timestamp), so
// bandwidth and contention come out right without a cycle model; latency is added on top.
// Defaults describe the chio-100 (PCIe Gen3 x16, MPS 256 B, MRRS 512 B), with sources in
// docs/performance.md and ../shared/reference/performance-model.md:
//   TLP-layer rate 113.7 Gb/s = 8 GT/s x 16 x 128/130 x (1 - DLLP and SKP overhead);
//   24 B per memory request TLP (header, framing, link layer), 20 B per completion with data
//   (pcie-bench, Neugebauer et al., SIGCOMM 2018);
//   DMA read round trip 520 ns + 0.29 ns/B (pcie-bench measurement on a Gen3 host, 64 B..2 KB);
//   a longer read keeps that latency fit only up to the measured 2 KB: its remaining bytes follow
//   at the link's completion rate, because the device splits it into MRRS requests kept in
//   flight together, so their round trips overlap instead of adding up; at most max_read_tags
//   requests are in flight (PCIe 3.0 section 2.2.6.2: a 5-bit tag without Extended Tag Field
//   Enable gives 32), so a read of more than max_read_tags x MRRS bytes takes one round trip of
//   an MRRS request per wave of tags (Little's law: tags x MRRS / RTT bounds read throughput);
//   one-way latency = half the fixed part of that round trip.
//
// Request and completion splitting (PCIe 3.0 sections 2.2.7 and 2.3.1.1): a read of [addr,
// addr+len) goes out as read requests of at most MRRS bytes, cut sequentially from addr and
// also at every 4 KiB boundary (a request must not cross one). The completer answers each
// request with completions of at most MPS bytes; every completion but a request's last must end
// on a read-completion-boundary (RCB) aligned address. The model cuts each request at every
// multiple of completion_split_bytes() = min(cpl_bytes, MPS) rounded down to a multiple of RCB:
// the root complex returns cpl_bytes-sized completions aligned to RCB. High-performance
// completers combine RCB pieces into completions at or near MPS (AMD PG213, "Important Note for
// High Performance Applications"), hence the default cpl_bytes = MPS; cpl_bytes = 64 is the one
// completion per 64 B that pcie-bench's pcie-model (rcb_chunks) reports on older chipsets. For a
// read aligned to the split size (split <= MRRS, as by default) this gives ceil(len / split)
// completions, the count the model used before it knew addresses; an unaligned read gets one or
// two more per request.
//
// Latency parameters beyond the measurement (rule: defaults add nothing, so every default total
// equals the measured figure above). The 520 ns round trip was measured end to end and includes
// the root complex's access to host memory; no source we have splits it into link flight and
// memory time. So host_memory_ns is the host memory latency *beyond* that measurement (default
// 0): it adds to every DMA read round trip (once per wave of tags), for "what if host memory
// were 200 ns slower". mmio_read_ns is the device's turnaround for an MMIO or config read
// beyond the baseline 2 x one_way_ns (default 0), for "what if the device took 300 ns more to
// answer reads"; it sits between the request's arrival and the completion's departure. Both are
// at least 0: a host faster than the measured one is a lower read_rtt_base_ns.
//
// Ordering and arbitration (PCIe 3.0 section 2.4.1, table 2-39): each direction carries three
// classes of TLP. Posted requests (memory writes: doorbells, DMA writes, CQEs, MSI-X) may pass
// non-posted requests and completions, and must be able to, or the link can deadlock; non-posted
// requests and completions must not pass posted ones (producer/consumer: data written before a
// flag is read). The model keeps two busy-until times per direction: posted TLPs queue only
// behind posted ones (and behind the one TLP already on the wire, which is not preempted); a
// non-posted request or completion queues behind everything, and a posted TLP that passes a
// queued train pushes the rest of that train back by its own serialization time, so the wire's
// bandwidth is conserved. Approximation: reads whose arrival was already computed are not moved
// by a later posted TLP (each is off by at most a few posted TLPs' serialization); flow-control
// credits are not modeled (the root port's are assumed never to run out).
#pragma once

#include <array>
#include <cstdint>
#include <systemc>

namespace chio::cosim {

struct pcie_link_params {
    double tlp_rate_gbps = 113.7;        // per direction, after encoding and DLLP overhead
    uint32_t mps = 256;                  // max payload size (bytes)
    uint32_t mrrs = 512;                 // max read request size (bytes)
    uint32_t req_overhead = 24;          // bytes per request TLP (memory write / read request)
    uint32_t cpl_overhead = 20;          // bytes per completion-with-data TLP
    double read_rtt_base_ns = 520.0;     // DMA read round trip, fixed part
    double read_rtt_per_byte_ns = 0.29;  // DMA read round trip, per byte
    uint32_t read_rtt_fit_bytes = 2048;  // largest read the round-trip fit was measured for
    uint32_t max_read_tags = 32;         // outstanding non-posted read requests
    double one_way_ns = 260.0;           // posted write / MMIO one-way latency
    uint32_t rcb = 64;                   // read completion boundary (bytes): 64 or 128
    uint32_t cpl_bytes = 256;            // the completer's completion size (bytes), capped at MPS
    double host_memory_ns = 0.0;         // host memory latency beyond the measured round trip
    double mmio_read_ns = 0.0;           // device read turnaround beyond 2 x one_way_ns
    // Posted TLPs pass queued non-posted requests and completions (PCIe table 2-39). false is
    // strict first come, first served per direction (for comparison; no real link does this).
    bool posted_passes = true;
};

// A memory read request must not cross a 4 KiB address boundary (PCIe 3.0 section 2.2.7).
constexpr uint64_t READ_REQUEST_BOUNDARY = 4096;

// Size at which completions are cut: min(cpl_bytes, MPS) rounded down to a multiple of RCB (at
// least one RCB), so every completion but the last ends RCB-aligned (PCIe 3.0 section 2.3.1.1).
uint64_t completion_split_bytes(const pcie_link_params& p);
// Read request TLPs for [addr, addr+len): cut at MRRS from addr and at 4 KiB boundaries; a
// zero-length read is one request.
uint64_t read_request_tlps(const pcie_link_params& p, uint64_t addr, uint64_t len);
// Completion-with-data TLPs answering those requests: each request cut at every multiple of
// completion_split_bytes(p).
uint64_t read_completion_tlps(const pcie_link_params& p, uint64_t addr, uint64_t len);

// The three ordering classes of PCIe TLPs (PCIe 3.0 section 2.4.1).
enum class tlp_class : unsigned { posted = 0, non_posted = 1, completion = 2 };

// Per direction and class: TLPs, wire bytes, and how long they queued for the wire (from the
// time they were ready to the time their first byte left), to see what waits behind what.
struct pcie_class_stats {
    uint64_t tlps = 0;
    uint64_t wire_bytes = 0;
    uint64_t transfers = 0;  // calls (one transfer is one or more TLPs)
    double wait_ns = 0;      // summed over transfers
    double max_wait_ns = 0;
};

class pcie_link {
public:
    explicit pcie_link(const pcie_link_params& p = {}) : m_p(p) {}

    const pcie_link_params& params() const { return m_p; }

    // Posted write of len bytes from the device to the host (DMA write, MSI-X): returns the
    // added delay, from `at` (now + the initiator's annotation), until the write is visible.
    sc_core::sc_time upstream_write(sc_core::sc_time at, uint64_t len);
    // Device read of len bytes at host address addr: requests upstream, completions downstream
    // (the address decides how requests and completions are split).
    sc_core::sc_time upstream_read(sc_core::sc_time at, uint64_t addr, uint64_t len);
    // Host write (MMIO, config) of len bytes to the device.
    sc_core::sc_time downstream_write(sc_core::sc_time at, uint64_t len);
    // Host read (MMIO, config) of len bytes at device address addr: non-posted, full round trip.
    sc_core::sc_time downstream_read(sc_core::sc_time at, uint64_t addr, uint64_t len);

    uint64_t bytes_up() const { return m_up.bytes; }
    uint64_t bytes_down() const { return m_down.bytes; }
    const pcie_class_stats& up_stats(tlp_class c) const { return m_up.st[idx(c)]; }
    const pcie_class_stats& down_stats(tlp_class c) const { return m_down.st[idx(c)]; }

private:
    struct direction {
        sc_core::sc_time posted_free;  // the last posted TLP's last byte
        sc_core::sc_time other_free;   // the last non-posted request's or completion's
        uint64_t bytes = 0;
        pcie_class_stats st[3];
    };
    static unsigned idx(tlp_class c) { return static_cast<unsigned>(c); }
    // Occupies one direction for `tlps` TLPs carrying `len` payload bytes in all, `overhead`
    // bytes each, ordered by class; returns when the last byte leaves.
    sc_core::sc_time occupy(direction& d, tlp_class c, sc_core::sc_time at, uint64_t len,
                            uint64_t tlps, uint32_t overhead);
    // Posted write: TLPs of at most MPS.
    sc_core::sc_time occupy_posted(direction& d, sc_core::sc_time at, uint64_t len);
    sc_core::sc_time serialize(uint64_t wire_bytes) const;

    pcie_link_params m_p;
    direction m_up;    // device -> host
    direction m_down;  // host -> device
    // The serialization times of recent wire sizes: a few recur (read requests, 512 B read
    // completions, a packet's payload write, CQEs) and each costs a division and a time
    // conversion. A cache of exact values, not an approximation.
    struct serialized {
        uint64_t wire_bytes = UINT64_MAX;
        sc_core::sc_time t;
    };
    mutable std::array<serialized, 16> m_serialized{};
};

}  // namespace chio::cosim
