#include "tlm-model/pcie/bar0_regs.h"

#include <utility>

namespace chio::model {

namespace {

using spec::bar0::access;
using spec::bar0::REGISTERS;

uint32_t load_le32(const uint8_t* p) {
    return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
}

void store_le32(uint8_t* p, uint32_t v) {
    for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}

}  // namespace

bar0_regs::bar0_regs() {
    m_index.fill(NO_REG);
    for (size_t i = 0; i < NUM_REGS; ++i) {
        // gen_spec.py checks that offsets are 4-aligned, unique and inside the block.
        m_index[REGISTERS[i].offset / REG_BYTES] = static_cast<int16_t>(i);
    }
    reset();
}

void bar0_regs::reset() {
    for (size_t i = 0; i < NUM_REGS; ++i) m_value[i] = REGISTERS[i].reset & ~REGISTERS[i].w1sc_mask;
}

int bar0_regs::index_of(uint32_t offset) const {
    if (offset >= spec::bar0::REGS_SIZE || offset % REG_BYTES) return NO_REG;
    return m_index[offset / REG_BYTES];
}

// A 4-byte access must hit a register; an 8-byte access must be 8-aligned and cover two
// registers (PCIe allows a QWORD memory write to span two DWORD registers; the block has no
// 64-bit registers of its own). Everything is checked before anything changes, so a refused
// access has no side effect.
bar0_regs::status bar0_regs::check(uint32_t offset, size_t len) const {
    if (len != REG_BYTES && len != 2 * REG_BYTES) return status::bad_size;
    if (offset >= spec::bar0::REGS_SIZE || len > spec::bar0::REGS_SIZE - offset) {
        return status::out_of_range;
    }
    if (offset % len) return status::misaligned;
    for (uint32_t o = offset; o < offset + len; o += REG_BYTES) {
        if (index_of(o) == NO_REG) return status::unmapped;
    }
    return status::ok;
}

uint32_t bar0_regs::read_reg(int idx) const {
    // WO registers read as zero (spec/chio.toml access types).
    return REGISTERS[idx].acc == access::WO ? 0 : m_value[idx];
}

void bar0_regs::write_reg(int idx, uint32_t value) {
    const spec::bar0::reg_desc& d = REGISTERS[idx];
    // RO: write_mask is 0, so the stored value stays. RW: only write_mask bits change. The
    // state is updated before the handler runs so that a handler which resets the block is not
    // undone afterwards.
    m_value[idx] = (m_value[idx] & ~d.write_mask) | (value & d.write_mask);
    const uint32_t started = value & d.w1sc_mask;
    if (started && m_handler[idx]) m_handler[idx](started);
}

bar0_regs::status bar0_regs::read(uint32_t offset, uint8_t* data, size_t len) const {
    const status st = check(offset, len);
    if (st != status::ok) return st;
    for (size_t i = 0; i < len; i += REG_BYTES) {
        store_le32(data + i, read_reg(index_of(offset + static_cast<uint32_t>(i))));
    }
    return status::ok;
}

bar0_regs::status bar0_regs::write(uint32_t offset, const uint8_t* data, size_t len) {
    const status st = check(offset, len);
    if (st != status::ok) return st;
    for (size_t i = 0; i < len; i += REG_BYTES) {
        write_reg(index_of(offset + static_cast<uint32_t>(i)), load_le32(data + i));
    }
    return status::ok;
}

bar0_regs::status bar0_regs::read32(uint32_t offset, uint32_t& value) const {
    uint8_t buf[REG_BYTES];
    const status st = read(offset, buf, sizeof buf);
    if (st == status::ok) value = load_le32(buf);
    return st;
}

bar0_regs::status bar0_regs::write32(uint32_t offset, uint32_t value) {
    uint8_t buf[REG_BYTES];
    store_le32(buf, value);
    return write(offset, buf, sizeof buf);
}

bar0_regs::status bar0_regs::set(uint32_t reg_offset, uint32_t value) {
    const status st = check(reg_offset, REG_BYTES);
    if (st != status::ok) return st;
    const int idx = index_of(reg_offset);
    m_value[idx] = value & ~REGISTERS[idx].w1sc_mask;
    return status::ok;
}

uint32_t bar0_regs::get(uint32_t reg_offset) const {
    const int idx = index_of(reg_offset);
    return idx == NO_REG ? 0 : m_value[idx];
}

bar0_regs::status bar0_regs::on_w1sc(uint32_t reg_offset, w1sc_handler handler) {
    const status st = check(reg_offset, REG_BYTES);
    if (st != status::ok) return st;
    const int idx = index_of(reg_offset);
    if (!REGISTERS[idx].w1sc_mask) return status::no_w1sc_bits;
    m_handler[idx] = std::move(handler);
    return status::ok;
}

}  // namespace chio::model
