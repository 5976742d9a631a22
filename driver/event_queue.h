// An event queue: a ring of EQEs the device writes, bound to one MSI-X vector.
//
// Ownership: one thread polls it. poll() reads entries by owner bit (then a from_device barrier
// before the rest of the entry); arm() writes the consumer index with ARM so the next EQE sends
// the vector's interrupt.
#pragma once

#include <cstdint>

#include "chio/spec/spec.h"
#include "driver/bus.h"
#include "driver/command_channel.h"

namespace chio::drv {

class event_queue {
public:
    event_queue(bus& b, uint64_t db_page);
    ~event_queue();
    event_queue(const event_queue&) = delete;
    event_queue& operator=(const event_queue&) = delete;

    cmd_result create(command_channel& cmd, unsigned log_size, unsigned vector);
    cmd_result destroy(command_channel& cmd);

    // Next valid EQE, consumed; false when none is waiting.
    bool poll(spec::eqe& out);
    // Tells the device the consumer index and arms the interrupt.
    void arm();

    uint32_t eqn() const { return m_eqn; }
    unsigned vector() const { return m_vector; }
    bool valid() const { return m_valid; }
    uint32_t size() const { return 1u << m_log_size; }

private:
    bus& m_bus;
    uint64_t m_db_page;
    dma_buffer m_ring;
    uint32_t m_eqn = 0;
    unsigned m_vector = 0;
    unsigned m_log_size = 0;
    uint32_t m_ci = 0;
    bool m_valid = false;
};

}  // namespace chio::drv
