// Ring arithmetic shared by the driver's queues (spec: free-running 16-bit indices, slot =
// index & (size - 1), owner bit = 1 on the first pass, alternating after).
#pragma once

#include <cstdint>

namespace chio::drv {

constexpr uint32_t ring_slot(uint32_t index, uint32_t log_size) {
    return index & ((1u << log_size) - 1);
}

// The owner (phase) bit an entry at free-running index `index` carries once the device wrote it.
constexpr uint8_t ring_phase(uint32_t index, uint32_t log_size) {
    return ((index >> log_size) & 1u) ? 0 : 1;
}

}  // namespace chio::drv
