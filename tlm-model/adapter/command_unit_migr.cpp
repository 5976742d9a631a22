// The PF's VF migration commands (docs/migration.md): decode, range checks, and the call into
// the adapter's migration engine (vf_migration_port.h).
//
// Rules: PF only (a VF gets BAD_OP, command_unit::manager_only). `fn` must name a VF that can
// exist (1..TotalVFs), else BAD_PARAM field 1; a VF that is not enabled gives BAD_RES_STATE.
// Buffer lengths: SAVE_VF takes any length (too small: SMALL_BUF with the size needed);
// LOAD_VF takes 1..MAX_BLOB bytes, else BAD_PARAM field 2. READ_DIRTY's window is at most
// MAX_DIRTY_PAGES pages (a 16 KiB bitmap per call), else BAD_PARAM field 2.
#include <cstring>

#include "tlm-model/adapter/command_unit.h"

namespace chio::model {

namespace cmd = spec::cmd;
using cmd::status;

namespace {

template <typename T>
T load(const uint8_t* p) {
    T v;
    std::memcpy(&v, p, sizeof(T));
    return v;
}

constexpr uint32_t MAX_BLOB = 1u << 20;
constexpr uint32_t MAX_DIRTY_PAGES = 1u << 17;

}  // namespace

bool command_unit::crash_dump_op(cmd::opcode op) {
    // After a fatal error the engines no longer run, but the PF may still read a VF's state out
    // (as mlx5 firmware's crash dump), so a standby adapter can take over (docs/migration.md).
    return op == cmd::opcode::SUSPEND_VF || op == cmd::opcode::SAVE_VF ||
           op == cmd::opcode::READ_DIRTY;
}

command_unit::result command_unit::migration(cmd::opcode op, const uint8_t* in, uint8_t* out) {
    // Every migration command starts with fn.
    const uint32_t fn = load<uint32_t>(in);
    if (fn == 0 || fn > spec::pci::TOTAL_VFS) return {status::BAD_PARAM, 1};
    if (m_core.migration == nullptr) return {status::BAD_OP, 0};
    if (!m_core.ctx.fns[fn].enabled) return {status::BAD_RES_STATE, 1};
    vf_migration_port& m = *m_core.migration;
    const auto f = static_cast<uint16_t>(fn);
    migr_result r;
    switch (op) {
        case cmd::opcode::SUSPEND_VF:
            r = m.suspend_vf(f);
            break;
        case cmd::opcode::SAVE_VF: {
            const auto i = load<cmd::save_vf_in>(in);
            r = m.save_vf(f, i.addr, i.len);
            cmd::save_vf_out o{r.size, r.qps};
            std::memcpy(out, &o, sizeof(o));
            break;
        }
        case cmd::opcode::LOAD_VF: {
            const auto i = load<cmd::load_vf_in>(in);
            if (i.len == 0 || i.len > MAX_BLOB) return {status::BAD_PARAM, 2};
            r = m.load_vf(f, i.addr, i.len);
            cmd::load_vf_out o{r.size, r.qps};
            std::memcpy(out, &o, sizeof(o));
            break;
        }
        case cmd::opcode::RESUME_VF:
            r = m.resume_vf(f);
            break;
        case cmd::opcode::READ_DIRTY: {
            const auto i = load<cmd::read_dirty_in>(in);
            if (i.pages == 0 || i.pages > MAX_DIRTY_PAGES) return {status::BAD_PARAM, 2};
            r = m.read_dirty(f, i.addr, i.pages, i.first_page);
            cmd::read_dirty_out o{r.dirty, r.qps};
            std::memcpy(out, &o, sizeof(o));
            break;
        }
        default:
            return {status::BAD_OP, 0};
    }
    return {r.status, r.syndrome};
}

}  // namespace chio::model
