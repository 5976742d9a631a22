// Analytic bandwidth limits of one RDMA message stream, from the same parameters the model uses
// (cosim::pcie_link_params, the port rate, spec::roce header sizes, the path MTU). Formulas are
// those of ../shared/reference/performance-model.md (pcie-bench's pcie-model, Neugebauer et al.,
// SIGCOMM 2018) and of IBA 1.4 Annex A17 / IEEE 802.3 for the wire; docs/performance.md derives
// them. The limit is a physical bound: a model that is correct never exceeds it.
#pragma once

#include <algorithm>
#include <cstdint>

#include "chio/spec/spec.h"
#include "cosim/pcie_link.h"
#include "tlm-model/fabric/wire_constants.h"

namespace chio::tb::analytic {

enum class stream_op { write, read, send };

inline uint64_t ceil_div(uint64_t a, uint64_t b) { return a == 0 ? 1 : (a + b - 1) / b; }

// Posted-write goodput (device writes to host memory), size S:
//   S / (S + ceil(S/MPS) * req_overhead) * TLP rate.
inline double pcie_write_gbps(const cosim::pcie_link_params& p, uint64_t s) {
    const double sb = static_cast<double>(s);
    return sb / (sb + static_cast<double>(ceil_div(s, p.mps) * p.req_overhead)) * p.tlp_rate_gbps;
}

// Read-completion goodput (device reads host memory), size S from an aligned buffer:
//   S / (S + C(S) * cpl_overhead) * TLP rate,
// C(S) = the completion TLPs of the read (cosim::read_completion_tlps: per MRRS request, cut at
// min(cpl_bytes, MPS) rounded to RCB; ceil(S/MPS) by default, the reference's formula); the
// ceil(S/MRRS) requests travel the other direction and do not load this one.
inline double pcie_read_gbps(const cosim::pcie_link_params& p, uint64_t s) {
    const double sb = static_cast<double>(s);
    const auto cpls = static_cast<double>(cosim::read_completion_tlps(p, 0, s));
    return sb / (sb + cpls * p.cpl_overhead) * p.tlp_rate_gbps;
}

// Bytes one packet of `payload` bytes occupies the port, RoCEv2 over IPv4 (the GIDs are
// IPv4-mapped): Ethernet + IPv4 + UDP + BTH + extension headers + payload padded to 4 + ICRC,
// plus preamble, SFD, FCS and the minimum inter-packet gap (IEEE 802.3 clause 4.4.2).
inline uint64_t packet_wire_bytes(uint64_t payload, uint64_t ext_headers) {
    namespace r = spec::roce;
    const uint64_t pad = (model::wire::PAYLOAD_ALIGN - payload % model::wire::PAYLOAD_ALIGN) %
                         model::wire::PAYLOAD_ALIGN;
    return r::ETH_HDR + r::IPV4_HDR + r::UDP_HDR + r::BTH + ext_headers + payload + pad + r::ICRC +
           model::wire::FRAME_OVERHEAD;
}

// Port goodput of one message of S bytes split into ceil(S/MTU) packets:
//   S * 8 / sum(packet_wire_bytes) * port rate.
// Extension headers (IBA 1.4 9.3): WRITE carries a RETH in its first packet; READ responses
// carry an AETH in their first and last packets (only packet: one); SEND carries none.
inline double port_gbps(double port_rate_gbps, uint32_t mtu, stream_op op, uint64_t s) {
    namespace r = spec::roce;
    const uint64_t n = ceil_div(s, mtu);
    uint64_t wire = 0;
    for (uint64_t i = 0; i < n; ++i) {
        const uint64_t len = i + 1 < n ? mtu : s - (n - 1) * mtu;
        uint64_t ext = 0;
        if (op == stream_op::write && i == 0) ext = r::RETH;
        if (op == stream_op::read && (i == 0 || i + 1 == n)) ext = r::AETH;
        wire += packet_wire_bytes(len, ext);
    }
    return static_cast<double>(s) / static_cast<double>(wire) * port_rate_gbps;
}

struct limit {
    double pcie_src_gbps = 0;  // PCIe read goodput where the data leaves host memory
    double port_gbps = 0;      // wire goodput
    double pcie_dst_gbps = 0;  // PCIe posted-write goodput where the data lands
    double gbps() const { return std::min({pcie_src_gbps, port_gbps, pcie_dst_gbps}); }
};

// min(port goodput, PCIe goodput) for a stream of S-byte messages. Both hosts have the same
// link parameters; the data is read from memory at the source and written at the destination.
inline limit stream_limit(const cosim::pcie_link_params& p, double port_rate_gbps, uint32_t mtu,
                          stream_op op, uint64_t s) {
    return {pcie_read_gbps(p, s), port_gbps(port_rate_gbps, mtu, op, s), pcie_write_gbps(p, s)};
}

}  // namespace chio::tb::analytic
