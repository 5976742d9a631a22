// Per-QP transport state of the RC/UD engine (IBA 1.4 chapter 9): what the requester has in
// flight and what the responder expects next. Reset whenever the QP enters RESET.
#pragma once

#include <algorithm>
#include <cstdint>
#include <deque>
#include <memory>
#include <systemc>
#include <vector>

#include "chio/spec/spec.h"
#include "tlm-model/adapter/port.h"

namespace chio::model {

inline constexpr uint32_t PSN_MASK = 0xFFFFFF;  // PSNs are 24-bit (IBA 9.2)

// a - b as a signed distance on the 24-bit PSN circle.
inline int32_t psn_diff(uint32_t a, uint32_t b) { return static_cast<int32_t>((a - b) << 8) >> 8; }

enum class wr_kind : uint8_t { send, write, read, atomic };

// A local scatter/gather segment after its key check: bus address and length.
struct local_segment {
    uint64_t pa = 0;
    uint64_t len = 0;
};

// One send WQE that went on the wire and waits for its acknowledgement or response.
struct outstanding_wr {
    uint16_t index = 0;
    spec::send_wqe wqe{};
    wr_kind kind = wr_kind::send;
    uint32_t first_psn = 0;
    uint32_t last_psn = 0;
    uint32_t length = 0;
    std::vector<packet_ptr> packets;    // requests, kept for retransmission
    std::vector<local_segment> target;  // READ / atomic: where the response data goes
    uint32_t received = 0;              // READ: response bytes written so far
    uint32_t resp_packets = 0;          // READ: response packets accepted so far
};

// A send WQE taken from the ring by the fetch stage ahead of its transmit turn (the staging
// buffer, docs/performance.md "Pipelined send path"). The WQE is the private copy of its single
// fetch; every check was made on it, and the payload reads were issued (data copied at issue,
// each MTU chunk usable from its completion time) only after every key check passed.
struct staged_wqe {
    uint16_t index = 0;
    spec::send_wqe wqe{};
    bool fetched = false;                             // false: the descriptor read failed
    spec::cqe_status st = spec::cqe_status::SUCCESS;  // result of the checks and payload reads
    sc_core::sc_time ready;                           // WQE arrived and decoded
    std::vector<uint8_t> payload;                     // SEND/WRITE/UD payload
    std::vector<sc_core::sc_time> chunk_ready;        // completion time of each MTU chunk
    // Time from which everything the entry needs has arrived.
    sc_core::sc_time all_ready() const {
        return chunk_ready.empty() ? ready : std::max(ready, chunk_ready.back());
    }
};

struct requester_state {
    std::deque<outstanding_wr> outstanding;
    uint32_t next_psn = 0;
    uint32_t rd_atomic = 0;  // READ/atomic requests in flight
    uint32_t retry_left = 0;
    uint32_t rnr_left = 0;
    sc_core::sc_time deadline;   // retransmission timer; zero: stopped
    sc_core::sc_time rnr_until;  // after an RNR NAK: no retransmission before this
    bool rnr_pending = false;
    uint32_t rnr_psn = 0;  // where the retransmission after the RNR delay starts
    // Packets of the last outstanding WR not yet sent for the first time, in PSN order: the
    // send thread sends one per scheduling turn; retransmissions never include them.
    std::deque<packet_ptr> unsent;
    // When each packet of the last outstanding WR may leave (its payload chunk has arrived):
    // packet i of that WR at unsent_ready[i]; the next unsent one is at
    // unsent_ready.size() - unsent.size().
    std::vector<sc_core::sc_time> unsent_ready;
    // The WQE the driver wrote into its doorbell page with SQ_WQE_DB (wqe_window.h): the fetch
    // stage takes it instead of reading the ring when it reaches that index. One per QP, as the
    // last such doorbell left it; a WQE the stage passes without it is fetched by DMA.
    bool db_wqe_valid = false;
    uint16_t db_wqe_index = 0;
    spec::send_wqe db_wqe{};
    // Descriptors a batched fetch read ahead of their turn (qp_engine_timing::wqes_per_fetch):
    // ring indices ahead_first, ahead_first + 1, ..., all arriving at ahead_at. Only WQEs below
    // the accepted producer index are read, which the driver no longer changes, so a copy is
    // good until its turn; the stage drops the ones it passes.
    std::vector<spec::send_wqe> ahead;
    uint16_t ahead_first = 0;
    sc_core::sc_time ahead_at;
    // A read ahead was refused (completion timeout, UR, poison): the WQE at ahead_first fails
    // as a failed fetch when its turn comes, as it would have with its own read; the ones after
    // it are fetched again on their turn.
    bool ahead_failed = false;
    // WQEs fetched ahead of their turn, in ring order (bounded by qp_engine_timing).
    std::deque<staged_wqe> staged;
    uint64_t staged_bytes = 0;
    // The READ/atomic at the head of `staged` waits while max_rd_atomic are in flight.
    bool stalled = false;
    uint16_t stalled_index = 0;
    // A WQE's error completion is being written (it takes simulated time) and the QP goes to
    // ERR right after: a later WQE failing meanwhile is flushed, not completed with its own
    // status (error implies state: after the first error every later WQE flushes).
    bool error_decided = false;
    // The WQE at the head of `staged` failed locally while earlier WQEs still wait for their
    // acknowledgement: it waits for them, so its error CQE follows their completions and the
    // flushes come last (catalogue (b) invariant 2; the completer re-activates the queue when
    // `outstanding` empties, and a retry or peer error flushes it instead).
    bool error_wait = false;
};

// An incoming multi-packet message being received.
// Receive WQEs read ahead of their messages (qp_engine_timing::recv_wqes_per_fetch), of one
// receive queue or SRQ: copies[i] is ring index first + i, arriving at its `at`. Only WQEs below
// the accepted producer index are read, which the driver no longer changes, so a copy is good
// until its message comes. A refused read leaves one copy that is not `ok` for the first WQE it
// was for, and nothing after it. Not saved with a VF's state: the new adapter reads the ring
// again.
struct recv_read_ahead {
    struct copy {
        spec::recv_wqe wqe;
        sc_core::sc_time at;
        bool ok;
    };
    std::vector<copy> copies;
    uint16_t first = 0;
    // Which run of copies a read belongs to: a read that waited (fault injection) while the
    // queue was reset, or its copies dropped, does not add to a newer run (0: none started).
    uint64_t run = 0;
    uint64_t srq_incarnation = 0;  // an SRQ's: srq_ctx::incarnation of the SRQ copied
};

struct responder_state {
    uint32_t epsn = 0;  // expected PSN
    uint32_t msn = 0;   // messages completed (IBA 9.7.5.1.1)
    bool nak_sent = false;
    uint32_t unacked = 0;  // packets since the last ACK (coalescing)
    // SEND in progress
    bool in_send = false;
    uint16_t rwqe_index = 0;
    uint16_t rwqe_wqid = 0;
    spec::recv_wqe rwqe{};
    uint32_t offset = 0;
    // RDMA WRITE in progress
    bool in_write = false;
    uint64_t write_pa = 0;
    uint32_t write_len = 0;
    uint32_t write_off = 0;
    // Atomic results kept for duplicate requests (IBA 9.7.5.1.3), the newest
    // MAX_SAVED_ATOMICS of them; saved with a VF's state (vf_state.h).
    static constexpr size_t MAX_SAVED_ATOMICS = spec::limits::MAX_SAVED_ATOMICS;
    struct saved_atomic {
        uint32_t psn;
        uint64_t orig;
    };
    std::deque<saved_atomic> atomics;
    // Responses queued for qp_engine::response_thread (READ responses waiting for their data,
    // and the ACKs and NAKs behind them), counted until each has left; they leave no earlier
    // than last_response_ready, so in the order queued. response_gen tells this QP's queued
    // responses from those of a QP reset since (0: none queued yet).
    uint32_t responses_queued = 0;
    uint32_t reads_queued = 0;  // READs whose last response packet is among them
    sc_core::sc_time last_response_ready;
    uint64_t response_gen = 0;
    // The QP's own receive queue read ahead (a QP on an SRQ uses the SRQ's: qp_engine).
    recv_read_ahead rq_ahead;
};

// RNR NAK timer encoding (IBA 1.4 table 45), in microseconds.
inline double rnr_timer_us(uint32_t code) {
    static const double table[32] = {655360, 10,    20,    30,     40,     60,     80,     120,
                                     160,    240,   320,   480,    640,    960,    1280,   1920,
                                     2560,   3840,  5120,  7680,   10240,  15360,  20480,  30720,
                                     40960,  61440, 81920, 122880, 163840, 245760, 327680, 491520};
    return table[code & 31];
}

struct qp_transport {
    requester_state req;
    responder_state resp;
};

}  // namespace chio::model
