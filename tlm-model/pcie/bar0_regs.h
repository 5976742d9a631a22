// The initialization segment of BAR0: the register block at BAR0 offset 0, generated from
// spec::bar0::REGISTERS.
//
// Contract: the SystemC endpoint hands every MMIO access that falls in [0, spec::bar0::REGS_SIZE)
// to read()/write() and turns a status other than ok into a TLM address error (an unsupported
// request on the link). Guest input never asserts: every bad offset or size is a status.
//
// Access rules come from the table, never from a switch over offsets:
//   RO   writes ignored; the model sets the value with set() (DEV_STATUS, HEALTH_COUNTER, ...)
//   RW   a write changes the bits in write_mask only
//   WO   reads return 0
//   W1SC bits in w1sc_mask: a write of 1 calls the handler registered with on_w1sc() and the bit
//        reads back 0 (the action starts on the write; completion is reported elsewhere, e.g.
//        DEV_STATUS.READY)
// Plain C++ (no SystemC) so it can be unit tested and reused by the RTL co-simulation.
#pragma once

#include <chio/spec/spec.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <iterator>

namespace chio::model {

class bar0_regs {
public:
    enum class status : uint8_t {
        ok,
        unmapped,      // inside the block but no register there
        out_of_range,  // outside [0, REGS_SIZE)
        bad_size,      // not a 4- or 8-byte access
        misaligned,    // not naturally aligned
        no_w1sc_bits,  // on_w1sc() for a register without write-1-to-start bits
    };

    // Called after a write with a 1 in any W1SC bit; `bits` holds the W1SC bits written as 1.
    // The handler may call back into this object (e.g. reset() on DEV_CTRL.RESET).
    using w1sc_handler = std::function<void(uint32_t bits)>;

    bar0_regs();

    // Guest accesses. len is 4, or 8 for an 8-aligned pair of registers (both must exist; the
    // lower one is written first, as the bytes arrive in address order). Little endian.
    status read(uint32_t offset, uint8_t* data, size_t len) const;
    status write(uint32_t offset, const uint8_t* data, size_t len);
    status read32(uint32_t offset, uint32_t& value) const;
    status write32(uint32_t offset, uint32_t value);

    // Model side: set a register's stored value directly, bypassing the guest access rules
    // (W1SC bits are never stored: they always read 0).
    status set(uint32_t reg_offset, uint32_t value);
    // The stored value (what a guest read returns, except that WO registers read 0).
    uint32_t get(uint32_t reg_offset) const;

    status on_w1sc(uint32_t reg_offset, w1sc_handler handler);

    // Every register back to its spec reset value; handlers stay registered.
    void reset();

private:
    static constexpr size_t NUM_REGS = std::size(spec::bar0::REGISTERS);
    static constexpr uint32_t REG_BYTES = sizeof(uint32_t);
    static constexpr int NO_REG = -1;

    // Index into spec::bar0::REGISTERS for a 4-byte slot of the block, or NO_REG.
    int index_of(uint32_t offset) const;
    status check(uint32_t offset, size_t len) const;
    uint32_t read_reg(int idx) const;
    void write_reg(int idx, uint32_t value);

    std::array<int16_t, spec::bar0::REGS_SIZE / REG_BYTES> m_index{};
    std::array<uint32_t, NUM_REGS> m_value{};
    std::array<w1sc_handler, NUM_REGS> m_handler{};
};

}  // namespace chio::model
