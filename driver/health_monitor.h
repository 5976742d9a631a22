// The driver's watch on a device (catalogue H1, H2, H6, I4, I5): firmware heartbeat, fatal
// syndrome, and removal.
//
// poll() reads DEV_STATUS, SYNDROME and HEALTH_COUNTER (three MMIO reads) and answers:
// - removed: DEV_STATUS reads all ones (no chio register is ever all ones: a gone device);
// - fatal: DEV_STATUS.FATAL, with the SYNDROME word;
// - heartbeat_lost: HEALTH_COUNTER did not move for spec::limits::HEALTH_MAX_MISSES samples
//   taken at least HEALTH_PERIOD_US apart (mlx5: three misses of a 1 s poll);
// - function_reset: config COMMAND.BUS_MASTER, which the driver sets at probe and never clears,
//   reads 0: the function was reset behind the driver's back (a VF FLR by the host, catalogue
//   H7; PCIe 6.6.2 returns the command register to its reset value). Sampled with the
//   heartbeat, at most once per HEALTH_PERIOD_US, on the PF and on a VF;
// - ok otherwise. Once not ok, the answer sticks until reset().
// enable() sets DEV_CTRL.HEALTH_EN (the PF's; a VF's DEV_CTRL has no heartbeat, so a VF
// watches only status and removal).
#pragma once

#include <cstdint>

#include "driver/bus.h"

namespace chio::drv {

// queue_error: the device reported a CQ it can no longer write (CQ_ERROR, catalogue G5);
// stalled: outstanding work made no progress within the driver's liveness bound;
// channel_frozen: the OS reported a frozen channel (error_detected(io_frozen), catalogue H8):
// never a verdict of poll(), which sees a frozen channel's all-ones reads as removed.
enum class health {
    ok,
    fatal,
    heartbeat_lost,
    removed,
    queue_error,
    stalled,
    function_reset,
    channel_frozen
};
const char* to_string(health h);

class health_monitor {
public:
    health_monitor(bus& b, uint64_t bar0, bool heartbeat);

    void enable();
    health poll();
    uint32_t syndrome() const { return m_syndrome; }
    // Forget a verdict (after the device was reset and brought up again).
    void reset();

private:
    bus& m_bus;
    uint64_t m_bar0;
    bool m_heartbeat;
    health m_state = health::ok;
    uint32_t m_syndrome = 0;
    uint32_t m_last_count = 0;
    uint64_t m_last_sample_ns = 0;
    bool m_sampled = false;
    unsigned m_misses = 0;
};

}  // namespace chio::drv
