// Per-function log of the pages the device wrote (docs/migration.md, "Dirty pages").
//
// Contract: pages are device addresses >> spec::limits::DIRTY_PAGE_LOG2 (for a VF in a VM:
// guest-physical pages). A function's log is off until its first take(); from then every
// successful DMA write of the function marks each page it touches (payload, CQEs, EQEs, command
// outputs). take() copies the pages in a window into a bitmap, clears the whole log and reports
// how many dirty pages lay outside the window (so the caller knows its window was too small).
// A function reset stops its log. Pure C++.
#pragma once

#include <cstddef>
#include <cstdint>
#include <set>
#include <vector>

namespace chio::model {

class dirty_log {
public:
    explicit dirty_log(size_t functions) : m_fns(functions) {}

    void mark(uint16_t fn, uint64_t addr, uint64_t len);
    struct taken {
        uint32_t dirty = 0, outside = 0;
    };
    // bitmap: (pages + 7) / 8 bytes, bit i (byte i / 8, bit i % 8) = page first_page + i.
    taken take(uint16_t fn, uint64_t first_page, uint32_t pages, std::vector<uint8_t>& bitmap);
    void stop(uint16_t fn);
    bool logging(uint16_t fn) const { return fn < m_fns.size() && m_fns[fn].on; }

private:
    struct log {
        bool on = false;
        std::set<uint64_t> pages;
    };
    std::vector<log> m_fns;
};

}  // namespace chio::model
