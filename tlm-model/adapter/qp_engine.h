// The QP engine: RC and UD transports (IBA 1.4 chapter 9) between the adapter's queues and its
// port.
//
// Threads (each a SystemC thread of the adapter):
//   send  - asks the QoS scheduler (qos_scheduler.h) for the next send queue and serves it one
//           turn of one packet. The send path is two pipelined stages (docs/performance.md):
//           the fetch stage (requester.cpp, stage_wqe) takes WQEs of the queue from the ring
//           ahead of their turn, up to stage_wqes / stage_bytes per QP, fetches each once into a
//           private copy (every check uses the copy; one descriptor read brings up to
//           wqes_per_fetch consecutive posted WQEs), checks every key, and issues the payload
//           reads per MTU chunk with at most read_bytes_in_flight outstanding (the PCIe read
//           tags); the reads are split transactions, so the stage does not block. The transmit
//           turn (requester_start.cpp) sends the next packet whose chunk has arrived; a queue
//           whose next packet is still in flight leaves the schedule until it arrives, so it
//           never holds up another queue's turn. One packet per turn is what lets weights and
//           caps hold at packet granularity; when every queue with work is capped or waiting
//           for data, the thread sleeps until the earliest refill or arrival (or new work);
//   rx    - handles incoming packets: requests as responder (responder.cpp), responses and
//           acknowledgements as requester (completer.cpp);
//   timer - retransmits on ACK timeout and after RNR delays (completer.cpp).
// Any error completes the WQE with an error status and moves the QP to ERR; then every
// outstanding WQE of both queues completes exactly once with WR_FLUSH_ERR, in order.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <queue>
#include <set>
#include <utility>
#include <vector>

#include "tlm-model/adapter/adapter_core.h"
#include "tlm-model/adapter/event_unit.h"
#include "tlm-model/adapter/port.h"
#include "tlm-model/adapter/transport_state.h"

namespace chio::model {

// Pipeline timing (defaults and sources: docs/performance.md).
struct qp_engine_timing {
    double wqe_process_ns = 20.0;  // decode and validate one WQE (5 cycles at 250 MHz)
    double rx_process_ns = 8.0;    // parse and look up one incoming packet (2 cycles)
    uint32_t ack_coalesce = 16;    // responder ACKs at least every this many packets
    // Fetch stage (docs/performance.md "Pipelined send path"): per-QP staging buffer and the
    // payload reads it keeps in flight.
    uint32_t stage_wqes = 4;        // WQEs fetched ahead of their turn, per QP
    uint32_t stage_bytes = 131072;  // a WQE is fetched while less payload is staged
    // One descriptor read fetches up to this many consecutive posted WQEs (never past the ring's
    // end), and the next read is issued when the stage takes the last copy, so descriptor
    // fetches overlap payload reads: 4 x 128 B = one read request of MRRS (512 B). 1: one read
    // per WQE, when the stage takes it.
    uint32_t wqes_per_fetch = 4;
    // Receive side (docs/performance.md "Receive WQE read-ahead"): a QP keeps up to this many
    // of its posted receive WQEs read ahead of their messages, 8 x 64 B = one read request of
    // MRRS, and reads more when half of them are taken; an SRQ likewise, for all its QPs. 1: one
    // read per WQE, when its message arrives.
    uint32_t recv_wqes_per_fetch = 8;
    uint32_t read_request_bytes = 512;      // one payload read request: MRRS (DevCtl reset value)
    uint32_t read_bytes_in_flight = 16384;  // payload reads outstanding: 32 tags x 512 B
    // Receive side: payload writes to host memory are posted; the engine goes on once a write
    // is issued, up to this many still on their way (posted-header flow-control credits).
    uint32_t posted_writes_in_flight = 8;
};

struct transport_counters {
    uint64_t retransmits = 0;
    uint64_t timeouts = 0;
    uint64_t rnr_naks_sent = 0;
    uint64_t rnr_naks_received = 0;
    uint64_t seq_naks_sent = 0;
    uint64_t acks_sent = 0;
    uint64_t duplicates = 0;
    uint64_t ud_dropped = 0;
    uint64_t per_opcode_tx[256] = {};
};

class qp_engine {
public:
    qp_engine(adapter_core& core, event_unit& events, port& p, const qp_engine_timing& t = {});

    // Context change effects, called by the command unit.
    void on_transition(uint32_t qpn, spec::qp_state from, spec::qp_state to);
    // An accepted doorbell on a work queue.
    void on_doorbell(uint16_t wqid);
    // An accepted SQ_WQE_DB whose WQE (ring index `index`) was written whole into the doorbell
    // page: the fetch stage uses this copy instead of reading the ring.
    void offer_wqe(uint32_t qpn, uint16_t index, const spec::send_wqe& w);
    // A refused queue-engine input.
    void on_qe_error(const qe_err& e);
    // A CQ went to error: every QP completing into it goes to ERR.
    void on_cq_error(uint32_t cqn);

    // Thread bodies: never return.
    void send_thread();
    void rx_thread();
    void timer_thread();
    // Sends the responder's queued responses as they become ready (response_queue.cpp).
    void response_thread();

    const transport_counters& counters() const { return m_tc; }

    // VF migration (adapter_migration.cpp, docs/migration.md): a QP's transport state, and the
    // wake-up of the send and timer threads when a function resumes.
    qp_transport& transport(uint32_t qpn) { return tp(qpn); }
    void resume() {
        m_timer_ev.notify(sc_core::SC_ZERO_TIME);
        m_core.work_ev.notify(sc_core::SC_ZERO_TIME);
    }

private:
    // requester.cpp: the fetch stage
    // Takes WQEs of the queue from the ring while its staging buffer has room.
    void prefetch(uint32_t qpn);
    // Fetches, checks and starts the payload reads of one dequeued WQE into r.staged.
    void stage_wqe(uint32_t qpn, uint16_t index);
    // The descriptor at ring index `index`: from an earlier batched read, or by a read of it and
    // of the posted WQEs after it (qp_engine_timing::wqes_per_fetch). `delay`: until it has
    // arrived. false: the read was refused.
    bool fetch_wqe(uint32_t qpn, const qp_ctx& q, uint16_t index, spec::send_wqe& out,
                   sc_core::sc_time& delay);
    spec::cqe_status gather(uint32_t qpn, const spec::send_wqe& w, staged_wqe& e);
    // Issues the split reads of the bytes at `segs` into `dst` (read_pipeline.cpp): one request
    // per MRRS piece of an MTU chunk, at most read_bytes_in_flight outstanding, none before
    // `not_before`; chunk_ready[k] (one per MTU chunk, none for no bytes) is when chunk k and every
    // chunk before it have arrived. false: a read was refused (the data must not be used).
    bool read_chunks(uint16_t fn, const std::vector<local_segment>& segs, uint8_t* dst,
                     uint32_t mtu, sc_core::sc_time not_before,
                     std::vector<sc_core::sc_time>& chunk_ready);
    // requester_start.cpp: the transmit side
    // Starts the WQE at the head of the staging buffer (its time has come).
    void start_staged(uint32_t qpn);
    // Sends the next unsent packet if it has arrived, else waits for it off the schedule; true:
    // a packet left.
    bool send_ready(uint32_t qpn);
    // The queue leaves the schedule until `at`, when its data has arrived.
    void wait_data(uint32_t qpn, sc_core::sc_time at);
    bool send_rc(uint32_t qpn, outstanding_wr& wr, staged_wqe& e);
    void send_ud(uint32_t qpn, staged_wqe& e);
    spec::cqe_status check_local_targets(uint32_t qpn, const spec::send_wqe& w,
                                         std::vector<local_segment>& out, uint32_t& total);
    roce_packet make_packet(uint32_t src_qpn, uint32_t dest_qp, const address_vector& av) const;
    void transmit(uint32_t qpn, packet_ptr p);

    // Writes received payload (WRITE, SEND, READ response data) to host memory as a posted
    // write (responder.cpp); false: the write was refused.
    bool write_data(uint16_t fn, uint64_t pa, const void* src, size_t n);

    // completer.cpp (requester side of the wire)
    // One parsed incoming packet: the ingress checks, then the requester or responder side.
    void handle_packet(packet_ptr p);
    void on_response(uint32_t qpn, const roce_packet& p);
    void ack_up_to(uint32_t qpn, uint32_t psn);
    void retransmit(uint32_t qpn, uint32_t from_psn);
    void arm_timer(uint32_t qpn);
    // A deadline was set at `at`: wakes the timer thread if it sleeps past it.
    void wake_timer(sc_core::sc_time at);
    sc_core::sc_time ack_timeout(const qp_ctx& q) const;

    // responder.cpp
    void on_request(uint32_t qpn, const roce_packet& p);
    void on_ud(uint32_t qpn, const roce_packet& p);
    bool responder_send(uint32_t qpn, const roce_packet& p, spec::cqe_status& err);
    // recv_fetch.cpp: the receive WQE at ring index `index` of work queue `wqid` (the QP's
    // receive queue or its SRQ), from a copy read ahead or by a read of it and of the posted
    // WQEs after it. `delay`: until it has arrived. false: the read was refused.
    bool fetch_recv_wqe(uint32_t qpn, const qp_ctx& q, uint16_t wqid, uint16_t index,
                        spec::recv_wqe& out, sc_core::sc_time& delay);
    void send_ack(uint32_t qpn, const roce_packet& req, uint8_t syndrome, uint32_t psn);
    // response_queue.cpp: a responder packet (READ response, ACK, NAK, atomic acknowledge) of
    // QP qpn that may leave at `ready`: sent now when it is ready and nothing of the QP's waits
    // ahead of it, else queued for response_thread. A QP's responses leave in the order given
    // (PSN order: an ACK must not pass a READ response it follows, IBA 9.7.5.1.1).
    // `ends_read`: the last packet of a READ response (responder_state::reads_queued).
    void respond(uint32_t qpn, packet_ptr p, sc_core::sc_time ready, bool ends_read = false);
    bool scatter(uint32_t qpn, const spec::recv_wqe& rw, uint32_t offset, const uint8_t* data,
                 uint32_t len, spec::cqe_status& err);
    void responder_error(uint32_t qpn, const roce_packet& p, spec::roce::aeth_syndrome nak,
                         spec::cqe_status local);

    // qp_engine.cpp
    // One scheduling turn on a send queue; true: the queue has the rest of a message to send.
    bool serve(uint32_t qpn);
    // Transmits the next packet of the message in progress (requester_send.cpp).
    void send_next(uint32_t qpn);
    void complete(uint32_t qpn, uint16_t index, const spec::send_wqe& w, spec::cqe_status st,
                  uint32_t byte_len);
    void complete_front(uint32_t qpn, spec::cqe_status st);
    // Retires WQE `wqid`'s head entry in the queue engine. Always before that WQE's CQE is
    // written: the driver may reuse the slot and ring the doorbell as soon as it sees the CQE,
    // and the engine checks that doorbell against its consumer index (with a full ring, a later
    // commit would make it read as an overrun, catalogue A5).
    void retire(uint16_t wqid);
    // retire(), then the CQE (the order above).
    void retire_and_complete(uint16_t wqid, uint32_t cqn, const spec::cqe& c, bool solicited);
    void flush(uint32_t qpn);
    void to_error(uint32_t qpn);
    void to_send_queue_error(uint32_t qpn);
    qp_ctx* live(uint32_t qpn);
    // The QP's function is suspended (SUSPEND_VF): nothing of it moves.
    bool frozen(uint32_t qpn) const;
    uint32_t mtu_bytes(const qp_ctx& q) const;

    adapter_core& m_core;
    event_unit& m_events;
    port& m_port;
    qp_engine_timing m_t;
    // Per-QP transport state (qpn < MAX_QP), created on first use: a run uses a few of the
    // MAX_QP numbers, and constructing all of them (five std::deques each) and destroying them
    // again was a third of a short bench run's CPU time. Heap entries, so a reference to one
    // stays valid while others are created.
    std::vector<std::unique_ptr<qp_transport>> m_tp;
    qp_transport& tp(uint32_t qpn) {
        std::unique_ptr<qp_transport>& t = m_tp[qpn];
        if (!t) t = std::make_unique<qp_transport>();
        return *t;
    }
    uint64_t m_rq_ahead_runs = 0;  // numbers recv_read_ahead::run
    // Each SRQ's WQEs read ahead (by srqn): its QPs take them in ring order, whichever a
    // message reaches.
    std::vector<recv_read_ahead> m_srq_ahead = std::vector<recv_read_ahead>(spec::limits::MAX_SRQ);
    // Responses waiting for their data or behind a QP's earlier ones, earliest ready first
    // (ties in the order queued); response_gen drops those of a QP reset since.
    struct queued_response {
        sc_core::sc_time ready;
        uint64_t seq;
        uint32_t qpn;
        uint64_t gen;
        packet_ptr p;
        bool ends_read;
        bool operator>(const queued_response& o) const {
            return ready != o.ready ? ready > o.ready : seq > o.seq;
        }
    };
    std::priority_queue<queued_response, std::vector<queued_response>,
                        std::greater<queued_response>>
        m_responses;
    uint64_t m_response_seq = 0;
    uint64_t m_response_gens = 0;  // numbers responder_state::response_gen
    sc_core::sc_event m_response_ev;
    sc_core::sc_event m_response_left_ev;  // a queued response has left (or was dropped)
    sc_core::sc_event m_timer_ev;
    std::set<uint32_t> m_timed;  // QPs with a retransmission or RNR timer running
    // What the timer thread sleeps until: m_timer_wake when m_timer_sleeps_timed, else only
    // m_timer_ev (no timer was running when it last looked).
    bool m_timer_sleeps_timed = false;
    sc_core::sc_time m_timer_wake;
    // Queues off the schedule until their next packet's data arrives: (time, qpn), an ordered
    // set kept as a sorted vector (a handful of entries; a std::set node per wait was a heap
    // allocation per packet).
    std::vector<std::pair<sc_core::sc_time, uint32_t>> m_data_wait;
    transport_counters m_tc;
};

}  // namespace chio::model
