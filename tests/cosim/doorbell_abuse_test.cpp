// Doorbell abuse on the full platform (driver + model through cosim).
//
// A4: an SQ doorbell whose producer index moves past the ring (more than 2^log_size ahead of the
// consumer) or backwards is malformed: the device cannot tell which WQEs are real, so it fetches
// nothing, counts the doorbell in DB_ERR_COUNT, reports QP_FATAL and moves the QP to ERR (virtio
// marks such a device NEEDS_RESET, QDMA sets a bad-CIDX error). Every WR the application posted
// still completes exactly once, flushed, so nothing waits for ever.
// A5: a storm of doorbells that announce no new WQE costs bounded work per doorbell (no WQE is
// fetched for them) and starves nobody: another VF's traffic completes during the storm and the
// device answers commands.
#include <gtest/gtest.h>

#include <cstdio>
#include <map>

#include "support/platform_fixture.h"
#include "support/sriov_host.h"
#include "testbenches/scenarios/rc_endpoint.h"

namespace chio {
namespace {

namespace db = spec::bar0::db;
using spec::cqe_status;

struct abuse_result {
    std::map<uint64_t, int> sends, recvs;  // wr_id -> completions seen
    std::map<uint64_t, uint8_t> status;    // wr_id -> last status seen
    uint32_t state = 0;
    bool qp_fatal = false;
    uint32_t db_errors = 0;
    uint64_t wqes_fetched = 0;  // by the device after the bad doorbell
};

// Polls both CQs until `want` completions arrived or 2 ms of simulated time passed.
void collect(drv::bus& b, tb::rc_endpoint& ep, size_t want, abuse_result& r) {
    const uint64_t deadline = b.now_ns() + 2'000'000;
    size_t got = 0;
    while (got < want && b.now_ns() < deadline) {
        spec::cqe wc[8];
        for (auto* cq : {ep.scq.get(), ep.rcq.get()}) {
            const int n = cq->poll(wc, 8);
            for (int k = 0; k < n; ++k, ++got) {
                auto& m = cq == ep.scq.get() ? r.sends : r.recvs;
                ++m[wc[k].wr_id];
                r.status[wc[k].wr_id] = wc[k].status;
            }
        }
        b.relax();
    }
    // A little longer: a duplicate would show up here.
    for (int i = 0; i < 200; ++i) b.relax();
    spec::cqe wc[8];
    for (int n; (n = ep.scq->poll(wc, 8)) > 0;) {
        for (int k = 0; k < n; ++k) ++r.sends[wc[k].wr_id];
    }
    for (int n; (n = ep.rcq->poll(wc, 8)) > 0;) {
        for (int k = 0; k < n; ++k) ++r.recvs[wc[k].wr_id];
    }
}

void finish(drv::bus& b, tb::rc_endpoint& ep, uint32_t db_err_before, abuse_result& r) {
    ep.dev->poll_events();
    for (const auto& e : ep.dev->async_events()) {
        if (e.type == static_cast<uint8_t>(spec::eqe_type::QP_FATAL) && e.data == ep.qp->qpn()) {
            r.qp_fatal = true;
        }
    }
    spec::cmd::query_qp_out q{};
    ASSERT_TRUE(ep.qp->query(ep.dev->cmd(), q).ok());
    r.state = q.state;
    r.db_errors = b.mmio_read32(ep.dev->bar0() + spec::bar0::reg::DB_ERR_COUNT) - db_err_before;
}

void post_recv(tb::rc_endpoint& ep, uint64_t wr_id) {
    drv::recv_wr r;
    r.wr_id = wr_id;
    r.sg_list[0] = {ep.buf.bus + 2048, 64, ep.lkey};
    r.num_sge = 1;
    ASSERT_EQ(ep.qp->post_recv(r), 0);
}

void post_send(tb::rc_endpoint& ep, uint64_t wr_id, bool ring) {
    drv::send_wr w;
    w.wr_id = wr_id;
    w.sg_list[0] = {ep.buf.bus, 64, ep.lkey};
    w.num_sge = 1;
    ASSERT_EQ(ep.qp->post_send(w, ring), 0);
}

void sq_doorbell(drv::bus& b, tb::rc_endpoint& ep, uint32_t pi) {
    b.mmio_write64(ep.dev->db_page(0) + db::SQ_DB,
                   db::SQ_DB_QPN.make(ep.qp->qpn()) | db::SQ_DB_PI.make(pi));
}

void expect_flushed_once(const abuse_result& r, const std::map<uint64_t, int>& m,
                         std::initializer_list<uint64_t> ids) {
    for (uint64_t id : ids) {
        EXPECT_EQ(m.count(id) ? m.at(id) : 0, 1) << "wr_id " << id;
        if (r.status.count(id)) {
            EXPECT_EQ(r.status.at(id), static_cast<uint8_t>(cqe_status::WR_FLUSH_ERR))
                << "wr_id " << id;
        }
    }
    EXPECT_EQ(m.size(), ids.size());
}

constexpr unsigned SQ_LOG = 8;  // 256 send WQEs

TEST(doorbell_abuse, producer_index_past_the_ring_puts_the_qp_in_err_and_flushes_once) {
    abuse_result r;
    test::run_driver([&](drv::bus& b, cosim::platform& p) {
        tb::rc_endpoint ep;
        tb::rc_endpoint_options o;
        o.sq_log = SQ_LOG;
        o.buffer_bytes = 4096;
        ASSERT_TRUE(ep.open_self_connected(b, o)) << ep.error;  // connected to itself
        for (uint64_t i = 0; i < 3; ++i) post_recv(ep, 100 + i);
        // Three sends written to the ring but not announced yet.
        for (uint64_t i = 0; i < 3; ++i) post_send(ep, i, false);
        const uint32_t errs = b.mmio_read32(ep.dev->bar0() + spec::bar0::reg::DB_ERR_COUNT);
        const uint64_t wqes = p.adapter.counters().wqes;
        // One more than the ring holds ahead of a consumer index of 0.
        sq_doorbell(b, ep, (1u << SQ_LOG) + 1);
        for (int i = 0; i < 200; ++i) b.relax();
        r.wqes_fetched = p.adapter.counters().wqes - wqes;
        // The driver's own (well-formed) doorbell for its three sends, after the QP went to ERR.
        ep.qp->ring_send_doorbell();
        collect(b, ep, 6, r);
        finish(b, ep, errs, r);
    });
    EXPECT_EQ(r.wqes_fetched, 0u) << "the malformed doorbell fetched WQEs";
    EXPECT_EQ(r.db_errors, 1u);
    EXPECT_TRUE(r.qp_fatal);
    EXPECT_EQ(r.state, static_cast<uint32_t>(spec::qp_state::ERR));
    expect_flushed_once(r, r.sends, {0, 1, 2});
    expect_flushed_once(r, r.recvs, {100, 101, 102});
}

TEST(doorbell_abuse, producer_index_moving_backwards_puts_the_qp_in_err_and_flushes_once) {
    abuse_result r;
    bool first_ok = false;
    test::run_driver([&](drv::bus& b, cosim::platform&) {
        tb::rc_endpoint ep;
        tb::rc_endpoint_options o;
        o.sq_log = SQ_LOG;
        o.buffer_bytes = 4096;
        ASSERT_TRUE(ep.open_self_connected(b, o)) << ep.error;  // connected to itself
        // Two sends that go through (SQ producer index 2), then the index goes back to 1.
        for (uint64_t i = 0; i < 2; ++i) post_recv(ep, 50 + i);
        for (uint64_t i = 0; i < 2; ++i) post_send(ep, 20 + i, true);
        abuse_result good;
        collect(b, ep, 4, good);
        first_ok = good.sends.size() == 2 && good.recvs.size() == 2;
        for (const auto& [id, st] : good.status) {
            first_ok = first_ok && st == static_cast<uint8_t>(cqe_status::SUCCESS);
        }
        const uint32_t errs = b.mmio_read32(ep.dev->bar0() + spec::bar0::reg::DB_ERR_COUNT);
        sq_doorbell(b, ep, 1);
        for (int i = 0; i < 200; ++i) b.relax();
        // Work posted after the bad doorbell completes once, flushed.
        for (uint64_t i = 0; i < 2; ++i) post_recv(ep, 100 + i);
        for (uint64_t i = 0; i < 2; ++i) post_send(ep, i, true);
        collect(b, ep, 4, r);
        finish(b, ep, errs, r);
    });
    EXPECT_TRUE(first_ok) << "the sends before the bad doorbell did not succeed";
    EXPECT_EQ(r.db_errors, 1u);
    EXPECT_TRUE(r.qp_fatal);
    EXPECT_EQ(r.state, static_cast<uint32_t>(spec::qp_state::ERR));
    expect_flushed_once(r, r.sends, {0, 1});
    expect_flushed_once(r, r.recvs, {100, 101});
}

constexpr int STORM = 20000;

TEST(doorbell_abuse, storm_without_new_wqes_is_cheap_and_starves_no_other_vf) {
    bool victim_done_in_storm = false, storm_ok = false, nop_ok = false;
    uint64_t nop_ns = 0, wqes_in_storm = 0, doorbells_in_storm = 0, db_errors_in_storm = 0;
    uint32_t victim_errors = 0, victim_mismatches = 0, victim_sends = 0;
    auto plat = test::run_sriov([&](test::sriov_host& h) {
        std::string err;
        ASSERT_TRUE(h.bring_up(2, 2, err)) << err;
        drv::bus& io = h.pf_bus;
        const model::adapter_counters& c = h.plat.adapter.counters();
        // VF 1's QP carries four sends, then is hammered with its own producer index.
        test::flow noisy;
        ASSERT_TRUE(noisy.setup(h.vf(1), h.vf(1), err)) << err;
        noisy.start(4, 256, 1);
        ASSERT_TRUE(test::run_flows(io, {&noisy}));
        storm_ok = noisy.errors == 0;
        // VF 2's traffic runs meanwhile.
        test::flow victim;
        ASSERT_TRUE(victim.setup(h.vf(2), h.vf(2), err)) << err;
        const uint64_t wqes = c.wqes, dbs = c.doorbells, dberrs = c.doorbell_errors;
        victim.start(32, 2048, 2);
        victim_sends = 32;
        const uint64_t page = h.vf(1).db_page(0);
        const uint64_t ring = db::SQ_DB_QPN.make(noisy.a.qp->qpn()) | db::SQ_DB_PI.make(4);
        const uint64_t t_storm = io.now_ns();
        for (int i = 0; i < STORM; ++i) {
            h.bus(1).mmio_write64(page + db::SQ_DB, ring);
            if (i % 64 == 0) victim.poll();
            if (i == STORM / 2) {
                // A PF command in the middle of the storm.
                const uint64_t t0 = io.now_ns();
                nop_ok = h.pf->cmd().exec(spec::cmd::opcode::NOP, nullptr, 0, nullptr, 0).ok();
                nop_ns = io.now_ns() - t0;
            }
        }
        victim.poll();
        std::printf("  %d doorbells took %llu ns; the NOP %llu ns\n", STORM,
                    static_cast<unsigned long long>(io.now_ns() - t_storm),
                    static_cast<unsigned long long>(nop_ns));
        victim_done_in_storm = victim.done();
        wqes_in_storm = c.wqes - wqes;
        doorbells_in_storm = c.doorbells - dbs;
        db_errors_in_storm = c.doorbell_errors - dberrs;
        test::run_flows(io, {&victim});
        victim_errors = victim.errors;
        victim_mismatches = victim.mismatches();
    });
    EXPECT_TRUE(storm_ok);
    EXPECT_TRUE(victim_done_in_storm) << "VF 2's traffic did not finish during the storm";
    EXPECT_EQ(victim_errors, 0u);
    EXPECT_EQ(victim_mismatches, 0u);
    // Bounded work: the storm fetched nothing; the WQEs read were VF 2's own.
    EXPECT_LE(wqes_in_storm, 2u * victim_sends);
    EXPECT_GE(doorbells_in_storm, static_cast<uint64_t>(STORM));
    EXPECT_EQ(db_errors_in_storm, 0u) << "an unchanged producer index is a legal doorbell";
    EXPECT_TRUE(nop_ok);
    EXPECT_LT(nop_ns, 50'000u) << "a command waited " << nop_ns << " ns behind the storm";
}

}  // namespace
}  // namespace chio
