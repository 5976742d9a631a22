#include "driver/command_channel.h"

#include <cstring>

#include "driver/observer.h"

namespace chio::drv {

namespace cmd = spec::cmd;
namespace reg = spec::bar0::reg;

command_channel::command_channel(bus& b, uint64_t bar0) : m_bus(b), m_bar0(bar0) {}

command_channel::~command_channel() { m_bus.dma_free(m_mbox); }

bool command_channel::init() {
    if (m_mbox.cpu == nullptr) m_mbox = m_bus.dma_alloc(cmd::MAILBOX_SIZE, cmd::MAILBOX_SIZE);
    if (m_mbox.cpu == nullptr) return false;
    m_bus.mmio_write32(m_bar0 + reg::CMD_ADDR_LO, static_cast<uint32_t>(m_mbox.bus));
    m_bus.mmio_write32(m_bar0 + reg::CMD_ADDR_HI, static_cast<uint32_t>(m_mbox.bus >> 32));
    return true;
}

cmd_result command_channel::exec(cmd::opcode op, const void* in, uint32_t in_len, void* out,
                                 uint32_t out_len) {
    cmd_result r;
    if (m_dead) {
        ++m_aborted;
        r.status = cmd::status::ABORTED;
        return r;
    }
    if (m_mbox.cpu == nullptr || in_len > cmd::INPUT_SIZE || out_len > cmd::OUTPUT_SIZE) {
        r.status = cmd::status::ABORTED;
        return r;
    }
    auto* mb = static_cast<uint8_t*>(m_mbox.cpu);
    std::memset(mb, 0, cmd::MAILBOX_SIZE);
    const auto opcode = static_cast<uint16_t>(op);
    const uint16_t flags = m_event_wait ? static_cast<uint16_t>(cmd::flag::EVENT) : 0;
    const uint32_t token = ++m_token;
    std::memcpy(mb + cmd::hdr::OPCODE, &opcode, 2);
    std::memcpy(mb + cmd::hdr::FLAGS, &flags, 2);
    std::memcpy(mb + cmd::hdr::TOKEN, &token, 4);
    std::memcpy(mb + cmd::hdr::IN_LEN, &in_len, 4);
    std::memcpy(mb + cmd::hdr::OUT_LEN, &out_len, 4);
    if (in != nullptr && in_len != 0) std::memcpy(mb + cmd::INPUT_OFFSET, in, in_len);
    mb[cmd::hdr::OWNER] = 1;
    // The device must see the whole mailbox before the doorbell.
    m_bus.barrier(barrier_kind::to_device);
    m_bus.mmio_write32(m_bar0 + reg::CMD_DB, static_cast<uint32_t>(reg::CMD_DB_GO.make(1)));

    const uint64_t timeout_ns = uint64_t{spec::limits::CMD_TIMEOUT_US} * 1000;
    const uint64_t deadline = m_bus.now_ns() + timeout_ns;
    volatile const uint8_t* owner = mb + cmd::hdr::OWNER;
    if (m_event_wait) {
        // Event mode: sleep until the CMD_DONE event; the owner byte confirms it.
        const uint64_t now = m_bus.now_ns();
        m_event_wait(token, deadline > now ? deadline - now : 0);
    }
    while (*owner != 0) {
        // abort_all() while this command waits (the OS reported the device lost, or the
        // driver did from another path): ABORTED at once, as for a later command.
        if (m_dead) {
            ++m_aborted;
            r.status = cmd::status::ABORTED;
            return r;
        }
        if (m_bus.now_ns() >= deadline) {
            ++m_timeouts;
            r.status = cmd::status::ABORTED;
            if (observer* o = m_bus.watcher()) o->command_done(op, r.status, true);
            return r;
        }
        m_bus.relax();
    }
    m_bus.barrier(barrier_kind::from_device);
    r.status = static_cast<cmd::status>(mb[cmd::hdr::STATUS]);
    std::memcpy(&r.syndrome, mb + cmd::hdr::SYNDROME, 4);
    if (out != nullptr && out_len != 0) std::memcpy(out, mb + cmd::OUTPUT_OFFSET, out_len);
    if (observer* o = m_bus.watcher()) o->command_done(op, r.status, false);
    return r;
}

}  // namespace chio::drv
