// RoCEv2 wire format: header layout per opcode against IBA 1.4 table 38, encode/decode round trip
// of every opcode over IPv4 and IPv6, the ICRC against an independent implementation's bytes,
// and decode of damaged, truncated and random input (rejected with a reason, never a crash).
#include "tlm-model/fabric/wire.h"

#include <chio/spec/spec.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "tlm-model/fabric/packet.h"

namespace chio::model {
namespace {

namespace roce = spec::roce;
using op = roce::opcode;

// A packet with every field set to a recognisable value that fits its width.
roce_packet make_packet(op o, l3_proto l3, size_t payload_len, uint32_t salt = 0) {
    roce_packet p;
    p.src_mac = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
    p.dst_mac = {0x02, 0x00, 0x00, 0x00, 0x00, 0x02};
    p.l3 = l3;
    if (l3 == l3_proto::ipv4) {
        p.src_ip = ipv4_gid(0x0A000001);
        p.dst_ip = ipv4_gid(0x0A000002);
    } else {
        p.src_ip = {0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01};
        p.dst_ip = {0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02};
        p.flow_label = 0xABCDE ^ salt;
    }
    p.hop_limit = 64;
    p.dscp = 26;
    p.ecn = 2;
    p.udp_sport = static_cast<uint16_t>(0xC000 | salt);
    p.opcode = o;
    p.solicited = (salt & 1) != 0;
    p.migreq = (salt & 2) != 0;
    p.pkey = 0xFFFF;
    p.dest_qp = (0x123456 + salt) & 0xFFFFFF;
    p.ack_req = true;
    p.psn = (0xABCDEF + salt) & 0xFFFFFF;
    const transport_headers h = header_layout(o);
    if (h.reth) p.reth = {0x1122334455667788ull + salt, 0xCAFE0000 | salt, 4096 + salt};
    if (h.aeth) p.aeth = {static_cast<uint8_t>(0x1F), 0x000100 + salt};
    if (h.immdt) p.imm = 0xDEADBEEF ^ salt;
    if (h.atomic_eth) p.atomic = {0x1000ull + 8 * salt, 0xBEEF, 0x0102030405060708ull, 42};
    if (h.atomic_ack_eth) p.atomic_ack = {0x8877665544332211ull};
    if (h.deth) p.deth = {0x11111111u + salt, 0x000ABC + salt};
    if (h.payload) {
        p.payload.resize(payload_len);
        for (size_t i = 0; i < payload_len; ++i) p.payload[i] = static_cast<uint8_t>(i * 7 + salt);
    }
    return p;
}

void expect_same(const roce_packet& a, const roce_packet& b) {
    EXPECT_EQ(a.src_mac, b.src_mac);
    EXPECT_EQ(a.dst_mac, b.dst_mac);
    EXPECT_EQ(a.l3, b.l3);
    EXPECT_EQ(a.src_ip, b.src_ip);
    EXPECT_EQ(a.dst_ip, b.dst_ip);
    EXPECT_EQ(a.hop_limit, b.hop_limit);
    EXPECT_EQ(a.dscp, b.dscp);
    EXPECT_EQ(a.ecn, b.ecn);
    EXPECT_EQ(a.flow_label, b.flow_label);
    EXPECT_EQ(a.udp_sport, b.udp_sport);
    EXPECT_EQ(a.opcode, b.opcode);
    EXPECT_EQ(a.solicited, b.solicited);
    EXPECT_EQ(a.migreq, b.migreq);
    EXPECT_EQ(a.pkey, b.pkey);
    EXPECT_EQ(a.dest_qp, b.dest_qp);
    EXPECT_EQ(a.ack_req, b.ack_req);
    EXPECT_EQ(a.psn, b.psn);
    EXPECT_EQ(a.reth.va, b.reth.va);
    EXPECT_EQ(a.reth.rkey, b.reth.rkey);
    EXPECT_EQ(a.reth.dma_len, b.reth.dma_len);
    EXPECT_EQ(a.aeth.syndrome, b.aeth.syndrome);
    EXPECT_EQ(a.aeth.msn, b.aeth.msn);
    EXPECT_EQ(a.imm, b.imm);
    EXPECT_EQ(a.atomic.va, b.atomic.va);
    EXPECT_EQ(a.atomic.rkey, b.atomic.rkey);
    EXPECT_EQ(a.atomic.swap_add, b.atomic.swap_add);
    EXPECT_EQ(a.atomic.compare, b.atomic.compare);
    EXPECT_EQ(a.atomic_ack.orig, b.atomic_ack.orig);
    EXPECT_EQ(a.deth.qkey, b.deth.qkey);
    EXPECT_EQ(a.deth.src_qp, b.deth.src_qp);
    EXPECT_EQ(a.payload, b.payload);
    EXPECT_EQ(a.corrupt, b.corrupt);
}

// IBA 1.4 table 38, typed independently of packet.cpp: bytes of BTH + extension headers and
// whether a payload follows.
struct layout_row {
    op o;
    uint32_t bytes;
    bool payload;
};
const layout_row TABLE_38[] = {
    {op::RC_SEND_FIRST, 12, true},
    {op::RC_SEND_MIDDLE, 12, true},
    {op::RC_SEND_LAST, 12, true},
    {op::RC_SEND_LAST_WITH_IMM, 16, true},
    {op::RC_SEND_ONLY, 12, true},
    {op::RC_SEND_ONLY_WITH_IMM, 16, true},
    {op::RC_RDMA_WRITE_FIRST, 28, true},
    {op::RC_RDMA_WRITE_MIDDLE, 12, true},
    {op::RC_RDMA_WRITE_LAST, 12, true},
    {op::RC_RDMA_WRITE_LAST_WITH_IMM, 16, true},
    {op::RC_RDMA_WRITE_ONLY, 28, true},
    {op::RC_RDMA_WRITE_ONLY_WITH_IMM, 32, true},
    {op::RC_RDMA_READ_REQUEST, 28, false},
    {op::RC_RDMA_READ_RESPONSE_FIRST, 16, true},
    {op::RC_RDMA_READ_RESPONSE_MIDDLE, 12, true},
    {op::RC_RDMA_READ_RESPONSE_LAST, 16, true},
    {op::RC_RDMA_READ_RESPONSE_ONLY, 16, true},
    {op::RC_ACKNOWLEDGE, 16, false},
    {op::RC_ATOMIC_ACKNOWLEDGE, 24, false},
    {op::RC_COMPARE_SWAP, 40, false},
    {op::RC_FETCH_ADD, 40, false},
    {op::UD_SEND_ONLY, 20, true},
    {op::UD_SEND_ONLY_WITH_IMM, 24, true},
};

TEST(wire, header_layout_follows_table_38) {
    ASSERT_EQ(all_opcodes().size(), std::size(TABLE_38));
    for (const auto& row : TABLE_38) {
        const transport_headers h = header_layout(row.o);
        EXPECT_TRUE(h.known) << roce::to_string(row.o);
        EXPECT_EQ(h.bytes, row.bytes) << roce::to_string(row.o);
        EXPECT_EQ(h.payload, row.payload) << roce::to_string(row.o);
    }
    EXPECT_FALSE(is_known_opcode(0x15));  // RC RESYNC: not in chio's opcode set
    EXPECT_FALSE(is_known_opcode(0x81));  // CNP
}

TEST(wire, describe_names_opcode_qp_and_psn) {
    roce_packet p = make_packet(op::RC_ACKNOWLEDGE, l3_proto::ipv4, 0);
    p.dest_qp = 0x123;
    p.psn = 42;
    EXPECT_EQ(describe(p), "RC_ACKNOWLEDGE qp 0x000123 psn 42 len 0 ackreq syndrome 0x1f msn 256");
}

TEST(wire, crc32_check_value) {
    const std::string s = "123456789";
    EXPECT_EQ(crc32(reinterpret_cast<const uint8_t*>(s.data()), s.size()), 0xCBF43926u);
}

TEST(wire, every_opcode_round_trips_over_ipv4_and_ipv6) {
    for (l3_proto l3 : {l3_proto::ipv4, l3_proto::ipv6}) {
        for (op o : all_opcodes()) {
            for (size_t len : {0, 1, 2, 3, 4, 5, 255, 1024}) {
                const roce_packet p = make_packet(o, l3, len, static_cast<uint32_t>(len));
                const std::vector<uint8_t> f = encode(p);
                ASSERT_EQ(f.size(), wire_size(p)) << roce::to_string(o);
                EXPECT_EQ(f.size() % 2, 0u);
                roce_packet q;
                std::string why;
                ASSERT_TRUE(decode(f, q, &why)) << roce::to_string(o) << ": " << why;
                expect_same(p, q);
            }
        }
    }
}

TEST(wire, sizes_add_up) {
    const roce_packet p = make_packet(op::RC_RDMA_WRITE_ONLY_WITH_IMM, l3_proto::ipv4, 13);
    EXPECT_EQ(pad_count(p), 3);
    EXPECT_EQ(wire_size(p), 14u + 20 + 8 + 12 + 16 + 4 + 13 + 3 + 4);
    EXPECT_EQ(ip_size(p), wire_size(p) - 14);
    EXPECT_EQ(wire_occupancy(p), wire_size(p) + 24);
    const roce_packet q = make_packet(op::UD_SEND_ONLY, l3_proto::ipv6, 8);
    EXPECT_EQ(wire_size(q), 14u + 40 + 8 + 12 + 8 + 8 + 4);
    // A payload on an opcode that carries none is not sent.
    roce_packet ack = make_packet(op::RC_ACKNOWLEDGE, l3_proto::ipv4, 0);
    ack.payload = {1, 2, 3};
    EXPECT_EQ(wire_size(ack), 14u + 20 + 8 + 12 + 4 + 4);
    EXPECT_EQ(encode(ack).size(), wire_size(ack));
}

std::vector<uint8_t> from_hex(const std::string& h) {
    std::vector<uint8_t> v;
    for (size_t i = 0; i + 1 < h.size(); i += 2)
        v.push_back(static_cast<uint8_t>(std::stoul(h.substr(i, 2), nullptr, 16)));
    return v;
}

// These bytes were checked with scapy 2.5 (scapy.contrib.roce, an independent implementation of
// Annex A17.3.3 and of the IPv4 header): rebuilding the frame with its ICRC left for scapy to
// compute gives the same bytes, ICRC fc04b785 included.
TEST(wire, icrc_matches_an_independent_implementation) {
    const std::vector<uint8_t> golden = from_hex(
        "020000000002020000000001080045"
        "6a0034000040004011264d0a0000010a000002"  // IPv4: DSCP 26 ECN 2, DF, TTL 64, UDP
        "c00012b7002000000"                       // UDP 49152 -> 4791, checksum 0
        "430ffff0012345680abcdef"                 // BTH: SEND_ONLY, pad 3, QP 0x123456, AckReq
        "00070e151c000000"                        // payload and pad
        "fc04b785");                              // ICRC
    const roce_packet p = make_packet(op::RC_SEND_ONLY, l3_proto::ipv4, 5, 0);
    EXPECT_EQ(encode(p), golden);
}

TEST(wire, icrc_detects_every_flipped_bit_of_the_invariant_part) {
    for (l3_proto l3 : {l3_proto::ipv4, l3_proto::ipv6}) {
        const std::vector<uint8_t> good =
            encode(make_packet(op::RC_RDMA_WRITE_ONLY_WITH_IMM, l3, 9, 3));
        const size_t transport = roce::ETH_HDR +
                                 (l3 == l3_proto::ipv4 ? roce::IPV4_HDR : roce::IPV6_HDR) +
                                 roce::UDP_HDR;
        for (size_t byte = transport; byte < good.size(); ++byte) {
            if (byte == transport + 4) continue;  // BTH resv8a: a variant field, masked
            for (int bit = 0; bit < 8; ++bit) {
                std::vector<uint8_t> f = good;
                f[byte] ^= static_cast<uint8_t>(1u << bit);
                roce_packet q;
                std::string why;
                EXPECT_FALSE(decode(f, q, &why)) << "byte " << byte << " bit " << bit;
            }
        }
        // A flip in the payload leaves the headers well formed: only the ICRC catches it,
        // and decode() reports the packet in full, marked corrupt.
        std::vector<uint8_t> f = good;
        f[f.size() - 8] ^= 0x10;
        roce_packet q;
        std::string why;
        EXPECT_FALSE(decode(f, q, &why));
        EXPECT_TRUE(q.corrupt);
        EXPECT_NE(why.find("ICRC"), std::string::npos) << why;
        EXPECT_EQ(q.opcode, op::RC_RDMA_WRITE_ONLY_WITH_IMM);
    }
}

TEST(wire, variant_fields_do_not_enter_the_icrc) {
    // IPv6 hop limit and flow label change hop by hop (Annex A17.3.3): the ICRC stays valid.
    roce_packet p = make_packet(op::UD_SEND_ONLY, l3_proto::ipv6, 64, 1);
    const std::vector<uint8_t> a = encode(p);
    p.hop_limit = 3;
    p.flow_label = 7;
    p.dscp = 0;
    p.ecn = 3;  // congestion experienced, set by a switch
    const std::vector<uint8_t> b = encode(p);
    EXPECT_EQ(std::vector<uint8_t>(a.end() - 4, a.end()),
              std::vector<uint8_t>(b.end() - 4, b.end()));
}

TEST(wire, corrupt_packet_encodes_a_bad_icrc) {
    roce_packet p = make_packet(op::RC_SEND_ONLY, l3_proto::ipv4, 100);
    p.corrupt = true;
    roce_packet q;
    std::string why;
    EXPECT_FALSE(decode(encode(p), q, &why));
    EXPECT_TRUE(q.corrupt);
    expect_same(p, q);
}

TEST(wire, decode_rejects_other_traffic_with_a_reason) {
    const std::vector<uint8_t> good = encode(make_packet(op::RC_SEND_ONLY, l3_proto::ipv4, 8));
    roce_packet q;
    std::string why;
    auto rejects = [&](std::vector<uint8_t> f, const char* what) {
        why.clear();
        EXPECT_FALSE(decode(f, q, &why)) << what;
        EXPECT_NE(why.find(what), std::string::npos) << why;
    };
    std::vector<uint8_t> f = good;
    f[12] = 0x88;  // EtherType 0x88B5
    f[13] = 0xB5;
    rejects(f, "EtherType");
    f = good;
    f[14 + 20 + 3] = 0x35;  // UDP port 53 (the IPv4 UDP checksum is 0: not checked)
    rejects(f, "port");
    f = good;
    f[14 + 8] = 1;  // TTL changed without fixing the header checksum
    rejects(f, "checksum");
    f = good;
    f[14 + 20 + 8] = 0x15;  // opcode RC RESYNC
    rejects(f, "opcode");
    f = good;
    const std::vector<uint8_t> v6 = encode(make_packet(op::RC_SEND_ONLY, l3_proto::ipv6, 8));
    f = v6;
    f[14 + 40 + 6] ^= 1;  // the UDP checksum itself: masked out of the ICRC
    rejects(f, "UDP checksum");
    EXPECT_TRUE(q.corrupt);
}

TEST(wire, decode_of_every_truncation_fails_cleanly) {
    for (op o : all_opcodes()) {
        const std::vector<uint8_t> good = encode(make_packet(o, l3_proto::ipv6, 17));
        for (size_t n = 0; n < good.size(); ++n) {
            std::vector<uint8_t> f(good.begin(), good.begin() + static_cast<long>(n));
            roce_packet q;
            std::string why;
            EXPECT_FALSE(decode(f.data(), f.size(), q, &why)) << roce::to_string(o) << " " << n;
            EXPECT_FALSE(why.empty());
        }
    }
    roce_packet q;
    EXPECT_FALSE(decode(nullptr, 0, q, nullptr));
}

TEST(wire, decode_of_random_and_mutated_input_never_crashes) {
    const uint64_t seed = 20261125;
    std::printf("seed %llu\n", static_cast<unsigned long long>(seed));
    std::mt19937_64 rng(seed);
    roce_packet q;
    std::string why;
    for (int i = 0; i < 20000; ++i) {
        std::vector<uint8_t> f(rng() % 200);
        for (auto& b : f) b = static_cast<uint8_t>(rng());
        if (f.size() > 13 && (i & 1)) {  // make half of them IP frames to reach deeper checks
            f[12] = (i & 2) ? 0x86 : 0x08;
            f[13] = (i & 2) ? 0xDD : 0x00;
        }
        EXPECT_FALSE(decode(f, q, &why));
    }
    const auto& ops = all_opcodes();
    for (int i = 0; i < 20000; ++i) {
        const op o = ops[rng() % ops.size()];
        std::vector<uint8_t> f =
            encode(make_packet(o, (i & 1) ? l3_proto::ipv6 : l3_proto::ipv4, rng() % 64));
        const int flips = 1 + static_cast<int>(rng() % 4);
        for (int k = 0; k < flips; ++k)
            f[rng() % f.size()] ^= static_cast<uint8_t>(1u << (rng() % 8));
        decode(f, q, &why);  // any answer, as long as it is an answer
    }
}

}  // namespace
}  // namespace chio::model
