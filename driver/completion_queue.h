// A completion queue: a ring of CQEs the device writes.
//
// poll() consumes valid CQEs (owner bit equal to the ring pass's phase), hands each to the
// `retire` callback (the device uses it to advance the owning QP's ring) and tells the device
// the new consumer index with one doorbell per call. Ownership: one thread polls a CQ.
// Entries whose fields are out of range for this driver are counted and dropped, never used to
// index anything (catalogue I1). One poll() consumes at most one ring's worth of entries (I4).
#pragma once

#include <cstdint>
#include <deque>
#include <functional>

#include "chio/spec/spec.h"
#include "driver/bus.h"
#include "driver/command_channel.h"

namespace chio::drv {

class completion_queue {
public:
    // retire(cqe) returns false when the CQE names no QP of this driver (it is then dropped).
    // It may replace fields the driver knows better (wr_id from its own ring).
    using retire_fn = std::function<bool(spec::cqe&)>;

    completion_queue(bus& b, uint64_t db_page, retire_fn retire);
    ~completion_queue();
    completion_queue(const completion_queue&) = delete;
    completion_queue& operator=(const completion_queue&) = delete;

    cmd_result create(command_channel& cmd, unsigned log_size, uint32_t eqn);
    cmd_result destroy(command_channel& cmd);

    // Up to max completions into wc; returns how many.
    int poll(spec::cqe* wc, int max);
    // Request an event for the next completion (or the next solicited one).
    void arm(bool solicited_only);

    uint32_t cqn() const { return m_cqn; }
    uint32_t size() const { return 1u << m_log_size; }
    uint64_t dropped() const { return m_dropped; }

    // Device lost: the hardware ring is no longer read; poll() returns the completions the
    // driver made (add_soft) instead, oldest first (mlx5's soft completions in INTERNAL_ERROR).
    void enter_error() { m_error = true; }
    void add_soft(const spec::cqe& c) { m_soft.push_back(c); }
    bool in_error() const { return m_error; }
    // Called by the destructor (the device forgets a CQ the application deletes).
    std::function<void()> on_destroy;

private:
    bus& m_bus;
    uint64_t m_db_page;
    retire_fn m_retire;
    dma_buffer m_ring;
    uint32_t m_cqn = 0;
    unsigned m_log_size = 0;
    uint32_t m_ci = 0;
    bool m_valid = false;
    uint64_t m_dropped = 0;
    bool m_error = false;
    std::deque<spec::cqe> m_soft;
};

}  // namespace chio::drv
