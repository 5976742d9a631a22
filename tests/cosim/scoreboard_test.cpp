// The invariant scoreboard (cosim/scoreboard.h, docs/scoreboard.md). Positive: clean traffic,
// and traffic with legal errors and flushes, pass with checks made. Negative: each invariant is
// broken on purpose — through the real DMA path (a forged duplicate CQE, a DMA outside every
// region, a DMA into another function's buffer, a WR that never completes) or by feeding the
// scoreboard the device behaviour directly (order, status, error state, bounds) — and the
// violation must name the invariant, the object and the seed. The negative tests acknowledge
// what they provoked so the test main does not count it as a failure.
#include "cosim/scoreboard.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "driver/observer.h"
#include "driver/queue_pair.h"
#include "support/two_sides.h"
#include "tlm-model/pcie/pcie_ext.h"

namespace chio {
namespace {

using test::two_sides;
using op = spec::wqe_opcode;
using spec::cqe_status;

constexpr uint64_t SEED = 0x5C0DE;

drv::send_wr one_sge(uint64_t id, op o, const test::side& s, uint64_t off, uint32_t len,
                     bool signaled = true) {
    drv::send_wr w;
    w.wr_id = id;
    w.opcode = o;
    w.flags = signaled ? spec::wqe_flags::SIGNALED : 0;
    w.sg_list[0] = {s.addr(off), len, s.lkey};
    w.num_sge = 1;
    return w;
}

test::sides_options opts() {
    test::sides_options o;
    o.seed = SEED;
    return o;
}

// The violations of a board, one per line.
std::string listing(const cosim::scoreboard& b) {
    std::string s;
    for (const auto& v : b.violations()) s += v.to_string(SEED) + "\n";
    return s;
}

bool has(const cosim::scoreboard& b, const std::string& invariant, const std::string& object) {
    for (const auto& v : b.violations()) {
        if (v.invariant == invariant && v.object.find(object) != std::string::npos &&
            v.to_string(SEED).find("seed " + std::to_string(SEED)) != std::string::npos) {
            return true;
        }
    }
    return false;
}

// A device-side DMA through the adapter's own initiator socket: the root complex, the IOMMU and
// the scoreboard see it exactly as they see the adapter's.
bool device_dma(cosim::platform& p, uint16_t fn, uint64_t addr, void* data, unsigned len,
                bool write) {
    tlm::tlm_generic_payload g;
    model::pcie_ext ext;
    ext.fn = fn;
    g.set_extension(&ext);
    g.set_command(write ? tlm::TLM_WRITE_COMMAND : tlm::TLM_READ_COMMAND);
    g.set_address(addr);
    g.set_data_ptr(static_cast<unsigned char*>(data));
    g.set_data_length(len);
    g.set_streaming_width(len);
    g.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
    sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
    p.adapter.dma_socket->b_transport(g, delay);
    g.clear_extension(&ext);
    return g.is_response_ok();
}

TEST(scoreboard, clean_traffic_with_unsignaled_sends_passes) {
    auto topo = test::run_two_sides(opts(), [](two_sides& t) {
        uint64_t id = 1;
        for (int i = 0; i < 12; ++i) {
            ASSERT_EQ(t.post_recv(t.b, 1000 + i, 64 << 10, 4096), 0);
        }
        // Every third send signaled: the unsignaled ones are covered by the next signaled CQE.
        // The tracker would count the unsignaled ones as missing, so only signaled are tracked.
        for (int i = 0; i < 12; ++i) {
            const bool sig = i % 3 == 2;
            const drv::send_wr w = one_sge(id++, op::SEND, t.a, 0, 512, sig);
            if (sig) {
                ASSERT_EQ(t.post_send(t.a, w), 0);
            } else {
                ASSERT_EQ(t.a.qp->post_send(w), 0);
            }
        }
        ASSERT_EQ(t.post_send(t.a, one_sge(id++, op::RDMA_WRITE, t.a, 0, 8192)), 0);
        drv::send_wr rd = one_sge(id++, op::RDMA_READ, t.a, 128 << 10, 4096);
        rd.remote_addr = t.b.addr(0);
        rd.rkey = t.b.rkey;
        ASSERT_EQ(t.post_send(t.a, rd), 0);
        t.expect_exactly_once();
    });
    cosim::scoreboard& b = topo->host(0).board;
    EXPECT_EQ(b.finish(), 0u) << listing(b);
    EXPECT_GT(b.checks(), 30u);
    EXPECT_NE(b.summary().find("0 violations"), std::string::npos) << b.summary();
}

TEST(scoreboard, legal_errors_and_flushes_pass) {
    auto topo = test::run_two_sides(opts(), [](two_sides& t) {
        // A receive buffer too short: LOC_LEN_ERR on both sides, the QPs go to ERR and every
        // other posted WR completes, flushed.
        ASSERT_EQ(t.post_recv(t.b, 1, 64 << 10, 100), 0);
        ASSERT_EQ(t.post_recv(t.b, 2, 64 << 10, 4096), 0);
        ASSERT_EQ(t.post_send(t.a, one_sge(10, op::SEND, t.a, 0, 1000)), 0);
        ASSERT_EQ(t.post_send(t.a, one_sge(11, op::SEND, t.a, 0, 1000)), 0);
        ASSERT_EQ(t.post_send(t.a, one_sge(12, op::SEND, t.a, 0, 1000, false)), 0);
        EXPECT_TRUE(t.wait_all()) << t.tracker.missing();
        // A post in ERR is flushed too (catalogue C13).
        ASSERT_EQ(t.post_send(t.a, one_sge(13, op::SEND, t.a, 0, 10)), 0);
        t.expect_exactly_once();
    });
    cosim::scoreboard& b = topo->host(0).board;
    EXPECT_EQ(b.finish(), 0u) << listing(b);
    EXPECT_GT(b.checks(), 0u);
}

TEST(scoreboard, forged_duplicate_cqe_is_named) {
    uint32_t qpn = 0;
    auto topo = test::run_two_sides(opts(), [&](two_sides& t) {
        ASSERT_EQ(t.post_recv(t.b, 1, 64 << 10, 4096), 0);
        ASSERT_EQ(t.post_send(t.a, one_sge(7, op::SEND, t.a, 0, 256)), 0);
        t.expect_exactly_once();
        const spec::cqe* done = t.tracker.find(t.a.qp->qpn(), test::wr_tracker::queue::send, 7);
        ASSERT_NE(done, nullptr);
        // The device writes the same completion a second time, into the next free slot.
        cosim::platform& p = t.topo->host(0);
        uint64_t slot = 0;
        uint8_t phase = 0;
        ASSERT_TRUE(p.board.next_cqe_slot(0, t.a.scq->cqn(), slot, phase));
        spec::cqe dup = *done;
        dup.owner = phase;
        ASSERT_TRUE(device_dma(p, 0, slot, &dup, sizeof(dup), true));
        qpn = t.a.qp->qpn();
        t.poll_once();  // the driver refuses it (catalogue I3); the scoreboard names it
    });
    cosim::scoreboard& b = topo->host(0).board;
    b.finish();
    EXPECT_TRUE(has(b, "exactly-once", "qpn " + std::to_string(qpn) + " sq index 0 wr_id 7"))
        << listing(b);
    b.acknowledge();
}

TEST(scoreboard, dma_outside_regions_and_into_another_function_is_named) {
    auto topo = test::run_two_sides(opts(), [&](two_sides& t) {
        cosim::platform& p = t.topo->host(0);
        // Host memory no driver allocated through its bus: no function registered it.
        uint64_t stray = 0;
        ASSERT_TRUE(p.mem.alloc(4096, 4096, stray));
        uint8_t data[64] = {};
        ASSERT_TRUE(device_dma(p, 0, stray, data, sizeof(data), true));
        // Function 1 reading side a's buffer, a region of function 0.
        ASSERT_TRUE(device_dma(p, 1, t.a.addr(0), data, sizeof(data), false));
    });
    cosim::scoreboard& b = topo->host(0).board;
    b.finish();
    EXPECT_TRUE(has(b, "dma-region", "fn 0")) << listing(b);
    EXPECT_TRUE(has(b, "cross-function", "fn 1")) << listing(b);
    b.acknowledge();
}

TEST(scoreboard, work_request_that_never_completes_fails_liveness) {
    uint32_t qpn = 0;
    auto topo = test::run_two_sides(opts(), [&](two_sides& t) {
        // Written to the ring but the doorbell is never rung: the device never hears of it.
        ASSERT_EQ(t.a.qp->post_send(one_sge(42, op::RDMA_WRITE, t.a, 0, 64), false), 0);
        qpn = t.a.qp->qpn();
        // Past the QP's retry bound: 8 x 4.2 ms (timeout 10) + 10 ms.
        sc_core::wait(sc_core::sc_time(60, sc_core::SC_MS));
    });
    cosim::scoreboard& b = topo->host(0).board;
    b.finish();
    EXPECT_TRUE(has(b, "liveness", "qpn " + std::to_string(qpn) + " sq index 0 wr_id 42"))
        << listing(b);
    b.acknowledge();
}

TEST(scoreboard, off_checks_nothing) {
    cosim::platform_params pp;
    pp.scoreboard = false;
    cosim::platform plat("host0", pp);
    plat.run_driver([](drv::bus& io) {
        drv::device dev(io);
        ASSERT_TRUE(dev.probe()) << dev.last_error();
        EXPECT_EQ(io.watcher(), nullptr);
    });
    sc_core::sc_start();
    EXPECT_EQ(plat.board.checks(), 0u);
    EXPECT_EQ(plat.board.summary(), "scoreboard: off");
}

// --- the device's behaviour fed to the scoreboard directly (no simulation) ---

constexpr uint64_t RING = 0x100000;
constexpr uint32_t CQN = 3, QPN = 9;

struct bench {
    cosim::scoreboard b{"unit"};
    drv::observer* d = nullptr;
    uint32_t written = 0;  // CQEs written so far (slot and phase follow)
    explicit bench(spec::qp_type type = spec::qp_type::RC) {
        b.set_seed(SEED);
        b.on_dma_alloc(0, RING, 32 * 16);
        d = b.driver_view(0);
        d->cq_created(CQN, RING, 4);
        d->qp_created(QPN, type, CQN, CQN, spec::cmd::NO_SRQ, 4, 4);
    }
    void post(uint16_t index, uint64_t wr_id, op o = op::SEND, bool signaled = true,
              uint32_t len = 100) {
        spec::send_wqe w{};
        w.wr_id = wr_id;
        w.opcode = static_cast<uint8_t>(o);
        w.flags = signaled ? spec::wqe_flags::SIGNALED : 0;
        w.num_sge = 1;
        w.sg_list[0].length = len;
        d->posted_send(QPN, index, w);
    }
    void device_writes(uint16_t index, uint64_t wr_id, cqe_status st = cqe_status::SUCCESS,
                       spec::cqe_opcode o = spec::cqe_opcode::SEND, uint32_t byte_len = 100) {
        spec::cqe c{};
        c.wr_id = wr_id;
        c.qpn = QPN;
        c.wqe_index = index;
        c.opcode = static_cast<uint8_t>(o);
        c.status = static_cast<uint8_t>(st);
        c.byte_len = byte_len;
        c.owner = ((written >> 4) & 1u) ? 0 : 1;
        const uint64_t addr = RING + (written & 15u) * sizeof(spec::cqe);
        ++written;
        b.on_dma(0, addr, sizeof(c), true, reinterpret_cast<const uint8_t*>(&c), true);
    }
    ~bench() { b.acknowledge(); }
};

TEST(scoreboard_unit, unsignaled_covered_and_in_order_passes) {
    bench t;
    t.post(0, 1, op::SEND, false);
    t.post(1, 2, op::SEND, false);
    t.post(2, 3);
    t.device_writes(2, 3);
    t.post(3, 4, op::RDMA_WRITE);
    t.device_writes(3, 4, cqe_status::SUCCESS, spec::cqe_opcode::RDMA_WRITE);
    EXPECT_EQ(t.b.violation_count(), 0u) << listing(t.b);
}

TEST(scoreboard_unit, completion_overtaking_a_signaled_request_breaks_order) {
    bench t;
    t.post(0, 1);
    t.post(1, 2);
    t.device_writes(1, 2);
    EXPECT_TRUE(has(t.b, "order", "qpn 9 sq index 1 wr_id 2")) << listing(t.b);
}

TEST(scoreboard_unit, second_completion_of_a_request_breaks_exactly_once) {
    bench t;
    t.post(0, 1);
    t.device_writes(0, 1);
    t.device_writes(0, 1);
    EXPECT_TRUE(has(t.b, "exactly-once", "qpn 9 sq index 0 wr_id 1")) << listing(t.b);
}

TEST(scoreboard_unit, illegal_status_and_opcode_break_status_legality) {
    bench t(spec::qp_type::UD);
    t.post(0, 1);
    t.post(1, 2);
    // UD has no acknowledgements, so no retry error; and 99 is no status at all.
    t.device_writes(0, 1, cqe_status::RETRY_EXC_ERR);
    t.device_writes(1, 2, static_cast<cqe_status>(99));
    EXPECT_TRUE(has(t.b, "status-legality", "qpn 9 sq index 0")) << listing(t.b);
    EXPECT_TRUE(has(t.b, "status-legality", "qpn 9 sq index 1")) << listing(t.b);
    // A send CQE whose opcode is not the posted WR's.
    bench u;
    u.post(0, 5, op::RDMA_READ, true, 64);
    u.device_writes(0, 5, cqe_status::SUCCESS, spec::cqe_opcode::SEND, 64);
    EXPECT_TRUE(has(u.b, "status-legality", "qpn 9 sq index 0 wr_id 5")) << listing(u.b);
}

TEST(scoreboard_unit, success_after_an_error_breaks_error_state) {
    bench t;
    t.post(0, 1);
    t.post(1, 2);
    t.post(2, 3);
    t.device_writes(0, 1, cqe_status::REM_ACCESS_ERR);
    t.device_writes(1, 2, cqe_status::WR_FLUSH_ERR);  // legal
    t.device_writes(2, 3);                            // not: the QP is in ERR
    EXPECT_EQ(t.b.violation_count(), 1u) << listing(t.b);
    EXPECT_TRUE(has(t.b, "error-state", "qpn 9 sq index 2 wr_id 3")) << listing(t.b);
}

TEST(scoreboard_unit, out_of_window_index_wrong_slot_and_long_byte_len_break_bounds) {
    bench t;
    t.post(0, 1, op::RDMA_READ, true, 64);
    t.device_writes(5, 77);                                                       // never posted
    t.device_writes(0, 1, cqe_status::SUCCESS, spec::cqe_opcode::RDMA_READ, 65);  // > 64
    EXPECT_TRUE(has(t.b, "index-bounds", "qpn 9 sq index 5 wr_id 77")) << listing(t.b);
    EXPECT_TRUE(has(t.b, "index-bounds", "qpn 9 sq index 0 wr_id 1")) << listing(t.b);
    // A CQE written to a slot other than the CQ's next one (or with the wrong phase).
    bench u;
    u.post(0, 1);
    spec::cqe c{};
    c.qpn = QPN;
    c.owner = 1;
    u.b.on_dma(0, RING + 3 * sizeof(c), sizeof(c), true, reinterpret_cast<const uint8_t*>(&c),
               true);
    EXPECT_TRUE(has(u.b, "index-bounds", "fn 0 cqn 3")) << listing(u.b);
}

TEST(scoreboard_unit, application_receiving_what_the_device_never_wrote_breaks_exactly_once) {
    bench t;
    t.post(0, 1);
    spec::cqe c{};
    c.qpn = QPN;
    c.wr_id = 1;
    t.d->polled(c, false);  // e.g. a CQE forged by a CPU write into the ring
    EXPECT_TRUE(has(t.b, "exactly-once", "qpn 9 sq index 0 wr_id 1")) << listing(t.b);
    t.d->polled(c, true);  // a driver-made flush of the same request: a second delivery
    EXPECT_EQ(t.b.violation_count(), 2u) << listing(t.b);
}

}  // namespace
}  // namespace chio
