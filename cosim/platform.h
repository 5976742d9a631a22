// One simulated host with one chio adapter: host memory, interrupt controller, root complex with
// the PCIe link model, and the adapter, wired as in docs/overview.md. Driver code runs in
// SystemC threads added with run_driver(); each gets its own sc_bus. The host OS's PCI error
// recovery (aer) resets the adapter's slot after a frozen channel.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <systemc>
#include <vector>

#include "cosim/host_memory.h"
#include "cosim/interrupt_controller.h"
#include "cosim/iommu.h"
#include "cosim/pci_error_recovery.h"
#include "cosim/pcie_link.h"
#include "cosim/root_complex.h"
#include "cosim/sc_bus.h"
#include "cosim/scoreboard.h"
#include "tlm-model/adapter/adapter.h"

namespace chio::cosim {

struct platform_params {
    uint64_t dram_size = 256ull << 20;
    pcie_link_params link;
    model::adapter_params adapter;
    // The invariant scoreboard (docs/scoreboard.md), on by default; CHIO_SCOREBOARD=0 in the
    // environment turns it off for every platform.
    bool scoreboard = true;
    uint64_t seed = 0;  // named in every violation
};

class platform : public sc_core::sc_module {
public:
    platform(sc_core::sc_module_name name, const platform_params& p = {});
    // Runs the scoreboard's end-of-run checks while the parts it probes still exist.
    ~platform() override;

    // Spawns a thread that runs body with a bus for function fn. When every driver thread of
    // every platform has returned, the simulation stops (sc_stop), so a scenario ends when its
    // drivers finish.
    void run_driver(std::function<void(drv::bus&)> body, uint16_t fn = 0);
    // As above, on a bus the caller made (a VM's guest bus); the platform keeps it alive.
    void run_driver(std::unique_ptr<drv::bus> bus, std::function<void(drv::bus&)> body);

    scoreboard board;  // first: the others report to it until they are gone
    host_memory mem;
    interrupt_controller irq;
    root_complex rc;
    cosim::iommu iommu;  // on rc's DMA path; empty, it passes every function through
    model::adapter adapter;
    // The OS's PCI error recovery for the adapter's slot (catalogue H8): drivers attach their
    // callbacks; a frozen channel (aer.channel_frozen) ends in a slot reset.
    pci_error_recovery aer;

private:
    platform(sc_core::sc_module_name name, const platform_params& p, int);  // after the override

    std::vector<std::unique_ptr<sc_bus>> m_buses;
    std::vector<std::unique_ptr<drv::bus>> m_guest_buses;
};

}  // namespace chio::cosim
