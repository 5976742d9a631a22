#include "tlm-model/adapter/dirty_log.h"

#include "chio/spec/spec.h"

namespace chio::model {

namespace {
constexpr unsigned SHIFT = spec::limits::DIRTY_PAGE_LOG2;
}

void dirty_log::mark(uint16_t fn, uint64_t addr, uint64_t len) {
    if (fn >= m_fns.size() || !m_fns[fn].on || len == 0) return;
    const uint64_t last = (addr + len - 1) >> SHIFT;
    for (uint64_t p = addr >> SHIFT; p <= last; ++p) m_fns[fn].pages.insert(p);
}

dirty_log::taken dirty_log::take(uint16_t fn, uint64_t first_page, uint32_t pages,
                                 std::vector<uint8_t>& bitmap) {
    bitmap.assign((pages + 7) / 8, 0);
    taken t;
    if (fn >= m_fns.size()) return t;
    log& l = m_fns[fn];
    for (const uint64_t p : l.pages) {
        if (p >= first_page && p - first_page < pages) {
            const uint64_t i = p - first_page;
            bitmap[i / 8] = static_cast<uint8_t>(bitmap[i / 8] | 1u << (i % 8));
            ++t.dirty;
        } else {
            ++t.outside;
        }
    }
    l.pages.clear();
    l.on = true;
    return t;
}

void dirty_log::stop(uint16_t fn) {
    if (fn < m_fns.size()) m_fns[fn] = log{};
}

}  // namespace chio::model
