// Inside the consumer API: the context that owns every verbs object, and helpers shared by the
// verbs_*.cpp files. Not for consumers; they include driver/verbs.h.
#pragma once

#include <algorithm>
#include <cerrno>
#include <map>
#include <memory>
#include <vector>

#include "driver/verbs.h"

namespace chio::verbs {

struct context {
    drv::bus* bus = nullptr;
    std::unique_ptr<drv::device> dev;
    // alloc_buf() buffers by CPU address, so reg_mr() can find the bus address of any byte.
    std::map<uintptr_t, drv::dma_buffer> bufs;
    std::vector<std::unique_ptr<pd>> pds;
    std::vector<std::unique_ptr<mr>> mrs;
    std::vector<std::unique_ptr<comp_channel>> channels;
    std::vector<std::unique_ptr<cq>> cqs;
    std::vector<std::unique_ptr<qp>> qps;
    std::vector<std::unique_ptr<srq>> srqs;
    std::vector<std::unique_ptr<ah>> ahs;
    // poll_cq() runs the driver's health check on an empty poll no earlier than this (see
    // verbs_cq.cpp).
    uint64_t next_health_ns = 0;
};

// Command status -> errno, the way a kernel verbs provider reports firmware refusals.
inline int to_errno(const drv::cmd_result& r) {
    using s = spec::cmd::status;
    switch (r.status) {
        case s::OK:
            return 0;
        case s::BAD_PARAM:
        case s::BAD_RES:
        case s::BAD_RES_STATE:
        case s::BAD_QP_STATE:
        case s::IX_ERR:
            return EINVAL;
        case s::RES_BUSY:
            return EBUSY;
        case s::NO_RES:
        case s::LIM_ERR:
            return ENOMEM;
        case s::ABORTED:
            return ETIMEDOUT;
        default:
            return EIO;
    }
}

// Frees the object `p` owned by `v`; false when `v` does not own it.
template <typename T>
bool release(std::vector<std::unique_ptr<T>>& v, const T* p) {
    auto it = std::find_if(v.begin(), v.end(), [p](const auto& u) { return u.get() == p; });
    if (it == v.end()) return false;
    v.erase(it);
    return true;
}

// Smallest log2 size holding n entries (at least 2 entries: rings of one slot are not allowed).
inline unsigned log2_ceil(uint32_t n) {
    unsigned l = 1;
    while ((1ull << l) < n) ++l;
    return l;
}

// Sets errno and returns nullptr: the object-returning verbs' failure path.
template <typename T>
T* fail_null(int e) {
    errno = e;
    return nullptr;
}

}  // namespace chio::verbs
