// The QP engine: executes send-queue work and delivers it to receive queues.
//
// Its thread takes a send queue from the scheduler's work list, dequeues one WQE (one per turn,
// so one queue cannot starve another), fetches it by DMA into a private copy (single fetch: all
// checks use that copy), validates it, gathers the payload by DMA, delivers it to the
// destination QP's receive queue (loopback inside this adapter for now), and writes the
// completions. Any error completes the WQE with an error status and moves the QP to ERR, after
// which every outstanding WQE of both queues completes exactly once with WR_FLUSH_ERR.
#pragma once

#include <cstdint>
#include <vector>

#include "tlm-model/adapter/adapter_core.h"
#include "tlm-model/adapter/event_unit.h"

namespace chio::model {

// Pipeline timing (defaults and sources: docs/performance.md).
struct qp_engine_timing {
    double wqe_process_ns = 20.0;   // decode and validate one WQE (5 cycles at 250 MHz)
    double port_gbps = 100.0;       // loopback: payload serialization at the port rate
    double rnr_timer_ns = 10000.0;  // wait before retrying a receiver-not-ready delivery
    uint32_t rnr_retry = 7;         // delivery attempts before RNR_RETRY_EXC_ERR
};

class qp_engine {
public:
    qp_engine(adapter_core& core, event_unit& events, const qp_engine_timing& t = {});

    // Context change effects, called by the command unit.
    void on_transition(uint32_t qpn, spec::qp_state from, spec::qp_state to);
    // An accepted doorbell on a work queue.
    void on_doorbell(uint16_t wqid);
    // A refused queue-engine input.
    void on_qe_error(const qe_err& e);

    // Body of the adapter's QP-engine thread: never returns.
    void run();

private:
    void process_send(uint32_t qpn, uint16_t index);
    // Delivers a SEND to the destination's receive queue. Returns the requester's status.
    spec::cqe_status deliver(uint32_t src_qpn, const spec::send_wqe& w,
                             const std::vector<uint8_t>& payload);
    bool gather(uint16_t fn, const spec::send_wqe& w, std::vector<uint8_t>& payload,
                spec::cqe_status& st);
    void complete_send(uint32_t qpn, uint16_t index, const spec::send_wqe& w,
                       spec::cqe_status st, uint32_t byte_len);
    void flush(uint32_t qpn);
    void to_error(uint32_t qpn);
    // The QP while it still exists and is not in RESET, else null: a RESET or destroy during a
    // DMA wait abandons the WQE (nothing completes after a reset).
    qp_ctx* live(uint32_t qpn);

    adapter_core& m_core;
    event_unit& m_events;
    qp_engine_timing m_t;
};

}  // namespace chio::model
