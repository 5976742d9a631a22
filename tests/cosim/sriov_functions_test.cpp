// SR-IOV functions end to end: the PF's manager enables VFs, each VF runs the same driver on its
// own bus (config requests to its routing id, its own BAR0 inside the PF's VF BAR window, its
// own MSI-X table), VFs exchange RDMA traffic through the adapter's loopback, and functions that
// do not exist answer UR.
#include <gtest/gtest.h>

#include "support/sriov_host.h"

namespace chio {
namespace {

namespace cfg = spec::pci::cfg;
namespace reg = spec::bar0::reg;
namespace sr = spec::pci::sriov_cap;

constexpr uint64_t BAR_BYTES = uint64_t{1} << spec::pci::BAR0_SIZE_LOG2;

TEST(sriov_functions, vfs_probe_with_the_same_driver_and_have_their_own_bars) {
    std::vector<std::string> log;
    auto plat = test::run_sriov([&](test::sriov_host& h) {
        std::string err;
        ASSERT_TRUE(h.bring_up(3, 3, err)) << err;
        log = h.log;
        const uint64_t vf_bar =
            h.pf_bus.cfg_read(spec::pci::EXT_CAP_OFFSET + sr::VF_BAR0, 4) & ~uint64_t{0xF};
        for (uint16_t fn = 1; fn <= 3; ++fn) {
            SCOPED_TRACE(fn);
            drv::device& d = h.vf(fn);
            EXPECT_TRUE(d.is_vf());
            EXPECT_EQ(d.bar0(), vf_bar + (fn - 1u) * BAR_BYTES);
            EXPECT_EQ(d.caps().max_qp, spec::limits::MAX_QP);
            // Each VF's BAR holds its own register file: SCRATCH written through one VF is not
            // seen through another or through the PF.
            h.bus(fn).mmio_write32(d.bar0() + reg::SCRATCH, 0x5000 + fn);
            // The port query names the identity the manager assigned.
            spec::cmd::query_port_out port{};
            ASSERT_TRUE(d.query_port(port).ok());
            EXPECT_EQ(port.mac, test::vf_mac(fn));
            EXPECT_EQ(port.gid_lo, test::vf_gid_lo(fn));
        }
        for (uint16_t fn = 1; fn <= 3; ++fn) {
            EXPECT_EQ(h.bus(fn).mmio_read32(h.vf(fn).bar0() + reg::SCRATCH), 0x5000u + fn);
        }
        EXPECT_EQ(h.pf_bus.mmio_read32(h.pf->bar0() + reg::SCRATCH), 0u);
        // The VF's own config space: MSI-X enabled by its driver, not the PF's.
        EXPECT_EQ(h.bus(1).cfg_read(cfg::VENDOR_ID, 2), spec::pci::VENDOR_ID);
        EXPECT_EQ(h.bus(1).cfg_read(cfg::DEVICE_ID, 2), spec::pci::VF_DEVICE_ID);
        EXPECT_EQ(h.bus(1).mmio_errors(), 0u);
    });
    ASSERT_GE(log.size(), 4u);
    EXPECT_NE(log[0].find("enable_vfs n=3"), std::string::npos) << log[0];
    EXPECT_NE(log[0].find("-> OK"), std::string::npos) << log[0];
    EXPECT_NE(log[1].find("set_address fn=1"), std::string::npos) << log[1];
}

TEST(sriov_functions, absent_functions_answer_unsupported_request) {
    auto plat = test::run_sriov([&](test::sriov_host& h) {
        std::string err;
        ASSERT_TRUE(h.bring_up(0, 0, err)) << err;
        // No VF before VF Enable: config reads complete with UR (all ones).
        cosim::sc_bus& vf1 = h.bus(1);
        const uint64_t errs = vf1.mmio_errors();
        EXPECT_EQ(vf1.cfg_read(spec::pci::PCIE_CAP_OFFSET, 2), 0xFFFFu);
        ASSERT_TRUE(h.mgr->enable_vfs(2).ok());
        EXPECT_NE(vf1.cfg_read(spec::pci::PCIE_CAP_OFFSET, 2), 0xFFFFu);
        // VF 3 is beyond NumVFs: UR for config and memory requests.
        cosim::sc_bus& vf3 = h.bus(3);
        EXPECT_EQ(vf3.cfg_read(spec::pci::PCIE_CAP_OFFSET, 2), 0xFFFFu);
        const uint64_t vf3_bar = vf3.bar_window(0, BAR_BYTES);
        EXPECT_EQ(vf3.mmio_read32(vf3_bar + reg::IF_REV), 0xFFFFFFFFu);
        ASSERT_TRUE(h.vf(2).probe()) << h.vf(2).last_error();
        const uint64_t vf2_bar = h.vf(2).bar0();
        EXPECT_EQ(h.bus(2).mmio_read32(vf2_bar + reg::IF_REV), spec::SPEC_VERSION);
        // Disable: VF 2 vanishes (its BAR and config answer UR).
        ASSERT_TRUE(h.mgr->disable_vfs().ok());
        EXPECT_EQ(h.bus(2).mmio_read32(vf2_bar + reg::IF_REV), 0xFFFFFFFFu);
        EXPECT_EQ(h.bus(2).cfg_read(spec::pci::PCIE_CAP_OFFSET, 2), 0xFFFFu);
        EXPECT_GT(vf1.mmio_errors(), errs);
        // Enable again: VF 2 is back in reset state and probes again.
        ASSERT_TRUE(h.mgr->enable_vfs(2).ok());
        EXPECT_TRUE(h.vf(2).probe()) << h.vf(2).last_error();
    });
}

TEST(sriov_functions, rdma_between_vfs_on_one_adapter_is_byte_exact) {
    const uint64_t seed = 0x5A17;
    std::printf("seed %llu\n", static_cast<unsigned long long>(seed));
    auto plat = test::run_sriov([&](test::sriov_host& h) {
        std::string err;
        ASSERT_TRUE(h.bring_up(2, 2, err)) << err;
        test::flow f;
        ASSERT_TRUE(f.setup(h.vf(1), h.vf(2), err)) << err;
        // Every DMA into a VF's buffer carries that VF's function number (what the IOMMU
        // confines by).
        uint64_t tagged_right = 0, tagged_wrong = 0;
        auto in = [](const drv::dma_buffer& b, uint64_t a) {
            return a >= b.bus && a < b.bus + b.size;
        };
        h.plat.adapter.set_dma_probe([&](uint16_t fn, bool, uint64_t addr, uint64_t, bool ok) {
            if (!ok) return;
            const int owner = in(f.a.buf, addr) ? 1 : in(f.b.buf, addr) ? 2 : -1;
            if (owner < 0) return;
            (owner == fn ? tagged_right : tagged_wrong)++;
        });
        f.start(24, 4096, seed);
        ASSERT_TRUE(test::run_flows(h.pf_bus, {&f}));
        EXPECT_EQ(f.errors, 0u);
        EXPECT_EQ(f.send_ok, 24u);
        EXPECT_EQ(f.recv_ok, 24u);
        EXPECT_EQ(f.mismatches(), 0u);
        h.plat.adapter.set_dma_probe({});
        EXPECT_GE(tagged_right, 48u);  // at least one payload read and one write per message
        EXPECT_EQ(tagged_wrong, 0u);
        // The PF sees the VFs' activity in their statistics, not in its own.
        drv::vf_stats s1{}, s0{};
        ASSERT_TRUE(h.mgr->query_stats(1, s1).ok());
        ASSERT_TRUE(h.mgr->query_stats(0, s0).ok());
        EXPECT_EQ(s1.errors, 0u);
    });
}

}  // namespace
}  // namespace chio
