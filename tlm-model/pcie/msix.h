// The MSI-X table and pending bit array (PBA) of BAR0 (PCIe Base 4.0 section 6.1.4 and 7.7.2).
//
// Contract: the SystemC endpoint hands every MMIO access that falls in the table or the PBA to
// read()/write() (offsets are BAR0 offsets) and turns a status other than ok into a TLM address
// error. The MSI-X enable and function-mask bits live in config space; the caller passes them
// to fire() and release_pending(), so this class has no link to config_space. After any table
// write and after every change of the MSI-X control bits, the caller calls release_pending():
// clearing a mask is what lets a pending vector fire (section 6.1.4.3).
// Plain C++ (no SystemC); guest input never asserts.
#pragma once

#include <chio/spec/spec.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace chio::model {

// One MSI-X message: a DWORD memory write of `data` to `addr`.
struct msix_message {
    uint64_t addr = 0;
    uint32_t data = 0;
};

class msix_table {
public:
    enum class status : uint8_t {
        ok,
        out_of_range,  // not inside the table or the PBA
        bad_size,      // not a DWORD or QWORD access
        misaligned,    // not naturally aligned
        read_only,     // write to the PBA (section 7.7.2: software never writes pending bits)
    };

    enum class fire_status : uint8_t {
        sent,        // deliverable: `msg` holds the message to send
        pending,     // masked (per vector or by the function mask): pending bit set
        disabled,    // MSI-X disabled: the function may not signal (dropped, counted)
        bad_vector,  // vector >= MSIX_VECTORS (refused, counted)
    };

    struct fire_result {
        fire_status st = fire_status::bad_vector;
        msix_message msg{};
    };

    static constexpr uint32_t NUM_VECTORS = spec::pci::MSIX_VECTORS;
    static constexpr uint32_t TABLE_OFFSET = spec::pci::MSIX_TABLE_OFFSET;
    static constexpr uint32_t TABLE_BYTES = NUM_VECTORS * spec::pci::msix_entry::SIZE;
    static constexpr uint32_t PBA_OFFSET = spec::pci::MSIX_PBA_OFFSET;
    // The PBA is an array of QWORDs, one bit per vector (section 7.7.2).
    static constexpr uint32_t PBA_BITS_PER_QWORD = sizeof(uint64_t) * 8;
    static constexpr uint32_t PBA_BYTES =
        (NUM_VECTORS + PBA_BITS_PER_QWORD - 1) / PBA_BITS_PER_QWORD * sizeof(uint64_t);

    msix_table();

    // Guest accesses: len 4 or 8, naturally aligned, inside the table or the PBA. Little endian.
    status read(uint32_t bar_offset, uint8_t* data, size_t len) const;
    status write(uint32_t bar_offset, const uint8_t* data, size_t len);

    // The device raises `vector`. `enabled` and `function_masked` are MSG_CTRL.ENABLE and
    // MSG_CTRL.FUNC_MASK from config space.
    fire_result fire(uint32_t vector, bool enabled, bool function_masked);

    // Messages of every pending vector that is now unmasked, in vector order; their pending bits
    // clear. Empty while MSI-X is disabled or the function is masked.
    std::vector<msix_message> release_pending(bool enabled, bool function_masked);

    // Inspection for the endpoint and tests.
    bool pending(uint32_t vector) const;
    bool vector_masked(uint32_t vector) const;
    uint64_t refused_count() const { return m_refused; }  // bad_vector
    uint64_t dropped_count() const { return m_dropped; }  // disabled

    // Power-on state: every vector masked, addresses and data zero, nothing pending.
    void reset();

private:
    static constexpr uint32_t DWORDS_PER_ENTRY = spec::pci::msix_entry::SIZE / sizeof(uint32_t);
    static constexpr uint32_t PBA_QWORDS = PBA_BYTES / sizeof(uint64_t);

    uint32_t& entry_word(uint32_t vector, uint32_t field_offset);
    uint32_t entry_word(uint32_t vector, uint32_t field_offset) const;
    msix_message message(uint32_t vector) const;
    status check(uint32_t bar_offset, size_t len, bool& in_pba) const;
    uint32_t read_dword(uint32_t bar_offset) const;
    void write_dword(uint32_t bar_offset, uint32_t value);

    std::array<uint32_t, NUM_VECTORS * DWORDS_PER_ENTRY> m_table{};
    std::array<uint64_t, PBA_QWORDS> m_pba{};
    uint64_t m_refused = 0;
    uint64_t m_dropped = 0;
};

}  // namespace chio::model
