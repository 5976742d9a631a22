// The adapter's DMA initiator and its threads (command, QP engine, events, MSI-X, reset).
#include <cstring>

#include "tlm-model/adapter/adapter.h"
#include "tlm-model/pcie/pcie_ext.h"

namespace chio::model {

using sc_core::SC_NS;
using sc_core::sc_time;
namespace reg = spec::bar0::reg;

bool adapter::dma(uint16_t fn, bool is_write, uint64_t addr, void* data, size_t len, tlp_kind kind,
                  sc_time* posted, uint32_t request_bytes, bool timing_only) {
    // A function may master the bus only with COMMAND.BUS_MASTER set (PCI 3.0 section 6.2.2).
    // A function being reset, or absent, masters nothing: its DMA is refused at the source, so
    // no write reaches memory that is no longer the function's (counted per function).
    const bool live =
        fn < m_fns.size() && m_fstate[fn].present && !m_fstate[fn].resetting && !m_hot_resetting;
    if (!live || !m_fns[fn]->cfg.bus_master() || len == 0 || len > UINT32_MAX) {
        if (fn < m_fstate.size() && !live) ++m_fstate[fn].refused;
        if (m_dma_probe) m_dma_probe(fn, is_write, addr, len, false);
        return false;
    }
    tlm::tlm_generic_payload& p = m_gp_pool.take();
    pcie_ext ext;
    ext.fn = fn;
    ext.kind = kind;
    ext.request_bytes = request_bytes;
    ext.timing_only = timing_only;
    p.set_extension(&ext);
    p.set_command(is_write ? tlm::TLM_WRITE_COMMAND : tlm::TLM_READ_COMMAND);
    p.set_address(addr);
    p.set_data_ptr(static_cast<unsigned char*>(data));
    p.set_data_length(static_cast<unsigned>(len));
    p.set_streaming_width(static_cast<unsigned>(len));
    p.set_byte_enable_ptr(nullptr);
    p.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
    // A caller that waits itself may issue the request later than now (read_at).
    sc_time delay = posted != nullptr ? *posted : sc_core::SC_ZERO_TIME;
    // In flight until the completion arrives (a posted write: until it is issued); a function
    // reset waits for this to drain (Transactions Pending).
    ++m_fstate[fn].inflight;
    dma_socket->b_transport(p, delay);
    p.clear_extension(&ext);
    const bool ok = p.is_response_ok();
    m_gp_pool.give(p);
    if (m_dma_probe) m_dma_probe(fn, is_write, addr, len, ok);
    if (is_write && ok) m_dirty.mark(fn, addr, len);  // pre-copy migration (docs/migration.md)
    if (posted != nullptr) {
        *posted = delay;
    } else {
        sc_core::wait(delay);
    }
    drained(fn);
    return ok;
}

bool adapter::read(uint16_t fn, uint64_t addr, void* dst, size_t len) {
    return dma(fn, false, addr, dst, len, tlp_kind::mem);
}

bool adapter::read_at(uint16_t fn, uint64_t addr, void* dst, size_t len, sc_time& delay) {
    return dma(fn, false, addr, dst, len, tlp_kind::mem, &delay);
}

bool adapter::read_run_at(uint16_t fn, uint64_t addr, void* dst, size_t run_len, size_t first_len,
                          sc_time& delay) {
    if (first_len == 0 || first_len >= run_len) return read_at(fn, addr, dst, run_len, delay);
    return dma(fn, false, addr, dst, run_len, tlp_kind::mem, &delay,
               static_cast<uint32_t>(first_len));
}

bool adapter::request_at(uint16_t fn, uint64_t addr, size_t len, sc_time& delay) {
    return dma(fn, false, addr, nullptr, len, tlp_kind::mem, &delay, 0, true);
}

bool adapter::write(uint16_t fn, uint64_t addr, const void* src, size_t len) {
    // The payload is copied by the target; the const_cast only satisfies the generic payload.
    return dma(fn, true, addr, const_cast<void*>(src), len, tlp_kind::mem);
}

bool adapter::post_write(uint16_t fn, uint64_t addr, const void* src, size_t len, sc_time& delay) {
    delay = sc_core::SC_ZERO_TIME;
    return dma(fn, true, addr, const_cast<void*>(src), len, tlp_kind::mem, &delay);
}

void adapter::msix(uint16_t fn, unsigned vector) {
    if (fn >= m_fns.size() || !m_fstate[fn].present || m_fstate[fn].resetting || m_hot_resetting) {
        return;
    }
    function& f = *m_fns[fn];
    const auto r = f.msix.fire(vector, f.cfg.msix_enabled(), f.cfg.msix_function_masked());
    if (r.st != msix_table::fire_status::sent) return;
    m_msix_out.emplace_back(fn, r.msg);
    m_msix_ev.notify(sc_core::SC_ZERO_TIME);
}

void adapter::msix_thread() {
    for (;;) {
        while (m_msix_out.empty()) sc_core::wait(m_msix_ev);
        const auto [fn, m] = m_msix_out.front();
        m_msix_out.pop_front();
        // Dropped by a function or hot reset.
        if (!m_fstate[fn].present || m_fstate[fn].resetting || m_hot_resetting) continue;
        uint32_t data = m.data;
        dma(fn, true, m.addr, &data, sizeof(data), tlp_kind::msi);
    }
}

void adapter::command_thread() {
    for (;;) {
        while (m_cmds.empty()) sc_core::wait(m_cmd_ev);
        const auto [fn, addr] = m_cmds.front();
        m_cmds.pop_front();
        // A command counts as the function's transaction in flight from its mailbox fetch to
        // its status write, so a function reset never interleaves with one of its commands.
        ++m_fstate[fn].inflight;
        m_cmd.execute(fn, addr);
        drained(fn);
        if (m_cmds.empty()) set_status_bit(reg::DEV_STATUS_CMD_BUSY, false);
    }
}

void adapter::qp_thread() { m_qp.send_thread(); }

void adapter::rx_thread() { m_qp.rx_thread(); }

void adapter::response_thread() { m_qp.response_thread(); }

void adapter::timer_thread() { m_qp.timer_thread(); }

void adapter::event_thread() { m_events.run(); }

void adapter::reset_device_state() {
    // Disable every queue the contexts know of, then forget the contexts.
    for (uint32_t n = 0; n < m_core.ctx.qps.size(); ++n) {
        if (!m_core.ctx.qps[n].valid) continue;
        m_qe->wq_cfg({sq_wqid(n), false, false, 0, 0});
        m_qe->wq_cfg({rq_wqid(n), false, false, 0, 0});
    }
    for (uint32_t n = 0; n < m_core.ctx.cqs.size(); ++n) {
        if (m_core.ctx.cqs[n].valid) m_qe->cr_cfg({cq_crid(n), false, 0, 0, 0});
    }
    for (uint32_t n = 0; n < m_core.ctx.eqs.size(); ++n) {
        if (m_core.ctx.eqs[n].valid) m_qe->cr_cfg({eq_crid(n), false, 0, 0, 0});
    }
    m_cmd.reset();
    m_wqe_window.reset();
    m_core.collect();
    m_core.sched.clear();
    m_core.events.clear();
    m_core.async_events.clear();
    m_core.flushes.clear();
    m_core.async_eqn.assign(m_core.async_eqn.size(), -1);
    m_cmds.clear();
    m_fatal = false;
    m_core.fatal = false;
    for (uint16_t fn = 0; fn < m_fns.size(); ++fn) m_dirty.stop(fn);
    m_heartbeat_stopped = false;
    for (auto& f : m_fns) {
        // The register file returns to reset values except the mailbox address, which the
        // driver programs again anyway.
        f->regs.reset();
    }
}

void adapter::reset_thread() {
    // Power-on behaves as a reset: READY rises reset_ns after time zero.
    for (;;) {
        set_status_bit(reg::DEV_STATUS_READY, false);
        reset_device_state();
        m_core.ctx.fns[0].enabled = true;
        for (uint16_t fn = 1; fn < m_fns.size(); ++fn) m_core.ctx.fns[fn].enabled = present(fn);
        sc_core::wait(sc_time(m_p.reset_ns, SC_NS));
        set_status_bit(reg::DEV_STATUS_READY, true);
        // A device reset also returns every present VF to a usable, empty state.
        for (uint16_t fn = 1; fn < m_fns.size(); ++fn) {
            if (!present(fn) || m_fstate[fn].resetting) continue;
            bar0_regs& r = m_fns[fn]->regs;
            r.set(reg::DEV_STATUS,
                  static_cast<uint32_t>(reg::DEV_STATUS_READY.set(r.get(reg::DEV_STATUS), 1)));
        }
        sc_core::wait(m_reset_ev);
    }
}

}  // namespace chio::model

namespace chio::model {

void adapter::health_thread() {
    // The firmware's heartbeat (catalogue H2): while the PF driver has set DEV_CTRL.HEALTH_EN,
    // HEALTH_COUNTER counts health periods. It keeps counting in the fatal state (the driver
    // learns of that from FATAL and SYNDROME); only a hung firmware stops it.
    const sc_time period(spec::limits::HEALTH_PERIOD_US, sc_core::SC_US);
    for (;;) {
        bar0_regs& r = m_fns[0]->regs;
        if (!reg::DEV_CTRL_HEALTH_EN.get(r.get(reg::DEV_CTRL))) {
            sc_core::wait(m_health_ev);
            continue;
        }
        sc_core::wait(period);
        if (m_heartbeat_stopped || !reg::DEV_CTRL_HEALTH_EN.get(r.get(reg::DEV_CTRL))) continue;
        r.set(reg::HEALTH_COUNTER, r.get(reg::HEALTH_COUNTER) + 1);
    }
}

}  // namespace chio::model
