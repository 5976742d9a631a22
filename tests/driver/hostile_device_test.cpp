// The driver facing a hostile or broken device (catalogue I, B10): every wait is bounded,
// all-ones reads mean removal, and no device-written length, index or size is used unchecked.
// The device is scripted (tests/support/hostile_bus.h); time moves only when the driver waits,
// so a test that would hang without its bound hangs here too (ctest's timeout catches it).
#include <gtest/gtest.h>

#include <cstring>
#include <memory>

#include "driver/device.h"
#include "driver/manager.h"
#include "driver/rings.h"
#include "support/hostile_bus.h"

namespace chio::test {
namespace {

namespace reg = spec::bar0::reg;
namespace lim = spec::limits;

// A device that comes out of reset and answers every command OK (with zeroed output).
void make_ready(hostile_bus& b) {
    b.bar_regs[reg::DEV_STATUS] = static_cast<uint32_t>(reg::DEV_STATUS_READY.make(1));
    b.bar_regs[reg::IF_REV] = spec::SPEC_VERSION;
}

TEST(hostile_device, status_that_never_turns_ready_times_out) {  // I4
    hostile_bus b;                                               // DEV_STATUS stays 0
    drv::device d(b);
    EXPECT_FALSE(d.probe());
    EXPECT_NE(d.last_error().find("timeout"), std::string::npos) << d.last_error();
    EXPECT_LE(b.now, uint64_t{lim::RESET_TIMEOUT_US} * 1000 + 1000);
}

TEST(hostile_device, all_ones_status_is_removal) {  // I5
    hostile_bus b;
    b.bar_regs[reg::DEV_STATUS] = 0xFFFFFFFFu;
    drv::device d(b);
    EXPECT_FALSE(d.probe());
    EXPECT_NE(d.last_error().find("removed"), std::string::npos) << d.last_error();
    EXPECT_EQ(b.relaxes, 0u);  // decided at the first read, no waiting
    hostile_bus gone;
    gone.removed = true;
    drv::device g(gone);
    EXPECT_FALSE(g.probe());
    EXPECT_NE(g.last_error().find("0xffff"), std::string::npos) << g.last_error();
}

TEST(hostile_device, capability_list_loop_is_bounded) {
    hostile_bus b;
    make_ready(b);
    // A capability that is not MSI-X and points at itself.
    b.set_cfg(spec::pci::MSIX_CAP_OFFSET, 0x01u | spec::pci::MSIX_CAP_OFFSET << 8);
    drv::device d(b);
    EXPECT_FALSE(d.probe());
    EXPECT_NE(d.last_error().find("MSI-X"), std::string::npos) << d.last_error();
}

TEST(hostile_device, mailbox_that_never_completes_aborts_within_the_command_timeout) {  // B10
    hostile_bus b;
    make_ready(b);
    b.commands_complete = false;
    drv::device d(b);
    EXPECT_FALSE(d.probe());
    EXPECT_NE(d.last_error().find("ABORTED"), std::string::npos) << d.last_error();
    EXPECT_LE(b.now, uint64_t{lim::CMD_TIMEOUT_US + lim::RESET_TIMEOUT_US} * 1000 + 1000);
}

TEST(hostile_device, reported_capabilities_are_clamped_to_the_driver_limits) {  // I1, I2
    spec::cmd::query_caps_out c{};
    std::memset(&c, 0xFF, sizeof(c));
    c.max_wq_log_size = 40;  // 1u << 40 would be undefined
    const drv::device_caps d = drv::clamp_caps(c);
    EXPECT_EQ(d.max_wq_log_size, lim::MAX_WQ_LOG_SIZE);
    EXPECT_EQ(d.max_sge, lim::MAX_SGE);
    EXPECT_EQ(d.max_recv_sge, lim::MAX_RECV_SGE);
    EXPECT_EQ(d.max_inline, lim::MAX_INLINE);
    EXPECT_EQ(d.max_qp, lim::MAX_QP);
    EXPECT_EQ(d.num_msix, spec::pci::MSIX_VECTORS);
    spec::cmd::query_caps_out small{};
    small.max_sge = 2;
    small.max_wq_log_size = 6;
    EXPECT_EQ(drv::clamp_caps(small).max_sge, 2u);  // smaller values stand
    EXPECT_EQ(drv::clamp_caps(small).max_wq_log_size, 6u);
}

TEST(hostile_device, vf_bar_size_that_would_overflow_the_window_is_refused) {  // I1
    hostile_bus b;
    namespace sr = spec::pci::sriov_cap;
    const uint32_t base = spec::pci::EXT_CAP_OFFSET;
    b.set_cfg(base + sr::EXT_CAP_HDR, spec::pci::ext_cap_id::SRIOV);
    b.set_cfg(base + sr::TOTAL_VFS, 3);
    // A VF BAR of 2^62 bytes: three of them need a window the doubling loop never reaches.
    b.cfg_fixed[base + sr::VF_BAR0] = 0x0000000Cu;
    b.cfg_fixed[base + sr::VF_BAR1] = 0xC0000000u;
    drv::device pf(b);
    drv::manager m(pf);
    EXPECT_EQ(m.enable_vfs(1).status, spec::cmd::status::BAD_SYS_STATE);
}

TEST(hostile_device, cq_poll_is_bounded_when_the_device_keeps_writing) {  // I3, I4
    hostile_bus b;
    make_ready(b);
    drv::device d(b);
    ASSERT_TRUE(d.probe()) << d.last_error();
    drv::cmd_result r;
    const unsigned log = 2;
    auto cq = d.create_cq(log, r);
    ASSERT_TRUE(cq) << spec::cmd::to_string(r.status);
    const drv::dma_buffer ring = b.buffers().back();
    ASSERT_EQ(ring.size, sizeof(spec::cqe) << log);
    auto* slots = static_cast<spec::cqe*>(ring.cpu);
    // The device writes a CQE for a QP the driver never created at every index, always one
    // ahead of the driver: each is rejected, and a loop without a budget would never end.
    uint32_t written = 0;
    auto write_next = [&] {
        spec::cqe c{};
        c.qpn = 0xABCDE;
        c.owner = drv::ring_phase(written, log);
        slots[drv::ring_slot(written, log)] = c;
        ++written;
    };
    write_next();
    b.on_barrier = write_next;
    spec::cqe wc[8];
    EXPECT_EQ(cq->poll(wc, 8), 0);
    EXPECT_EQ(cq->dropped(), 1u << log);  // one ring's worth, then back to the caller
    EXPECT_EQ(d.rejected_cqes(), 1u << log);
    b.on_barrier = nullptr;
}

// A device with one CQ (send and receive) and one RC QP in INIT, with one receive of
// RECV_BYTES posted as wr_id RECV_WR_ID; the CQ's ring is where the test writes as the device.
// The scripted device answers every command OK with zeroed output, so CQ and QP are number 0.
struct one_qp {
    static constexpr uint32_t RECV_BYTES = 64;
    static constexpr uint64_t RECV_WR_ID = 0x5151;
    static constexpr unsigned CQ_LOG = 2;
    hostile_bus b;
    drv::device d{b};
    std::unique_ptr<drv::completion_queue> cq;
    std::unique_ptr<drv::queue_pair> qp;
    spec::cqe* slots = nullptr;
    uint32_t written = 0;  // CQEs the "device" wrote

    void open() {
        make_ready(b);
        ASSERT_TRUE(d.probe()) << d.last_error();
        drv::cmd_result r;
        cq = d.create_cq(CQ_LOG, r);
        ASSERT_TRUE(cq) << spec::cmd::to_string(r.status);
        slots = static_cast<spec::cqe*>(b.buffers().back().cpu);
        qp = d.create_qp(spec::qp_type::RC, *cq, *cq, 2, 2, r, 0);
        ASSERT_TRUE(qp) << spec::cmd::to_string(r.status);
        ASSERT_TRUE(qp->modify(d.cmd(), spec::qp_state::INIT, spec::qp_attr::STATE).ok());
        drv::recv_wr w;
        w.wr_id = RECV_WR_ID;
        w.sg_list[0] = {0x1000, RECV_BYTES, 1};
        w.num_sge = 1;
        ASSERT_EQ(qp->post_recv(w), 0);
    }
    // Writes c into the next slot with the owner bit of that pass over the ring.
    void device_writes(spec::cqe c) {
        c.owner = drv::ring_phase(written, CQ_LOG);
        slots[drv::ring_slot(written, CQ_LOG)] = c;
        ++written;
    }
    static spec::cqe recv_cqe(uint32_t byte_len) {
        spec::cqe c{};
        c.qpn = 0;
        c.wqe_index = 0;
        c.opcode = static_cast<uint8_t>(spec::cqe_opcode::RECV);
        c.status = static_cast<uint8_t>(spec::cqe_status::SUCCESS);
        c.byte_len = byte_len;
        return c;
    }
};

TEST(hostile_device, receive_longer_than_its_buffer_completes_as_a_length_error) {  // I2
    one_qp t;
    ASSERT_NO_FATAL_FAILURE(t.open());
    t.device_writes(one_qp::recv_cqe(4096));  // 4 KiB "received" into a 64-byte buffer
    spec::cqe wc[4];
    ASSERT_EQ(t.cq->poll(wc, 4), 1);
    EXPECT_EQ(wc[0].wr_id, one_qp::RECV_WR_ID);  // the driver's record, once
    EXPECT_EQ(wc[0].status, static_cast<uint8_t>(spec::cqe_status::LOC_LEN_ERR));
    EXPECT_EQ(wc[0].byte_len, 0u);  // the bogus length is not passed on
    EXPECT_EQ(t.d.rejected_cqes(), 1u);
    EXPECT_EQ(t.qp->recv_outstanding(), 0u);
    // A length that fits is passed on as written.
    drv::recv_wr w;
    w.wr_id = 7;
    w.sg_list[0] = {0x2000, one_qp::RECV_BYTES, 1};
    w.num_sge = 1;
    ASSERT_EQ(t.qp->post_recv(w), 0);
    spec::cqe ok = one_qp::recv_cqe(one_qp::RECV_BYTES);
    ok.wqe_index = 1;
    t.device_writes(ok);
    ASSERT_EQ(t.cq->poll(wc, 4), 1);
    EXPECT_EQ(wc[0].wr_id, 7u);
    EXPECT_EQ(wc[0].status, static_cast<uint8_t>(spec::cqe_status::SUCCESS));
    EXPECT_EQ(wc[0].byte_len, one_qp::RECV_BYTES);
    EXPECT_EQ(t.d.rejected_cqes(), 1u);
}

TEST(hostile_device, completion_reports_what_was_posted_not_what_the_ring_says_now) {  // C16
    one_qp t;
    ASSERT_NO_FATAL_FAILURE(t.open());
    // The application (or anything else with the page) rewrites the posted receive WQE in host
    // memory: another wr_id and a buffer 64 times longer. The receive ring is the buffer of
    // four receive WQEs that holds the posted one.
    spec::recv_wqe* slot = nullptr;
    for (const drv::dma_buffer& d : t.b.buffers()) {
        auto* w = static_cast<spec::recv_wqe*>(d.cpu);
        if (d.size == sizeof(spec::recv_wqe) << 2 && w->wr_id == one_qp::RECV_WR_ID) slot = w;
    }
    ASSERT_NE(slot, nullptr) << "receive ring not found";
    slot->wr_id = 0xBAD;
    slot->sg_list[0].length = one_qp::RECV_BYTES * 64;
    t.device_writes(one_qp::recv_cqe(4096));
    spec::cqe wc[4];
    ASSERT_EQ(t.cq->poll(wc, 4), 1);
    EXPECT_EQ(wc[0].wr_id, one_qp::RECV_WR_ID);  // the driver's record of the post
    // Checked against the 64 bytes posted, not the rewritten length.
    EXPECT_EQ(wc[0].status, static_cast<uint8_t>(spec::cqe_status::LOC_LEN_ERR));
    EXPECT_EQ(wc[0].byte_len, 0u);
}

TEST(hostile_device, srq_receive_longer_than_its_buffer_completes_as_a_length_error) {  // I2
    hostile_bus b;
    make_ready(b);
    drv::device d(b);
    ASSERT_TRUE(d.probe()) << d.last_error();
    drv::cmd_result r;
    constexpr unsigned CQ_LOG = 2;
    auto cq = d.create_cq(CQ_LOG, r);
    ASSERT_TRUE(cq) << spec::cmd::to_string(r.status);
    auto* slots = static_cast<spec::cqe*>(b.buffers().back().cpu);
    auto srq = d.create_srq(0, 2, r);
    ASSERT_TRUE(srq) << spec::cmd::to_string(r.status);
    auto qp = d.create_qp(spec::qp_type::RC, *cq, *cq, 2, 2, r, 0, srq.get());
    ASSERT_TRUE(qp) << spec::cmd::to_string(r.status);
    drv::recv_wr w;
    w.wr_id = 0x77;
    w.sg_list[0] = {0x1000, 64, 1};
    w.num_sge = 1;
    ASSERT_EQ(srq->post_recv(w), 0);
    spec::cqe c = one_qp::recv_cqe(4096);  // 4 KiB "received" into a 64-byte buffer
    c.wr_id = 0xBAD;                       // and a wr_id the driver never posted
    c.owner = drv::ring_phase(0, CQ_LOG);
    slots[0] = c;
    spec::cqe wc[4];
    ASSERT_EQ(cq->poll(wc, 4), 1);
    EXPECT_EQ(wc[0].wr_id, 0x77u);
    EXPECT_EQ(wc[0].status, static_cast<uint8_t>(spec::cqe_status::LOC_LEN_ERR));
    EXPECT_EQ(wc[0].byte_len, 0u);
    EXPECT_EQ(d.rejected_cqes(), 1u);
    // The slot was retired once: the same completion again is dropped.
    c.owner = drv::ring_phase(1, CQ_LOG);
    slots[1] = c;
    EXPECT_EQ(cq->poll(wc, 4), 0);
    EXPECT_EQ(cq->dropped(), 1u);
}

TEST(hostile_device, duplicate_cqe_is_dropped_and_a_stale_owner_bit_is_not_consumed) {  // I3
    one_qp t;
    ASSERT_NO_FATAL_FAILURE(t.open());
    t.device_writes(one_qp::recv_cqe(16));
    spec::cqe wc[4];
    ASSERT_EQ(t.cq->poll(wc, 4), 1);
    EXPECT_EQ(wc[0].wr_id, one_qp::RECV_WR_ID);
    // The device writes the same completion again: that index was retired, so the duplicate
    // is dropped and counted, and the application sees the WR complete once.
    t.device_writes(one_qp::recv_cqe(16));
    EXPECT_EQ(t.cq->poll(wc, 4), 0);
    EXPECT_EQ(t.cq->dropped(), 1u);
    EXPECT_EQ(t.d.rejected_cqes(), 1u);
    // Phase flapping: the next slot holds an entry whose owner bit belongs to the previous
    // pass over the ring. It is not the device's yet, so the driver does not consume it, and
    // the consumer index stays where it was.
    spec::cqe stale = one_qp::recv_cqe(16);
    stale.owner = drv::ring_phase(t.written, one_qp::CQ_LOG) ^ 1u;
    t.slots[drv::ring_slot(t.written, one_qp::CQ_LOG)] = stale;
    EXPECT_EQ(t.cq->poll(wc, 4), 0);
    EXPECT_EQ(t.cq->dropped(), 1u);
    EXPECT_EQ(t.d.rejected_cqes(), 1u);
}

TEST(hostile_device, function_reset_is_seen_by_the_health_monitor) {  // H7
    hostile_bus b;
    make_ready(b);
    drv::device d(b);
    ASSERT_TRUE(d.probe()) << d.last_error();
    EXPECT_EQ(d.check_health(), drv::health::ok);
    // The function was reset behind the driver: Bus Master Enable reads 0 again.
    namespace cfg = spec::pci::cfg;
    b.set_cfg(cfg::COMMAND, 0);
    b.now += uint64_t{lim::HEALTH_PERIOD_US} * 1000;
    EXPECT_EQ(d.check_health(), drv::health::function_reset);
    EXPECT_TRUE(d.lost());
    // Recovery enumerates again, which sets Bus Master Enable.
    EXPECT_TRUE(d.recover()) << d.last_error();
    EXPECT_NE(b.cfg_read(cfg::COMMAND, 2) & cfg::COMMAND_BUS_MASTER.make(1), 0u);
    b.now += uint64_t{lim::HEALTH_PERIOD_US} * 1000;
    EXPECT_EQ(d.check_health(), drv::health::ok);
}

}  // namespace
}  // namespace chio::test
