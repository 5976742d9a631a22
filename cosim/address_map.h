// The host platform's physical address map (a platform choice, not an adapter constant).
#pragma once

#include <cstdint>

namespace chio::cosim::address_map {

inline constexpr uint64_t DRAM_BASE = 0x0;
inline constexpr uint64_t DRAM_SIZE_DEFAULT = 256ull << 20;
// Memory-mapped I/O window where the "OS" places BARs.
inline constexpr uint64_t MMIO_BASE = 0xE0000000ull;
inline constexpr uint64_t MMIO_SIZE = 0x10000000ull;
// MSI target range, as on x86 (0xFEE00000-0xFEEFFFFF): writes here are interrupts, not memory.
inline constexpr uint64_t MSI_BASE = 0xFEE00000ull;
inline constexpr uint64_t MSI_SIZE = 0x00100000ull;

}  // namespace chio::cosim::address_map
