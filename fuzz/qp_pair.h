// Two RC queue pairs of one adapter connected to each other through the port's loopback, with
// guarded buffers: what the WQE and packet fuzz targets start every input from.
//
// Each side has its own send and receive CQ (polled into plain vectors, so that every CQE is seen
// by the checks, including ones the driver would drop), and a buffer laid out as
// [guard | registered region | guard]. Only the middle is registered (local write, remote
// read/write/atomic); the guards hold a pattern and nothing may ever change them: the device may
// only DMA inside registered regions and its own rings (invariant 7).
// Timeouts and retry counts are small so that error paths end quickly in simulated time.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "chio/spec/spec.h"
#include "driver/device.h"

namespace chio::fuzz {

constexpr uint32_t GUARD_BYTES = 4096;
constexpr uint32_t REGION_BYTES = 16384;
constexpr uint8_t GUARD_FILL = 0x5A;

struct qp_side {
    std::unique_ptr<drv::completion_queue> scq, rcq;
    std::unique_ptr<drv::queue_pair> qp;
    drv::dma_buffer buf;  // guard, region, guard
    uint32_t lkey = 0, rkey = 0;
    std::vector<spec::cqe> send_cqes, recv_cqes;
    spec::cmd::query_port_out port{};

    uint64_t region() const { return buf.bus + GUARD_BYTES; }
    uint8_t* region_cpu() const { return static_cast<uint8_t*>(buf.cpu) + GUARD_BYTES; }
    // Empty when both guards still hold the pattern; else the first changed offset.
    std::string guard_damage() const;
};

class qp_pair {
public:
    explicit qp_pair(drv::bus& b) : m_bus(b) {}
    ~qp_pair();
    qp_pair(const qp_pair&) = delete;
    qp_pair& operator=(const qp_pair&) = delete;

    // Probes the device and builds both sides, a connected to b and b to a; false with `err`.
    bool open(std::string& err);

    // Polls every CQ once into the sides' vectors.
    void poll();
    // Polls until pred() holds or timeout_ns of simulated time passed; false on timeout.
    template <class Pred>
    bool wait_for(Pred pred, uint64_t timeout_ns) {
        const uint64_t deadline = m_bus.now_ns() + timeout_ns;
        for (;;) {
            poll();
            if (pred()) return true;
            if (m_bus.now_ns() >= deadline) return false;
            m_bus.relax();
        }
    }
    // MODIFY_QP to ERR: the device flushes every outstanding WQE of the QP.
    drv::cmd_result to_error(qp_side& s);

    drv::device& dev() { return *m_dev; }
    drv::bus& io() { return m_bus; }
    uint32_t pd() const { return m_pd; }

    qp_side a, b;

private:
    bool build(qp_side& s, std::string& err);
    bool connect(qp_side& s, const qp_side& peer, std::string& err);

    drv::bus& m_bus;
    std::unique_ptr<drv::device> m_dev;
    uint32_t m_pd = 0;
};

// First psn of the side whose QP number is qpn (both sides use it for the peer's rq_psn).
inline uint32_t initial_psn(uint32_t qpn) { return (0x100 + qpn) & 0xFFFFFF; }

}  // namespace chio::fuzz
