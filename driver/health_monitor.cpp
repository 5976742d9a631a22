#include "driver/health_monitor.h"

#include "chio/spec/spec.h"

namespace chio::drv {

namespace reg = spec::bar0::reg;
namespace cfg = spec::pci::cfg;

const char* to_string(health h) {
    switch (h) {
        case health::ok:
            return "ok";
        case health::fatal:
            return "fatal";
        case health::heartbeat_lost:
            return "heartbeat_lost";
        case health::removed:
            return "removed";
        case health::queue_error:
            return "queue_error";
        case health::stalled:
            return "stalled";
        case health::function_reset:
            return "function_reset";
        case health::channel_frozen:
            return "channel_frozen";
    }
    return "?";
}

health_monitor::health_monitor(bus& b, uint64_t bar0, bool heartbeat)
    : m_bus(b), m_bar0(bar0), m_heartbeat(heartbeat) {}

void health_monitor::enable() {
    if (!m_heartbeat) return;
    const uint32_t ctrl = m_bus.mmio_read32(m_bar0 + reg::DEV_CTRL);
    if (ctrl == 0xFFFFFFFFu) return;  // removed: poll() will say so
    // RESET is write-1-to-start and reads 0, so writing back what was read starts nothing.
    m_bus.mmio_write32(m_bar0 + reg::DEV_CTRL,
                       static_cast<uint32_t>(reg::DEV_CTRL_HEALTH_EN.set(ctrl, 1)));
}

void health_monitor::reset() {
    m_state = health::ok;
    m_syndrome = 0;
    m_sampled = false;
    m_misses = 0;
}

health health_monitor::poll() {
    if (m_state != health::ok) return m_state;
    const uint32_t st = m_bus.mmio_read32(m_bar0 + reg::DEV_STATUS);
    if (st == 0xFFFFFFFFu) return m_state = health::removed;
    if (reg::DEV_STATUS_FATAL.get(st)) {
        m_syndrome = m_bus.mmio_read32(m_bar0 + reg::SYNDROME);
        return m_state = health::fatal;
    }
    const uint64_t now = m_bus.now_ns();
    const uint64_t period_ns = uint64_t{spec::limits::HEALTH_PERIOD_US} * 1000;
    if (m_sampled && now - m_last_sample_ns < period_ns) return m_state;
    // All ones is a failed config read (removal, decided by DEV_STATUS above), not a reset.
    const uint32_t command = m_bus.cfg_read(cfg::COMMAND, 2);
    if (command != 0xFFFFu && !cfg::COMMAND_BUS_MASTER.get(command)) {
        return m_state = health::function_reset;
    }
    if (m_heartbeat) {
        const uint32_t count = m_bus.mmio_read32(m_bar0 + reg::HEALTH_COUNTER);
        if (count == 0xFFFFFFFFu && m_bus.mmio_read32(m_bar0 + reg::DEV_STATUS) == 0xFFFFFFFFu) {
            return m_state = health::removed;
        }
        if (m_sampled && count == m_last_count) {
            if (++m_misses >= spec::limits::HEALTH_MAX_MISSES) {
                return m_state = health::heartbeat_lost;
            }
        } else {
            m_misses = 0;
        }
        m_last_count = count;
    }
    m_sampled = true;
    m_last_sample_ns = now;
    return m_state;
}

}  // namespace chio::drv
