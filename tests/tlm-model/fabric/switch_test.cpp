// eth_switch: forwarding by destination MAC, store-and-forward timing, queueing at a shared
// output port, drops of unknown and hairpin destinations, connect() refusals, and the pcap tap
// writing each frame once. Rate 8 Gb/s makes one byte exactly one nanosecond.
#include "tlm-model/fabric/switch.h"

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>
#include <systemc>
#include <vector>

#include "tlm-model/fabric/pcap_writer.h"

namespace chio::model {
namespace {

using sc_core::SC_NS;
using sc_core::sc_time;

struct host : eth_port_if {
    mac_address mac{};
    eth_attachment port;
    std::vector<std::pair<sc_time, std::shared_ptr<const roce_packet>>> got;
    void receive(std::shared_ptr<const roce_packet> pkt) override {
        got.emplace_back(sc_core::sc_time_stamp(), std::move(pkt));
    }
    void send_to(const mac_address& dst, uint32_t psn) const {
        auto p = std::make_shared<roce_packet>();
        p->src_mac = mac;
        p->dst_mac = dst;
        p->psn = psn;
        p->payload.assign(256, 0x5A);
        port.send(std::move(p));
    }
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

sc_time ns(double v) { return sc_time(v, SC_NS); }

struct fixture {
    static constexpr unsigned N = 4;
    static constexpr double LATENCY = 1000;
    eth_switch sw{"sw", N, 11};
    host h[N];
    fixture() {
        link_direction_config c;
        c.rate_gbps = 8.0;
        c.latency_ns = LATENCY;
        for (unsigned i = 0; i < N; ++i) {
            h[i].mac = {0x02, 0, 0, 0, 0, static_cast<uint8_t>(0x10 + i)};
            std::string why;
            h[i].port = sw.connect(i, h[i], h[i].mac, c, &why);
            EXPECT_TRUE(h[i].port.attached()) << why;
        }
    }
    double s() const {  // one frame's serialization, ns
        roce_packet p;
        p.payload.assign(256, 0);
        return static_cast<double>(wire_occupancy(p));
    }
};

TEST(eth_switch, forwards_by_destination_mac_store_and_forward) {
    fixture f;
    script drv("drv", [&] {
        f.h[0].send_to(f.h[3].mac, 1);
        f.h[3].send_to(f.h[0].mac, 2);
        f.h[2].send_to(f.h[1].mac, 3);
    });
    sc_core::sc_start();
    const sc_time hop = ns(2 * (fixture::LATENCY + f.s()));
    ASSERT_EQ(f.h[3].got.size(), 1u);
    EXPECT_EQ(f.h[3].got[0].second->psn, 1u);
    EXPECT_EQ(f.h[3].got[0].first, hop);
    ASSERT_EQ(f.h[0].got.size(), 1u);
    EXPECT_EQ(f.h[0].got[0].second->psn, 2u);
    ASSERT_EQ(f.h[1].got.size(), 1u);
    EXPECT_EQ(f.h[1].got[0].second->psn, 3u);
    EXPECT_TRUE(f.h[2].got.empty());
    EXPECT_EQ(f.sw.forwarded(), 3u);
}

TEST(eth_switch, frames_for_one_output_port_queue_behind_each_other) {
    fixture f;
    script drv("drv", [&] {
        f.h[0].send_to(f.h[3].mac, 1);
        f.h[1].send_to(f.h[3].mac, 2);
        f.h[2].send_to(f.h[3].mac, 3);
    });
    sc_core::sc_start();
    ASSERT_EQ(f.h[3].got.size(), 3u);
    // All three reach the switch at L + S; the output link sends them one after another.
    for (size_t i = 0; i < 3; ++i)
        EXPECT_EQ(f.h[3].got[i].first, ns(2 * fixture::LATENCY + (i + 2) * f.s())) << i;
    EXPECT_EQ(f.sw.port_link(3)->stats(link::side::a).frames, 3u);
}

TEST(eth_switch, unknown_and_hairpin_destinations_are_dropped_and_counted) {
    fixture f;
    script drv("drv", [&] {
        f.h[0].send_to({0x02, 0, 0, 0, 0, 0x99}, 1);  // nobody
        f.h[1].send_to(f.h[1].mac, 2);                // itself
    });
    sc_core::sc_start();
    for (const host& h : f.h) EXPECT_TRUE(h.got.empty());
    EXPECT_EQ(f.sw.dropped_unknown(), 1u);
    EXPECT_EQ(f.sw.dropped_hairpin(), 1u);
    EXPECT_EQ(f.sw.forwarded(), 0u);
}

TEST(eth_switch, connect_refuses_bad_ports_and_duplicate_macs) {
    eth_switch sw("sw", 2);
    host a, b, c;
    a.mac = {0x02, 0, 0, 0, 0, 1};
    b.mac = {0x02, 0, 0, 0, 0, 2};
    std::string why;
    EXPECT_TRUE(sw.connect(0, a, a.mac, {}, &why).attached()) << why;
    EXPECT_FALSE(sw.connect(0, b, b.mac, {}, &why).attached());
    EXPECT_NE(why.find("already connected"), std::string::npos) << why;
    EXPECT_FALSE(sw.connect(1, b, a.mac, {}, &why).attached());
    EXPECT_NE(why.find("MAC"), std::string::npos) << why;
    EXPECT_FALSE(sw.connect(2, c, c.mac, {}, &why).attached());
    EXPECT_NE(why.find("out of range"), std::string::npos) << why;
    link_direction_config bad;
    bad.loss = -1;
    EXPECT_FALSE(sw.connect(1, b, b.mac, bad, &why).attached());
    EXPECT_EQ(sw.port_link(1), nullptr);
    EXPECT_TRUE(sw.connect(1, b, b.mac, {}, &why).attached()) << why;
}

TEST(eth_switch, pcap_holds_each_frame_once) {
    fixture f;
    const std::string path = ::testing::TempDir() + "chio_switch_tap.pcap";
    pcap_writer w;
    ASSERT_TRUE(w.open(path)) << w.error();
    f.sw.set_pcap(&w);
    script drv("drv", [&] {
        f.h[0].send_to(f.h[1].mac, 1);
        f.h[1].send_to(f.h[0].mac, 2);
    });
    sc_core::sc_start();
    EXPECT_EQ(f.h[0].got.size() + f.h[1].got.size(), 2u);
    EXPECT_EQ(w.frames(), 2u);
}

}  // namespace
}  // namespace chio::model
