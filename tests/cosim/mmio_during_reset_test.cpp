// MMIO during a device reset (catalogue A6): between DEV_CTRL.RESET and READY the device takes
// no command and rings no queue. A command doorbell is ignored (its mailbox stays the driver's
// untouched), a queue doorbell for a queue of before the reset is dropped and counted in
// DB_ERR_COUNT, and stray register writes change nothing a new driver depends on: once READY,
// a fresh driver probes the device and its commands work, and the old queue is gone.
#include <gtest/gtest.h>

#include <cstring>

#include "chio/spec/spec.h"
#include "cosim/platform.h"
#include "driver/device.h"
#include "testbenches/scenarios/rc_endpoint.h"

namespace chio {
namespace {

namespace reg = spec::bar0::reg;
namespace db = spec::bar0::db;
namespace cmd = spec::cmd;

TEST(mmio_during_reset, is_discarded_and_the_device_comes_back_whole) {
    uint32_t status_in_reset = 0, db_errors_before = 0, db_errors_after = 0;
    uint8_t stray_owner = 0, stray_status = 0xAA;
    bool reprobed = false, pd_ok = false;
    cmd::status old_qp_query = cmd::status::OK;
    std::string why;
    // A reset long enough (50 us) that the writes below surely land inside it; the read of
    // DEV_STATUS after them proves it (a read cannot pass posted writes).
    cosim::platform_params p;
    p.adapter.reset_ns = 50000.0;
    cosim::platform plat("host0", p);
    plat.run_driver([&](drv::bus& b) {
        tb::rc_endpoint ep;
        tb::rc_endpoint_options o;
        o.buffer_bytes = 4096;
        ASSERT_TRUE(ep.open_self_connected(b, o)) << ep.error;  // connected to itself
        const uint64_t bar0 = ep.dev->bar0();
        const uint32_t qpn = ep.qp->qpn();
        db_errors_before = b.mmio_read32(bar0 + reg::DB_ERR_COUNT);
        // A mailbox of our own holding a NOP, handed to the device during the reset.
        drv::dma_buffer mbox = b.dma_alloc(cmd::MAILBOX_SIZE, cmd::MAILBOX_SIZE);
        ASSERT_NE(mbox.cpu, nullptr);
        auto* mb = static_cast<uint8_t*>(mbox.cpu);
        std::memset(mb, 0, cmd::MAILBOX_SIZE);
        const auto nop = static_cast<uint16_t>(cmd::opcode::NOP);
        std::memcpy(mb + cmd::hdr::OPCODE, &nop, 2);
        mb[cmd::hdr::STATUS] = 0xAA;
        mb[cmd::hdr::OWNER] = 1;

        b.mmio_write32(bar0 + reg::DEV_CTRL, static_cast<uint32_t>(reg::DEV_CTRL_RESET.make(1)));
        b.mmio_write32(bar0 + reg::CMD_ADDR_LO, static_cast<uint32_t>(mbox.bus));
        b.mmio_write32(bar0 + reg::CMD_ADDR_HI, static_cast<uint32_t>(mbox.bus >> 32));
        b.mmio_write32(bar0 + reg::CMD_DB, static_cast<uint32_t>(reg::CMD_DB_GO.make(1)));
        b.mmio_write64(ep.dev->db_page(0) + db::SQ_DB,
                       db::SQ_DB_QPN.make(qpn) | db::SQ_DB_PI.make(5));
        b.mmio_write32(bar0 + reg::DEV_STATUS, 0xFFFFFFFFu);  // read-only: ignored
        status_in_reset = b.mmio_read32(bar0 + reg::DEV_STATUS);
        // Past the reset time: READY again.
        for (int i = 0; i < 2000; ++i) {
            if (reg::DEV_STATUS_READY.get(b.mmio_read32(bar0 + reg::DEV_STATUS))) break;
            b.relax();
        }
        for (int i = 0; i < 50; ++i) b.relax();  // time for a command, had one been taken
        stray_owner = mb[cmd::hdr::OWNER];
        stray_status = mb[cmd::hdr::STATUS];
        db_errors_after = b.mmio_read32(bar0 + reg::DB_ERR_COUNT);

        drv::device fresh(b);
        reprobed = fresh.probe();
        why = fresh.last_error();
        uint32_t pd = 0;
        pd_ok = reprobed && fresh.create_pd(pd).ok();
        cmd::query_qp_in in{};
        in.qpn = qpn;
        cmd::query_qp_out out{};
        if (reprobed) {
            old_qp_query = fresh.cmd()
                               .exec(cmd::opcode::QUERY_QP, &in, cmd::QUERY_QP_IN_SIZE, &out,
                                     cmd::QUERY_QP_OUT_SIZE)
                               .status;
        }
        b.dma_free(mbox);
    });
    sc_core::sc_start();
    EXPECT_EQ(reg::DEV_STATUS_READY.get(status_in_reset), 0u);
    EXPECT_EQ(stray_owner, 1) << "a command rung during the reset was executed";
    EXPECT_EQ(stray_status, 0xAA);
    EXPECT_GT(db_errors_after, db_errors_before) << "the doorbell was not dropped and counted";
    EXPECT_TRUE(reprobed) << why;
    EXPECT_TRUE(pd_ok);
    EXPECT_EQ(old_qp_query, cmd::status::BAD_RES) << cmd::to_string(old_qp_query);
}

}  // namespace
}  // namespace chio
