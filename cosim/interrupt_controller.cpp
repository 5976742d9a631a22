#include "cosim/interrupt_controller.h"

namespace chio::cosim {

interrupt_controller::interrupt_controller(sc_core::sc_module_name name) : sc_module(name) {}

interrupt_controller::line& interrupt_controller::get(uint32_t data) {
    auto& l = m_lines[data];
    if (!l) l = std::make_unique<line>();
    return *l;
}

void interrupt_controller::deliver(uint64_t, uint32_t data) {
    line& l = get(data);
    ++l.pending;
    ++m_delivered;
    l.ev.notify(sc_core::SC_ZERO_TIME);
}

bool interrupt_controller::wait(uint32_t data, const sc_core::sc_time& timeout) {
    line& l = get(data);
    const sc_core::sc_time deadline = sc_core::sc_time_stamp() + timeout;
    while (l.pending == 0) {
        const sc_core::sc_time now = sc_core::sc_time_stamp();
        if (now >= deadline) return false;
        sc_core::wait(deadline - now, l.ev);
    }
    --l.pending;
    return true;
}

}  // namespace chio::cosim
