// Migration commands from a VF (catalogue B9). SUSPEND_VF, SAVE_VF, LOAD_VF, RESUME_VF and
// READ_DIRTY (0x0906-0x090A) act on another function and move its state through host memory:
// they are the PF's (docs/migration.md). From a VF they do not exist: each completes with BAD_OP,
// counted against the issuing VF, and nothing happens — no function is suspended or resumed, no
// blob is loaded, and no byte is written into the VF's buffer. Otherwise a guest could freeze,
// read out or overwrite another guest. (The other manager commands from a VF:
// sriov_isolation.manager_commands_from_a_vf_are_bad_op_and_change_nothing.)
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>

#include "support/sriov_host.h"

namespace chio {
namespace {

using spec::cmd::status;

constexpr uint8_t FILL = 0x5A;

bool untouched(const drv::dma_buffer& b, size_t n) {
    const auto* p = static_cast<const uint8_t*>(b.cpu);
    return std::all_of(p, p + n, [](uint8_t v) { return v == FILL; });
}

TEST(vf_migration_commands, are_bad_op_from_a_vf_and_change_nothing) {
    test::run_sriov([&](test::sriov_host& h) {
        std::string err;
        ASSERT_TRUE(h.bring_up(3, 2, err)) << err;
        drv::manager& pf = *h.mgr;
        drv::manager from_vf(h.vf(2));
        constexpr size_t SIZE = 64 << 10;
        drv::dma_buffer out = h.bus(2).dma_alloc(SIZE, 4096);   // where SAVE/READ_DIRTY would write
        drv::dma_buffer blob = h.bus(2).dma_alloc(SIZE, 4096);  // a real blob for LOAD_VF
        std::memset(out.cpu, FILL, SIZE);
        const uint32_t errors_before = h.plat.adapter.contexts().fns[2].errors;

        EXPECT_EQ(from_vf.suspend_vf(1).status, status::BAD_OP);
        EXPECT_FALSE(h.plat.adapter.suspended(1)) << "a VF suspended VF 1";

        // The PF suspends VF 1 and saves it; the VF tries the rest of the sequence.
        ASSERT_TRUE(pf.suspend_vf(1).ok());
        drv::dma_buffer pf_blob = h.pf_bus.dma_alloc(SIZE, 4096);
        uint32_t size = 0;
        ASSERT_TRUE(pf.save_vf(1, pf_blob, size).ok());
        ASSERT_LE(size, SIZE);
        std::memcpy(blob.cpu, pf_blob.cpu, size);

        uint32_t vf_size = 0;
        EXPECT_EQ(from_vf.save_vf(1, out, vf_size).status, status::BAD_OP);
        EXPECT_TRUE(untouched(out, SIZE)) << "SAVE_VF from a VF wrote VF 1's state";
        EXPECT_EQ(from_vf.load_vf(3, blob, size).status, status::BAD_OP);
        EXPECT_FALSE(h.plat.adapter.suspended(3)) << "LOAD_VF from a VF loaded VF 3";
        EXPECT_EQ(from_vf.resume_vf(1).status, status::BAD_OP);
        EXPECT_TRUE(h.plat.adapter.suspended(1)) << "a VF resumed VF 1";
        uint32_t dirty = 0, outside = 0;
        EXPECT_EQ(from_vf.read_dirty(1, out, 0, 1024, dirty, outside).status, status::BAD_OP);
        EXPECT_TRUE(untouched(out, SIZE)) << "READ_DIRTY from a VF wrote a bitmap";

        EXPECT_EQ(h.plat.adapter.contexts().fns[2].errors - errors_before, 5u);
        // The PF's own sequence still works, and VF 1 runs again.
        ASSERT_TRUE(pf.resume_vf(1).ok());
        EXPECT_FALSE(h.plat.adapter.suspended(1));
        EXPECT_TRUE(h.vf(1).cmd().exec(spec::cmd::opcode::NOP, nullptr, 0, nullptr, 0).ok());
        h.bus(2).dma_free(out);
        h.bus(2).dma_free(blob);
        h.pf_bus.dma_free(pf_blob);
    });
}

}  // namespace
}  // namespace chio
