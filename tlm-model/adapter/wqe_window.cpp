#include "tlm-model/adapter/wqe_window.h"

#include <cstring>

namespace chio::model {

namespace db = spec::bar0::db;

// The SQ_WQE_DB word follows the WQE at once, so one write-combined burst carries both.
static_assert(spec::bar0::WQE_DB_OFFSET + sizeof(spec::send_wqe) == db::SQ_WQE_DB,
              "SQ_WQE_DB must follow the WQE window");
static_assert(spec::bar0::WQE_DB_OFFSET % 64 == 0, "the WQE starts on a write-combining line");
static_assert(db::SQ_WQE_DB + 8 <= spec::bar0::DB_PAGE_SIZE, "the window lies in the page");

bool wqe_window::holds(uint32_t in_page, unsigned len) {
    return in_page + uint64_t{len} > spec::bar0::WQE_DB_OFFSET && in_page < db::SQ_WQE_DB + 8;
}

bool wqe_window::write(uint16_t fn, uint32_t page, uint32_t in_page, const uint8_t* data,
                       unsigned len, result& out) {
    out = result{};
    if (len == 0 || len % 8 != 0 || in_page % 8 != 0 || in_page < spec::bar0::WQE_DB_OFFSET ||
        in_page + uint64_t{len} > db::SQ_WQE_DB + 8) {
        return false;
    }
    buffer& b = m_buf[uint32_t{fn} << 16 | page];
    const uint32_t first = (in_page - spec::bar0::WQE_DB_OFFSET) / 8;
    const uint32_t words = len / 8;
    auto* wqe = reinterpret_cast<uint8_t*>(&b.wqe);
    for (uint32_t i = 0; i < words; ++i) {
        const uint32_t w = first + i;
        if (w < WORDS) {
            std::memcpy(wqe + w * 8, data + i * 8, 8);
            b.words |= 1u << w;
        } else {
            std::memcpy(&out.db, data + i * 8, 8);
            out.rang = true;
        }
    }
    if (out.rang) {
        // Every word since the last ring, or the WQE is not taken (a torn or partial burst).
        out.complete = b.words == (WORDS == 32 ? ~0u : (1u << WORDS) - 1);
        if (out.complete) out.wqe = b.wqe;
        b.words = 0;
    }
    return true;
}

void wqe_window::reset_function(uint16_t fn) {
    for (auto it = m_buf.begin(); it != m_buf.end();) {
        it = (it->first >> 16) == fn ? m_buf.erase(it) : std::next(it);
    }
}

}  // namespace chio::model
