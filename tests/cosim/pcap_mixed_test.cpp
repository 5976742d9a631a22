// A mixed RC run between two hosts (every RC opcode, single- and multi-packet at path MTU 1024)
// written as a pcap by the pair topology and decoded by tshark: every frame is RoCE with the
// BTH opcode, destination QPN and PSN expected, and no frame is malformed or carries expert
// info (bad IP/UDP checksum, unknown field). Requests (host 0 -> host 1) must be exactly the
// packets the IBA segmentation rules give for the script, in order; responses (host 1 -> host 0)
// must match, per opcode, what host 1's adapter counted as sent, with READ responses carrying the
// PSNs their request reserved. Every frame's ICRC is recomputed here (tshark does not check it).
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "support/two_sides.h"

namespace chio {
namespace {

using test::two_sides;
using op = spec::wqe_opcode;
using rop = spec::roce::opcode;
using Q = test::wr_tracker::queue;

constexpr uint64_t TX = 0, RX = 64 << 10, ATOM = 200 << 10, RESULT = 210 << 10;
constexpr uint32_t MTU = 1024;

std::string run(const std::string& cmd) {
    std::string out;
    std::FILE* f = ::popen(cmd.c_str(), "r");
    if (!f) return out;
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
    ::pclose(f);
    return out;
}

std::vector<std::string> split(const std::string& s, char sep) {
    std::vector<std::string> v;
    std::string cur;
    std::istringstream in(s);
    while (std::getline(in, cur, sep)) v.push_back(cur);
    return v;
}

// CRC-32 as Ethernet computes it (reflected polynomial 0xEDB88320), bit by bit: an ICRC
// implementation independent of tlm-model/fabric/wire.cpp.
uint32_t crc32_update(uint32_t crc, const uint8_t* p, size_t n) {
    for (size_t i = 0; i < n; ++i) {
        crc ^= p[i];
        for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    return crc;
}

// The RoCEv2 ICRC of an Ethernet frame (IBA Annex A17.4.1): CRC-32 over 8 bytes of ones (the
// LRH placeholder), the IP header with its variant fields as ones (IPv4: TOS, TTL, checksum;
// IPv6: traffic class, flow label, hop limit), the UDP header with the checksum as ones, the BTH
// with resv8a as ones, and the rest up to the ICRC; sent inverted, least significant byte first.
// Returns false when the frame is too short or not IP.
bool icrc_matches(const std::vector<uint8_t>& f, std::string& why) {
    if (f.size() < 14 + 20 + 8 + 12 + 4) return why = "short frame", false;
    const uint16_t ethertype = static_cast<uint16_t>(f[12] << 8 | f[13]);
    std::vector<uint8_t> m(f.begin() + 14, f.end() - 4);
    size_t ip_len = 0;
    if (ethertype == 0x0800) {
        ip_len = (m[0] & 0xF) * 4u;
        m[1] = 0xFF;           // TOS
        m[8] = 0xFF;           // TTL
        m[10] = m[11] = 0xFF;  // header checksum
    } else if (ethertype == 0x86DD) {
        ip_len = 40;
        m[0] |= 0x0F;               // traffic class (low half of byte 0) ...
        m[1] = m[2] = m[3] = 0xFF;  // ... and flow label
        m[7] = 0xFF;                // hop limit
    } else {
        return why = "not IP", false;
    }
    m[ip_len + 6] = m[ip_len + 7] = 0xFF;  // UDP checksum
    m[ip_len + 8 + 4] = 0xFF;              // BTH resv8a
    static const uint8_t ones[8] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
    uint32_t crc = crc32_update(0xFFFFFFFFu, ones, 8);
    crc = ~crc32_update(crc, m.data(), m.size());
    const size_t at = f.size() - 4;
    const uint32_t wire = uint32_t{f[at]} | uint32_t{f[at + 1]} << 8 | uint32_t{f[at + 2]} << 16 |
                          uint32_t{f[at + 3]} << 24;
    if (wire == crc) return true;
    char buf[80];
    std::snprintf(buf, sizeof buf, "ICRC 0x%08x on the wire, 0x%08x computed", wire, crc);
    why = buf;
    return false;
}

// The frames of a nanosecond or microsecond pcap file, in order.
std::vector<std::vector<uint8_t>> read_pcap(const std::string& path) {
    std::vector<std::vector<uint8_t>> frames;
    std::FILE* fp = std::fopen(path.c_str(), "rb");
    if (!fp) return frames;
    uint8_t hdr[24];
    if (std::fread(hdr, 1, 24, fp) == 24) {
        uint8_t rec[16];
        while (std::fread(rec, 1, 16, fp) == 16) {
            const uint32_t incl = uint32_t{rec[8]} | uint32_t{rec[9]} << 8 |
                                  uint32_t{rec[10]} << 16 | uint32_t{rec[11]} << 24;
            std::vector<uint8_t> f(incl);
            if (std::fread(f.data(), 1, incl, fp) != incl) break;
            frames.push_back(std::move(f));
        }
    }
    std::fclose(fp);
    return frames;
}

struct step {
    op o;
    uint32_t len;
};

struct expected_packet {
    rop opcode;
    uint32_t psn;
};

// IBA 9.7.1 / table 38: a SEND or WRITE of len bytes is ceil(len / MTU) packets (at least one),
// FIRST, MIDDLE..., LAST (WITH_IMM on the last), or ONLY; one PSN each. A READ request is one
// packet that reserves one PSN per response packet; an atomic one packet, one PSN.
std::vector<expected_packet> requests_for(const std::vector<step>& script, uint32_t psn) {
    std::vector<expected_packet> v;
    for (const step& s : script) {
        const uint32_t n = s.len == 0 ? 1 : (s.len + MTU - 1) / MTU;
        const bool send = s.o == op::SEND || s.o == op::SEND_WITH_IMM;
        const bool imm = s.o == op::SEND_WITH_IMM || s.o == op::RDMA_WRITE_WITH_IMM;
        if (s.o == op::RDMA_READ) {
            v.push_back({rop::RC_RDMA_READ_REQUEST, psn});
            psn += n;
            continue;
        }
        if (s.o == op::ATOMIC_CMP_AND_SWP || s.o == op::ATOMIC_FETCH_AND_ADD) {
            v.push_back(
                {s.o == op::ATOMIC_CMP_AND_SWP ? rop::RC_COMPARE_SWAP : rop::RC_FETCH_ADD, psn++});
            continue;
        }
        for (uint32_t i = 0; i < n; ++i) {
            const bool first = i == 0, last = i + 1 == n;
            rop o;
            if (first && last) {
                o = send ? (imm ? rop::RC_SEND_ONLY_WITH_IMM : rop::RC_SEND_ONLY)
                         : (imm ? rop::RC_RDMA_WRITE_ONLY_WITH_IMM : rop::RC_RDMA_WRITE_ONLY);
            } else if (first) {
                o = send ? rop::RC_SEND_FIRST : rop::RC_RDMA_WRITE_FIRST;
            } else if (last) {
                o = send ? (imm ? rop::RC_SEND_LAST_WITH_IMM : rop::RC_SEND_LAST)
                         : (imm ? rop::RC_RDMA_WRITE_LAST_WITH_IMM : rop::RC_RDMA_WRITE_LAST);
            } else {
                o = send ? rop::RC_SEND_MIDDLE : rop::RC_RDMA_WRITE_MIDDLE;
            }
            v.push_back({o, psn++});
        }
    }
    return v;
}

TEST(pcap_mixed, tshark_decodes_a_mixed_rdma_run_as_roce) {
    ASSERT_EQ(std::system("command -v tshark >/dev/null 2>&1"), 0)
        << "tshark not found: install the Debian package tshark (./chio installs it)";
    const std::string path = ::testing::TempDir() + "chio_pcap_mixed.pcap";
    std::remove(path.c_str());
    test::sides_options o = test::pair_options();
    o.mtu = spec::path_mtu::MTU_1024;
    o.pcap = path;
    const std::vector<step> script = {
        {op::SEND, 3000},
        {op::SEND_WITH_IMM, 100},
        {op::SEND_WITH_IMM, 2500},
        {op::RDMA_WRITE, 2500},
        {op::RDMA_WRITE, 500},
        {op::RDMA_WRITE_WITH_IMM, 2500},
        {op::RDMA_WRITE_WITH_IMM, 10},
        {op::RDMA_READ, 2500},
        {op::RDMA_READ, 100},
        {op::ATOMIC_CMP_AND_SWP, 8},
        {op::ATOMIC_FETCH_AND_ADD, 8},
        {op::SEND, 0},
        {op::SEND, 1024},
        {op::RDMA_READ, 4096},
    };
    uint32_t a_qpn = 0, b_qpn = 0, a_psn = 0;
    auto tp = test::run_two_sides(o, [&](two_sides& t) {
        a_qpn = t.a.qp->qpn();
        b_qpn = t.b.qp->qpn();
        spec::cmd::query_qp_out q = t.query(t.a);
        a_psn = q.sq_psn;
        uint64_t id = 1;
        for (const step& s : script) {
            const uint64_t my = id++;
            const bool recv =
                s.o == op::SEND || s.o == op::SEND_WITH_IMM || s.o == op::RDMA_WRITE_WITH_IMM;
            if (recv) {
                ASSERT_EQ(t.post_recv(t.b, 100 + my, RX, 8192), 0);
            }
            test::fill_pattern(t.a.cpu() + TX, s.len, 3, my);
            drv::send_wr w;
            w.wr_id = my;
            w.opcode = s.o;
            const bool into_a = s.o == op::RDMA_READ || s.len == 8;
            w.sg_list[0] = {t.a.addr(into_a ? (s.len == 8 ? RESULT : RX) : TX), s.len, t.a.lkey};
            w.num_sge = 1;
            w.remote_addr = t.b.addr(s.len == 8 ? ATOM : RX);
            w.rkey = t.b.rkey;
            w.compare_add = 0;
            w.swap = 5;
            ASSERT_EQ(t.post_send(t.a, w), 0);
            const spec::cqe* c = t.wait_wr(t.a, Q::send, my);
            ASSERT_TRUE(c) << spec::to_string(s.o);
            EXPECT_EQ(c->status, 0) << spec::to_string(s.o);
            if (recv) {
                ASSERT_TRUE(t.wait_wr(t.b, Q::recv, 100 + my));
            }
        }
        t.expect_exactly_once();
    });
    const uint64_t frames = tp->wire()->stats(model::link::side::a).frames +
                            tp->wire()->stats(model::link::side::b).frames;
    const auto& tx0 = tp->host(0).adapter.transport().per_opcode_tx;
    const auto& tx1 = tp->host(1).adapter.transport().per_opcode_tx;
    ASSERT_TRUE(tp->close());
    ASSERT_EQ(tp->host(0).adapter.transport().retransmits, 0u);

    // Checksum validation on for IPv4 and UDP; Wireshark's heuristic payload dissectors off (the
    // payloads are test bytes), as in tests/tlm-model/fabric/pcap_tshark_test.cpp.
    std::string cmd = "tshark -n -r " + path +
                      " -o ip.check_checksum:TRUE -o udp.check_checksum:TRUE"
                      " -T fields -E separator=/t -e frame.number -e frame.protocols -e ip.src"
                      " -e infiniband.bth.opcode -e infiniband.bth.destqp -e infiniband.bth.psn"
                      " -e _ws.malformed -e _ws.expert.severity -e _ws.expert.message";
    for (const char* h :
         {"smcr_infiniband", "smb_direct_infiniband", "rpcrdma_infiniband", "nvme_rdma", "lnet_ib",
          "iser_infiniband", "eth_over_ib", "mellanox_eoib", "sdp_infiniband", "fc_infiniband"})
        cmd += std::string(" --disable-heuristic ") + h;
    const std::string out = run(cmd + " 2>/dev/null");
    const std::vector<std::string> lines = split(out, '\n');
    ASSERT_EQ(lines.size(), frames) << out;

    // tshark shows the ICRC but does not verify it: check every frame's ICRC here.
    const std::vector<std::vector<uint8_t>> raw = read_pcap(path);
    ASSERT_EQ(raw.size(), frames);
    for (size_t i = 0; i < raw.size(); ++i) {
        std::string why;
        EXPECT_TRUE(icrc_matches(raw[i], why)) << "frame " << i + 1 << ": " << why;
    }

    const std::vector<expected_packet> want = requests_for(script, a_psn);
    std::vector<expected_packet> got_req;
    std::map<unsigned, uint64_t> resp_count;
    std::set<uint32_t> read_psns;  // PSNs READ requests reserved
    {
        uint32_t psn = a_psn;
        for (const step& s : script) {
            const uint32_t n = s.len == 0 ? 1 : (s.len + MTU - 1) / MTU;
            if (s.o == op::RDMA_READ) {
                for (uint32_t i = 0; i < n; ++i) read_psns.insert(psn + i);
            }
            psn += (s.o == op::RDMA_READ || s.o == op::SEND || s.o == op::SEND_WITH_IMM ||
                    s.o == op::RDMA_WRITE || s.o == op::RDMA_WRITE_WITH_IMM)
                       ? n
                       : 1;
        }
    }
    const std::string host0_ip = "10.0.0.1", host1_ip = "10.0.0.2";
    for (const std::string& line : lines) {
        const std::vector<std::string> c = split(line, '\t');
        ASSERT_GE(c.size(), 6u) << line;
        EXPECT_NE(c[1].find("udp:infiniband"), std::string::npos) << line;
        for (size_t k = 6; k < c.size(); ++k) EXPECT_TRUE(c[k].empty()) << "flagged: " << line;
        const unsigned opc = static_cast<unsigned>(std::stoul(c[3]));
        const uint32_t dqp = static_cast<uint32_t>(std::stoul(c[4], nullptr, 16));
        const uint32_t psn = static_cast<uint32_t>(std::stoul(c[5]));
        if (c[2] == host0_ip) {
            EXPECT_EQ(dqp, b_qpn) << line;
            got_req.push_back({static_cast<rop>(opc), psn});
        } else {
            ASSERT_EQ(c[2], host1_ip) << line;
            EXPECT_EQ(dqp, a_qpn) << line;
            ++resp_count[opc];
            const auto ro = static_cast<rop>(opc);
            if (ro == rop::RC_RDMA_READ_RESPONSE_FIRST || ro == rop::RC_RDMA_READ_RESPONSE_MIDDLE ||
                ro == rop::RC_RDMA_READ_RESPONSE_LAST || ro == rop::RC_RDMA_READ_RESPONSE_ONLY) {
                EXPECT_TRUE(read_psns.count(psn))
                    << "READ response with PSN " << psn << ": " << line;
            }
        }
    }
    ASSERT_EQ(got_req.size(), want.size());
    for (size_t i = 0; i < want.size(); ++i) {
        EXPECT_EQ(got_req[i].opcode, want[i].opcode)
            << "request " << i << ": " << spec::roce::to_string(got_req[i].opcode) << " vs "
            << spec::roce::to_string(want[i].opcode);
        EXPECT_EQ(got_req[i].psn, want[i].psn) << "request " << i;
    }
    // Responses: exactly what host 1 sent, per opcode; host 0 sent only requests.
    for (unsigned k = 0; k < 256; ++k) {
        EXPECT_EQ(resp_count.count(k) ? resp_count[k] : 0u, tx1[k])
            << "responses " << spec::roce::to_string(static_cast<rop>(k));
    }
    uint64_t sent0 = 0;
    for (unsigned k = 0; k < 256; ++k) sent0 += tx0[k];
    EXPECT_EQ(sent0, want.size());
    // Every response kind of the script shows up.
    for (rop r : {rop::RC_ACKNOWLEDGE, rop::RC_ATOMIC_ACKNOWLEDGE, rop::RC_RDMA_READ_RESPONSE_FIRST,
                  rop::RC_RDMA_READ_RESPONSE_MIDDLE, rop::RC_RDMA_READ_RESPONSE_LAST,
                  rop::RC_RDMA_READ_RESPONSE_ONLY}) {
        EXPECT_GT(resp_count[static_cast<unsigned>(r)], 0u) << spec::roce::to_string(r);
    }
    std::printf("%zu frames: %zu requests, %zu responses\n", lines.size(), got_req.size(),
                lines.size() - got_req.size());
}

}  // namespace
}  // namespace chio
