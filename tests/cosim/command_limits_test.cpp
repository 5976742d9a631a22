// Device-wide resource limits (catalogue B6): a create command when every slot of its kind is in
// use completes with NO_RES (0xf) and changes nothing; freeing one slot makes the next create
// succeed. The limits are spec::limits (max_pd, max_cq, max_qp), with no per-function quota set
// (a quota gives LIM_ERR instead, sriov_isolation). The driver must be able to tell "the device
// is full" from a bad request, and a full device must neither crash nor hand out a slot twice.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <functional>
#include <set>
#include <vector>

#include "driver/device.h"
#include "support/platform_fixture.h"
#include "testbenches/scenarios/loopback.h"

namespace chio {
namespace {

namespace cmd = spec::cmd;
using cmd::status;

// One kind of resource: make() returns the new handle (or the status refusing it), destroy()
// frees a handle.
struct resource_kind {
    std::function<status(uint32_t&)> make;
    std::function<status(uint32_t)> destroy;
};

struct fill_result {
    size_t made = 0;
    bool distinct = true;  // no handle handed out twice
    status refused = status::OK;
    status after_free = status::OK;  // the create after one handle was freed
    status full_again = status::OK;  // the create after that
    bool all_destroyed = true;
    bool still_works = false;
    std::string error;
};

// Creates until refused (at most limit + 8 times), frees one, creates twice more, then frees
// everything.
void fill(uint32_t limit, const resource_kind& k, fill_result& r) {
    std::vector<uint32_t> handles;
    std::set<uint32_t> seen;
    for (uint32_t i = 0; i < limit + 8; ++i) {
        uint32_t h = 0;
        const status s = k.make(h);
        if (s != status::OK) {
            r.refused = s;
            break;
        }
        r.distinct = r.distinct && seen.insert(h).second;
        handles.push_back(h);
    }
    r.made = handles.size();
    if (!handles.empty()) {
        const uint32_t freed = handles[handles.size() / 2];
        r.all_destroyed = k.destroy(freed) == status::OK;
        handles.erase(handles.begin() + static_cast<std::ptrdiff_t>(handles.size() / 2));
        uint32_t h = 0;
        r.after_free = k.make(h);
        if (r.after_free == status::OK) handles.push_back(h);
        r.full_again = k.make(h);
        if (r.full_again == status::OK) handles.push_back(h);
    }
    for (auto it = handles.rbegin(); it != handles.rend(); ++it) {
        r.all_destroyed = k.destroy(*it) == status::OK && r.all_destroyed;
    }
}

// Runs body with a probed device; afterwards (the device closed) checks that a loopback exchange
// still works on a fresh probe.
void with_device(fill_result& r, const std::function<void(drv::device&, drv::bus&)>& body) {
    test::run_driver([&](drv::bus& b, cosim::platform&) {
        {
            drv::device dev(b);
            ASSERT_TRUE(dev.probe()) << dev.last_error();
            body(dev, b);
        }
        tb::sim_options o;
        o.count = 8;
        o.size = 512;
        const tb::loopback_result lr = tb::run_loopback(b, o);
        r.still_works = lr.ok;
        r.error = lr.error;
    });
}

void expect_no_res(const fill_result& r, uint32_t limit) {
    std::printf("  made %zu of limit %u, then %s\n", r.made, limit, cmd::to_string(r.refused));
    EXPECT_EQ(r.refused, status::NO_RES) << spec::cmd::to_string(r.refused);
    EXPECT_LE(r.made, size_t{limit});
    EXPECT_GE(r.made + 4, size_t{limit}) << "refused long before the limit";
    EXPECT_TRUE(r.distinct) << "a handle was handed out twice";
    EXPECT_EQ(r.after_free, status::OK) << "freeing one did not make room";
    EXPECT_EQ(r.full_again, status::NO_RES);
    EXPECT_TRUE(r.all_destroyed);
    EXPECT_TRUE(r.still_works) << r.error;
}

template <typename In>
status exec(drv::device& d, cmd::opcode op, const In& in, uint32_t in_size, uint32_t* out_word) {
    uint8_t out[cmd::OUTPUT_SIZE] = {};
    const auto r = d.cmd().exec(op, &in, in_size, out, cmd::OUTPUT_SIZE);
    if (out_word != nullptr) std::memcpy(out_word, out, 4);
    return r.status;
}

TEST(command_limits, pds_past_max_pd_are_no_res) {
    fill_result r;
    with_device(r, [&](drv::device& dev, drv::bus&) {
        resource_kind k;
        k.make = [&](uint32_t& h) { return dev.create_pd(h).status; };
        k.destroy = [&](uint32_t h) { return dev.destroy_pd(h).status; };
        fill(spec::limits::MAX_PD, k, r);
    });
    expect_no_res(r, spec::limits::MAX_PD);
}

TEST(command_limits, cqs_past_max_cq_are_no_res) {
    fill_result r;
    with_device(r, [&](drv::device& dev, drv::bus& b) {
        // Every CQ points at the same ring: none is ever written (no QP uses them).
        drv::dma_buffer ring = b.dma_alloc(4096, 4096);
        resource_kind k;
        k.make = [&](uint32_t& h) {
            cmd::create_cq_in in{};
            in.log_size = 1;
            in.eqn = dev.async_eq().eqn();
            in.ring_addr = ring.bus;
            return exec(dev, cmd::opcode::CREATE_CQ, in, cmd::CREATE_CQ_IN_SIZE, &h);
        };
        k.destroy = [&](uint32_t h) {
            return exec(dev, cmd::opcode::DESTROY_CQ, cmd::destroy_cq_in{h},
                        cmd::DESTROY_CQ_IN_SIZE, nullptr);
        };
        fill(spec::limits::MAX_CQ, k, r);
        b.dma_free(ring);
    });
    expect_no_res(r, spec::limits::MAX_CQ);
}

TEST(command_limits, qps_past_max_qp_are_no_res) {
    fill_result r;
    with_device(r, [&](drv::device& dev, drv::bus& b) {
        uint32_t pd = 0;
        ASSERT_TRUE(dev.create_pd(pd).ok());
        drv::cmd_result cr;
        auto cq = dev.create_cq(4, cr);
        ASSERT_TRUE(cq);
        // Every QP in RESET points at the same rings: none is ever read.
        drv::dma_buffer rings = b.dma_alloc(8192, 4096);
        resource_kind k;
        k.make = [&](uint32_t& h) {
            cmd::create_qp_in in{};
            in.qp_type = static_cast<uint32_t>(spec::qp_type::RC);
            in.send_cqn = cq->cqn();
            in.recv_cqn = cq->cqn();
            in.sq_log_size = 1;
            in.rq_log_size = 1;
            in.pd = pd;
            in.sq_addr = rings.bus;
            in.rq_addr = rings.bus + 4096;
            in.db_rec_addr = 0;
            in.srqn = 0xFFFFFFFFu;
            return exec(dev, cmd::opcode::CREATE_QP, in, cmd::CREATE_QP_IN_SIZE, &h);
        };
        k.destroy = [&](uint32_t h) {
            return exec(dev, cmd::opcode::DESTROY_QP, cmd::destroy_qp_in{h},
                        cmd::DESTROY_QP_IN_SIZE, nullptr);
        };
        fill(spec::limits::MAX_QP, k, r);
        EXPECT_TRUE(cq->destroy(dev.cmd()).ok());
        EXPECT_TRUE(dev.destroy_pd(pd).ok());
        b.dma_free(rings);
    });
    expect_no_res(r, spec::limits::MAX_QP);
}

}  // namespace
}  // namespace chio
