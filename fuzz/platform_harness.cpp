#include "fuzz/platform_harness.h"

#include <systemc>

#include "cosim/sc_bus.h"
#include "fuzz/fuzz_check.h"

namespace chio::fuzz {

platform_harness& platform_harness::get() {
    static platform_harness h;
    return h;
}

platform_harness::platform_harness() {
    // Quiet: the model's info and warning reports would print millions of lines; errors and
    // fatals keep SystemC's default action (they stop the run, which libFuzzer reports).
    sc_core::sc_report_handler::set_actions(sc_core::SC_INFO, sc_core::SC_DO_NOTHING);
    sc_core::sc_report_handler::set_actions(sc_core::SC_WARNING, sc_core::SC_DO_NOTHING);
    // The scoreboard is off: the targets write raw WQEs and commands past the driver, which the
    // scoreboard never hears of; each target checks the invariants itself (fuzz/fuzz_check.h).
    cosim::platform_params p;
    p.scoreboard = false;
    m_plat = std::make_unique<cosim::platform>("fuzz_host", p);
    // The platform's own bus is not used: each body gets a fresh one (see the header).
    m_plat->run_driver([this](drv::bus&) { thread_loop(); });
}

void platform_harness::thread_loop() {
    for (;;) {
        // The bus lives in the harness, not on this thread's stack: the process ends with the
        // thread parked below, and LeakSanitizer does not scan SystemC's coroutine stacks, so
        // what a stack object owned would be reported lost.
        m_bus = std::make_unique<cosim::sc_bus>(m_plat->rc, m_plat->mem, m_plat->irq);
        (*m_body)(*m_bus, *m_plat);
        m_done = true;
        sc_core::sc_pause();
        // Parks the thread until the next run()'s sc_start(); the pause takes effect first.
        sc_core::wait(sc_core::SC_ZERO_TIME);
    }
}

void platform_harness::run(const body_fn& body) {
    m_body = &body;
    m_done = false;
    sc_core::sc_start();
    CHIO_FUZZ_CHECK(m_done, "15 liveness", "driver thread",
                    "simulation ran out of events at " + sc_core::sc_time_stamp().to_string() +
                        " while the input's driver code was still waiting for the device");
    m_body = nullptr;
}

}  // namespace chio::fuzz

// libFuzzer calls this once before the first input. Building the platform and running its first
// sc_start() here keeps SystemC's one-time allocations (elaboration, the kernel's first run)
// out of the per-input leak check, which would otherwise report them against the first input.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
    chio::fuzz::platform_harness::get().run([](chio::drv::bus&, chio::cosim::platform&) {});
    return 0;
}
