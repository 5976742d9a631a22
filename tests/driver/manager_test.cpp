// The manager API on the PF: argument refusals, one log line per action naming what, which
// function, the values and the status, and enable/disable through the SR-IOV capability.
#include "driver/manager.h"

#include <gtest/gtest.h>

#include "support/sriov_host.h"

namespace chio {
namespace {

namespace sr = spec::pci::sriov_cap;
using spec::cmd::status;

TEST(manager, refuses_bad_vf_counts_and_logs_every_action) {
    auto plat = test::run_sriov([&](test::sriov_host& h) {
        std::string err;
        ASSERT_TRUE(h.bring_up(0, 0, err)) << err;
        drv::manager& m = *h.mgr;
        EXPECT_EQ(m.total_vfs(), spec::pci::TOTAL_VFS);
        EXPECT_EQ(m.enable_vfs(0).status, status::BAD_PARAM);
        EXPECT_EQ(m.enable_vfs(spec::pci::TOTAL_VFS + 1).status, status::BAD_PARAM);
        const uint32_t ctrl_off = spec::pci::EXT_CAP_OFFSET + sr::SRIOV_CTRL;
        EXPECT_EQ(sr::SRIOV_CTRL_VF_ENABLE.get(h.pf_bus.cfg_read(ctrl_off, 2)), 0u);
        ASSERT_TRUE(m.enable_vfs(4).ok());
        EXPECT_EQ(m.num_vfs(), 4u);
        const uint32_t ctrl = h.pf_bus.cfg_read(ctrl_off, 2);
        EXPECT_EQ(sr::SRIOV_CTRL_VF_ENABLE.get(ctrl), 1u);
        EXPECT_EQ(sr::SRIOV_CTRL_VF_MSE.get(ctrl), 1u);
        EXPECT_EQ(h.pf_bus.cfg_read(spec::pci::EXT_CAP_OFFSET + sr::NUM_VFS, 2), 4u);
        // Re-enabling with another count goes through disable (NumVFs is locked while enabled).
        ASSERT_TRUE(m.enable_vfs(2).ok());
        EXPECT_EQ(h.pf_bus.cfg_read(spec::pci::EXT_CAP_OFFSET + sr::NUM_VFS, 2), 2u);
        EXPECT_EQ(m.reset_vf(0).status, status::BAD_PARAM);
        EXPECT_EQ(m.reset_vf(3).status, status::BAD_RES_STATE);  // beyond NumVFs
        drv::vf_stats s{};
        EXPECT_EQ(m.query_stats(spec::pci::TOTAL_VFS + 1, s).status, status::BAD_PARAM);
        ASSERT_TRUE(m.disable_vfs().ok());
        EXPECT_EQ(m.num_vfs(), 0u);
        // One line per action, each with its status.
        ASSERT_EQ(h.log.size(), 9u);
        EXPECT_NE(h.log[0].find("enable_vfs n=0"), std::string::npos) << h.log[0];
        EXPECT_NE(h.log[0].find("BAD_PARAM"), std::string::npos) << h.log[0];
        EXPECT_NE(h.log[2].find("enable_vfs n=4"), std::string::npos) << h.log[2];
        EXPECT_NE(h.log[3].find("disable_vfs n=4"), std::string::npos) << h.log[3];
        EXPECT_NE(h.log[5].find("reset_vf fn=0 -> BAD_PARAM"), std::string::npos) << h.log[5];
        EXPECT_NE(h.log[6].find("reset_vf fn=3 -> BAD_RES_STATE"), std::string::npos) << h.log[6];
        for (const std::string& l : h.log) EXPECT_EQ(l.rfind("manager: ", 0), 0u) << l;
    });
}

}  // namespace
}  // namespace chio
