#include "tlm-model/pcie/msix.h"

namespace chio::model {

namespace entry = spec::pci::msix_entry;

namespace {

constexpr uint32_t DWORD = sizeof(uint32_t);
constexpr uint32_t QWORD = sizeof(uint64_t);

// The layout must fit the spec before anything runs: table and PBA inside BAR0, apart from each
// other and from the register block, and at least one vector (MSG_CTRL.TABLE_SIZE holds N-1).
constexpr uint64_t BAR0_BYTES = uint64_t{1} << spec::pci::BAR0_SIZE_LOG2;
static_assert(msix_table::NUM_VECTORS >= 1);
static_assert(msix_table::NUM_VECTORS - 1 <= spec::pci::msix_cap::MSG_CTRL_TABLE_SIZE.mask());
static_assert(msix_table::TABLE_OFFSET % QWORD == 0 && msix_table::PBA_OFFSET % QWORD == 0,
              "MSI-X table and PBA offsets are QWORD aligned (the BIR takes bits 2:0)");
static_assert(msix_table::TABLE_OFFSET >= spec::bar0::REGS_SIZE);
static_assert(msix_table::TABLE_OFFSET + msix_table::TABLE_BYTES <= msix_table::PBA_OFFSET ||
              msix_table::PBA_OFFSET + msix_table::PBA_BYTES <= msix_table::TABLE_OFFSET);
static_assert(msix_table::PBA_OFFSET >= spec::bar0::REGS_SIZE);
static_assert(msix_table::TABLE_OFFSET + msix_table::TABLE_BYTES <= BAR0_BYTES);
static_assert(msix_table::PBA_OFFSET + msix_table::PBA_BYTES <= BAR0_BYTES);

uint32_t load_le32(const uint8_t* p) {
    return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
}

void store_le32(uint8_t* p, uint32_t v) {
    for (uint32_t i = 0; i < DWORD; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}

bool inside(uint32_t offset, size_t len, uint32_t base, uint32_t bytes) {
    return offset >= base && offset - base < bytes && len <= bytes - (offset - base);
}

}  // namespace

msix_table::msix_table() { reset(); }

void msix_table::reset() {
    // Section 7.7.2: every Mask bit resets to 1, so no vector fires before software programs it.
    m_table.fill(0);
    for (uint32_t v = 0; v < NUM_VECTORS; ++v)
        entry_word(v, entry::VECTOR_CTRL) = entry::VECTOR_CTRL_MASKED;
    m_pba.fill(0);
    m_refused = 0;
    m_dropped = 0;
}

uint32_t& msix_table::entry_word(uint32_t vector, uint32_t field_offset) {
    return m_table[vector * DWORDS_PER_ENTRY + field_offset / DWORD];
}

uint32_t msix_table::entry_word(uint32_t vector, uint32_t field_offset) const {
    return m_table[vector * DWORDS_PER_ENTRY + field_offset / DWORD];
}

msix_message msix_table::message(uint32_t vector) const {
    return {uint64_t{entry_word(vector, entry::ADDR_HI)} << 32 | entry_word(vector, entry::ADDR_LO),
            entry_word(vector, entry::DATA)};
}

bool msix_table::pending(uint32_t vector) const {
    if (vector >= NUM_VECTORS) return false;
    return (m_pba[vector / PBA_BITS_PER_QWORD] >> (vector % PBA_BITS_PER_QWORD)) & 1;
}

bool msix_table::vector_masked(uint32_t vector) const {
    if (vector >= NUM_VECTORS) return true;
    return entry_word(vector, entry::VECTOR_CTRL) & entry::VECTOR_CTRL_MASKED;
}

// Section 6.1.4.2: software accesses the table and the PBA with aligned DWORD or QWORD
// transactions only; anything else is undefined in the spec and refused here.
msix_table::status msix_table::check(uint32_t bar_offset, size_t len, bool& in_pba) const {
    if (len != DWORD && len != QWORD) return status::bad_size;
    in_pba = inside(bar_offset, len, PBA_OFFSET, PBA_BYTES);
    if (!in_pba && !inside(bar_offset, len, TABLE_OFFSET, TABLE_BYTES)) {
        return status::out_of_range;
    }
    if (bar_offset % len) return status::misaligned;
    return status::ok;
}

uint32_t msix_table::read_dword(uint32_t bar_offset) const {
    if (bar_offset >= PBA_OFFSET && bar_offset - PBA_OFFSET < PBA_BYTES) {
        const uint32_t rel = bar_offset - PBA_OFFSET;
        return static_cast<uint32_t>(m_pba[rel / QWORD] >> (8 * (rel % QWORD)));
    }
    return m_table[(bar_offset - TABLE_OFFSET) / DWORD];
}

void msix_table::write_dword(uint32_t bar_offset, uint32_t value) {
    const uint32_t rel = bar_offset - TABLE_OFFSET;
    // Vector Control: only the Mask bit is defined; the rest is reserved and reads 0.
    if (rel % entry::SIZE == entry::VECTOR_CTRL) value &= entry::VECTOR_CTRL_MASKED;
    m_table[rel / DWORD] = value;
}

msix_table::status msix_table::read(uint32_t bar_offset, uint8_t* data, size_t len) const {
    bool in_pba = false;
    const status st = check(bar_offset, len, in_pba);
    if (st != status::ok) return st;
    for (uint32_t i = 0; i < len; i += DWORD) store_le32(data + i, read_dword(bar_offset + i));
    return status::ok;
}

msix_table::status msix_table::write(uint32_t bar_offset, const uint8_t* data, size_t len) {
    bool in_pba = false;
    const status st = check(bar_offset, len, in_pba);
    if (st != status::ok) return st;
    // Pending bits are set and cleared by the function only (section 7.7.2).
    if (in_pba) return status::read_only;
    for (uint32_t i = 0; i < len; i += DWORD) write_dword(bar_offset + i, load_le32(data + i));
    return status::ok;
}

// Section 6.1.4.3: while the function or the vector is masked the function may not send the
// message; it sets the pending bit instead, and sends the message once both masks clear.
// With MSI-X disabled the function may not use MSI-X at all; chio has no INTx, so the event is
// dropped (as QEMU's msix_notify does) and counted.
msix_table::fire_result msix_table::fire(uint32_t vector, bool enabled, bool function_masked) {
    if (vector >= NUM_VECTORS) {
        ++m_refused;
        return {fire_status::bad_vector, {}};
    }
    if (!enabled) {
        ++m_dropped;
        return {fire_status::disabled, {}};
    }
    if (function_masked || vector_masked(vector)) {
        m_pba[vector / PBA_BITS_PER_QWORD] |= uint64_t{1} << (vector % PBA_BITS_PER_QWORD);
        return {fire_status::pending, {}};
    }
    return {fire_status::sent, message(vector)};
}

std::vector<msix_message> msix_table::release_pending(bool enabled, bool function_masked) {
    std::vector<msix_message> out;
    if (!enabled || function_masked) return out;
    for (uint32_t v = 0; v < NUM_VECTORS; ++v) {
        if (!pending(v) || vector_masked(v)) continue;
        m_pba[v / PBA_BITS_PER_QWORD] &= ~(uint64_t{1} << (v % PBA_BITS_PER_QWORD));
        out.push_back(message(v));
    }
    return out;
}

}  // namespace chio::model
