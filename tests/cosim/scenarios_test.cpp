// The scenarios users run (chio-sim pingpong, rdma, ud) pass their own checks in every
// queue-engine mode: every completion exactly once, every byte and atomic result verified.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "cosim/topology.h"
#include "testbenches/scenarios/pingpong.h"
#include "testbenches/scenarios/rdma.h"
#include "testbenches/scenarios/ud.h"

namespace chio {
namespace {

using model::queue_engine_kind;

tb::scenario_result run(const std::string& scenario, queue_engine_kind k, tb::sim_options o,
                        double loss = 0.0) {
    std::printf("scenario %s seed %llu\n", scenario.c_str(),
                static_cast<unsigned long long>(o.seed));
    cosim::topology_params tp;
    tp.kind = scenario == "ud" ? cosim::topology_kind::star : cosim::topology_kind::pair;
    tp.hosts = o.hosts;
    tp.seed = o.seed;
    tp.link.loss = loss;
    tp.host.adapter.qe_kind = k;
    cosim::topology topo(tp);
    tb::scenario_result res;
    if (scenario == "pingpong") tb::start_pingpong(topo, o, res);
    if (scenario == "rdma") tb::start_rdma(topo, o, res);
    if (scenario == "ud") tb::start_ud(topo, o, res);
    sc_core::sc_start();
    res.finish();
    for (unsigned i = 0; i < topo.size(); ++i) {
        EXPECT_EQ(topo.host(i).adapter.engine().mismatches(), 0u);
        // CHIO_QUEUE_ENGINE overrides the requested engine: assert on the one that ran.
        if (std::string(topo.host(i).adapter.engine().kind()) == "lockstep") {
            EXPECT_GT(topo.host(i).adapter.engine().compared(), 0u);
        }
    }
    return res;
}

void expect_clean(const tb::scenario_result& r) {
    EXPECT_TRUE(r.ok) << r.error;
    EXPECT_GT(r.expected, 0u);
    EXPECT_EQ(r.seen, r.expected);
    EXPECT_EQ(r.lost, 0u);
    EXPECT_EQ(r.duplicated, 0u);
    EXPECT_EQ(r.data_mismatches, 0u);
    EXPECT_GT(r.bytes_verified, 0u);
}

tb::sim_options opts(uint64_t count, uint32_t size, uint64_t seed = 3) {
    tb::sim_options o;
    o.count = count;
    o.size = size;
    o.seed = seed;
    o.depth = 8;
    return o;
}

TEST(scenarios, rdma_every_opcode_model) {
    const auto r = run("rdma", queue_engine_kind::model, opts(400, 20000));
    expect_clean(r);
    EXPECT_EQ(r.per_opcode.size(), 7u) << "every RC opcode was exercised";
}
TEST(scenarios, rdma_every_opcode_rtl) {
    expect_clean(run("rdma", queue_engine_kind::rtl, opts(200, 9000)));
}
TEST(scenarios, rdma_lockstep) {
    expect_clean(run("rdma", queue_engine_kind::lockstep, opts(300, 12000)));
}
TEST(scenarios, rdma_recovers_from_link_loss) {
    expect_clean(run("rdma", queue_engine_kind::model, opts(200, 9000, 11), 0.03));
}
TEST(scenarios, pingpong_polling) {
    expect_clean(run("pingpong", queue_engine_kind::model, opts(50, 4096)));
}
TEST(scenarios, pingpong_events_lockstep) {
    auto o = opts(30, 100);
    o.events = true;
    expect_clean(run("pingpong", queue_engine_kind::lockstep, o));
}
TEST(scenarios, ud_four_hosts_over_a_switch) {
    auto o = opts(20, 1000);
    o.hosts = 4;
    expect_clean(run("ud", queue_engine_kind::model, o));
}
TEST(scenarios, ud_rtl) {
    auto o = opts(10, 256);
    o.hosts = 3;
    expect_clean(run("ud", queue_engine_kind::rtl, o));
}

}  // namespace
}  // namespace chio
