#include "tlm-model/fabric/packet.h"

#include <array>
#include <cstdint>
#include <cstdio>
#include <cstring>

#include "tlm-model/fabric/wire_constants.h"

namespace chio::model {

namespace roce = spec::roce;
using op = roce::opcode;

namespace {

// The IPv4-mapped prefix ::ffff:0:0/96 (RFC 4291 section 2.5.5.2).
constexpr size_t MAPPED_PREFIX_ZEROS = 10;
constexpr size_t MAPPED_V4_OFFSET = 12;
constexpr uint8_t MAPPED_FF = 0xFF;
static_assert(MAPPED_V4_OFFSET == MAPPED_PREFIX_ZEROS + 2, "::ffff: then the IPv4 address");

// One row of IBA 1.4 table 38 (section 9.2): the extension headers after the BTH.
transport_headers layout_of(op o) {
    transport_headers h;
    h.known = true;
    switch (o) {
        case op::RC_SEND_FIRST:
        case op::RC_SEND_MIDDLE:
        case op::RC_SEND_LAST:
        case op::RC_SEND_ONLY:
        case op::RC_RDMA_WRITE_MIDDLE:
        case op::RC_RDMA_WRITE_LAST:
        case op::RC_RDMA_READ_RESPONSE_MIDDLE:
            h.payload = true;
            break;
        case op::RC_SEND_LAST_WITH_IMM:
        case op::RC_SEND_ONLY_WITH_IMM:
        case op::RC_RDMA_WRITE_LAST_WITH_IMM:
            h.immdt = h.payload = true;
            break;
        case op::RC_RDMA_WRITE_FIRST:
        case op::RC_RDMA_WRITE_ONLY:
            h.reth = h.payload = true;
            break;
        case op::RC_RDMA_WRITE_ONLY_WITH_IMM:
            h.reth = h.immdt = h.payload = true;
            break;
        case op::RC_RDMA_READ_REQUEST:
            h.reth = true;
            break;
        case op::RC_RDMA_READ_RESPONSE_FIRST:
        case op::RC_RDMA_READ_RESPONSE_LAST:
        case op::RC_RDMA_READ_RESPONSE_ONLY:
            h.aeth = h.payload = true;
            break;
        case op::RC_ACKNOWLEDGE:
            h.aeth = true;
            break;
        case op::RC_ATOMIC_ACKNOWLEDGE:
            h.aeth = h.atomic_ack_eth = true;
            break;
        case op::RC_COMPARE_SWAP:
        case op::RC_FETCH_ADD:
            h.atomic_eth = true;
            break;
        case op::UD_SEND_ONLY:
            h.deth = h.payload = true;
            break;
        case op::UD_SEND_ONLY_WITH_IMM:
            h.deth = h.immdt = h.payload = true;
            break;
        default:
            return transport_headers{};
    }
    h.bytes = roce::BTH + (h.deth ? roce::DETH : 0) + (h.reth ? roce::RETH : 0) +
              (h.atomic_eth ? roce::ATOMIC_ETH : 0) + (h.aeth ? roce::AETH : 0) +
              (h.atomic_ack_eth ? roce::ATOMIC_ACK_ETH : 0) + (h.immdt ? roce::IMMDT : 0);
    return h;
}

size_t l3_header(const roce_packet& p) {
    return p.l3 == l3_proto::ipv4 ? roce::IPV4_HDR : roce::IPV6_HDR;
}

// Pad bytes after a payload of this many bytes (IBA 1.4 section 9.2: to a 4-byte multiple).
size_t pad_for(size_t payload) {
    return (wire::PAYLOAD_ALIGN - payload % wire::PAYLOAD_ALIGN) % wire::PAYLOAD_ALIGN;
}

}  // namespace

gid ipv4_gid(uint32_t addr) {
    gid g{};
    g[MAPPED_PREFIX_ZEROS] = MAPPED_FF;
    g[MAPPED_PREFIX_ZEROS + 1] = MAPPED_FF;
    for (size_t i = 0; i < 4; ++i)
        g[MAPPED_V4_OFFSET + i] = static_cast<uint8_t>(addr >> (8 * (3 - i)));
    return g;
}

bool is_ipv4_mapped(const gid& g) {
    // ::ffff:a.b.c.d: ten zero bytes, two 0xFF bytes, then the IPv4 address (one compare; every
    // packet's address family is asked on the per-packet path).
    static constexpr std::array<uint8_t, MAPPED_V4_OFFSET> prefix = [] {
        std::array<uint8_t, MAPPED_V4_OFFSET> a{};
        a[MAPPED_PREFIX_ZEROS] = MAPPED_FF;
        a[MAPPED_PREFIX_ZEROS + 1] = MAPPED_FF;
        return a;
    }();
    return std::memcmp(g.data(), prefix.data(), prefix.size()) == 0;
}

uint32_t gid_ipv4(const gid& g) {
    uint32_t a = 0;
    for (size_t i = 0; i < 4; ++i) a = a << 8 | g[MAPPED_V4_OFFSET + i];
    return a;
}

namespace {

// layout_of() for every opcode value, computed once: header_layout() is on the per-packet path
// (wire_size() and wire_occupancy() of every frame call it three times), where the switch cost
// more than all the other size arithmetic.
static_assert(sizeof(op) == 1, "the table below has one row per value of an 8-bit opcode");
const std::array<transport_headers, UINT8_MAX + 1>& layouts() {
    static const std::array<transport_headers, UINT8_MAX + 1> table = [] {
        std::array<transport_headers, UINT8_MAX + 1> t{};
        for (unsigned raw = 0; raw <= UINT8_MAX; ++raw) t[raw] = layout_of(static_cast<op>(raw));
        return t;
    }();
    return table;
}

}  // namespace

transport_headers header_layout(op o) { return layouts()[static_cast<uint8_t>(o)]; }

transport_headers header_layout(uint8_t raw_opcode) {
    // layout_of() answers known == false for any value that is not an enumerator.
    return layouts()[raw_opcode];
}

bool is_known_opcode(uint8_t raw_opcode) { return header_layout(raw_opcode).known; }

const std::vector<op>& all_opcodes() {
    static const std::vector<op> ops = [] {
        std::vector<op> v;
        for (unsigned raw = 0; raw <= UINT8_MAX; ++raw)
            if (is_known_opcode(static_cast<uint8_t>(raw))) v.push_back(static_cast<op>(raw));
        return v;
    }();
    return ops;
}

size_t payload_size(const roce_packet& p) {
    return header_layout(p.opcode).payload ? p.payload.size() : 0;
}

uint8_t pad_count(const roce_packet& p) { return static_cast<uint8_t>(pad_for(payload_size(p))); }

size_t transport_size(const roce_packet& p) {
    // payload_size() + pad_count() with one layout lookup: every frame's size is asked about
    // ten times on its way (port, wire, scheduler, counters).
    const transport_headers h = header_layout(p.opcode);
    const size_t payload = h.payload ? p.payload.size() : 0;
    return h.bytes + payload + pad_for(payload);
}

size_t ip_size(const roce_packet& p) {
    return l3_header(p) + roce::UDP_HDR + transport_size(p) + roce::ICRC;
}

size_t wire_size(const roce_packet& p) { return roce::ETH_HDR + ip_size(p); }

size_t wire_occupancy(const roce_packet& p) { return wire_size(p) + wire::FRAME_OVERHEAD; }

std::string describe(const roce_packet& p) {
    char buf[160];
    const transport_headers h = header_layout(p.opcode);
    // snprintf always terminates; the longest line (opcode name, flags) is far below 160.
    std::snprintf(buf, sizeof buf, "%s qp 0x%06x psn %u len %zu%s%s%s",
                  h.known ? spec::roce::to_string(p.opcode) : "opcode?", p.dest_qp & wire::QPN_MASK,
                  p.psn & wire::PSN_MASK, payload_size(p), p.ack_req ? " ackreq" : "",
                  p.solicited ? " se" : "", p.corrupt ? " corrupt" : "");
    std::string s(buf);
    if (h.aeth) {
        std::snprintf(buf, sizeof buf, " syndrome 0x%02x msn %u", p.aeth.syndrome,
                      p.aeth.msn & wire::MSN_MASK);
        s += buf;
    }
    return s;
}

// The smallest RoCEv2 frame (IPv4, BTH + AETH, no payload) already exceeds the Ethernet minimum,
// so encode() never needs Ethernet padding and wire_size() is exact for every packet.
static_assert(spec::roce::ETH_HDR + spec::roce::IPV4_HDR + spec::roce::UDP_HDR + spec::roce::BTH +
                  spec::roce::AETH + spec::roce::ICRC >=
              wire::MIN_FRAME_NO_FCS);

}  // namespace chio::model
