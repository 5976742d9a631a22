// The live traffic of the fault scenarios (docs/faults.md): one flow of 1 KiB RC SENDs from QP a
// to QP b, 16 in flight, each QP on its own end (a device and the bus its driver uses: the same
// device for loopback, two hosts' devices for the link scenarios, a VF for the FLR scenario).
//
// Contract
// - Every posted work request (send at a, receive at b) is counted when it completes: `seen`
//   the first time, `duplicated` after that; a refused post (device lost) is never counted as
//   posted. Completions are read only through the driver's CQ API, as an application would.
// - Liveness (invariant 15): with no completion for `stall_ns`, both QPs are moved to ERR so
//   the device flushes what it holds; if even that completes nothing within another
//   `stall_ns`, the driver declares the device(s) lost and flushes them itself. An error
//   completion moves both QPs to ERR (the peer's receives will never be matched).
// - step() is one pass of the application loop; several flows can be stepped in turn from one
//   driver thread (SystemC threads are cooperative). pause() waits for the next pass.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "driver/device.h"

namespace chio::tb {

struct traffic_end {
    drv::bus* bus = nullptr;
    drv::device* dev = nullptr;
};

struct traffic_params {
    uint32_t timeout = 8;                // QP ACK timeout code: 4.096 us << 8 = 1 ms
    uint64_t stall_ns = 200'000;         // liveness bound (see the contract)
    uint64_t run_limit_ns = 20'000'000;  // hard stop of one phase
    bool events = false;                 // sleep on interrupts (bounded) instead of polling
};

// What one phase saw.
struct phase {
    uint64_t expected = 0, seen = 0, duplicated = 0, errors = 0, polled_without_irq = 0;
    uint64_t retry_exc = 0;  // completions with RETRY_EXC_ERR (catalogue D7, H5)
    bool ok = false;         // every completion SUCCESS and every message arrived
};

class fault_traffic {
public:
    fault_traffic(traffic_end a, traffic_end b, const traffic_params& p = {});
    ~fault_traffic();
    fault_traffic(const fault_traffic&) = delete;
    fault_traffic& operator=(const fault_traffic&) = delete;

    // PDs, CQs, QPs (connected RESET -> RTS each way) and buffers; false with a one-line reason.
    bool setup(std::string& err);
    void start(uint64_t count);
    // One pass: post up to the depth, poll, `tick(sends done)`, health, liveness. False once
    // every posted work request completed (or the phase's limit passed).
    bool step(const std::function<void(uint64_t)>& tick = {});
    void pause();
    phase result() const;
    // start(), then step() and pause() to the end.
    phase run(uint64_t count, const std::function<void(uint64_t)>& tick = {});

private:
    struct end {
        traffic_end at;
        uint32_t pd = 0, lkey = 0;
        std::unique_ptr<drv::completion_queue> scq, rcq;
        std::unique_ptr<drv::queue_pair> qp;
        drv::dma_buffer buf;
    };
    bool setup_end(end& e, std::string& err);
    bool connect(end& from, const end& to, std::string& err);
    void post();
    bool poll();
    void to_err();
    std::vector<drv::device*> devices() const;

    end m_a, m_b;
    traffic_params m_p;
    uint64_t m_count = 0, m_posted = 0, m_recvs_posted = 0, m_sends_done = 0, m_recvs_done = 0;
    std::vector<uint8_t> m_send_seen, m_recv_seen;
    bool m_stop_posting = false, m_forced_err = false, m_timed_out = false, m_progress = false;
    uint64_t m_start = 0, m_last_progress = 0;
    phase m_phase;
};

}  // namespace chio::tb
