// The invariant scoreboard (catalogue section (b), docs/scoreboard.md): watches one host from
// outside the parts under test, like a hardware scoreboard, and names every broken invariant.
//
// Contract
// - Inputs: the root complex reports every upstream memory request (function, address, length,
//   read/write, data, whether it completed); the bus backends report the DMA buffers each
//   function's driver allocates; the driver reports what software asked for through the observer
//   seam (driver/observer.h: queues created, work requests posted, completions delivered, memory
//   registered, commands finished). CQEs are decoded from the device's DMA writes into the CQ
//   rings the driver created, never from the driver's view of them.
// - Checks: exactly-once completion (unsignaled WRs covered by a later CQE of the same SQ;
//   flushes count; driver-made flushes after a device loss count), per-queue order, status
//   legality for the opcode and QP type, error implies state (after an error CQE every later
//   CQE of the QP, or of a UD send queue, is a flush until RESET), DMA only inside the
//   function's own registered regions (driver DMA buffers and registered MRs), no access to
//   another function's region, index bounds (CQ slot and phase, WQE index inside the posted
//   window, byte_len within the posted length), and liveness at finish() against sim time (a
//   send WR must complete within its QP's retry bound, a QP in ERR must flush everything, a
//   command must not time out on a healthy device).
// - A violation names the invariant, the object (function, QPN, queue, WQE index, wr_id) and
//   the run's seed; it is kept (first MAX_KEPT in full, all counted), printed to stderr once, and
//   reported to the process-wide sink (set_violation_sink; the test main turns it into a
//   gtest failure) unless acknowledge()d by a test that provoked it on purpose.
// - Legal error behaviour is not a violation: error and flush CQEs, refused DMA (an IOMMU or
//   injected fault answered it: containment worked), anything after the driver declared the
//   device lost or the function was reset (the old generation's completions are void).
// - Cost when on: one map lookup per DMA (cached per function) and per posted WR; nothing per
//   byte. Off (set_enabled(false)): the root complex and buses skip every call.
// - Single SystemC process context at a time, like everything on the host side.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace chio::drv {
class observer;
}

namespace chio::cosim {

struct scoreboard_violation {
    std::string invariant;  // e.g. "exactly-once", "dma-region"
    std::string object;     // e.g. "fn 1 qpn 5 sq index 3 wr_id 7"
    std::string detail;
    uint64_t time_ns = 0;
    std::string to_string(uint64_t seed) const;
};

class scoreboard {
public:
    static constexpr size_t MAX_KEPT = 64;

    explicit scoreboard(std::string name);
    ~scoreboard();  // finish()es and reports what was not acknowledged
    scoreboard(const scoreboard&) = delete;
    scoreboard& operator=(const scoreboard&) = delete;

    void set_enabled(bool on);
    bool enabled() const { return m_enabled; }
    void set_seed(uint64_t seed);
    // Platform probes: whether a fault was injected into this host (then a command timeout is
    // legal), and whether the device still holds QP qpn of function fn (a QP erased by a
    // function reset owes no completion).
    void set_probes(std::function<bool()> faults_injected,
                    std::function<bool(uint16_t fn, uint32_t qpn)> qp_alive);

    // Root complex: one upstream memory request (MSI excluded) after it was answered.
    void on_dma(uint16_t fn, uint64_t addr, uint32_t len, bool write, const uint8_t* data, bool ok);
    // Bus backends: a coherent DMA buffer of function fn (bus address) came or went.
    void on_dma_alloc(uint16_t fn, uint64_t addr, uint64_t size);
    void on_dma_free(uint16_t fn, uint64_t addr);
    // Bus backends: function fn was reset (FLR): its queues' pending work is void.
    void on_function_reset(uint16_t fn);
    // Migration: function fn now lives behind another host's root complex (its VF state was
    // loaded there). What this board knows of it (regions, CQs, QPs and their pending work)
    // moves to `to`, so exactly-once and DMA confinement are checked across the move.
    void hand_over(uint16_t fn, scoreboard& to);
    // The observer a bus of function fn hands to its driver (owned here).
    drv::observer* driver_view(uint16_t fn);

    // End-of-run checks (liveness) at the current sim time; idempotent. Returns the number of
    // violations so far.
    size_t finish();

    uint64_t checks() const;
    uint64_t violation_count() const;
    const std::vector<scoreboard_violation>& violations() const;
    // "scoreboard: N checks, M violations" (and the first violation, if any).
    std::string summary() const;
    // {"enabled":..,"checks":..,"violations":..,"by_invariant":{..},"first":[..]}
    std::string json() const;
    // The violations so far were provoked on purpose (a negative test): not reported.
    void acknowledge();

    // Test hook: where the device writes the next CQE of CQ cqn of function fn (bus address of
    // the slot, and the phase bit it must carry). False when no such CQ is known.
    bool next_cqe_slot(uint16_t fn, uint32_t cqn, uint64_t& addr, uint8_t& phase) const;

    // Where unacknowledged violations go when a scoreboard is destroyed (default: stderr only).
    static void set_violation_sink(std::function<void(const std::string&)> sink);

    struct state;  // scoreboard_state.h

private:
    bool m_enabled = true;
    std::unique_ptr<state> m;
};

}  // namespace chio::cosim
