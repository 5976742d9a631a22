// The send-WQE window of a doorbell page: a driver may write a send WQE straight into its
// doorbell page, at WQE_DB_OFFSET, followed by the SQ_WQE_DB word, so the adapter need not
// fetch the WQE by DMA (as mlx5's BlueFlame; docs/performance.md "WQE in the doorbell page").
//
// The driver writes with write-combining stores. A CPU's write-combining buffer leaves as
// 64-byte lines, each its own posted TLP, and their order is not guaranteed (Intel SDM vol. 3
// section 11.3.1), so a WQE may arrive in pieces, or only in part if the buffer was flushed
// early. The window therefore assembles the WQE from whatever writes reach it and hands it on
// only if every byte arrived since the page's last SQ_WQE_DB word; otherwise the word rings the
// send queue like SQ_DB and the WQE is fetched from the ring in host memory, which the driver
// writes as well. A partial or torn WQE is thus never executed.
#pragma once

#include <cstdint>
#include <unordered_map>

#include "chio/spec/spec.h"

namespace chio::model {

class wqe_window {
public:
    // What one write did: `rang` when it held the SQ_WQE_DB word (`db`); then `complete` tells
    // whether `wqe` holds a whole WQE written since the previous word.
    struct result {
        bool rang = false;
        bool complete = false;
        uint64_t db = 0;
        spec::send_wqe wqe{};
    };

    // True when [offset, offset + len) lies in the window of a doorbell page (offsets within
    // the page); such a write belongs here, whatever its size.
    static bool holds(uint32_t in_page, unsigned len);
    // A write of `len` bytes at `in_page` by function fn to its doorbell page `page`. False (and
    // nothing changes) unless it is whole 64-bit words, aligned, inside the window.
    bool write(uint16_t fn, uint32_t page, uint32_t in_page, const uint8_t* data, unsigned len,
               result& out);
    // A function level reset (or a device reset, every function) drops its partial WQEs.
    void reset_function(uint16_t fn);
    void reset() { m_buf.clear(); }

private:
    static constexpr unsigned WORDS = sizeof(spec::send_wqe) / 8;
    struct buffer {
        spec::send_wqe wqe{};
        uint32_t words = 0;  // bit i: 64-bit word i of the WQE written since the last ring
    };
    static_assert(sizeof(spec::send_wqe) % 8 == 0 && WORDS <= 32, "WQE words fit the mask");
    std::unordered_map<uint32_t, buffer> m_buf;  // key: fn << 16 | page
};

}  // namespace chio::model
