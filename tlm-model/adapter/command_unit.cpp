#include "tlm-model/adapter/command_unit.h"

#include <cstring>

#include "tlm-model/adapter/qp_state_machine.h"

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

template <typename T>
void store(uint8_t* p, const T& v) {
    std::memcpy(p, &v, sizeof(T));
}

// Field indices in the syndrome are 1-based positions in the command's input list.
constexpr uint32_t field(uint32_t index) { return index + 1; }

bool log_size_ok(uint32_t v, uint32_t max) { return v >= 1 && v <= max; }

}  // namespace

command_unit::command_unit(adapter_core& core, qp_transition_fn on_transition)
    : m_core(core), m_on_transition(std::move(on_transition)) {}

void command_unit::reset() { m_core.ctx.clear(); }

void command_unit::execute(uint16_t fn, uint64_t addr) {
    uint8_t mb[cmd::MAILBOX_SIZE];
    if (!m_core.dma->read(fn, addr, mb, sizeof(mb))) {
        // Nowhere to report: the driver's command timeout catches it (catalogue B11).
        ++m_core.counters.dma_errors;
        ++m_core.counters.command_errors;
        return;
    }
    ++m_core.counters.commands;
    const auto op = static_cast<cmd::opcode>(load<uint16_t>(mb + cmd::hdr::OPCODE));
    const uint16_t flags = load<uint16_t>(mb + cmd::hdr::FLAGS);
    const uint32_t token = load<uint32_t>(mb + cmd::hdr::TOKEN);
    const uint32_t in_len = load<uint32_t>(mb + cmd::hdr::IN_LEN);
    const uint32_t out_len = load<uint32_t>(mb + cmd::hdr::OUT_LEN);
    // After a fatal error only the PF's crash-dump commands run; anything else is left
    // unanswered, as before the mailbox was read (the driver's command timeout reports it).
    if (m_core.fatal && (fn != 0 || !crash_dump_op(op))) return;

    uint8_t out[cmd::OUTPUT_SIZE] = {};
    result r;
    const cmd::command_desc* desc = nullptr;
    for (const auto& d : cmd::COMMANDS) {
        if (d.op == op) desc = &d;
    }
    if (desc == nullptr) {
        r.status = status::BAD_OP;
    } else if (in_len != desc->in_size) {
        r.status = status::BAD_INP_LEN;
    } else if (out_len < desc->out_size || out_len > cmd::OUTPUT_SIZE) {
        r.status = status::BAD_OUTP_LEN;
    } else if (fn != 0 && manager_only(op)) {
        r.status = status::BAD_OP;  // a VF has no manager commands: nothing changes
    } else {
        r = dispatch(fn, op, mb + cmd::INPUT_OFFSET, out);
    }
    if (r.status != status::OK) {
        ++m_core.counters.command_errors;
        if (fn < m_core.ctx.fns.size()) ++m_core.ctx.fns[fn].errors;
    }
    if (m_core.probes.command) {
        m_core.probes.command(static_cast<uint16_t>(op), static_cast<uint8_t>(r.status));
    }

    // Output, status and syndrome first; the owner byte last, in a separate posted write.
    std::memcpy(mb + cmd::OUTPUT_OFFSET, out, sizeof(out));
    mb[cmd::hdr::STATUS] = static_cast<uint8_t>(r.status);
    store<uint32_t>(mb + cmd::hdr::SYNDROME, r.syndrome);
    const uint64_t body = cmd::OUTPUT_OFFSET;
    if (!m_core.dma->write(fn, addr + body, mb + body, cmd::hdr::OWNER - body)) {
        ++m_core.counters.dma_errors;
        return;
    }
    const uint8_t owner = 0;
    if (!m_core.dma->write(fn, addr + cmd::hdr::OWNER, &owner, 1)) {
        ++m_core.counters.dma_errors;
        return;
    }
    if (flags & cmd::flag::EVENT) {
        m_core.post_async(fn, spec::eqe_type::CMD_DONE, token, static_cast<uint32_t>(r.status));
    }
}

command_unit::result command_unit::dispatch(uint16_t fn, cmd::opcode op, const uint8_t* in,
                                            uint8_t* out) {
    switch (op) {
        case cmd::opcode::QUERY_CAPS:
            return query_caps(out);
        case cmd::opcode::NOP:
            return {};
        case cmd::opcode::CREATE_EQ:
            return create_eq(fn, in, out);
        case cmd::opcode::DESTROY_EQ:
            return destroy_eq(fn, in);
        case cmd::opcode::CREATE_CQ:
            return create_cq(fn, in, out);
        case cmd::opcode::DESTROY_CQ:
            return destroy_cq(fn, in);
        case cmd::opcode::CREATE_QP:
            return create_qp(fn, in, out);
        case cmd::opcode::MODIFY_QP:
            return modify_qp(fn, in);
        case cmd::opcode::QUERY_QP:
            return query_qp(fn, in, out);
        case cmd::opcode::DESTROY_QP:
            return destroy_qp(fn, in);
        case cmd::opcode::QUERY_PORT:
            return query_port(fn, in, out);
        case cmd::opcode::CREATE_PD:
            return create_pd(fn, out);
        case cmd::opcode::DESTROY_PD:
            return destroy_pd(fn, in);
        case cmd::opcode::REG_MR:
            return reg_mr(fn, in, out);
        case cmd::opcode::DEREG_MR:
            return dereg_mr(fn, in);
        case cmd::opcode::CREATE_AH:
            return create_ah(fn, in, out);
        case cmd::opcode::DESTROY_AH:
            return destroy_ah(fn, in);
        case cmd::opcode::CREATE_SRQ:
            return create_srq(fn, in, out);
        case cmd::opcode::DESTROY_SRQ:
            return destroy_srq(fn, in);
        case cmd::opcode::SET_VF_QUOTA:
            return set_vf_quota(in);
        case cmd::opcode::SET_VF_ADDR:
            return set_vf_addr(in);
        case cmd::opcode::SET_VF_QOS:
            return set_vf_qos(in);
        case cmd::opcode::SET_QP_QOS:
            return set_qp_qos(in);
        case cmd::opcode::QUERY_VF_STATS:
            return query_vf_stats(in, out);
        case cmd::opcode::RESET_VF:
            return reset_vf(in);
        case cmd::opcode::SET_ADDR:
            return set_addr(fn, in);
        case cmd::opcode::SUSPEND_VF:
        case cmd::opcode::SAVE_VF:
        case cmd::opcode::LOAD_VF:
        case cmd::opcode::RESUME_VF:
        case cmd::opcode::READ_DIRTY:
            return migration(op, in, out);
    }
    return {status::BAD_OP, 0};
}

command_unit::result command_unit::query_caps(uint8_t* out) {
    cmd::query_caps_out o{};
    o.max_qp = spec::limits::MAX_QP;
    o.max_cq = spec::limits::MAX_CQ;
    o.max_eq = spec::limits::MAX_EQ;
    o.max_sge = spec::limits::MAX_SGE;
    o.max_wq_log_size = spec::limits::MAX_WQ_LOG_SIZE;
    o.max_inline = spec::limits::MAX_INLINE;
    o.num_msix = spec::pci::MSIX_VECTORS;
    o.max_recv_sge = spec::limits::MAX_RECV_SGE;
    store(out, o);
    return {};
}

command_unit::result command_unit::create_eq(uint16_t fn, const uint8_t* in, uint8_t* out) {
    const auto i = load<cmd::create_eq_in>(in);
    if (!log_size_ok(i.log_size, spec::limits::MAX_CQ_LOG_SIZE)) {
        return {i.log_size > spec::limits::MAX_CQ_LOG_SIZE ? status::LIM_ERR : status::BAD_PARAM,
                field(0)};
    }
    if (i.msix_vector >= spec::pci::MSIX_VECTORS) return {status::BAD_PARAM, field(1)};
    if (i.ring_addr == 0 || i.ring_addr % sizeof(spec::eqe) != 0) {
        return {status::BAD_PARAM, field(2)};
    }
    if (!within_quota(fn, res_kind::eq)) return {status::LIM_ERR, 0};
    auto& eqs = m_core.ctx.eqs;
    for (uint32_t n = 0; n < eqs.size(); ++n) {
        if (eqs[n].valid) continue;
        eq_ctx& e = eqs[n];
        e = eq_ctx{};
        e.valid = true;
        e.fn = fn;
        e.log_size = static_cast<uint8_t>(i.log_size);
        e.vector = i.msix_vector;
        e.ring = i.ring_addr;
        m_core.qe->cr_cfg({eq_crid(n), true, static_cast<uint8_t>(fn), e.log_size,
                           static_cast<uint16_t>(e.vector)});
        m_core.collect();
        if (m_core.async_eqn[fn & 0xFF] < 0) m_core.async_eqn[fn & 0xFF] = static_cast<int32_t>(n);
        cmd::create_eq_out o{};
        o.eqn = n;
        store(out, o);
        return {};
    }
    return {status::NO_RES, 0};
}

command_unit::result command_unit::destroy_eq(uint16_t fn, const uint8_t* in) {
    const auto i = load<cmd::destroy_eq_in>(in);
    eq_ctx* e = m_core.ctx.eq(i.eqn);
    if (e == nullptr || e->fn != fn) return {status::BAD_RES, field(0)};
    if (e->cq_refs != 0) return {status::RES_BUSY, field(0)};
    m_core.qe->cr_cfg({eq_crid(i.eqn), false, 0, 0, 0});
    m_core.collect();
    *e = eq_ctx{};
    if (m_core.async_eqn[fn & 0xFF] == static_cast<int32_t>(i.eqn))
        m_core.async_eqn[fn & 0xFF] = -1;
    return {};
}

command_unit::result command_unit::create_cq(uint16_t fn, const uint8_t* in, uint8_t* out) {
    const auto i = load<cmd::create_cq_in>(in);
    if (!log_size_ok(i.log_size, spec::limits::MAX_CQ_LOG_SIZE)) {
        return {i.log_size > spec::limits::MAX_CQ_LOG_SIZE ? status::LIM_ERR : status::BAD_PARAM,
                field(0)};
    }
    eq_ctx* eq = m_core.ctx.eq(i.eqn);
    if (eq == nullptr || eq->fn != fn) return {status::BAD_RES, field(1)};
    if (i.ring_addr == 0 || i.ring_addr % sizeof(spec::cqe) != 0) {
        return {status::BAD_PARAM, field(2)};
    }
    if (!within_quota(fn, res_kind::cq)) return {status::LIM_ERR, 0};
    auto& cqs = m_core.ctx.cqs;
    for (uint32_t n = 0; n < cqs.size(); ++n) {
        if (cqs[n].valid) continue;
        cq_ctx& c = cqs[n];
        c = cq_ctx{};
        c.valid = true;
        c.fn = fn;
        c.log_size = static_cast<uint8_t>(i.log_size);
        c.eqn = i.eqn;
        c.ring = i.ring_addr;
        ++eq->cq_refs;
        m_core.qe->cr_cfg(
            {cq_crid(n), true, static_cast<uint8_t>(fn), c.log_size, static_cast<uint16_t>(i.eqn)});
        m_core.collect();
        cmd::create_cq_out o{};
        o.cqn = n;
        store(out, o);
        return {};
    }
    return {status::NO_RES, 0};
}

command_unit::result command_unit::destroy_cq(uint16_t fn, const uint8_t* in) {
    const auto i = load<cmd::destroy_cq_in>(in);
    cq_ctx* c = m_core.ctx.cq(i.cqn);
    if (c == nullptr || c->fn != fn) return {status::BAD_RES, field(0)};
    if (c->qp_refs != 0) return {status::RES_BUSY, field(0)};
    m_core.qe->cr_cfg({cq_crid(i.cqn), false, 0, 0, 0});
    m_core.collect();
    if (eq_ctx* e = m_core.ctx.eq(c->eqn)) --e->cq_refs;
    *c = cq_ctx{};
    return {};
}

}  // namespace chio::model
