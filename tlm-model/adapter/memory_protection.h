// Memory protection: the check every local and remote access passes before any byte moves
// (catalogue section E, scoreboard invariant 8): the key names a valid registration (index and
// variant), the MR belongs to the same function and PD as the QP, its access rights cover the
// operation, and [va, va + len) lies inside it. A zero-length access needs no key (C17).
#pragma once

#include <cstdint>

#include "tlm-model/adapter/contexts.h"

namespace chio::model {

enum class access_result { ok, bad_key, bad_pd, bad_access, bad_range };

// need: spec::access_flags bits the operation requires (0 for a local read).
// On ok, pa is the bus address of va.
access_result check_access(device_contexts& ctx, uint16_t fn, uint32_t pd, uint32_t key,
                           uint64_t va, uint64_t len, uint32_t need, uint64_t& pa);

}  // namespace chio::model
