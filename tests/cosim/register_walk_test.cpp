// Walks every register of the generated BAR0 table through the real path (driver bus -> root
// complex -> adapter MMIO decode -> register file) and checks reset value and access type.
#include <gtest/gtest.h>

#include "support/platform_fixture.h"

namespace chio {
namespace {

namespace cfg = spec::pci::cfg;
namespace reg = spec::bar0::reg;
using spec::bar0::access;

// Minimal enumeration: BAR0 at an address, memory space on. No reset, so reset values show.
uint64_t enumerate(drv::bus& b) {
    const uint64_t bar = b.bar_window(0, uint64_t{1} << spec::pci::BAR0_SIZE_LOG2);
    b.cfg_write(cfg::BAR0, static_cast<uint32_t>(bar), 4);
    b.cfg_write(cfg::BAR1, static_cast<uint32_t>(bar >> 32), 4);
    b.cfg_write(cfg::COMMAND, static_cast<uint32_t>(cfg::COMMAND_MEM_SPACE.make(1)), 2);
    return bar;
}

TEST(register_walk, every_register_resets_and_behaves_as_declared) {
    test::run_driver([](drv::bus& b, cosim::platform&) {
        const uint64_t bar = enumerate(b);
        // Power-on: READY rises after the reset time.
        for (int i = 0;
             i < 1000 && !reg::DEV_STATUS_READY.get(b.mmio_read32(bar + reg::DEV_STATUS)); ++i) {
            b.relax();
        }
        for (const auto& r : spec::bar0::REGISTERS) {
            SCOPED_TRACE(r.name);
            const uint64_t a = bar + r.offset;
            uint32_t expect = r.reset;
            // DEV_STATUS.READY is driven by the device: set once power-on reset is done.
            if (r.offset == reg::DEV_STATUS) expect |= reg::DEV_STATUS_READY.make(1);
            EXPECT_EQ(b.mmio_read32(a), expect) << "reset value";
            switch (r.acc) {
                case access::RO:
                    b.mmio_write32(a, ~expect);
                    EXPECT_EQ(b.mmio_read32(a), expect) << "read-only register changed";
                    break;
                case access::RW: {
                    // Never write write-1-to-start bits here (DEV_CTRL.RESET would reset).
                    const uint32_t ones = ~r.w1sc_mask;
                    b.mmio_write32(a, ones);
                    EXPECT_EQ(b.mmio_read32(a), (ones & r.write_mask) | (r.reset & ~r.write_mask))
                        << "writable bits";
                    b.mmio_write32(a, 0);
                    EXPECT_EQ(b.mmio_read32(a), r.reset & ~r.write_mask) << "after writing 0";
                    b.mmio_write32(a, r.reset);
                    break;
                }
                case access::WO:
                    b.mmio_write32(a, 0);
                    EXPECT_EQ(b.mmio_read32(a), 0u) << "write-only register reads 0";
                    break;
            }
        }
    });
}

TEST(register_walk, bar0_answers_only_with_memory_space_enabled) {
    test::run_driver([](drv::bus& b, cosim::platform&) {
        const uint64_t bar = enumerate(b);
        EXPECT_EQ(b.mmio_read32(bar + reg::FW_REV), spec::bar0::REGISTERS[0].reset);
        b.cfg_write(cfg::COMMAND, 0, 2);
        EXPECT_EQ(b.mmio_read32(bar + reg::FW_REV), 0xFFFFFFFFu) << "decoded with MEM_SPACE off";
    });
}

}  // namespace
}  // namespace chio
