// A bare PCIe device for tests of the host side of DMA: it issues 32-bit reads and writes
// through a root complex into host memory (its BAR and config targets are bound but unused), and
// dma_host wires one to host memory, a root complex with the default link and an interrupt
// controller.
#pragma once

#include <gtest/gtest.h>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include <cstdint>
#include <systemc>

#include "cosim/host_memory.h"
#include "cosim/interrupt_controller.h"
#include "cosim/root_complex.h"
#include "tlm-model/pcie/pcie_ext.h"

namespace chio::test {

struct dma_device : sc_core::sc_module {
    tlm_utils::simple_initiator_socket<dma_device> out{"out"};
    tlm_utils::simple_target_socket<dma_device> cfg{"cfg"}, mmio{"mmio"};
    explicit dma_device(sc_core::sc_module_name n) : sc_module(n) {}
    // Returns the access's annotated delay: for a write, when it lands, from now (a write is
    // posted: the device does not wait for it).
    sc_core::sc_time access(bool write, uint64_t addr, uint32_t& value) {
        tlm::tlm_generic_payload p;
        model::pcie_ext ext;
        p.set_extension(&ext);
        p.set_command(write ? tlm::TLM_WRITE_COMMAND : tlm::TLM_READ_COMMAND);
        p.set_address(addr);
        p.set_data_ptr(reinterpret_cast<unsigned char*>(&value));
        p.set_data_length(sizeof(value));
        p.set_streaming_width(sizeof(value));
        sc_core::sc_time t = sc_core::SC_ZERO_TIME;
        out->b_transport(p, t);
        p.clear_extension(&ext);
        EXPECT_TRUE(p.is_response_ok());
        return t;
    }
    sc_core::sc_time write(uint64_t addr, uint32_t value) { return access(true, addr, value); }
};

struct dma_host {
    cosim::host_memory mem{"mem", 1 << 20};
    cosim::interrupt_controller irq{"irq"};
    cosim::root_complex rc{"rc", irq};
    dma_device dev{"dev"};
    dma_host() {
        dev.out.bind(rc.dma_in);
        rc.cfg_out.bind(dev.cfg);
        rc.mmio_out.bind(dev.mmio);
        rc.mem_out.bind(mem.socket);
    }
    uint32_t word(uint64_t addr) { return *reinterpret_cast<uint32_t*>(mem.cpu_ptr(addr, 4)); }
};

}  // namespace chio::test
