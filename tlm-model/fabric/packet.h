// roce_packet: one RoCEv2 frame in parsed form, as the fabric carries it on the simulator's fast
// path. No wire bytes are built unless a pcap is asked for (wire.h turns a packet into the exact
// Ethernet frame and back).
//
// Contract: every header field is a plain member, always present. Which transport extension
// headers a packet carries follows from its BTH opcode (IBA 1.4 section 9.2, table 38 "Packet
// header layout"); header_layout() says which, and encode() writes only those, so the members of
// absent headers are ignored on send and zero after decode. The BTH pad count is not stored: it
// follows from the payload size (section 9.2: pad to a 4-byte multiple), see pad_count().
// IP addresses are 16 bytes in the GID form of RoCEv2 (IBA Annex A17): an IPv4 address is the
// IPv4-mapped IPv6 address ::ffff:a.b.c.d.
// Plain C++ (no SystemC); nothing here asserts on packet contents.
#pragma once

#include <chio/spec/spec.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace chio::model {

using mac_address = std::array<uint8_t, 6>;
using gid = std::array<uint8_t, 16>;

// IPv4-mapped GID of a.b.c.d (host-order uint32, 0x0A000001 for 10.0.0.1) and back.
gid ipv4_gid(uint32_t addr);
bool is_ipv4_mapped(const gid& g);
uint32_t gid_ipv4(const gid& g);  // the low 4 bytes, meaningful when is_ipv4_mapped()

enum class l3_proto : uint8_t { ipv4, ipv6 };

struct reth_hdr {  // RDMA extended transport header (IBA 9.3)
    uint64_t va = 0;
    uint32_t rkey = 0;
    uint32_t dma_len = 0;
};

struct aeth_hdr {  // ACK extended transport header (IBA 9.3)
    // Raw syndrome byte: bits 7:5 the kind (spec::roce::aeth_syndrome), bits 4:0 the credit
    // count, RNR timer or NAK code (section 9.7.5.1).
    uint8_t syndrome = 0;
    uint32_t msn = 0;  // 24 bits
};

struct atomic_eth_hdr {  // atomic extended transport header (IBA 9.3)
    uint64_t va = 0;
    uint32_t rkey = 0;
    uint64_t swap_add = 0;  // swap value (COMPARE_SWAP) or addend (FETCH_ADD)
    uint64_t compare = 0;   // compare value (COMPARE_SWAP only)
};

struct atomic_ack_eth_hdr {  // atomic acknowledge extended transport header (IBA 9.3)
    uint64_t orig = 0;       // the original remote value
};

struct deth_hdr {  // datagram extended transport header (IBA 9.3)
    uint32_t qkey = 0;
    uint32_t src_qp = 0;  // 24 bits
};

struct roce_packet {
    // L2: Ethernet II, no VLAN tag.
    mac_address src_mac{};
    mac_address dst_mac{};

    // L3: IPv4 (DF set, no options) or IPv6 (no extension headers).
    l3_proto l3 = l3_proto::ipv4;
    gid src_ip{};
    gid dst_ip{};
    uint8_t hop_limit = 64;   // IPv4 TTL or IPv6 hop limit
    uint8_t dscp = 0;         // 6 bits of TOS / traffic class
    uint8_t ecn = 0;          // 2 bits of TOS / traffic class
    uint32_t flow_label = 0;  // IPv6 only, 20 bits

    // L4: UDP to spec::roce::UDP_DPORT. The source port carries flow entropy (IBA Annex A17).
    uint16_t udp_sport = 0;

    // BTH (IBA 9.2); pad count and TVer are not fields (see the contract above).
    spec::roce::opcode opcode = spec::roce::opcode::RC_SEND_ONLY;
    bool solicited = false;
    bool migreq = false;
    uint16_t pkey = static_cast<uint16_t>(spec::roce::DEFAULT_PKEY);
    uint32_t dest_qp = 0;  // 24 bits
    bool ack_req = false;
    uint32_t psn = 0;  // 24 bits

    // Extension headers: meaningful only when header_layout(opcode) has them.
    reth_hdr reth{};
    aeth_hdr aeth{};
    uint32_t imm = 0;  // ImmDt (IBA 9.3), the 32-bit value as read in network order
    atomic_eth_hdr atomic{};
    atomic_ack_eth_hdr atomic_ack{};
    deth_hdr deth{};

    std::vector<uint8_t> payload;

    // Damaged on the wire: the receiver's ICRC check fails (IBA 1.4 chapter 9: a packet that
    // fails the ICRC is silently dropped). encode() writes a wrong ICRC for such a packet; decode()
    // sets it on a mismatch.
    bool corrupt = false;
};

// The headers that follow the BTH for one opcode, in wire order DETH, RETH, AtomicETH, AETH,
// AtomicAckETH, ImmDt (IBA 9.2, table 38), and whether a payload may follow.
struct transport_headers {
    bool known = false;  // opcode is one of spec::roce::opcode; nothing else is set otherwise
    bool deth = false;
    bool reth = false;
    bool atomic_eth = false;
    bool aeth = false;
    bool atomic_ack_eth = false;
    bool immdt = false;
    bool payload = false;  // may carry a payload (may still be 0 bytes, e.g. a zero-length SEND)
    uint32_t bytes = 0;    // BTH plus the extension headers
};

transport_headers header_layout(spec::roce::opcode op);
transport_headers header_layout(uint8_t raw_opcode);  // known == false for any other value
bool is_known_opcode(uint8_t raw_opcode);

// Every opcode of spec::roce::opcode, in value order (for tests and per-opcode statistics).
const std::vector<spec::roce::opcode>& all_opcodes();

// Payload bytes that go on the wire: p.payload.size() when the opcode carries a payload, else 0
// (the payload member of e.g. an ACK is ignored).
size_t payload_size(const roce_packet& p);

// BTH PadCnt: bytes that pad the payload to a 4-byte multiple (IBA 9.2).
uint8_t pad_count(const roce_packet& p);

// Bytes between the UDP header and the ICRC: BTH, extension headers, payload and pad.
size_t transport_size(const roce_packet& p);

// The exact Ethernet frame: destination MAC through ICRC, without preamble, SFD and FCS. This is
// what encode() returns and what a pcap holds.
size_t wire_size(const roce_packet& p);

// The frame's cost in link time, in bytes: wire_size() plus preamble, SFD, FCS and the minimum
// inter-packet gap (IEEE 802.3). Serialization time is wire_occupancy() * 8 / rate.
size_t wire_occupancy(const roce_packet& p);

// IP packet size (IP header to ICRC): what an interface MTU limits.
size_t ip_size(const roce_packet& p);

// One line for logs and test messages: "RC_SEND_ONLY qp 0x000123 psn 42 len 100 ackreq se".
std::string describe(const roce_packet& p);

}  // namespace chio::model
