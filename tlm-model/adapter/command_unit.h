// The command interface: executes the mailbox command that CMD_DB.GO points at.
//
// Protocol (spec [command]): the driver fills a 128-byte mailbox in host memory, sets its owner
// byte to 1, writes CMD_ADDR and rings CMD_DB.GO. The device reads the mailbox by DMA (one
// fetch: every decision is taken on that copy), checks lengths and fields, executes, then writes
// output and status, and finally the owner byte 0 (posted writes stay in order, so the driver
// that sees owner 0 sees the status). With flags.EVENT it also posts a CMD_DONE EQE carrying the
// token and status to the function's async EQ.
//
// Every refusal leaves all state unchanged and names the rejected field in `syndrome`
// (1 + its index in the command's input list).
#pragma once

#include <cstdint>
#include <functional>

#include "tlm-model/adapter/adapter_core.h"

namespace chio::model {

// What a QP state change must do beyond the context (enable/disable queues, flush, unpark):
// provided by the QP engine.
using qp_transition_fn = std::function<void(uint32_t qpn, spec::qp_state from, spec::qp_state to)>;

class command_unit {
public:
    command_unit(adapter_core& core, qp_transition_fn on_transition);

    // Executes the mailbox at `addr` for function fn. Called from the adapter's command thread.
    void execute(uint16_t fn, uint64_t addr);
    // Device reset: drop every resource.
    void reset();
    // Function reset: destroy every resource function fn owns (QPs first, then SRQs, CQs, EQs,
    // AHs, MRs, PDs), as the destroy commands would; other functions are untouched.
    void destroy_function(uint16_t fn);

private:
    struct result {
        spec::cmd::status status = spec::cmd::status::OK;
        uint32_t syndrome = 0;
    };
    result dispatch(uint16_t fn, spec::cmd::opcode op, const uint8_t* in, uint8_t* out);

    result query_caps(uint8_t* out);
    result create_eq(uint16_t fn, const uint8_t* in, uint8_t* out);
    result destroy_eq(uint16_t fn, const uint8_t* in);
    result create_cq(uint16_t fn, const uint8_t* in, uint8_t* out);
    result destroy_cq(uint16_t fn, const uint8_t* in);
    result create_qp(uint16_t fn, const uint8_t* in, uint8_t* out);
    result modify_qp(uint16_t fn, const uint8_t* in);
    result query_qp(uint16_t fn, const uint8_t* in, uint8_t* out);
    result destroy_qp(uint16_t fn, const uint8_t* in);
    result query_port(uint16_t fn, const uint8_t* in, uint8_t* out);
    result create_pd(uint16_t fn, uint8_t* out);
    result destroy_pd(uint16_t fn, const uint8_t* in);
    result reg_mr(uint16_t fn, const uint8_t* in, uint8_t* out);
    result dereg_mr(uint16_t fn, const uint8_t* in);
    result create_ah(uint16_t fn, const uint8_t* in, uint8_t* out);
    result destroy_ah(uint16_t fn, const uint8_t* in);
    result create_srq(uint16_t fn, const uint8_t* in, uint8_t* out);
    result destroy_srq(uint16_t fn, const uint8_t* in);

    // command_unit_mgr.cpp: the PF's manager commands and per-function quotas.
    result set_vf_quota(const uint8_t* in);
    result set_vf_addr(const uint8_t* in);
    result set_vf_qos(const uint8_t* in);
    result set_qp_qos(const uint8_t* in);
    result query_vf_stats(const uint8_t* in, uint8_t* out);
    result reset_vf(const uint8_t* in);
    result set_addr(uint16_t fn, const uint8_t* in);
    // True when fn may own one more resource of the kind `quota_of` selects.
    enum class res_kind { qp, cq, eq, mr, pd, srq, ah };
    bool within_quota(uint16_t fn, res_kind k) const;
    static bool manager_only(spec::cmd::opcode op);
    // command_unit_migr.cpp: VF migration commands (docs/migration.md), and the ones a PF may
    // still issue after a fatal error.
    result migration(spec::cmd::opcode op, const uint8_t* in, uint8_t* out);

public:
    static bool crash_dump_op(spec::cmd::opcode op);

private:
    adapter_core& m_core;
    qp_transition_fn m_on_transition;
};

}  // namespace chio::model
