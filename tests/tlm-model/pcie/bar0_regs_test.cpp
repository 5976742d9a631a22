// bar0_regs: every register of spec::bar0::REGISTERS is walked for its reset value and access
// rights (house habit 3), then the edges: unmapped offsets, bad sizes and alignment.
#include "tlm-model/pcie/bar0_regs.h"

#include <chio/spec/spec.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

namespace chio::model {
namespace {

using spec::bar0::access;
using spec::bar0::reg_desc;
using spec::bar0::REGISTERS;
using st = bar0_regs::status;

constexpr uint32_t ALL_ONES = 0xFFFFFFFFu;

// What a guest read returns after power-on.
uint32_t reset_read(const reg_desc& d) { return d.acc == access::WO ? 0 : d.reset & ~d.w1sc_mask; }

bool is_mapped(uint32_t offset) {
    for (const reg_desc& d : REGISTERS) {
        if (d.offset == offset) return true;
    }
    return false;
}

uint32_t read(const bar0_regs& r, uint32_t offset) {
    uint32_t v = 0xDEADBEEF;
    EXPECT_EQ(r.read32(offset, v), st::ok) << "offset 0x" << std::hex << offset;
    return v;
}

TEST(bar0_regs, every_register_resets_to_spec_value) {
    bar0_regs r;
    for (const reg_desc& d : REGISTERS) EXPECT_EQ(read(r, d.offset), reset_read(d)) << d.name;
}

TEST(bar0_regs, every_register_follows_its_access_type) {
    for (const reg_desc& d : REGISTERS) {
        SCOPED_TRACE(d.name);
        bar0_regs r;
        std::vector<uint32_t> calls;
        if (d.w1sc_mask) {
            ASSERT_EQ(r.on_w1sc(d.offset, [&](uint32_t bits) { calls.push_back(bits); }), st::ok);
        } else {
            EXPECT_EQ(r.on_w1sc(d.offset, [](uint32_t) {}), st::no_w1sc_bits);
        }

        // All ones: RW bits take the write, RO bits keep the reset value, W1SC bits start the
        // action once and read back 0, WO registers read 0.
        ASSERT_EQ(r.write32(d.offset, ALL_ONES), st::ok);
        const uint32_t after_ones = (d.reset & ~d.write_mask & ~d.w1sc_mask) | d.write_mask;
        EXPECT_EQ(read(r, d.offset), d.acc == access::WO ? 0 : after_ones);
        if (d.w1sc_mask) {
            ASSERT_EQ(calls.size(), 1u);
            EXPECT_EQ(calls[0], d.w1sc_mask);
        }

        // All zeros: RW bits clear, nothing starts.
        ASSERT_EQ(r.write32(d.offset, 0), st::ok);
        const uint32_t after_zeros = d.reset & ~d.write_mask & ~d.w1sc_mask;
        EXPECT_EQ(read(r, d.offset), d.acc == access::WO ? 0 : after_zeros);
        EXPECT_EQ(calls.size(), d.w1sc_mask ? 1u : 0u);

        if (d.acc == access::RO) {
            EXPECT_EQ(d.write_mask, 0u) << "an RO register must not be writable";
            // The model publishes RO values with set(); the guest still cannot change them.
            ASSERT_EQ(r.set(d.offset, 0x5A5A5A5A), st::ok);
            EXPECT_EQ(read(r, d.offset), 0x5A5A5A5Au);
            ASSERT_EQ(r.write32(d.offset, ~0x5A5A5A5Au), st::ok);
            EXPECT_EQ(read(r, d.offset), 0x5A5A5A5Au);
        }

        if (d.acc == access::WO) {
            // Whatever the model holds, a WO register reads as zero.
            ASSERT_EQ(r.set(d.offset, ALL_ONES), st::ok);
            EXPECT_EQ(read(r, d.offset), 0u);
        }

        r.reset();
        EXPECT_EQ(read(r, d.offset), reset_read(d));
    }
}

TEST(bar0_regs, named_fields_behave_as_documented) {
    namespace reg = spec::bar0::reg;
    bar0_regs r;
    int resets = 0;
    ASSERT_EQ(r.on_w1sc(reg::DEV_CTRL, [&](uint32_t) { ++resets; }), st::ok);
    const uint32_t both =
        static_cast<uint32_t>(reg::DEV_CTRL_RESET.make(1) | reg::DEV_CTRL_HEALTH_EN.make(1));
    ASSERT_EQ(r.write32(reg::DEV_CTRL, both), st::ok);
    EXPECT_EQ(resets, 1);
    const uint32_t v = read(r, reg::DEV_CTRL);
    EXPECT_EQ(reg::DEV_CTRL_RESET.get(v), 0u);
    EXPECT_EQ(reg::DEV_CTRL_HEALTH_EN.get(v), 1u);

    int gos = 0;
    ASSERT_EQ(r.on_w1sc(reg::CMD_DB, [&](uint32_t bits) { gos += reg::CMD_DB_GO.get(bits); }),
              st::ok);
    ASSERT_EQ(r.write32(reg::CMD_DB, static_cast<uint32_t>(reg::CMD_DB_GO.make(1))), st::ok);
    EXPECT_EQ(gos, 1);
    EXPECT_EQ(read(r, reg::CMD_DB), 0u);

    EXPECT_EQ(read(r, reg::IF_REV), spec::SPEC_VERSION);
    EXPECT_EQ(read(r, reg::DB_OFFSET), spec::bar0::DB_OFFSET);
}

TEST(bar0_regs, handler_may_reset_the_block) {
    namespace reg = spec::bar0::reg;
    bar0_regs r;
    ASSERT_EQ(r.write32(reg::SCRATCH, 0x1234), st::ok);
    ASSERT_EQ(r.on_w1sc(reg::DEV_CTRL, [&](uint32_t) { r.reset(); }), st::ok);
    ASSERT_EQ(r.write32(reg::DEV_CTRL, static_cast<uint32_t>(reg::DEV_CTRL_RESET.make(1) |
                                                             reg::DEV_CTRL_HEALTH_EN.make(1))),
              st::ok);
    EXPECT_EQ(read(r, reg::SCRATCH), 0u);
    EXPECT_EQ(read(r, reg::DEV_CTRL), 0u);
}

TEST(bar0_regs, sixty_four_bit_access_covers_two_registers) {
    namespace reg = spec::bar0::reg;
    static_assert(reg::CMD_ADDR_HI == reg::CMD_ADDR_LO + 4 && reg::CMD_ADDR_LO % 8 == 0);
    bar0_regs r;
    const uint64_t addr = 0x0000'1234'5678'9A80ull;
    uint8_t buf[8];
    for (int i = 0; i < 8; ++i) buf[i] = static_cast<uint8_t>(addr >> (8 * i));
    ASSERT_EQ(r.write(reg::CMD_ADDR_LO, buf, 8), st::ok);
    EXPECT_EQ(read(r, reg::CMD_ADDR_LO), static_cast<uint32_t>(addr));
    EXPECT_EQ(read(r, reg::CMD_ADDR_HI), static_cast<uint32_t>(addr >> 32));
    uint8_t back[8] = {};
    ASSERT_EQ(r.read(reg::CMD_ADDR_LO, back, 8), st::ok);
    for (int i = 0; i < 8; ++i) EXPECT_EQ(back[i], buf[i]) << "byte " << i;
}

TEST(bar0_regs, unmapped_offsets_are_refused_without_side_effects) {
    bar0_regs r;
    int refused = 0;
    for (uint32_t off = 0; off < spec::bar0::REGS_SIZE; off += 4) {
        if (is_mapped(off)) continue;
        uint32_t v = 0;
        EXPECT_EQ(r.read32(off, v), st::unmapped) << std::hex << off;
        EXPECT_EQ(r.write32(off, ALL_ONES), st::unmapped) << std::hex << off;
        ++refused;
    }
    EXPECT_GT(refused, 0);
    // A QWORD with one mapped and one unmapped half is refused as a whole, and the mapped half
    // keeps its value.
    int half_mapped = 0;
    for (uint32_t off = 0; off < spec::bar0::REGS_SIZE; off += 8) {
        if (is_mapped(off) == is_mapped(off + 4)) continue;
        uint8_t buf[8];
        for (auto& b : buf) b = 0xFF;
        EXPECT_EQ(r.write(off, buf, 8), st::unmapped) << std::hex << off;
        EXPECT_EQ(r.read(off, buf, 8), st::unmapped) << std::hex << off;
        ++half_mapped;
    }
    EXPECT_GT(half_mapped, 0);
    for (const reg_desc& d : REGISTERS) EXPECT_EQ(read(r, d.offset), reset_read(d)) << d.name;

    uint32_t v = 0;
    EXPECT_EQ(r.read32(spec::bar0::REGS_SIZE, v), st::out_of_range);
    EXPECT_EQ(r.write32(ALL_ONES - 3, 0), st::out_of_range);
    EXPECT_EQ(r.set(spec::bar0::REGS_SIZE, 0), st::out_of_range);
}

TEST(bar0_regs, bad_sizes_and_misaligned_accesses_are_refused) {
    namespace reg = spec::bar0::reg;
    bar0_regs r;
    uint8_t buf[16] = {};
    for (size_t len : {0u, 1u, 2u, 3u, 5u, 16u}) {
        EXPECT_EQ(r.read(reg::SCRATCH, buf, len), st::bad_size) << len;
        EXPECT_EQ(r.write(reg::SCRATCH, buf, len), st::bad_size) << len;
    }
    EXPECT_EQ(r.read(reg::SCRATCH + 2, buf, 4), st::misaligned);
    EXPECT_EQ(r.write(reg::SCRATCH + 1, buf, 4), st::misaligned);
    EXPECT_EQ(r.write(reg::CMD_ADDR_LO + 4, buf, 8), st::misaligned);
}

}  // namespace
}  // namespace chio::model
