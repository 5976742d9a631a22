// Function level reset of a VF during traffic (catalogue H7, invariant 19): the reset VF's DMA
// stops (none succeeds after the reset completes), its resources are gone, its next user sees
// reset state, and every other VF's traffic completes with zero errors and byte-exact data.
#include <gtest/gtest.h>

#include <cstdio>

#include "support/sriov_host.h"

namespace chio {
namespace {

namespace pc = spec::pci::pcie_cap;
namespace reg = spec::bar0::reg;

template <typename T>
uint32_t owned_by(const std::vector<T>& v, uint16_t fn) {
    uint32_t n = 0;
    for (const T& x : v) n += x.valid && x.fn == fn ? 1 : 0;
    return n;
}

uint32_t resources_of(const model::device_contexts& c, uint16_t fn) {
    return owned_by(c.qps, fn) + owned_by(c.cqs, fn) + owned_by(c.eqs, fn) + owned_by(c.mrs, fn) +
           owned_by(c.pds, fn) + owned_by(c.srqs, fn) + owned_by(c.ahs, fn);
}

// Waits until the VF's DEV_STATUS.READY is back (its reset finished); false on timeout.
bool wait_ready(test::sriov_host& h, uint16_t fn) {
    cosim::sc_bus& b = h.bus(fn);
    const uint64_t deadline = b.now_ns() + 1'000'000;
    while (b.now_ns() < deadline) {
        const uint32_t st = b.mmio_read32(h.vf(fn).bar0() + reg::DEV_STATUS);
        if (st != 0xFFFFFFFFu && reg::DEV_STATUS_READY.get(st)) return true;
        b.relax();
    }
    return false;
}

enum class how { config_flr, manager_reset };

void flr_during_traffic(how method, uint64_t seed) {
    std::printf("seed %llu\n", static_cast<unsigned long long>(seed));
    auto plat = test::run_sriov([&](test::sriov_host& h) {
        std::string err;
        ASSERT_TRUE(h.bring_up(3, 3, err)) << err;
        test::flow doomed, bystander;
        ASSERT_TRUE(doomed.setup(h.vf(1), h.vf(1), err)) << err;
        ASSERT_TRUE(bystander.setup(h.vf(2), h.vf(3), err)) << err;
        ASSERT_GT(resources_of(h.plat.adapter.contexts(), 1), 0u);
        // DMA of VF 1 that succeeds after its reset completed would be a violation.
        uint64_t reset_done_ns = UINT64_MAX, late_dma = 0, vf1_dma = 0;
        drv::bus& io = h.pf_bus;
        h.plat.adapter.set_dma_probe([&](uint16_t fn, bool, uint64_t, uint64_t, bool ok) {
            if (fn != 1 || !ok) return;
            ++vf1_dma;
            if (io.now_ns() >= reset_done_ns) ++late_dma;
        });
        doomed.start(24, 4096, seed);
        bystander.start(24, 4096, seed + 1);
        // Let traffic run until the doomed flow is part-way through.
        const uint64_t t0 = io.now_ns();
        while (doomed.send_ok < 4 && io.now_ns() < t0 + 5'000'000) {
            doomed.poll();
            bystander.poll();
            io.relax();
        }
        ASSERT_GE(doomed.send_ok, 4u);
        ASSERT_LT(doomed.send_ok, 24u) << "traffic finished before the reset";
        const uint64_t dma_before = vf1_dma;
        if (method == how::config_flr) {
            h.bus(1).cfg_write(spec::pci::PCIE_CAP_OFFSET + pc::DEV_CTRL,
                               static_cast<uint32_t>(pc::DEV_CTRL_INITIATE_FLR.make(1)), 2);
            ASSERT_TRUE(wait_ready(h, 1));
        } else {
            ASSERT_TRUE(h.mgr->reset_vf(1).ok());  // returns once VF 1 is quiesced
        }
        reset_done_ns = io.now_ns();
        // Completions written before the reset finished are legitimate: take them now, so that
        // `seen` below counts everything that was written before the reset.
        doomed.poll();
        // Transactions Pending is clear once the reset has completed.
        EXPECT_EQ(pc::DEV_STATUS_TRANSACTIONS_PENDING.get(
                      h.bus(1).cfg_read(spec::pci::PCIE_CAP_OFFSET + pc::DEV_STATUS, 2)),
                  0u);
        EXPECT_GT(dma_before, 0u);
        EXPECT_EQ(resources_of(h.plat.adapter.contexts(), 1), 0u) << "VF 1 resources survive";
        // The bystander finishes clean and byte-exact.
        ASSERT_TRUE(test::run_flows(io, {&bystander}));
        EXPECT_EQ(bystander.errors, 0u);
        EXPECT_EQ(bystander.send_ok, 24u);
        EXPECT_EQ(bystander.recv_ok, 24u);
        EXPECT_EQ(bystander.mismatches(), 0u);
        // Nothing of VF 1 completes after its reset: no completion, no DMA at all.
        const uint32_t seen = doomed.send_ok + doomed.recv_ok + doomed.errors;
        for (int i = 0; i < 2000; ++i) io.relax();  // 100 us more
        doomed.poll();
        EXPECT_EQ(doomed.send_ok + doomed.recv_ok + doomed.errors, seen);
        EXPECT_EQ(late_dma, 0u);
        h.plat.adapter.set_dma_probe({});
        // The VF's next user starts from reset state: the driver probes again and runs clean,
        // and VF 2's and 3's resources were never touched.
        EXPECT_GT(resources_of(h.plat.adapter.contexts(), 2), 0u);
        ASSERT_TRUE(h.vf(1).probe()) << h.vf(1).last_error();
        spec::cmd::query_qp_out q{};
        EXPECT_EQ(doomed.a.qp->query(h.vf(1).cmd(), q).status, spec::cmd::status::BAD_RES);
        test::flow again;
        ASSERT_TRUE(again.setup(h.vf(1), h.vf(1), err)) << err;
        again.start(8, 2048, seed + 2);
        ASSERT_TRUE(test::run_flows(io, {&again}));
        EXPECT_EQ(again.errors, 0u);
        EXPECT_EQ(again.mismatches(), 0u);
        EXPECT_FALSE(h.plat.adapter.fatal());
    });
}

TEST(sriov_flr, config_space_flr_during_traffic_leaves_other_vfs_clean) {
    flr_during_traffic(how::config_flr, 0xF1A);
}

TEST(sriov_flr, manager_reset_vf_during_traffic_leaves_other_vfs_clean) {
    flr_during_traffic(how::manager_reset, 0xF1B);
}

TEST(sriov_flr, flr_resets_the_vf_msix_table_and_config_space) {
    auto plat = test::run_sriov([&](test::sriov_host& h) {
        std::string err;
        ASSERT_TRUE(h.bring_up(2, 2, err)) << err;
        cosim::sc_bus& b = h.bus(1);
        const uint64_t entry = h.vf(1).bar0() + spec::pci::MSIX_TABLE_OFFSET;
        namespace me = spec::pci::msix_entry;
        ASSERT_EQ(b.mmio_read32(entry + me::VECTOR_CTRL) & me::VECTOR_CTRL_MASKED, 0u);
        const uint32_t vf2_ctrl =
            h.bus(2).mmio_read32(h.vf(2).bar0() + spec::pci::MSIX_TABLE_OFFSET + me::DATA);
        b.cfg_write(spec::pci::PCIE_CAP_OFFSET + pc::DEV_CTRL,
                    static_cast<uint32_t>(pc::DEV_CTRL_INITIATE_FLR.make(1)), 2);
        ASSERT_TRUE(wait_ready(h, 1));
        EXPECT_EQ(b.mmio_read32(entry + me::VECTOR_CTRL) & me::VECTOR_CTRL_MASKED,
                  me::VECTOR_CTRL_MASKED);
        EXPECT_EQ(b.mmio_read32(entry + me::DATA), 0u);
        namespace cfg = spec::pci::cfg;
        EXPECT_EQ(cfg::COMMAND_BUS_MASTER.get(b.cfg_read(cfg::COMMAND, 2)), 0u);
        EXPECT_EQ(spec::pci::msix_cap::MSG_CTRL_ENABLE.get(
                      b.cfg_read(spec::pci::MSIX_CAP_OFFSET + spec::pci::msix_cap::MSG_CTRL, 2)),
                  0u);
        // VF 2 untouched.
        EXPECT_EQ(h.bus(2).mmio_read32(h.vf(2).bar0() + spec::pci::MSIX_TABLE_OFFSET + me::DATA),
                  vf2_ctrl);
        EXPECT_TRUE(h.vf(2).cmd().exec(spec::cmd::opcode::NOP, nullptr, 0, nullptr, 0).ok());
    });
}

}  // namespace
}  // namespace chio
