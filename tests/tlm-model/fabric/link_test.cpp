// link: serialization and propagation timing, queueing of back-to-back frames, MTU drops,
// down/up, injected loss/corruption/reordering at the configured rates, determinism per seed,
// and the pcap tap. Rate 8 Gb/s makes one byte exactly one nanosecond.
#include "tlm-model/fabric/link.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <functional>
#include <memory>
#include <systemc>
#include <vector>

#include "tlm-model/fabric/pcap_writer.h"

namespace chio::model {
namespace {

using sc_core::SC_NS;
using sc_core::sc_time;
using side = link::side;

struct sink : eth_port_if {
    struct arrival {
        sc_time at;
        std::shared_ptr<const roce_packet> pkt;
    };
    std::vector<arrival> got;
    std::vector<bool> states;
    std::function<void(const std::shared_ptr<const roce_packet>&)> on_receive;
    void receive(std::shared_ptr<const roce_packet> pkt) override {
        got.push_back({sc_core::sc_time_stamp(), pkt});
        if (on_receive) on_receive(pkt);
    }
    void link_state_changed(bool up) override { states.push_back(up); }
};

// Runs `body` as an SC_THREAD.
struct script : sc_core::sc_module {
    SC_HAS_PROCESS(script);
    script(sc_core::sc_module_name n, std::function<void()> b)
        : sc_module(n), m_body(std::move(b)) {
        SC_THREAD(run);
    }
    void run() { m_body(); }
    std::function<void()> m_body;
};

std::shared_ptr<const roce_packet> frame(uint32_t psn, size_t payload = 1000) {
    auto p = std::make_shared<roce_packet>();
    p->opcode = spec::roce::opcode::RC_SEND_ONLY;
    p->psn = psn;
    p->payload.assign(payload, 0xA5);
    return p;
}

sc_time ns(double v) { return sc_time(v, SC_NS); }

link_direction_config byte_per_ns(double latency_ns = 1000) {
    link_direction_config c;
    c.rate_gbps = 8.0;
    c.latency_ns = latency_ns;
    return c;
}

TEST(link, frame_arrives_after_serialization_and_latency_and_back_to_back_frames_queue) {
    link l("l", 1);
    ASSERT_TRUE(l.configure(byte_per_ns(1000)));
    sink a, b;
    l.attach(side::a, a);
    l.attach(side::b, b);
    const double s = static_cast<double>(wire_occupancy(*frame(0)));  // ns at 8 Gb/s
    script drv("drv", [&] {
        for (uint32_t i = 0; i < 3; ++i) l.send(side::a, frame(i));
        EXPECT_EQ(l.busy_until(side::a), ns(3 * s));
        l.send(side::b, frame(9));  // the other direction has its own serializer
        sc_core::wait(ns(20000));
        l.send(side::a, frame(3));  // idle link: no queueing
    });
    sc_core::sc_start();
    ASSERT_EQ(b.got.size(), 4u);
    for (uint32_t i = 0; i < 3; ++i) {
        EXPECT_EQ(b.got[i].at, ns(1000 + (i + 1) * s)) << i;
        EXPECT_EQ(b.got[i].pkt->psn, i);
    }
    EXPECT_EQ(b.got[3].at, ns(20000 + 1000 + s));
    ASSERT_EQ(a.got.size(), 1u);
    EXPECT_EQ(a.got[0].at, ns(1000 + s));
    EXPECT_EQ(l.stats(side::a).frames, 4u);
    EXPECT_EQ(l.stats(side::a).bytes, 4 * wire_size(*frame(0)));
    EXPECT_EQ(l.stats(side::a).delivered, 4u);
    EXPECT_EQ(l.stats(side::b).delivered, 1u);
}

TEST(link, oversize_frames_are_dropped_and_counted) {
    link l("l", 1);
    link_direction_config c = byte_per_ns();
    c.mtu = static_cast<uint32_t>(ip_size(*frame(0, 1000)));
    ASSERT_TRUE(l.configure(c));
    sink a, b;
    l.attach(side::a, a);
    l.attach(side::b, b);
    script drv("drv", [&] {
        l.send(side::a, frame(0, 1000));  // exactly the MTU
        l.send(side::a, frame(1, 1004));  // 4 bytes over
    });
    sc_core::sc_start();
    ASSERT_EQ(b.got.size(), 1u);
    EXPECT_EQ(b.got[0].pkt->psn, 0u);
    EXPECT_EQ(l.stats(side::a).dropped_mtu, 1u);
    EXPECT_EQ(l.stats(side::a).dropped(), 1u);
}

TEST(link, down_drops_everything_in_flight_included_and_up_carries_again) {
    link l("l", 1);
    ASSERT_TRUE(l.configure(byte_per_ns(1000)));
    sink a, b;
    l.attach(side::a, a);
    l.attach(side::b, b);
    script drv("drv", [&] {
        l.send(side::a, frame(0));  // in flight when the link goes down
        sc_core::wait(ns(500));
        l.set_up(false);
        l.send(side::a, frame(1));
        l.send(side::b, frame(2));
        sc_core::wait(ns(10000));
        l.set_up(true);
        l.send(side::a, frame(3));
        sc_core::wait(ns(100));
        l.set_up(false);  // a blip shorter than the flight time still loses the frame
        l.set_up(true);
        sc_core::wait(ns(20000));
        l.send(side::a, frame(4));
    });
    sc_core::sc_start();
    ASSERT_EQ(b.got.size(), 1u);
    EXPECT_EQ(b.got[0].pkt->psn, 4u);
    EXPECT_TRUE(a.got.empty());
    EXPECT_EQ(l.stats(side::a).dropped_down, 3u);
    EXPECT_EQ(l.stats(side::b).dropped_down, 1u);
    EXPECT_EQ(a.states, (std::vector<bool>{false, true, false, true}));
    EXPECT_EQ(b.states, (std::vector<bool>{false, true, false, true}));
}

// Sends n frames a -> b and returns the PSNs that arrived, in arrival order.
struct impaired_run {
    link l;
    sink a, b;
    script drv;
    impaired_run(const char* name, uint64_t seed, const link_direction_config& c, uint32_t n)
        : l((std::string(name) + "_link").c_str(), seed),
          drv((std::string(name) + "_drv").c_str(), [this, n] {
              for (uint32_t i = 0; i < n; ++i) l.send(side::a, frame(i, 64));
          }) {
        EXPECT_TRUE(l.configure(side::a, c));
        l.attach(side::a, a);
        l.attach(side::b, b);
    }
    std::vector<uint32_t> psns() const {
        std::vector<uint32_t> v;
        for (const auto& g : b.got) v.push_back(g.pkt->psn);
        return v;
    }
};

// |count - n p| within 5 standard deviations of the binomial.
void expect_rate(uint64_t count, uint32_t n, double p, const char* what) {
    const double mean = n * p;
    const double sd = std::sqrt(n * p * (1 - p));
    EXPECT_NEAR(static_cast<double>(count), mean, 5 * sd) << what;
}

TEST(link, loss_corruption_and_reordering_happen_at_the_configured_rates) {
    const uint64_t seed = 42;
    std::printf("seed %llu\n", static_cast<unsigned long long>(seed));
    link_direction_config c = byte_per_ns(100);
    c.loss = 0.1;
    c.corrupt = 0.05;
    c.reorder = 0.02;
    c.reorder_delay_ns = 500;
    const uint32_t n = 20000;
    impaired_run r("r", seed, c, n);
    sc_core::sc_start();
    const link::counters& st = r.l.stats(side::a);
    expect_rate(st.dropped_loss, n, c.loss, "loss");
    expect_rate(st.corrupted, n, (1 - c.loss) * c.corrupt, "corrupt");
    expect_rate(st.reordered, n, (1 - c.loss) * c.reorder, "reorder");
    EXPECT_EQ(st.delivered + st.dropped_loss, n);
    EXPECT_EQ(r.b.got.size(), st.delivered);
    uint64_t marked = 0, out_of_order = 0;
    for (size_t i = 0; i < r.b.got.size(); ++i) {
        marked += r.b.got[i].pkt->corrupt;
        if (i && r.b.got[i].pkt->psn < r.b.got[i - 1].pkt->psn) ++out_of_order;
    }
    EXPECT_EQ(marked, st.corrupted);
    EXPECT_GT(out_of_order, 0u);  // held-back frames were overtaken
    EXPECT_LE(out_of_order, st.reordered);
}

TEST(link, same_seed_gives_same_drops_and_another_seed_does_not) {
    link_direction_config c = byte_per_ns(100);
    c.loss = 0.2;
    c.reorder = 0.1;
    impaired_run r1("r1", 7, c, 2000), r2("r2", 7, c, 2000), r3("r3", 8, c, 2000);
    sc_core::sc_start();
    EXPECT_EQ(r1.psns(), r2.psns());
    EXPECT_NE(r1.psns(), r3.psns());
    EXPECT_GT(r1.l.stats(side::a).dropped_loss, 0u);
}

TEST(link, receive_may_answer_on_the_same_link) {
    link l("l", 1);
    ASSERT_TRUE(l.configure(byte_per_ns(1000)));
    sink a, b;
    l.attach(side::a, a);
    l.attach(side::b, b);
    b.on_receive = [&](const std::shared_ptr<const roce_packet>& p) {
        if (p->psn < 5) l.send(side::b, frame(p->psn + 100));
    };
    a.on_receive = [&](const std::shared_ptr<const roce_packet>& p) {
        l.send(side::a, frame(p->psn - 100 + 1));
    };
    script drv("drv", [&] { l.send(side::a, frame(0)); });
    sc_core::sc_start();
    EXPECT_EQ(b.got.size(), 6u);  // 0..5
    EXPECT_EQ(a.got.size(), 5u);
    const double s = static_cast<double>(wire_occupancy(*frame(0)));
    EXPECT_EQ(b.got.back().at, ns(11 * (1000 + s)));
}

TEST(link, bad_configuration_is_refused_with_a_reason) {
    link l("l", 1);
    link_direction_config c;
    std::string why;
    c.loss = 1.5;
    EXPECT_FALSE(l.configure(side::a, c, &why));
    EXPECT_NE(why.find("loss"), std::string::npos) << why;
    c = {};
    c.rate_gbps = 0;
    EXPECT_FALSE(l.configure(c, &why));
    EXPECT_NE(why.find("rate_gbps"), std::string::npos) << why;
    c = {};
    c.latency_ns = std::nan("");
    EXPECT_FALSE(check(c).empty());
    EXPECT_EQ(l.config(side::a).rate_gbps, link_direction_config{}.rate_gbps);  // unchanged
    EXPECT_TRUE(check(link_direction_config{}).empty());
}

TEST(link, pcap_tap_writes_every_frame_entering_the_link) {
    const std::string path = ::testing::TempDir() + "chio_link_tap.pcap";
    pcap_writer w;
    ASSERT_TRUE(w.open(path)) << w.error();
    link l("l", 1);
    link_direction_config c = byte_per_ns();
    c.loss = 1.0;  // lost frames were still on the wire
    ASSERT_TRUE(l.configure(side::b, c));
    sink a, b;
    l.attach(side::a, a);
    l.attach(side::b, b);
    l.set_pcap(&w);
    script drv("drv", [&] {
        l.send(side::a, frame(0));
        sc_core::wait(ns(123));
        l.send(side::b, frame(1));
    });
    sc_core::sc_start();
    EXPECT_EQ(w.frames(), 2u);
    EXPECT_TRUE(w.close()) << w.error();
    EXPECT_EQ(a.got.size(), 0u);
    EXPECT_EQ(b.got.size(), 1u);
}

}  // namespace
}  // namespace chio::model
