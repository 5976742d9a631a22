// The seam between the command unit and the adapter's VF migration engine (docs/migration.md).
//
// Contract: the command unit decodes and range-checks the PF's migration commands (SUSPEND_VF,
// SAVE_VF, LOAD_VF, RESUME_VF, READ_DIRTY) and calls these from the adapter's command thread
// with fn a VF number (1..TotalVFs) of an enabled VF; they may wait (suspend drains DMA). Every
// refusal is a status with the rejected field in `syndrome` and changes nothing.
#pragma once

#include <cstdint>

#include "chio/spec/spec.h"

namespace chio::model {

struct migr_result {
    spec::cmd::status status = spec::cmd::status::OK;
    uint32_t syndrome = 0;
    uint32_t size = 0;   // SAVE_VF: blob bytes (needed, with SMALL_BUF); LOAD_VF: see the spec
    uint32_t qps = 0;    // QPs saved or loaded; READ_DIRTY: dirty pages outside the window
    uint32_t dirty = 0;  // READ_DIRTY: pages set in the bitmap
};

class vf_migration_port {
public:
    virtual ~vf_migration_port() = default;
    virtual migr_result suspend_vf(uint16_t fn) = 0;
    virtual migr_result save_vf(uint16_t fn, uint64_t addr, uint32_t len) = 0;
    virtual migr_result load_vf(uint16_t fn, uint64_t addr, uint32_t len) = 0;
    virtual migr_result resume_vf(uint16_t fn) = 0;
    virtual migr_result read_dirty(uint16_t fn, uint64_t addr, uint32_t pages,
                                   uint64_t first_page) = 0;
};

}  // namespace chio::model
