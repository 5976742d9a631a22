// Bad input from the driver side answered with the status the spec defines, the device still
// working afterwards (catalogue A1, A3, B1-B7, F1).
#include <gtest/gtest.h>

#include <cstring>

#include "driver/device.h"
#include "support/platform_fixture.h"
#include "testbenches/scenarios/loopback.h"

namespace chio {
namespace {

namespace cmd = spec::cmd;
namespace a = spec::qp_attr;
using cmd::status;

// Runs body with a probed device; afterwards checks that a full loopback exchange still works.
void with_device(std::function<void(drv::device&, drv::bus&, cosim::platform&)> body) {
    bool still_works = false;
    std::string err;
    test::run_driver([&](drv::bus& b, cosim::platform& p) {
        {
            drv::device dev(b);
            ASSERT_TRUE(dev.probe()) << dev.last_error();
            body(dev, b, p);
        }
        tb::sim_options o;
        o.count = 8;
        o.size = 512;
        const tb::loopback_result r = tb::run_loopback(b, o);
        still_works = r.ok;
        err = r.error;
    });
    EXPECT_TRUE(still_works) << "device broken after bad input: " << err;
}

TEST(bad_input, unknown_command_opcode_is_bad_op) {
    with_device([](drv::device& dev, drv::bus&, cosim::platform&) {
        const auto r = dev.cmd().exec(static_cast<cmd::opcode>(0x7777), nullptr, 0, nullptr, 0);
        EXPECT_EQ(r.status, status::BAD_OP);
    });
}

TEST(bad_input, inconsistent_lengths_are_reported) {
    with_device([](drv::device& dev, drv::bus&, cosim::platform&) {
        cmd::create_cq_in in{};
        auto r = dev.cmd().exec(cmd::opcode::CREATE_CQ, &in, 4, nullptr, 4);
        EXPECT_EQ(r.status, status::BAD_INP_LEN);
        r = dev.cmd().exec(cmd::opcode::CREATE_CQ, &in, cmd::CREATE_CQ_IN_SIZE, nullptr, 0);
        EXPECT_EQ(r.status, status::BAD_OUTP_LEN);
    });
}

TEST(bad_input, out_of_range_parameters_are_refused_with_the_field_named) {
    with_device([](drv::device& dev, drv::bus&, cosim::platform&) {
        cmd::create_cq_in in{};
        cmd::create_cq_out out{};
        in.log_size = 0;
        in.eqn = dev.async_eq().eqn();
        in.ring_addr = 0x100000;
        auto r = dev.cmd().exec(cmd::opcode::CREATE_CQ, &in, cmd::CREATE_CQ_IN_SIZE, &out,
                                cmd::CREATE_CQ_OUT_SIZE);
        EXPECT_EQ(r.status, status::BAD_PARAM);
        EXPECT_EQ(r.syndrome, 1u);  // log_size
        in.log_size = spec::limits::MAX_CQ_LOG_SIZE + 1;
        r = dev.cmd().exec(cmd::opcode::CREATE_CQ, &in, cmd::CREATE_CQ_IN_SIZE, &out,
                           cmd::CREATE_CQ_OUT_SIZE);
        EXPECT_EQ(r.status, status::LIM_ERR);
        in.log_size = 4;
        in.eqn = spec::limits::MAX_EQ + 5;
        r = dev.cmd().exec(cmd::opcode::CREATE_CQ, &in, cmd::CREATE_CQ_IN_SIZE, &out,
                           cmd::CREATE_CQ_OUT_SIZE);
        EXPECT_EQ(r.status, status::BAD_RES);
        EXPECT_EQ(r.syndrome, 2u);  // eqn
        in.eqn = dev.async_eq().eqn();
        in.ring_addr = 0x100001;  // not CQE aligned
        r = dev.cmd().exec(cmd::opcode::CREATE_CQ, &in, cmd::CREATE_CQ_IN_SIZE, &out,
                           cmd::CREATE_CQ_OUT_SIZE);
        EXPECT_EQ(r.status, status::BAD_PARAM);
        EXPECT_EQ(r.syndrome, 3u);  // ring_addr

        cmd::create_qp_in q{};
        q.qp_type = 99;
        r = dev.cmd().exec(cmd::opcode::CREATE_QP, &q, cmd::CREATE_QP_IN_SIZE, nullptr,
                           cmd::CREATE_QP_OUT_SIZE);
        EXPECT_EQ(r.status, status::BAD_PARAM);
        EXPECT_EQ(r.syndrome, 1u);

        cmd::destroy_cq_in d{};
        d.cqn = 77;  // never created
        r = dev.cmd().exec(cmd::opcode::DESTROY_CQ, &d, cmd::DESTROY_CQ_IN_SIZE, nullptr, 0);
        EXPECT_EQ(r.status, status::BAD_RES);
    });
}

TEST(bad_input, cq_in_use_cannot_be_destroyed) {
    with_device([](drv::device& dev, drv::bus&, cosim::platform&) {
        drv::cmd_result r;
        uint32_t pd = 0;
        ASSERT_TRUE(dev.create_pd(pd).ok());
        auto cq = dev.create_cq(4, r);
        ASSERT_TRUE(cq);
        auto qp = dev.create_qp(spec::qp_type::RC, *cq, *cq, 4, 4, r, pd);
        ASSERT_TRUE(qp);
        EXPECT_EQ(cq->destroy(dev.cmd()).status, status::RES_BUSY);
        EXPECT_TRUE(dev.destroy_qp(*qp).ok());
        EXPECT_TRUE(cq->destroy(dev.cmd()).ok());
    });
}

TEST(bad_input, illegal_qp_transition_changes_nothing) {
    with_device([](drv::device& dev, drv::bus&, cosim::platform&) {
        drv::cmd_result r;
        uint32_t pd = 0;
        ASSERT_TRUE(dev.create_pd(pd).ok());
        auto cq = dev.create_cq(4, r);
        auto qp = dev.create_qp(spec::qp_type::RC, *cq, *cq, 4, 4, r, pd);
        ASSERT_TRUE(qp);
        drv::qp_attr_values v;
        v.access_flags = 0x5;
        ASSERT_TRUE(
            qp->modify(dev.cmd(), spec::qp_state::INIT, a::STATE | a::PORT | a::ACCESS_FLAGS, v)
                .ok());
        cmd::query_qp_out before{};
        ASSERT_TRUE(qp->query(dev.cmd(), before).ok());

        // INIT -> RTS skips RTR: illegal.
        drv::qp_attr_values w;
        w.sq_psn = 1234;
        w.access_flags = 0x3;
        r = qp->modify(dev.cmd(), spec::qp_state::RTS, a::STATE | a::SQ_PSN | a::ACCESS_FLAGS, w);
        EXPECT_EQ(r.status, status::BAD_QP_STATE);
        // INIT -> RTR without its required attributes.
        r = qp->modify(dev.cmd(), spec::qp_state::RTR, a::STATE | a::ACCESS_FLAGS, w);
        EXPECT_EQ(r.status, status::BAD_PARAM);
        // A value out of range: nothing else of the same modify is applied either.
        w.dest_qpn = 1u << 24;
        r = qp->modify(dev.cmd(), spec::qp_state::RTR,
                       a::STATE | a::PATH_MTU | a::DEST_QPN | a::RQ_PSN | a::ACCESS_FLAGS, w);
        EXPECT_EQ(r.status, status::BAD_PARAM);
        // An unknown state value.
        r = qp->modify(dev.cmd(), static_cast<spec::qp_state>(42), a::STATE, w);
        EXPECT_EQ(r.status, status::BAD_PARAM);

        cmd::query_qp_out after{};
        ASSERT_TRUE(qp->query(dev.cmd(), after).ok());
        EXPECT_EQ(std::memcmp(&before, &after, sizeof(before)), 0)
            << "a failed modify changed the QP";
        EXPECT_EQ(after.state, static_cast<uint32_t>(spec::qp_state::INIT));
        EXPECT_EQ(after.access_flags, 0x5u);
        EXPECT_TRUE(dev.destroy_qp(*qp).ok());
        EXPECT_TRUE(cq->destroy(dev.cmd()).ok());
    });
}

TEST(bad_input, doorbells_for_missing_or_reset_qps_are_dropped_and_counted) {
    with_device([](drv::device& dev, drv::bus& b, cosim::platform& p) {
        namespace db = spec::bar0::db;
        drv::cmd_result r;
        uint32_t pd = 0;
        ASSERT_TRUE(dev.create_pd(pd).ok());
        auto cq = dev.create_cq(4, r);
        auto qp = dev.create_qp(spec::qp_type::RC, *cq, *cq, 4, 4, r, pd);
        ASSERT_TRUE(qp);
        const uint32_t before = b.mmio_read32(dev.bar0() + spec::bar0::reg::DB_ERR_COUNT);
        const uint64_t page = dev.db_page(0);
        // A QP that was never created, one beyond the device's range, and one in RESET.
        b.mmio_write64(page + db::SQ_DB, db::SQ_DB_QPN.make(1000) | db::SQ_DB_PI.make(1));
        b.mmio_write64(page + db::SQ_DB, db::SQ_DB_QPN.make(0xFFFFFF) | db::SQ_DB_PI.make(1));
        b.mmio_write64(page + db::SQ_DB, db::SQ_DB_QPN.make(qp->qpn()) | db::SQ_DB_PI.make(1));
        b.mmio_write64(page + db::RQ_DB, db::RQ_DB_QPN.make(qp->qpn()) | db::RQ_DB_PI.make(1));
        // A CQ doorbell for a CQ that does not exist.
        b.mmio_write64(page + db::CQ_DB, db::CQ_DB_CQN.make(999) | db::CQ_DB_ARM.make(1));
        const uint32_t after = b.mmio_read32(dev.bar0() + spec::bar0::reg::DB_ERR_COUNT);
        EXPECT_EQ(after - before, 5u);
        EXPECT_EQ(p.adapter.counters().wqes, 0u) << "a refused doorbell fetched work";
        spec::cqe wc[4];
        EXPECT_EQ(cq->poll(wc, 4), 0);
        EXPECT_TRUE(dev.destroy_qp(*qp).ok());
        EXPECT_TRUE(cq->destroy(dev.cmd()).ok());
    });
}

TEST(bad_input, unmapped_and_misaligned_mmio_is_refused) {
    with_device([](drv::device& dev, drv::bus& b, cosim::platform&) {
        auto* sb = dynamic_cast<cosim::sc_bus*>(&b);
        ASSERT_NE(sb, nullptr);
        const uint64_t errs = sb->mmio_errors();
        // Inside the register block but no register there; between regions; past the doorbells.
        EXPECT_EQ(b.mmio_read32(dev.bar0() + 0x800), 0xFFFFFFFFu);
        EXPECT_EQ(b.mmio_read32(dev.bar0() + 0x10000), 0xFFFFFFFFu);
        b.mmio_write32(dev.bar0() + 0x10000, 0x1234);
        // A doorbell written with the wrong size.
        b.mmio_write32(dev.db_page(0) + spec::bar0::db::SQ_DB, 0x1);
        // Posted writes are refused when they arrive; the read after them waits for that.
        EXPECT_EQ(b.mmio_read32(dev.bar0() + spec::bar0::reg::FW_REV),
                  spec::bar0::REGISTERS[0].reset);
        EXPECT_EQ(sb->mmio_errors() - errs, 4u);
    });
}

TEST(bad_input, command_completion_by_event) {
    test::run_driver([&](drv::bus& b, cosim::platform&) {
        drv::device_options opt;
        opt.command_events = true;
        drv::device dev(b, opt);
        ASSERT_TRUE(dev.probe()) << dev.last_error();
        const auto r = dev.cmd().exec(cmd::opcode::NOP, nullptr, 0, nullptr, 0);
        EXPECT_TRUE(r.ok());
        EXPECT_GT(dev.interrupts(), 0u) << "command completed without its MSI-X";
    });
}

}  // namespace
}  // namespace chio
