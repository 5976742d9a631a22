#include "tlm-model/fabric/wire.h"

#include <array>
#include <cstdio>
#include <cstring>

#include "tlm-model/fabric/wire_constants.h"

namespace chio::model {

namespace roce = spec::roce;

namespace {

// --- CRC-32, table driven (one table lookup per byte) ---

constexpr std::array<uint32_t, 256> make_crc_table() {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
        uint32_t c = i;
        for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ wire::CRC32_POLY_REFLECTED : c >> 1;
        t[i] = c;
    }
    return t;
}
constexpr std::array<uint32_t, 256> CRC_TABLE = make_crc_table();

// The running register: start with ~0, feed bytes, complement at the end.
uint32_t crc_update(uint32_t crc, const uint8_t* p, size_t n) {
    for (size_t i = 0; i < n; ++i) crc = CRC_TABLE[(crc ^ p[i]) & 0xFF] ^ (crc >> 8);
    return crc;
}

// --- big-endian stores and loads ---

struct writer {
    uint8_t* p;
    void u8(uint8_t v) { *p++ = v; }
    void be(uint64_t v, unsigned bytes) {
        for (unsigned i = 0; i < bytes; ++i)
            *p++ = static_cast<uint8_t>(v >> (8 * (bytes - 1 - i)));
    }
    void raw(const uint8_t* s, size_t n) {
        if (n) std::memcpy(p, s, n);
        p += n;
    }
};

uint64_t load_be(const uint8_t* p, unsigned bytes) {
    uint64_t v = 0;
    for (unsigned i = 0; i < bytes; ++i) v = v << 8 | p[i];
    return v;
}
uint16_t be16(const uint8_t* p) { return static_cast<uint16_t>(load_be(p, 2)); }
uint32_t be24(const uint8_t* p) { return static_cast<uint32_t>(load_be(p, 3)); }
uint32_t be32(const uint8_t* p) { return static_cast<uint32_t>(load_be(p, 4)); }
uint64_t be64(const uint8_t* p) { return load_be(p, 8); }

// --- Internet checksum (RFC 1071) ---

uint32_t sum16(const uint8_t* p, size_t n, uint32_t acc) {
    for (size_t i = 0; i + 1 < n; i += 2) acc += be16(p + i);
    if (n & 1) acc += uint32_t{p[n - 1]} << 8;
    return acc;
}
uint16_t fold(uint32_t acc) {
    while (acc >> 16) acc = (acc & 0xFFFF) + (acc >> 16);
    return static_cast<uint16_t>(~acc & 0xFFFF);
}

// UDP checksum over the IPv6 pseudo header (RFC 8200 section 8.1) or the IPv4 one (RFC 768).
uint16_t udp_checksum(bool v6, const uint8_t* ip, const uint8_t* udp, size_t udp_len) {
    uint32_t acc = 0;
    if (v6) {
        acc = sum16(ip + 8, 32, acc);  // source and destination address
    } else {
        acc = sum16(ip + 12, 8, acc);
    }
    acc += static_cast<uint32_t>(udp_len >> 16) + static_cast<uint32_t>(udp_len & 0xFFFF);
    acc += wire::IP_PROTO_UDP;
    acc = sum16(udp, udp_len, acc);
    const uint16_t c = fold(acc);
    return c == 0 ? wire::UDP_CHECKSUM_ZERO_AS : c;
}

uint8_t traffic_class(const roce_packet& p) {
    return static_cast<uint8_t>((p.dscp & wire::DSCP_MASK) << wire::DSCP_SHIFT |
                                (p.ecn & wire::ECN_MASK));
}

void put_l3(writer& w, const roce_packet& p, size_t l4_len) {
    if (p.l3 == l3_proto::ipv4) {
        uint8_t* ip = w.p;
        w.u8(wire::IPV4_VERSION << 4 | wire::IPV4_IHL_NO_OPTIONS);
        w.u8(traffic_class(p));
        w.be(roce::IPV4_HDR + l4_len, 2);
        w.be(0, 2);  // identification: any value for an atomic (DF) datagram, RFC 6864
        w.be(wire::IPV4_FLAG_DF, 2);
        w.u8(p.hop_limit);
        w.u8(wire::IP_PROTO_UDP);
        w.be(0, 2);  // checksum, filled below
        w.raw(p.src_ip.data() + 12, 4);
        w.raw(p.dst_ip.data() + 12, 4);
        const uint16_t c = fold(sum16(ip, roce::IPV4_HDR, 0));
        ip[wire::IPV4_CHECKSUM_OFFSET] = static_cast<uint8_t>(c >> 8);
        ip[wire::IPV4_CHECKSUM_OFFSET + 1] = static_cast<uint8_t>(c);
    } else {
        const uint32_t tc = traffic_class(p);
        w.be(uint32_t{wire::IPV6_VERSION} << 28 | tc << 20 |
                 (p.flow_label & wire::IPV6_FLOW_LABEL_MASK),
             4);
        w.be(l4_len, 2);
        w.u8(wire::IP_PROTO_UDP);
        w.u8(p.hop_limit);
        w.raw(p.src_ip.data(), p.src_ip.size());
        w.raw(p.dst_ip.data(), p.dst_ip.size());
    }
}

// BTH and extension headers in the order of IBA 9.2, table 38.
void put_transport_headers(writer& w, const roce_packet& p, const transport_headers& h) {
    w.u8(static_cast<uint8_t>(p.opcode));
    w.u8(static_cast<uint8_t>((p.solicited ? wire::BTH_SE : 0) | (p.migreq ? wire::BTH_MIGREQ : 0) |
                              pad_count(p) << wire::BTH_PAD_SHIFT | wire::BTH_TVER));
    w.be(p.pkey, 2);
    w.u8(0);  // FECN, BECN, reserved: RoCEv2 signals congestion in the IP ECN bits instead
    w.be(p.dest_qp & wire::QPN_MASK, 3);
    w.u8(p.ack_req ? wire::BTH_ACKREQ : 0);
    w.be(p.psn & wire::PSN_MASK, 3);
    if (h.deth) {
        w.be(p.deth.qkey, 4);
        w.u8(0);
        w.be(p.deth.src_qp & wire::QPN_MASK, 3);
    }
    if (h.reth) {
        w.be(p.reth.va, 8);
        w.be(p.reth.rkey, 4);
        w.be(p.reth.dma_len, 4);
    }
    if (h.atomic_eth) {
        w.be(p.atomic.va, 8);
        w.be(p.atomic.rkey, 4);
        w.be(p.atomic.swap_add, 8);
        w.be(p.atomic.compare, 8);
    }
    if (h.aeth) {
        w.u8(p.aeth.syndrome);
        w.be(p.aeth.msn & wire::MSN_MASK, 3);
    }
    if (h.atomic_ack_eth) w.be(p.atomic_ack.orig, 8);
    if (h.immdt) w.be(p.imm, 4);
}

size_t l3_header_size(uint16_t ethertype) {
    return ethertype == roce::ETHERTYPE_IPV4 ? roce::IPV4_HDR : roce::IPV6_HDR;
}

// --- decode ---

// Where the IP packet's UDP datagram lies in the frame.
struct l4_span {
    size_t udp_off = 0;
    size_t udp_len = 0;
};

// RFC 1071 section 1: the sum over pseudo header and datagram, checksum included, is all ones
// when the checksum is right (a sent 0xFFFF equals 0 in one's complement). A zero checksum means
// none was sent (IPv4; RoCEv2 over IPv6 may also send 0, Annex A17).
bool udp_checksum_ok(const uint8_t* f, const l4_span& s, bool v6) {
    const uint8_t* udp = f + s.udp_off;
    if (be16(udp + wire::UDP_CHECKSUM_OFFSET) == 0) return true;
    uint32_t acc = sum16(udp, s.udp_len, 0);
    acc = v6 ? sum16(f + roce::ETH_HDR + 8, 32, acc) : sum16(f + roce::ETH_HDR + 12, 8, acc);
    acc += static_cast<uint32_t>(s.udp_len) + wire::IP_PROTO_UDP;
    return fold(acc) == 0;
}

bool fail(std::string* why, const char* fmt, unsigned long a = 0, unsigned long b = 0) {
    if (why) {
        char buf[160];
        std::snprintf(buf, sizeof buf, fmt, a, b);
        *why = buf;
    }
    return false;
}

bool parse_ipv4(const uint8_t* f, size_t len, roce_packet& out, l4_span& s, std::string* why) {
    const uint8_t* ip = f + roce::ETH_HDR;
    if (len < roce::ETH_HDR + roce::IPV4_HDR) return fail(why, "truncated IPv4 header");
    if (ip[0] != (wire::IPV4_VERSION << 4 | wire::IPV4_IHL_NO_OPTIONS))
        return fail(why, "IPv4 version/IHL 0x%02lx: options are not used by RoCEv2", ip[0]);
    if (fold(sum16(ip, roce::IPV4_HDR, 0)) != 0) return fail(why, "bad IPv4 header checksum");
    const size_t total = be16(ip + 2);
    if (total < roce::IPV4_HDR || total > len - roce::ETH_HDR)
        return fail(why, "IPv4 total length %lu exceeds the frame", total);
    const uint16_t frag = be16(ip + 6);
    if ((frag & wire::IPV4_FLAG_MF) || (frag & wire::IPV4_FRAG_OFFSET_MASK))
        return fail(why, "IPv4 fragment (flags/offset 0x%04lx)", frag);
    if (ip[9] != wire::IP_PROTO_UDP) return fail(why, "IPv4 protocol %lu is not UDP", ip[9]);
    out.l3 = l3_proto::ipv4;
    out.dscp = ip[1] >> wire::DSCP_SHIFT;
    out.ecn = ip[1] & wire::ECN_MASK;
    out.hop_limit = ip[8];
    out.flow_label = 0;
    out.src_ip = ipv4_gid(be32(ip + 12));
    out.dst_ip = ipv4_gid(be32(ip + 16));
    s.udp_off = roce::ETH_HDR + roce::IPV4_HDR;
    s.udp_len = total - roce::IPV4_HDR;
    return true;
}

bool parse_ipv6(const uint8_t* f, size_t len, roce_packet& out, l4_span& s, std::string* why) {
    const uint8_t* ip = f + roce::ETH_HDR;
    if (len < roce::ETH_HDR + roce::IPV6_HDR) return fail(why, "truncated IPv6 header");
    const uint32_t w0 = be32(ip);
    if (w0 >> 28 != wire::IPV6_VERSION) return fail(why, "IPv6 version %lu", w0 >> 28);
    const size_t plen = be16(ip + 4);
    if (plen > len - roce::ETH_HDR - roce::IPV6_HDR)
        return fail(why, "IPv6 payload length %lu exceeds the frame", plen);
    if (ip[6] != wire::IP_PROTO_UDP) return fail(why, "IPv6 next header %lu is not UDP", ip[6]);
    const uint8_t tc = static_cast<uint8_t>(w0 >> 20);
    out.l3 = l3_proto::ipv6;
    out.dscp = tc >> wire::DSCP_SHIFT;
    out.ecn = tc & wire::ECN_MASK;
    out.flow_label = w0 & wire::IPV6_FLOW_LABEL_MASK;
    out.hop_limit = ip[7];
    std::memcpy(out.src_ip.data(), ip + 8, out.src_ip.size());
    std::memcpy(out.dst_ip.data(), ip + 24, out.dst_ip.size());
    s.udp_off = roce::ETH_HDR + roce::IPV6_HDR;
    s.udp_len = plen;
    return true;
}

bool parse_udp(const uint8_t* f, const l4_span& s, roce_packet& out, std::string* why) {
    const uint8_t* udp = f + s.udp_off;
    if (s.udp_len < roce::UDP_HDR) return fail(why, "truncated UDP header");
    if (be16(udp + 2) != roce::UDP_DPORT)
        return fail(why, "UDP destination port %lu is not RoCEv2's %lu", be16(udp + 2),
                    roce::UDP_DPORT);
    if (be16(udp + 4) != s.udp_len)
        return fail(why, "UDP length %lu, IP says %lu", be16(udp + 4), s.udp_len);
    out.udp_sport = be16(udp);
    return true;
}

bool parse_transport(const uint8_t* t, size_t n, roce_packet& out, std::string* why) {
    if (n < roce::BTH + roce::ICRC) return fail(why, "truncated BTH");
    const transport_headers h = header_layout(t[0]);
    if (!h.known) return fail(why, "unsupported BTH opcode 0x%02lx", t[0]);
    if ((t[1] & wire::BTH_TVER_MASK) != wire::BTH_TVER)
        return fail(why, "BTH TVer %lu", t[1] & wire::BTH_TVER_MASK);
    if (n < h.bytes + roce::ICRC)
        return fail(why, "%lu bytes too short for opcode 0x%02lx's headers", n, t[0]);
    const size_t body = n - h.bytes - roce::ICRC;  // payload and pad
    const size_t pad = t[1] >> wire::BTH_PAD_SHIFT & wire::BTH_PAD_MASK;
    if (body % wire::PAYLOAD_ALIGN != 0)
        return fail(why, "transport length %lu is not a multiple of 4", n);
    if (!h.payload && body != 0)
        return fail(why, "opcode 0x%02lx carries no payload, %lu bytes follow", t[0], body);
    if (pad > body) return fail(why, "pad count %lu exceeds the payload", pad);

    out.opcode = static_cast<spec::roce::opcode>(t[0]);
    out.solicited = t[1] & wire::BTH_SE;
    out.migreq = t[1] & wire::BTH_MIGREQ;
    out.pkey = be16(t + 2);
    out.dest_qp = be24(t + 5);
    out.ack_req = t[8] & wire::BTH_ACKREQ;
    out.psn = be24(t + 9);
    const uint8_t* p = t + roce::BTH;
    out.deth = {};
    out.reth = {};
    out.atomic = {};
    out.aeth = {};
    out.atomic_ack = {};
    out.imm = 0;
    if (h.deth) {
        out.deth = {be32(p), be24(p + 5)};
        p += roce::DETH;
    }
    if (h.reth) {
        out.reth = {be64(p), be32(p + 8), be32(p + 12)};
        p += roce::RETH;
    }
    if (h.atomic_eth) {
        out.atomic = {be64(p), be32(p + 8), be64(p + 12), be64(p + 20)};
        p += roce::ATOMIC_ETH;
    }
    if (h.aeth) {
        out.aeth = {p[0], be24(p + 1)};
        p += roce::AETH;
    }
    if (h.atomic_ack_eth) {
        out.atomic_ack = {be64(p)};
        p += roce::ATOMIC_ACK_ETH;
    }
    if (h.immdt) {
        out.imm = be32(p);
        p += roce::IMMDT;
    }
    out.payload.assign(p, p + (body - pad));
    return true;
}

}  // namespace

uint32_t crc32(const uint8_t* data, size_t len) { return ~crc_update(~0u, data, len); }

uint32_t compute_icrc(const uint8_t* frame, size_t len) {
    // Annex A17.3.3: the pseudo packet is 8 bytes of ones (the LRH), the IP, UDP and BTH headers
    // with their variant fields set to ones, then everything up to the ICRC unchanged.
    if (frame == nullptr || len < roce::ETH_HDR) return 0;
    const uint16_t ethertype = be16(frame + 2 * wire::MAC_BYTES);
    if (ethertype != roce::ETHERTYPE_IPV4 && ethertype != roce::ETHERTYPE_IPV6) return 0;
    const size_t ip_len = l3_header_size(ethertype);
    const size_t masked_len = ip_len + roce::UDP_HDR + roce::BTH;
    if (len < roce::ETH_HDR + masked_len + roce::ICRC) return 0;
    std::array<uint8_t, roce::IPV6_HDR + roce::UDP_HDR + roce::BTH> hdr{};
    std::memcpy(hdr.data(), frame + roce::ETH_HDR, masked_len);
    if (ethertype == roce::ETHERTYPE_IPV4) {
        hdr[wire::IPV4_TOS_OFFSET] = 0xFF;
        hdr[wire::IPV4_TTL_OFFSET] = 0xFF;
        hdr[wire::IPV4_CHECKSUM_OFFSET] = hdr[wire::IPV4_CHECKSUM_OFFSET + 1] = 0xFF;
    } else {
        hdr[0] |= 0x0F;  // traffic class (low nibble here) and flow label: bytes 0..3 but version
        hdr[1] = hdr[2] = hdr[3] = 0xFF;
        hdr[wire::IPV6_HOP_LIMIT_OFFSET] = 0xFF;
    }
    hdr[ip_len + wire::UDP_CHECKSUM_OFFSET] = hdr[ip_len + wire::UDP_CHECKSUM_OFFSET + 1] = 0xFF;
    hdr[ip_len + roce::UDP_HDR + wire::BTH_RESV8A_OFFSET] = 0xFF;

    static constexpr std::array<uint8_t, wire::ICRC_LRH_ONES> LRH_ONES = {0xFF, 0xFF, 0xFF, 0xFF,
                                                                          0xFF, 0xFF, 0xFF, 0xFF};
    uint32_t crc = crc_update(~0u, LRH_ONES.data(), LRH_ONES.size());
    crc = crc_update(crc, hdr.data(), masked_len);
    const size_t rest = roce::ETH_HDR + masked_len;
    crc = crc_update(crc, frame + rest, len - roce::ICRC - rest);
    return ~crc;
}

std::vector<uint8_t> encode(const roce_packet& p) {
    const transport_headers h = header_layout(p.opcode);
    std::vector<uint8_t> f(wire_size(p));
    writer w{f.data()};
    w.raw(p.dst_mac.data(), p.dst_mac.size());
    w.raw(p.src_mac.data(), p.src_mac.size());
    const bool v6 = p.l3 == l3_proto::ipv6;
    w.be(v6 ? roce::ETHERTYPE_IPV6 : roce::ETHERTYPE_IPV4, 2);

    const size_t udp_len = roce::UDP_HDR + transport_size(p) + roce::ICRC;
    uint8_t* ip = w.p;
    put_l3(w, p, udp_len);
    uint8_t* udp = w.p;
    w.be(p.udp_sport, 2);
    w.be(roce::UDP_DPORT, 2);
    w.be(udp_len, 2);
    w.be(0, 2);  // checksum: 0 (none) over IPv4, computed below over IPv6
    put_transport_headers(w, p, h);
    w.raw(p.payload.data(), payload_size(p));
    for (uint8_t i = 0; i < pad_count(p); ++i) w.u8(0);
    // The ICRC excludes the UDP checksum (it is masked), so the order of the two does not matter;
    // the UDP checksum covers the ICRC, so the ICRC goes first.
    uint32_t icrc = compute_icrc(f.data(), f.size());
    if (p.corrupt) icrc = ~icrc;
    for (size_t i = 0; i < roce::ICRC; ++i) w.u8(static_cast<uint8_t>(icrc >> (8 * i)));
    if (v6) {
        const uint16_t c = udp_checksum(true, ip, udp, udp_len);
        udp[wire::UDP_CHECKSUM_OFFSET] = static_cast<uint8_t>(c >> 8);
        udp[wire::UDP_CHECKSUM_OFFSET + 1] = static_cast<uint8_t>(c);
    }
    return f;
}

bool decode(const uint8_t* data, size_t len, roce_packet& out, std::string* why) {
    if (data == nullptr || len < roce::ETH_HDR) return fail(why, "truncated Ethernet header");
    std::memcpy(out.dst_mac.data(), data, wire::MAC_BYTES);
    std::memcpy(out.src_mac.data(), data + wire::MAC_BYTES, wire::MAC_BYTES);
    const uint16_t ethertype = be16(data + 2 * wire::MAC_BYTES);
    l4_span s;
    if (ethertype == roce::ETHERTYPE_IPV4) {
        if (!parse_ipv4(data, len, out, s, why)) return false;
    } else if (ethertype == roce::ETHERTYPE_IPV6) {
        if (!parse_ipv6(data, len, out, s, why)) return false;
    } else {
        return fail(why, "EtherType 0x%04lx is not IPv4 or IPv6", ethertype);
    }
    if (!parse_udp(data, s, out, why)) return false;
    const size_t t_off = s.udp_off + roce::UDP_HDR;
    if (!parse_transport(data + t_off, s.udp_len - roce::UDP_HDR, out, why)) return false;

    const size_t frame_len = s.udp_off + s.udp_len;  // without trailing Ethernet padding
    const uint32_t want = compute_icrc(data, frame_len);
    const uint32_t got =
        static_cast<uint32_t>(data[frame_len - 4] | data[frame_len - 3] << 8 |
                              data[frame_len - 2] << 16 | uint32_t{data[frame_len - 1]} << 24);
    // Both checks catch damage in flight; the ICRC is the one IBA requires (chapter 9), the UDP
    // checksum the one IPv6 requires. Either way the packet is reported whole and corrupt.
    out.corrupt = true;
    if (got != want)
        return fail(why, "ICRC mismatch: 0x%08lx on the wire, 0x%08lx computed", got, want);
    if (!udp_checksum_ok(data, s, out.l3 == l3_proto::ipv6))
        return fail(why, "bad UDP checksum 0x%04lx", be16(data + s.udp_off + 6));
    out.corrupt = false;
    return true;
}

}  // namespace chio::model
