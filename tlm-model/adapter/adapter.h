// The chio adapter: a PCIe endpoint with its command interface, doorbells, queue engine, QP
// engine and event unit.
//
// Sockets (PCIe at transaction level, every payload carries a pcie_ext):
//   cfg_socket  - configuration requests for the adapter's functions (target)
//   mmio_socket - memory requests to the functions' BARs, decoded by address (target)
//   dma_socket  - DMA reads and writes and MSI-X messages to the host (initiator)
// Threads: command execution, QP engine, event unit, MSI-X sender, reset, function reset. MMIO
// callbacks only record work and notify a thread; nothing is fetched inside them (the doorbell
// rule).
//
// Functions (SR-IOV, docs/virtualization.md): function 0 is the PF; function n (1..TotalVFs) is
// VF n-1 and exists while the PF's VF Enable is set and n <= NumVFs. A function that does not
// exist answers config and memory requests with UR. A VF's BAR0 is at the PF's VF BAR0 + (n-1) *
// BAR size and answers while VF MSE is set. A function reset (VF FLR, VF DEV_CTRL.RESET, the
// manager's RESET_VF, VF Enable cleared) refuses the function's DMA and MSI-X from its start,
// drains the DMA already issued (Transactions Pending), destroys the function's resources and
// resets its MSI-X table and registers; other functions are untouched. A hot reset
// (hot_reset(), the slot reset of the host's error recovery) resets every function at once,
// config space included (adapter_hot_reset.cpp).
#pragma once

#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <systemc>
#include <tlm>

#include "tlm-model/adapter/adapter_core.h"
#include "tlm-model/adapter/command_unit.h"
#include "tlm-model/adapter/dirty_log.h"
#include "tlm-model/adapter/event_unit.h"
#include "tlm-model/adapter/port.h"
#include "tlm-model/adapter/qp_engine.h"
#include "tlm-model/adapter/queue_mirror.h"
#include "tlm-model/adapter/vf_state.h"
#include "tlm-model/adapter/wqe_window.h"
#include "tlm-model/pcie/bar0_regs.h"
#include "tlm-model/pcie/config_space.h"
#include "tlm-model/pcie/msix.h"
#include "tlm-model/pcie/payload_pool.h"
#include "tlm-model/pcie/pcie_ext.h"
#include "tlm-model/queue_engine/queue_engine.h"

namespace chio::model {

struct adapter_params {
    queue_engine_kind qe_kind = queue_engine_kind::model;
    queue_engine_options qe_options;
    qp_engine_timing timing;
    port_config port;          // MAC, GID, MTU, rate
    double reset_ns = 1000.0;  // time from DEV_CTRL.RESET (or power-on) to READY
};

// Observer of DMA traffic, for traces and scoreboards.
using dma_probe =
    std::function<void(uint16_t fn, bool write, uint64_t addr, uint64_t len, bool ok)>;

class adapter : public sc_core::sc_module, private dma_port, private vf_migration_port {
public:
    tlm_utils::simple_target_socket<adapter> cfg_socket;
    tlm_utils::simple_target_socket<adapter> mmio_socket;
    tlm_utils::simple_initiator_socket<adapter> dma_socket;

    SC_HAS_PROCESS(adapter);
    adapter(sc_core::sc_module_name name, const adapter_params& p = {});
    ~adapter() override;

    const adapter_counters& counters() const { return m_core.counters; }
    // The resource and function contexts, for scoreboards and statistics (read only).
    const device_contexts& contexts() const { return m_core.ctx; }
    queue_engine& engine() { return *m_qe; }
    adapter_probes& probes() { return m_core.probes; }
    void set_dma_probe(dma_probe p) { m_dma_probe = std::move(p); }
    // The DMA probe slot itself, for observers that add to it (tlm-model/trace/probe_chain.h).
    dma_probe& dma_probe_slot() { return m_dma_probe; }
    bool fatal() const { return m_fatal; }
    // Fault injection (cosim/fault_injector.h): an engine fatal error with this syndrome, as the
    // firmware would raise it; and a firmware hang that stops the heartbeat (HEALTH_COUNTER
    // freezes, everything else keeps its state). A device reset clears both.
    void inject_fatal(spec::syndrome s) { enter_fatal(s); }
    void stop_heartbeat() { m_heartbeat_stopped = true; }
    port& net() { return m_port; }
    // A function exists (PF always; VF n while VF Enable and n <= NumVFs).
    bool present(uint16_t fn) const;
    // DMA and MSI-X refused because the function was being reset or was absent.
    uint64_t refused_dma(uint16_t fn) const {
        return fn < m_fstate.size() ? m_fstate[fn].refused : 0;
    }
    const transport_counters& transport() const { return m_qp.counters(); }
    // VF migration (docs/migration.md): the function is suspended (SUSPEND_VF or LOAD_VF, until
    // RESUME_VF).
    bool suspended(uint16_t fn) const {
        return fn < m_core.ctx.fns.size() && m_core.ctx.fns[fn].suspended;
    }
    // Hot reset of the whole adapter (PCIe Base 4.0 section 6.6.1: a conventional reset of the
    // device, which the host's slot reset signals through the link): every function's DMA and
    // MSI-X refused at once, the DMA in flight drained, then every resource, register, MSI-X
    // table and config space (BARs, COMMAND, MSI-X enable, SR-IOV control: the VFs disappear)
    // back to reset values. Returns once the PF is READY again. Must be called from a thread.
    void hot_reset();
    uint64_t hot_resets() const { return m_hot_resets; }

private:
    struct function {
        explicit function(config_space::kind k) : cfg(k) {}
        config_space cfg;
        msix_table msix;
        bar0_regs regs;
    };

    // Transport callbacks.
    void cfg_b_transport(tlm::tlm_generic_payload& p, sc_core::sc_time& t);
    void mmio_b_transport(tlm::tlm_generic_payload& p, sc_core::sc_time& t);
    // `wqe`: the WQE written into the doorbell page with SQ_WQE_DB (null: fetch it by DMA).
    void doorbell(uint16_t fn, uint32_t reg, uint64_t value, const spec::send_wqe* wqe = nullptr);
    // A write into a doorbell page's WQE window (wqe_window.h).
    void wqe_window_write(tlm::tlm_generic_payload& p, uint16_t fn, uint32_t page,
                          uint32_t in_page);
    // The function whose BAR0 holds addr (with the offset in it), or false.
    bool decode(uint64_t addr, uint16_t& fn, uint32_t& off) const;

    // dma_port
    bool read(uint16_t fn, uint64_t addr, void* dst, size_t len) override;
    bool read_at(uint16_t fn, uint64_t addr, void* dst, size_t len,
                 sc_core::sc_time& delay) override;
    bool read_run_at(uint16_t fn, uint64_t addr, void* dst, size_t run_len, size_t first_len,
                     sc_core::sc_time& delay) override;
    bool request_at(uint16_t fn, uint64_t addr, size_t len, sc_core::sc_time& delay) override;
    bool write(uint16_t fn, uint64_t addr, const void* src, size_t len) override;
    bool post_write(uint16_t fn, uint64_t addr, const void* src, size_t len,
                    sc_core::sc_time& delay) override;
    void msix(uint16_t fn, unsigned vector) override;
    // One DMA transaction. With `posted` set, it holds the issue time (from now) on entry, and
    // the completion time is returned there instead of waited for. `request_bytes` and
    // `timing_only` shape a run of read requests (pcie_ext, read_run_at()).
    bool dma(uint16_t fn, bool write, uint64_t addr, void* data, size_t len, tlp_kind kind,
             sc_core::sc_time* posted = nullptr, uint32_t request_bytes = 0,
             bool timing_only = false);

    // Threads.
    void command_thread();
    void qp_thread();
    void rx_thread();
    void response_thread();
    void timer_thread();
    void event_thread();
    void msix_thread();
    void reset_thread();
    void function_reset_thread();
    void health_thread();

    // adapter_functions.cpp
    void sriov_changed();
    void begin_function_reset(uint16_t fn);
    // Blocks the calling thread until fn's reset has completed (RESET_VF).
    void reset_function_and_wait(uint16_t fn);

    // adapter_migration.cpp: vf_migration_port (SUSPEND_VF, SAVE_VF, LOAD_VF, RESUME_VF,
    // READ_DIRTY).
    migr_result suspend_vf(uint16_t fn) override;
    migr_result save_vf(uint16_t fn, uint64_t addr, uint32_t len) override;
    migr_result load_vf(uint16_t fn, uint64_t addr, uint32_t len) override;
    migr_result resume_vf(uint16_t fn) override;
    migr_result read_dirty(uint16_t fn, uint64_t addr, uint32_t pages,
                           uint64_t first_page) override;
    // The function has work the device still owes it (DMA in flight, events, interrupts).
    bool busy(uint16_t fn) const;
    // adapter_vf_capture.cpp: contexts <-> vf_state.
    vf_state capture(uint16_t fn);
    vf_qp_rec capture_qp(uint32_t qpn);
    // Checks a decoded blob against the target function and the free slots; OK or the status.
    migr_result check_load(uint16_t fn, const vf_state& s) const;
    void apply(uint16_t fn, const vf_state& s);
    void apply_qp(uint16_t fn, const vf_qp_rec& r);

    // The device-wide part of a reset (DEV_CTRL.RESET of the PF, and the hot reset): queues
    // disabled, every context, queued command and event dropped, fatal and heartbeat state
    // cleared, registers back to reset values.
    void reset_device_state();
    void enter_fatal(spec::syndrome s);
    void set_status_bit(const spec::field& f, bool v);
    void wire_function(uint16_t fn);

    adapter_params m_p;
    std::unique_ptr<queue_engine> m_qe;
    queue_mirror* m_mirror = nullptr;  // m_qe: the engine behind the mirror of its ring indices
    adapter_core m_core;
    event_unit m_events;
    port m_port;
    qp_engine m_qp;
    command_unit m_cmd;
    std::vector<std::unique_ptr<function>> m_fns;
    wqe_window m_wqe_window;  // WQEs being written into doorbell pages

    sc_core::sc_event m_cmd_ev;
    sc_core::sc_event m_reset_ev;
    sc_core::sc_event m_msix_ev;
    sc_core::sc_event m_health_ev;  // PF DEV_CTRL written (HEALTH_EN may have changed)
    std::deque<std::pair<uint16_t, uint64_t>> m_cmds;  // (fn, mailbox address)
    std::deque<std::pair<uint16_t, msix_message>> m_msix_out;
    dma_probe m_dma_probe;
    payload_pool m_gp_pool;  // the DMA initiator's transactions (no allocation per DMA)
    bool m_fatal = false;
    bool m_heartbeat_stopped = false;
    bool m_hot_resetting = false;  // hot_reset() in progress: no function masters the bus
    uint64_t m_hot_resets = 0;

    // Per function: reset progress and DMA in flight (for Transactions Pending).
    struct function_state {
        bool resetting = false;
        bool present = false;
        uint32_t inflight = 0;
        uint64_t refused = 0;
        uint64_t resets_done = 0;
    };
    std::vector<function_state> m_fstate;
    std::deque<uint16_t> m_freset_queue;
    dirty_log m_dirty{1 + spec::pci::TOTAL_VFS};
    sc_core::sc_event m_freset_ev;
    sc_core::sc_event m_freset_done_ev;
    // A function's last transaction in flight ended. Notified only while a reset waits for it
    // (m_drain_waiters): every DMA ends one, and a delta notification nobody waits for still
    // costs the scheduler an event to queue and trigger.
    sc_core::sc_event m_drain_ev;
    unsigned m_drain_waiters = 0;
    void drained(uint16_t fn) {
        if (--m_fstate[fn].inflight == 0 && m_drain_waiters > 0) {
            m_drain_ev.notify(sc_core::SC_ZERO_TIME);
        }
    }
};

}  // namespace chio::model
