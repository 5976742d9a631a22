// The pcap the fabric writes, read back byte for byte and decoded by Wireshark's dissectors
// (tshark, Debian package `tshark`): every frame must be RoCE with the right BTH opcode, QPN and
// PSN, with IP and UDP checksums verified and no malformed or expert-flagged frame. Wireshark
// dissects UDP port 4791 as RoCEv2 ("rroce") by default; no decode-as is needed.
#include <chio/spec/spec.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <systemc>
#include <vector>

#include "tlm-model/fabric/link.h"
#include "tlm-model/fabric/packet.h"
#include "tlm-model/fabric/pcap_writer.h"
#include "tlm-model/fabric/wire.h"

namespace chio::model {
namespace {

namespace roce = spec::roce;
using op = roce::opcode;

roce_packet make_packet(op o, l3_proto l3, uint32_t n) {
    roce_packet p;
    p.src_mac = {0x02, 0, 0, 0, 0, 0x01};
    p.dst_mac = {0x02, 0, 0, 0, 0, 0x02};
    p.l3 = l3;
    if (l3 == l3_proto::ipv4) {
        p.src_ip = ipv4_gid(0xC0A80001);
        p.dst_ip = ipv4_gid(0xC0A80002);
    } else {
        p.src_ip = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01};
        p.dst_ip = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02};
        p.flow_label = n;
    }
    p.udp_sport = static_cast<uint16_t>(0xC000 + n);
    p.opcode = o;
    p.dest_qp = 0x100 + n;
    p.psn = (0xFFFFF0 + n) & 0xFFFFFF;  // crosses the 24-bit wrap
    p.ack_req = true;
    const transport_headers h = header_layout(o);
    if (h.reth) p.reth = {0x7f0000001000ull, 0x1234, 4096};
    if (h.aeth) p.aeth = {0x1F, n};
    if (h.immdt) p.imm = 0x01020304;
    if (h.atomic_eth) p.atomic = {0x7f0000002000ull, 0x5678, 1, 0};
    if (h.atomic_ack_eth) p.atomic_ack = {99};
    if (h.deth) p.deth = {0x11111111, 0x2A};
    if (h.payload) p.payload.assign(n % 9 + 1, static_cast<uint8_t>(n));
    return p;
}

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

std::string read_all(const std::string& path) {
    std::string out;
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) return out;
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
    std::fclose(f);
    return out;
}

std::vector<std::string> split(const std::string& s, char sep) {
    std::vector<std::string> v;
    std::string cur;
    std::istringstream in(s);
    while (std::getline(in, cur, sep)) v.push_back(cur);
    return v;
}

TEST(pcap_tshark, pcap_file_holds_the_frames_with_their_time_stamps) {
    const std::string path = ::testing::TempDir() + "chio_pcap_format.pcap";
    pcap_writer w;
    ASSERT_TRUE(w.open(path)) << w.error();
    const std::vector<uint8_t> f = encode(make_packet(op::RC_SEND_ONLY, l3_proto::ipv4, 1));
    ASSERT_TRUE(w.write(1500000123, f));
    ASSERT_TRUE(w.close()) << w.error();
    EXPECT_EQ(w.frames(), 1u);

    const std::string file = read_all(path);
    const std::vector<uint8_t> b(file.begin(), file.end());
    ASSERT_EQ(b.size(), 24 + 16 + f.size());
    auto le32 = [&](size_t at) {
        return uint32_t{b[at]} | uint32_t{b[at + 1]} << 8 | uint32_t{b[at + 2]} << 16 |
               uint32_t{b[at + 3]} << 24;
    };
    EXPECT_EQ(le32(0), 0xA1B23C4Du);  // nanosecond pcap
    EXPECT_EQ(le32(20), 1u);          // LINKTYPE_ETHERNET
    EXPECT_EQ(le32(24), 1u);          // seconds
    EXPECT_EQ(le32(28), 500000123u);  // nanoseconds
    EXPECT_EQ(le32(32), f.size());
    EXPECT_EQ(le32(36), f.size());
    EXPECT_TRUE(std::equal(f.begin(), f.end(), b.begin() + 40));

    pcap_writer bad;
    EXPECT_FALSE(bad.open("/nonexistent-dir/x.pcap"));
    EXPECT_NE(bad.error().find("nonexistent"), std::string::npos);
    EXPECT_FALSE(bad.write(0, f));
}

// Runs tshark over `path` and checks that frame i is sent[i], decoded as RoCE with nothing
// flagged.
void expect_tshark_decodes(const std::string& path, const std::vector<roce_packet>& sent) {
    ASSERT_EQ(std::system("command -v tshark >/dev/null 2>&1"), 0)
        << "tshark not found: install the Debian package tshark (./chio installs it)";
    // Checksum validation is off by default in Wireshark; switch it on for IPv4 and UDP. The
    // payloads are test bytes, not an upper-layer protocol: Wireshark's heuristic payload
    // dissectors (RPC-over-RDMA, SMB Direct, iSER, ...) would claim some and call them malformed,
    // so they are switched off.
    std::string cmd = "tshark -n -r " + path +
                      " -o ip.check_checksum:TRUE -o udp.check_checksum:TRUE"
                      " -T fields -E separator=/t -e frame.number -e frame.protocols"
                      " -e infiniband.bth.opcode -e infiniband.bth.destqp -e infiniband.bth.psn"
                      " -e _ws.malformed -e _ws.expert.severity -e _ws.expert.message";
    for (const char* h :
         {"smcr_infiniband", "smb_direct_infiniband", "rpcrdma_infiniband", "nvme_rdma", "lnet_ib",
          "iser_infiniband", "eth_over_ib", "mellanox_eoib", "sdp_infiniband", "fc_infiniband"})
        cmd += std::string(" --disable-heuristic ") + h;
    const std::string err_path = path + ".stderr";
    const std::string out = run(cmd + " 2>" + err_path);
    const std::string err = read_all(err_path);
    const std::vector<std::string> lines = split(out, '\n');
    ASSERT_EQ(lines.size(), sent.size()) << out << err;
    for (size_t i = 0; i < sent.size(); ++i) {
        const std::vector<std::string> c = split(lines[i], '\t');
        ASSERT_GE(c.size(), 5u) << lines[i];
        const std::string what =
            describe(sent[i]) + (sent[i].l3 == l3_proto::ipv6 ? " over IPv6" : " over IPv4");
        EXPECT_EQ(c[0], std::to_string(i + 1));
        EXPECT_NE(c[1].find("udp:infiniband"), std::string::npos) << what << ": " << c[1];
        EXPECT_EQ(c[2], std::to_string(static_cast<unsigned>(sent[i].opcode))) << what;
        EXPECT_EQ(std::stoul(c[3], nullptr, 16), sent[i].dest_qp) << what;
        EXPECT_EQ(std::stoul(c[4]), sent[i].psn) << what;
        // Malformed-packet markers and any expert info (bad checksum, unknown field) are errors.
        for (size_t k = 5; k < c.size(); ++k) EXPECT_TRUE(c[k].empty()) << what << ": " << lines[i];
    }
}

TEST(pcap_tshark, tshark_decodes_every_opcode_as_roce) {
    const std::string path = ::testing::TempDir() + "chio_every_opcode.pcap";
    pcap_writer w;
    ASSERT_TRUE(w.open(path)) << w.error();
    std::vector<roce_packet> sent;
    uint32_t n = 0;
    for (l3_proto l3 : {l3_proto::ipv4, l3_proto::ipv6}) {
        for (op o : all_opcodes()) {
            sent.push_back(make_packet(o, l3, n));
            ASSERT_TRUE(w.write(1000ull * n, encode(sent.back())));
            ++n;
        }
    }
    ASSERT_TRUE(w.close()) << w.error();
    expect_tshark_decodes(path, sent);
}

struct quiet_port : eth_port_if {
    void receive(std::shared_ptr<const roce_packet>) override {}
};

struct script : sc_core::sc_module {
    SC_HAS_PROCESS(script);
    script(sc_core::sc_module_name n, std::function<void()> b)
        : sc_module(n), m_body(std::move(b)) {
        SC_THREAD(run);
    }
    void run() { m_body(); }
    std::function<void()> m_body;
};

// The tap of a simulated, impaired link: both directions interleaved, lost and corrupted frames
// written as they entered the link, time stamps in simulated nanoseconds.
TEST(pcap_tshark, tshark_decodes_the_tap_of_an_impaired_link) {
    const std::string path = ::testing::TempDir() + "chio_link_tap_all.pcap";
    pcap_writer w;
    ASSERT_TRUE(w.open(path)) << w.error();
    link l("l", 5);
    link_direction_config c;
    c.loss = 0.2;
    c.corrupt = 0.2;
    c.reorder = 0.2;
    ASSERT_TRUE(l.configure(c));
    quiet_port a, b;
    const link_pair ends = connect(l, a, b);
    l.set_pcap(&w);
    std::vector<roce_packet> sent;
    script drv("drv", [&] {
        uint32_t n = 0;
        for (l3_proto l3 : {l3_proto::ipv4, l3_proto::ipv6}) {
            for (op o : all_opcodes()) {
                sent.push_back(make_packet(o, l3, n));
                ((n & 1) ? ends.b : ends.a).send(std::make_shared<roce_packet>(sent.back()));
                sc_core::wait(sc_core::sc_time(37, sc_core::SC_NS));
                ++n;
            }
        }
    });
    sc_core::sc_start();
    ASSERT_TRUE(w.close()) << w.error();
    EXPECT_EQ(w.frames(), sent.size());
    expect_tshark_decodes(path, sent);
}

}  // namespace
}  // namespace chio::model
