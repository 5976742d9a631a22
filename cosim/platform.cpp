#include "cosim/platform.h"

#include <cstdlib>
#include <string>

#include "cosim/guest_bus.h"

namespace chio::cosim {

namespace {
// Driver threads still running in this simulation (one simulation per process).
unsigned g_running_drivers = 0;
}  // namespace

namespace {
// CHIO_QUEUE_ENGINE=model|rtl|lockstep overrides every platform's queue engine, so a whole
// test suite can be run in lockstep (docs/rtl.md). Unset or unknown: the caller's choice.
platform_params with_env_override(platform_params p) {
    if (const char* e = std::getenv("CHIO_QUEUE_ENGINE")) {
        model::queue_engine_kind k;
        if (model::parse_queue_engine_kind(e, k)) p.adapter.qe_kind = k;
    }
    if (const char* e = std::getenv("CHIO_SCOREBOARD")) {
        if (std::string(e) == "0") p.scoreboard = false;
    }
    return p;
}
}  // namespace

platform::platform(sc_core::sc_module_name name, const platform_params& p_in)
    : platform(name, with_env_override(p_in), 0) {}

platform::platform(sc_core::sc_module_name name, const platform_params& p, int)
    : sc_module(name),
      board(std::string(name)),
      mem("mem", p.dram_size),
      irq("irq"),
      rc("rc", irq, p.link),
      adapter("adapter0", p.adapter),
      aer(rc, adapter) {
    // The platform stops the simulation itself when its drivers finish; that is not news.
    sc_core::sc_report_handler::set_actions("/OSCI/SystemC", sc_core::SC_INFO,
                                            sc_core::SC_DO_NOTHING);
    rc.cfg_out.bind(adapter.cfg_socket);
    rc.mmio_out.bind(adapter.mmio_socket);
    adapter.dma_socket.bind(rc.dma_in);
    rc.mem_out.bind(mem.socket);
    rc.set_iommu(&iommu);
    board.set_enabled(p.scoreboard);
    board.set_seed(p.seed);
    board.set_probes(
        [this] {
            return rc.faults().injected_total() != 0 || rc.faults().removed() || adapter.fatal();
        },
        [this](uint16_t fn, uint32_t qpn) {
            // A QP still owes completions while the device holds it for this function and
            // both its CQs can take them (an overflowed CQ takes none: catalogue C14).
            const auto& c = adapter.contexts();
            if (qpn >= c.qps.size() || !c.qps[qpn].valid || c.qps[qpn].fn != fn) return false;
            for (uint32_t cqn : {c.qps[qpn].send_cqn, c.qps[qpn].recv_cqn}) {
                if (cqn < c.cqs.size() && c.cqs[cqn].valid && c.cqs[cqn].error) return false;
            }
            return true;
        });
    rc.set_board(&board);
}

platform::~platform() {
    board.finish();
    board.set_probes({}, {});
}

void platform::run_driver(std::function<void(drv::bus&)> body, uint16_t fn) {
    sc_bus_params bp;
    bp.fn = fn;
    m_buses.push_back(std::make_unique<sc_bus>(rc, mem, irq, bp));
    sc_bus* b = m_buses.back().get();
    ++g_running_drivers;
    sc_core::sc_spawn_options opt;
    sc_core::sc_spawn(
        [b, body = std::move(body)]() {
            body(*b);
            // The driver's last posted writes are still on their way; they reach the device
            // before the simulation may stop, as they would after a program's exit.
            b->drain();
            if (--g_running_drivers == 0) sc_core::sc_stop();
        },
        sc_core::sc_gen_unique_name("driver"), &opt);
}

void platform::run_driver(std::unique_ptr<drv::bus> bus, std::function<void(drv::bus&)> body) {
    m_guest_buses.push_back(std::move(bus));
    drv::bus* b = m_guest_buses.back().get();
    ++g_running_drivers;
    sc_core::sc_spawn_options opt;
    sc_core::sc_spawn(
        [b, body = std::move(body)]() {
            body(*b);
            // As for a host driver: the guest's last posted writes land first.
            if (auto* g = dynamic_cast<guest_bus*>(b)) g->drain();
            if (--g_running_drivers == 0) sc_core::sc_stop();
        },
        sc_core::sc_gen_unique_name("guest_driver"), &opt);
}

}  // namespace chio::cosim
