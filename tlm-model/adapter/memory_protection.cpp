#include "tlm-model/adapter/memory_protection.h"

namespace chio::model {

access_result check_access(device_contexts& ctx, uint16_t fn, uint32_t pd, uint32_t key,
                           uint64_t va, uint64_t len, uint32_t need, uint64_t& pa) {
    pa = 0;
    if (len == 0) return access_result::ok;
    const mr_ctx* mr = ctx.mr(key);
    if (mr == nullptr || mr->fn != fn) return access_result::bad_key;
    if (mr->pd != pd) return access_result::bad_pd;
    if ((mr->access & need) != need) return access_result::bad_access;
    // Overflow-safe bounds: va >= iova and len <= length - (va - iova).
    if (va < mr->iova || va - mr->iova > mr->length || len > mr->length - (va - mr->iova)) {
        return access_result::bad_range;
    }
    pa = mr->pa + (va - mr->iova);
    return access_result::ok;
}

}  // namespace chio::model
