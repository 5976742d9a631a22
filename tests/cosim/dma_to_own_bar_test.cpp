// DMA aimed at the adapter's own BAR (catalogue A7). A memory region may name any bus address:
// the device cannot know the host's map. When a WQE's gather or a receive's scatter then
// resolves into BAR0, the request goes up to the root complex, which routes no peer-to-peer
// traffic and answers it as an unsupported request (cosim/root_complex.h), like QEMU's
// MEMTX_ACCESS_ERROR for a device DMA-ing into its own MMIO. The adapter must take that as a
// failed DMA: the work request completes once with LOC_PROT_ERR, no byte reaches a register (no
// re-entry into the device through its own BAR), nothing hangs, and the device still answers.
#include <gtest/gtest.h>

#include <cstring>
#include <map>

#include "support/platform_fixture.h"
#include "testbenches/scenarios/rc_endpoint.h"

namespace chio {
namespace {

namespace reg = spec::bar0::reg;
using spec::cqe_status;

constexpr uint64_t BAR_IOVA = 0x7000'0000'0000ull;  // the region's virtual address

struct bar_result {
    std::map<uint64_t, std::vector<uint8_t>> sends, recvs;  // wr_id -> statuses seen
    uint64_t unsupported = 0, dma_errors = 0;
    uint32_t cmd_addr_lo_before = 0, cmd_addr_lo_after = 0;
    bool nop_ok = false;
    uint32_t state = 0;
};

// Registers a region whose physical side is the adapter's own register block, at CMD_ADDR_LO:
// a write that got through would move the command mailbox and break every later command.
uint32_t bar_region(tb::rc_endpoint& ep) {
    uint32_t lkey = 0, rkey = 0;
    const auto r = ep.dev->reg_mr(ep.pd, BAR_IOVA, 4096, ep.dev->bar0() + reg::CMD_ADDR_LO,
                                  spec::access_flags::LOCAL_WRITE, lkey, rkey);
    EXPECT_TRUE(r.ok()) << "the device refused a region it cannot judge";
    return lkey;
}

void collect(drv::bus& b, tb::rc_endpoint& ep, size_t want, bar_result& r) {
    const uint64_t deadline = b.now_ns() + 2'000'000;
    size_t got = 0;
    for (int tail = 0; tail < 200; b.relax()) {
        spec::cqe wc[8];
        for (auto* cq : {ep.scq.get(), ep.rcq.get()}) {
            const int n = cq->poll(wc, 8);
            for (int k = 0; k < n; ++k, ++got) {
                (cq == ep.scq.get() ? r.sends : r.recvs)[wc[k].wr_id].push_back(wc[k].status);
            }
        }
        // Once everything arrived (or the deadline passed), a little longer: a duplicate would
        // show up here.
        if (got >= want || b.now_ns() >= deadline) ++tail;
    }
}

void finish(drv::bus& b, cosim::platform& p, tb::rc_endpoint& ep, bar_result& r, uint64_t ur_before,
            uint64_t dma_before) {
    r.unsupported = p.rc.unsupported_requests() - ur_before;
    r.dma_errors = p.adapter.counters().dma_errors - dma_before;
    r.cmd_addr_lo_after = b.mmio_read32(ep.dev->bar0() + reg::CMD_ADDR_LO);
    r.nop_ok = ep.dev->cmd().exec(spec::cmd::opcode::NOP, nullptr, 0, nullptr, 0).ok();
    spec::cmd::query_qp_out q{};
    if (ep.qp->query(ep.dev->cmd(), q).ok()) r.state = q.state;
}

void open_self(drv::bus& b, tb::rc_endpoint& ep) {
    tb::rc_endpoint_options o;
    o.buffer_bytes = 4096;
    ASSERT_TRUE(ep.open_self_connected(b, o)) << ep.error;  // connected to itself
}

void expect_once(const std::map<uint64_t, std::vector<uint8_t>>& m, uint64_t id, cqe_status want) {
    ASSERT_EQ(m.count(id), 1u) << "wr_id " << id << " never completed";
    ASSERT_EQ(m.at(id).size(), 1u) << "wr_id " << id << " completed more than once";
    EXPECT_EQ(m.at(id)[0], static_cast<uint8_t>(want))
        << "wr_id " << id << ": " << spec::to_string(static_cast<cqe_status>(m.at(id)[0]));
}

void expect_refused(const bar_result& r) {
    EXPECT_GT(r.unsupported, 0u) << "the root complex saw no request into the BAR";
    EXPECT_GT(r.dma_errors, 0u) << "the adapter did not take the UR as a failed DMA";
    EXPECT_EQ(r.cmd_addr_lo_after, r.cmd_addr_lo_before) << "a DMA reached a register";
    EXPECT_TRUE(r.nop_ok) << "the device stopped answering commands";
    EXPECT_EQ(r.state, static_cast<uint32_t>(spec::qp_state::ERR));
}

TEST(dma_to_own_bar, a_send_gathering_from_bar0_completes_with_loc_prot_err) {
    bar_result r;
    test::run_driver([&](drv::bus& b, cosim::platform& p) {
        tb::rc_endpoint ep;
        open_self(b, ep);
        const uint32_t lkey = bar_region(ep);
        r.cmd_addr_lo_before = b.mmio_read32(ep.dev->bar0() + reg::CMD_ADDR_LO);
        const uint64_t ur = p.rc.unsupported_requests(), dma = p.adapter.counters().dma_errors;
        drv::recv_wr rw;
        rw.wr_id = 100;
        rw.sg_list[0] = {ep.buf.bus + 2048, 64, ep.lkey};
        rw.num_sge = 1;
        ASSERT_EQ(ep.qp->post_recv(rw), 0);
        drv::send_wr w;
        w.wr_id = 1;
        w.sg_list[0] = {BAR_IOVA, 64, lkey};
        w.num_sge = 1;
        ASSERT_EQ(ep.qp->post_send(w), 0);
        collect(b, ep, 2, r);
        finish(b, p, ep, r, ur, dma);
    });
    expect_once(r.sends, 1, cqe_status::LOC_PROT_ERR);
    // The send never left, so the receive is flushed when the QP goes to ERR.
    expect_once(r.recvs, 100, cqe_status::WR_FLUSH_ERR);
    expect_refused(r);
}

TEST(dma_to_own_bar, a_receive_scattering_into_bar0_completes_with_loc_prot_err) {
    bar_result r;
    test::run_driver([&](drv::bus& b, cosim::platform& p) {
        tb::rc_endpoint ep;
        open_self(b, ep);
        const uint32_t lkey = bar_region(ep);
        r.cmd_addr_lo_before = b.mmio_read32(ep.dev->bar0() + reg::CMD_ADDR_LO);
        const uint64_t ur = p.rc.unsupported_requests(), dma = p.adapter.counters().dma_errors;
        std::memset(ep.cpu(), 0xA5, 64);  // what would land in the registers
        drv::recv_wr rw;
        rw.wr_id = 100;
        rw.sg_list[0] = {BAR_IOVA, 64, lkey};
        rw.num_sge = 1;
        ASSERT_EQ(ep.qp->post_recv(rw), 0);
        drv::send_wr w;
        w.wr_id = 1;
        w.sg_list[0] = {ep.buf.bus, 64, ep.lkey};
        w.num_sge = 1;
        ASSERT_EQ(ep.qp->post_send(w), 0);
        collect(b, ep, 2, r);
        finish(b, p, ep, r, ur, dma);
    });
    expect_once(r.recvs, 100, cqe_status::LOC_PROT_ERR);
    // The requester learns of the responder's failure through its NAK: an error, once.
    ASSERT_EQ(r.sends.count(1), 1u);
    ASSERT_EQ(r.sends.at(1).size(), 1u);
    EXPECT_NE(r.sends.at(1)[0], static_cast<uint8_t>(cqe_status::SUCCESS));
    expect_refused(r);
}

}  // namespace
}  // namespace chio
