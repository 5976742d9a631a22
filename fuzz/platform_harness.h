// One simulated host with one adapter, kept for the whole fuzzing process, and a driver thread
// that runs one fuzz input at a time.
//
// Why: SystemC elaborates once per process, while libFuzzer calls the target millions of times.
// So the platform is built on the first input; run() hands the input's body to a persistent
// driver thread and simulates until the body returns (the thread then calls sc_pause(), which
// makes sc_start() return; the next run() resumes it). Each body gets a fresh bus whose BAR
// window starts at the same address, so that a body that probes the device maps it where the
// previous one did: every input starts from a device reset, and the model keeps no state from
// one input to the next that a probe does not reset (the invariant "a reset restores a working
// device" is what the targets check last).
//
// Liveness: if the simulation runs out of events while the body is still waiting for the device,
// run() reports invariant 15 (every request completes) instead of returning; a body that never
// stops is cut by libFuzzer's -timeout.
#pragma once

#include <functional>
#include <memory>

#include "cosim/platform.h"
#include "cosim/sc_bus.h"
#include "driver/bus.h"

namespace chio::fuzz {

class platform_harness {
public:
    using body_fn = std::function<void(drv::bus&, cosim::platform&)>;

    // The process's one harness (built on first use with default platform parameters).
    static platform_harness& get();

    // Runs body in the driver thread until it returns.
    void run(const body_fn& body);

    cosim::platform& platform() { return *m_plat; }

private:
    platform_harness();
    void thread_loop();

    std::unique_ptr<cosim::platform> m_plat;
    std::unique_ptr<cosim::sc_bus> m_bus;  // the current input's (see thread_loop)
    const body_fn* m_body = nullptr;
    bool m_done = false;
};

}  // namespace chio::fuzz
