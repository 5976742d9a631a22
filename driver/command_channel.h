// The driver's side of the command interface (spec [command]).
//
// One command at a time: fill the mailbox, hand it to the device (owner byte 1), ring CMD_DB,
// then wait for the owner byte to return to 0, by polling or, in event mode, by sleeping on the
// async EQ's interrupt. Every wait is bounded by spec::limits::CMD_TIMEOUT_US; a command that
// does not complete is reported as ABORTED (a status the driver synthesizes, never the device).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>

#include "chio/spec/spec.h"
#include "driver/bus.h"

namespace chio::drv {

struct cmd_result {
    spec::cmd::status status = spec::cmd::status::OK;
    uint32_t syndrome = 0;
    bool ok() const { return status == spec::cmd::status::OK; }
};

class command_channel {
public:
    command_channel(bus& b, uint64_t bar0);
    ~command_channel();
    command_channel(const command_channel&) = delete;
    command_channel& operator=(const command_channel&) = delete;

    // Allocates the mailbox and tells the device where it is. False when out of DMA memory.
    bool init();

    // Executes one command. in/out are the command's input and output structures; in_len and
    // out_len are what the mailbox header declares (normally their sizes).
    cmd_result exec(spec::cmd::opcode op, const void* in, uint32_t in_len, void* out,
                    uint32_t out_len);

    // Event mode: wait_event() is called instead of polling; it returns true once the device
    // reported completion of `token` (or false on timeout).
    void set_event_wait(std::function<bool(uint32_t token, uint64_t timeout_ns)> wait) {
        m_event_wait = std::move(wait);
    }

    uint64_t timeouts() const { return m_timeouts; }
    // Device lost: every command from now on completes at once with ABORTED, the status the
    // driver synthesizes (catalogue B8: a command to a dead device never hangs); a command
    // already waiting for the device returns ABORTED at its next poll. revive() after a
    // successful reset and init().
    void abort_all() { m_dead = true; }
    void revive() { m_dead = false; }
    bool dead() const { return m_dead; }
    uint64_t aborted() const { return m_aborted; }

private:
    bus& m_bus;
    uint64_t m_bar0;
    dma_buffer m_mbox;
    uint32_t m_token = 0;
    uint64_t m_timeouts = 0;
    uint64_t m_aborted = 0;
    bool m_dead = false;
    std::function<bool(uint32_t, uint64_t)> m_event_wait;
};

}  // namespace chio::drv
