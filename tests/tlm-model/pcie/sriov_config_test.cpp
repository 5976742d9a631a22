// SR-IOV configuration-space conformance (PCIe Base 4.0 chapter 9): the PF's capability (VF BAR
// sizing, NumVFs locked while VFs exist, the control accessors and change hook) and a VF's header
// (ids read FFFFh, BARs read 0, Memory Space hardwired 0, FLR and MSI-X present).
#include <chio/spec/spec.h>
#include <gtest/gtest.h>

#include <cstdint>

#include "tlm-model/pcie/config_space.h"

namespace chio::model {
namespace {

namespace cfg = spec::pci::cfg;
namespace sr = spec::pci::sriov_cap;
namespace pcie = spec::pci::pcie_cap;
using st = config_space::status;

constexpr uint32_t SRIOV = spec::pci::EXT_CAP_OFFSET;
constexpr uint64_t VF_BAR_BYTES = uint64_t{1} << spec::pci::BAR0_SIZE_LOG2;

uint32_t rd(const config_space& c, uint32_t off, size_t size) {
    uint32_t v = 0xDEADBEEF;
    EXPECT_EQ(c.read(off, v, size), st::ok) << "offset 0x" << std::hex << off;
    return v;
}

void wr(config_space& c, uint32_t off, uint32_t v, size_t size) {
    EXPECT_EQ(c.write(off, v, size), st::ok) << "offset 0x" << std::hex << off;
}

uint32_t ctrl_bits(bool enable, bool mse) {
    return static_cast<uint32_t>(sr::SRIOV_CTRL_VF_ENABLE.make(enable ? 1 : 0) |
                                 sr::SRIOV_CTRL_VF_MSE.make(mse ? 1 : 0));
}

TEST(sriov_config, vf_bar_sizing_reads_back_the_per_vf_size_mask) {
    config_space pf;
    const uint32_t type = rd(pf, SRIOV + sr::VF_BAR0, 4);
    EXPECT_EQ(sr::VF_BAR0_MEM_TYPE_64.get(type), spec::pci::BAR_MEM_TYPE_64);
    EXPECT_EQ(sr::VF_BAR0_PREFETCHABLE.get(type), 1u);
    wr(pf, SRIOV + sr::VF_BAR0, 0xFFFFFFFFu, 4);
    wr(pf, SRIOV + sr::VF_BAR1, 0xFFFFFFFFu, 4);
    const uint64_t mask =
        uint64_t{rd(pf, SRIOV + sr::VF_BAR1, 4)} << 32 | (rd(pf, SRIOV + sr::VF_BAR0, 4) & ~0xFull);
    EXPECT_EQ(~mask + 1, VF_BAR_BYTES);
    // Assignment: the base reads back with the type bits, and the accessor follows.
    const uint64_t base = 0x12'4000'0000ull;
    wr(pf, SRIOV + sr::VF_BAR0, static_cast<uint32_t>(base), 4);
    wr(pf, SRIOV + sr::VF_BAR1, static_cast<uint32_t>(base >> 32), 4);
    EXPECT_EQ(pf.vf_bar0_base(), base);
    EXPECT_EQ(rd(pf, SRIOV + sr::VF_BAR0, 4) & 0xF, type & 0xF);
}

TEST(sriov_config, num_vfs_is_locked_while_vfs_exist_and_clamped_to_total) {
    config_space pf;
    int changes = 0;
    pf.on_sriov_change([&] { ++changes; });
    wr(pf, SRIOV + sr::NUM_VFS, 3, 2);
    EXPECT_EQ(pf.num_vfs(), 0u) << "no VFs before VF Enable";
    EXPECT_FALSE(pf.vf_enabled());
    wr(pf, SRIOV + sr::SRIOV_CTRL, ctrl_bits(true, false), 2);
    EXPECT_EQ(changes, 1);
    EXPECT_TRUE(pf.vf_enabled());
    EXPECT_FALSE(pf.vf_mse());
    EXPECT_EQ(pf.num_vfs(), 3u);
    wr(pf, SRIOV + sr::NUM_VFS, 5, 2);  // ignored while VF Enable is set
    EXPECT_EQ(rd(pf, SRIOV + sr::NUM_VFS, 2), 3u);
    EXPECT_EQ(pf.num_vfs(), 3u);
    wr(pf, SRIOV + sr::SRIOV_CTRL, ctrl_bits(true, true), 2);
    EXPECT_EQ(changes, 2);
    EXPECT_TRUE(pf.vf_mse());
    wr(pf, SRIOV + sr::SRIOV_CTRL, ctrl_bits(true, true), 2);  // no change, no event
    EXPECT_EQ(changes, 2);
    wr(pf, SRIOV + sr::SRIOV_CTRL, 0, 2);
    EXPECT_EQ(changes, 3);
    EXPECT_EQ(pf.num_vfs(), 0u);
    // More than TotalVFs: the function count in force never exceeds TotalVFs.
    wr(pf, SRIOV + sr::NUM_VFS, spec::pci::TOTAL_VFS + 7, 2);
    wr(pf, SRIOV + sr::SRIOV_CTRL, ctrl_bits(true, true), 2);
    EXPECT_EQ(pf.num_vfs(), spec::pci::TOTAL_VFS);
}

TEST(sriov_config, pf_reset_clears_vf_enable) {
    config_space pf;
    wr(pf, SRIOV + sr::NUM_VFS, 2, 2);
    wr(pf, SRIOV + sr::SRIOV_CTRL, ctrl_bits(true, true), 2);
    ASSERT_TRUE(pf.vf_enabled());
    pf.reset();
    EXPECT_FALSE(pf.vf_enabled());
    EXPECT_EQ(pf.num_vfs(), 0u);
}

TEST(sriov_config, vf_header_follows_the_vf_rules) {
    config_space vf(config_space::kind::vf);
    EXPECT_TRUE(vf.is_vf());
    EXPECT_EQ(rd(vf, cfg::VENDOR_ID, 2), 0xFFFFu);
    EXPECT_EQ(rd(vf, cfg::DEVICE_ID, 2), 0xFFFFu);
    // BARs are in the PF's capability: a VF's read 0 and keep nothing written.
    wr(vf, cfg::BAR0, 0xFFFFFFFFu, 4);
    wr(vf, cfg::BAR1, 0xFFFFFFFFu, 4);
    EXPECT_EQ(rd(vf, cfg::BAR0, 4), 0u);
    EXPECT_EQ(rd(vf, cfg::BAR1, 4), 0u);
    // Memory Space Enable is hardwired 0; Bus Master Enable works.
    wr(vf, cfg::COMMAND,
       static_cast<uint32_t>(cfg::COMMAND_MEM_SPACE.make(1) | cfg::COMMAND_BUS_MASTER.make(1)), 2);
    EXPECT_FALSE(vf.mem_enabled());
    EXPECT_TRUE(vf.bus_master());
    // FLR capable, MSI-X present, no SR-IOV capability of its own.
    EXPECT_EQ(pcie::DEV_CAP_FLR.get(rd(vf, spec::pci::PCIE_CAP_OFFSET + pcie::DEV_CAP, 4)), 1u);
    EXPECT_EQ(rd(vf, spec::pci::MSIX_CAP_OFFSET, 1), spec::pci::cap_id::MSIX);
    EXPECT_EQ(rd(vf, SRIOV, 4), 0u);
    EXPECT_FALSE(vf.vf_enabled());
    EXPECT_EQ(vf.num_vfs(), 0u);
    // A VF cannot enable VFs: the SR-IOV registers do not exist in it.
    wr(vf, SRIOV + sr::SRIOV_CTRL, ctrl_bits(true, true), 2);
    EXPECT_EQ(rd(vf, SRIOV + sr::SRIOV_CTRL, 2), 0u);
}

TEST(sriov_config, vf_flr_resets_bus_master_and_calls_back) {
    config_space vf(config_space::kind::vf);
    int flrs = 0;
    vf.on_flr([&] { ++flrs; });
    wr(vf, cfg::COMMAND, static_cast<uint32_t>(cfg::COMMAND_BUS_MASTER.make(1)), 2);
    ASSERT_TRUE(vf.bus_master());
    wr(vf, spec::pci::PCIE_CAP_OFFSET + pcie::DEV_CTRL,
       static_cast<uint32_t>(pcie::DEV_CTRL_INITIATE_FLR.make(1)), 2);
    EXPECT_EQ(flrs, 1);
    EXPECT_FALSE(vf.bus_master());
    EXPECT_EQ(rd(vf, cfg::VENDOR_ID, 2), 0xFFFFu);
}

}  // namespace
}  // namespace chio::model
