// The host's interrupt controller: receives MSI-X messages (memory writes into the MSI range) and
// wakes the driver thread waiting for that vector.
//
// Contract: a message's data word names the vector (the bus backend hands out {MSI_BASE, n}).
// Interrupts are edge events with a pending count, so one that arrives before the driver waits is
// not lost. Messages with an unknown vector are counted as spurious.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <systemc>

namespace chio::cosim {

class interrupt_controller : public sc_core::sc_module {
public:
    explicit interrupt_controller(sc_core::sc_module_name name);

    void deliver(uint64_t addr, uint32_t data);
    // Waits (in an SC_THREAD) until vector `data` has fired or the timeout passes; consumes one
    // pending interrupt. Returns false on timeout.
    bool wait(uint32_t data, const sc_core::sc_time& timeout);

    uint64_t delivered() const { return m_delivered; }

private:
    struct line {
        uint64_t pending = 0;
        sc_core::sc_event ev;
    };
    line& get(uint32_t data);

    std::map<uint32_t, std::unique_ptr<line>> m_lines;
    uint64_t m_delivered = 0;
};

}  // namespace chio::cosim
