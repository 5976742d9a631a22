// The adapter's hierarchical QoS scheduler for send queues (docs/virtualization.md, "QoS").
//
// Contract
// - Two levels. Level 1: functions (PF and VFs), each with a weight (minimum share) and an
//   optional cap (token bucket). Level 2: the send queues of one function, each with a weight
//   and an optional rate limit (token bucket). Configuration is read from device_contexts at
//   every decision (fns[fn].qos_weight / max_rate_mbps, qps[qpn].qos_weight / rate_limit_mbps),
//   so a change takes effect at the next decision.
// - Fair share is start-time fair queueing (Goyal, Vin, Cheng, SIGCOMM 1996) at both levels,
//   charged in wire bytes (frame plus preamble, FCS and inter-packet gap): the eligible entity
//   with the smallest start tag is served; serving L bytes advances its tag by L / weight. An
//   entity that becomes active again starts at the level's virtual time, so idleness earns no
//   credit and an idle or capped entity's share goes to the busy ones (work-conserving).
// - Caps and rate limits are token buckets in bytes, filled at the configured rate up to a
//   depth of burst_bytes; a bucket starts empty (and stays empty while uncapped), so a flow
//   starts at its rate, not with a burst. An entity may start a packet while its bucket is not
//   negative; the packet's bytes are then charged, so the bucket may go negative by one packet and
//   the entity waits until it refills (sent bytes in any interval T <= rate * T + burst + one
//   packet).
// - Cost: activate() is O(1) and idempotent (a doorbell only marks a queue active, so a storm of
//   doorbells adds nothing to schedule); pick() is O(functions + rate-limited queues waiting +
//   log queues); charge() is O(1). The caller serves a bounded amount per turn (one packet).
// - Protocol: activate() records that a queue has a request pending (a queue-engine work token)
//   and schedules it. pick() takes a queue out of the schedule and puts it "in service"; the
//   caller serves one turn, calls consume() when the turn takes the pending request (dequeues),
//   charge()s every packet it sends, and calls finish(qpn, more) with whether the queue has work
//   of its own left (the rest of a message). The queue stays scheduled while `more` or a request
//   is pending, so a token that arrives during a turn is never lost.
// - Pure C++ (no SystemC): times are nanoseconds as double, given by the caller.
#pragma once

#include <cstdint>
#include <set>
#include <utility>
#include <vector>

#include "tlm-model/adapter/contexts.h"

namespace chio::model {

struct qos_params {
    // Token-bucket depth (bytes): how far a capped entity may run ahead of its rate after idling
    // or after being served late. Two 4 KiB-MTU frames: enough to absorb a scheduling delay of
    // several microseconds at 10 Gb/s without losing rate (docs/virtualization.md, "QoS").
    double burst_bytes = 8192.0;
};

// The answer of pick(): a queue to serve, or when to ask again.
struct qos_pick {
    bool found = false;
    uint32_t qpn = 0;
    // No queue eligible but some are waiting for tokens: the earliest time one becomes
    // eligible (ns). Negative: nothing is waiting (the scheduler is idle).
    double ready_ns = -1.0;
};

struct qos_counters {
    uint64_t activations = 0;   // activate() calls, including redundant ones
    uint64_t picks = 0;         // queues handed out
    uint64_t capped_waits = 0;  // pick() found only capped work
    uint64_t charged_bytes = 0;
};

class qos_scheduler {
public:
    explicit qos_scheduler(const device_contexts& ctx, const qos_params& p = {});

    // A send queue has a request pending (a queue-engine work token, or a QP that may send
    // again).
    void activate(uint32_t qpn);
    // The turn in progress took the pending request (dequeued, or dropped it).
    void consume(uint32_t qpn);
    // The next queue to serve at time now_ns (see qos_pick).
    qos_pick pick(double now_ns);
    // Bytes (wire occupancy) sent for a queue at now_ns: tags and buckets of the queue and its
    // function. Also for packets sent outside a turn (retransmissions): they count to caps.
    void charge(uint32_t qpn, uint64_t bytes, double now_ns);
    // End of the turn pick() gave: more = the queue still has work to serve.
    void finish(uint32_t qpn, bool more);
    // The QP left the schedule for good (reset, destroyed): forget its state.
    void forget(uint32_t qpn);
    // Device reset: every queue idle, every tag and bucket back to its initial state.
    void clear();

    bool scheduled(uint32_t qpn) const;
    // The queue has a request pending (activated, not consumed): the queue engine may hold a
    // WQE for it, so a fetch stage running ahead may dequeue.
    bool pending(uint32_t qpn) const { return qpn < m_qps.size() && m_qps[qpn].pending; }
    const qos_counters& counters() const { return m_counters; }
    const qos_params& params() const { return m_p; }

private:
    enum class qstate : uint8_t { idle, waiting, in_service };

    struct bucket {
        double tokens = 0.0;
        double at_ns = 0.0;  // time of the last refill
        // Refills at rate_mbps (0: uncapped, always full); returns the tokens.
        double refill(double rate_mbps, double now_ns, double depth);
    };
    struct qp_sched {
        qstate st = qstate::idle;
        bool pending = false;  // activated and not yet consumed
        uint16_t fn = 0;       // function whose lists hold the queue
        double tag = 0.0;      // start tag at level 2
        bucket b;
    };
    struct fn_sched {
        double tag = 0.0;    // start tag at level 1
        double vtime = 0.0;  // level-2 virtual time: tag of the queue last picked here
        bucket b;
        bool listed = false;             // in m_active
        std::vector<uint32_t> arrivals;  // activated, not yet sorted in
        // (tag, qpn), eligible by rate limit: a sorted vector used as an ordered set (a few
        // queues per function; a std::set allocated a node for each of the turns per packet).
        std::vector<std::pair<double, uint32_t>> ready;
        std::vector<uint32_t> limited;  // waiting for their own tokens
        bool empty() const { return arrivals.empty() && ready.empty() && limited.empty(); }
    };

    uint16_t fn_of(uint32_t qpn) const;
    double qp_weight(uint32_t qpn) const;
    double fn_weight(uint16_t fn) const;
    double qp_rate(uint32_t qpn) const;
    double fn_rate(uint16_t fn) const;
    fn_sched& fn_state(uint16_t fn);
    void enqueue(uint32_t qpn);
    // Moves arrivals and refilled rate-limited queues into `ready`; returns the earliest time a
    // still-limited queue becomes eligible (or -1).
    double sort_in(uint16_t fn, double now_ns);
    // Earliest time (ns) a bucket at `tokens` < 0 reaches 0 at rate_mbps.
    static double ready_at(double tokens, double rate_mbps, double now_ns);

    const device_contexts& m_ctx;
    qos_params m_p;
    std::vector<qp_sched> m_qps;
    std::vector<fn_sched> m_fns;
    std::vector<uint16_t> m_active;  // functions with queued work
    double m_vtime = 0.0;            // level-1 virtual time: tag of the function last picked
    qos_counters m_counters;
};

}  // namespace chio::model
