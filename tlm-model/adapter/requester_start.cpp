// The transmit side of the pipelined send path: a turn starts the staged WQE at the head of its
// queue's staging buffer and sends packets only once their payload has arrived (qp_engine.h).
#include <algorithm>

#include "tlm-model/adapter/qp_engine.h"

namespace chio::model {

using spec::cqe_status;
using spec::qp_state;
using spec::wqe_opcode;
namespace pk = spec::packed;

void qp_engine::wait_data(uint32_t qpn, sc_core::sc_time at) {
    // Off the schedule until the data is there: the turn goes to a queue that can send now, so
    // one queue's DMA never delays another's packet (the send thread re-activates it at `at`).
    m_core.sched.consume(qpn);
    const std::pair<sc_core::sc_time, uint32_t> w{at, qpn};
    const auto it = std::lower_bound(m_data_wait.begin(), m_data_wait.end(), w);
    if (it == m_data_wait.end() || *it != w) m_data_wait.insert(it, w);
}

bool qp_engine::send_ready(uint32_t qpn) {
    requester_state& r = tp(qpn).req;
    if (r.unsent.empty() || r.unsent.size() > r.unsent_ready.size()) {
        if (!r.unsent.empty()) send_next(qpn);  // no arrival times recorded: nothing to wait for
        return !r.unsent.empty();
    }
    const sc_core::sc_time at = r.unsent_ready[r.unsent_ready.size() - r.unsent.size()];
    if (at > sc_core::sc_time_stamp()) {
        wait_data(qpn, at);
        return false;
    }
    send_next(qpn);
    return true;
}

void qp_engine::start_staged(uint32_t qpn) {
    qp_ctx* q = live(qpn);
    requester_state& r = tp(qpn).req;
    if (q == nullptr || r.staged.empty()) return;
    auto pop = [&r]() {
        staged_wqe out = std::move(r.staged.front());
        r.staged.pop_front();
        r.staged_bytes -= out.payload.size();
        return out;
    };
    if (q->state == qp_state::ERR || q->state == qp_state::SQE) {
        // Flushed in posting order: the WQEs still waiting for their acknowledgement go first.
        const staged_wqe e = pop();
        while (!r.outstanding.empty() && live(qpn) != nullptr) {
            complete_front(qpn, cqe_status::WR_FLUSH_ERR);
        }
        if (live(qpn) != nullptr) complete(qpn, e.index, e.wqe, cqe_status::WR_FLUSH_ERR, 0);
        return;
    }
    // A WQE that fails completes in posting order (IBA 10.8.3: a work queue completes in order;
    // the driver drops a completion behind a later one): the earlier WQEs still waiting for
    // their acknowledgement go first, flushed, since the error puts the QP in ERR; then the
    // failing WQE with its own status. The staged WQEs behind it are flushed after it.
    auto fail = [&](const staged_wqe& e, cqe_status err) {
        // ERR first: writing each flush CQE takes simulated time, and an acknowledgement that
        // arrives meanwhile must not complete a later outstanding WQE with success after an
        // earlier one was flushed (the completer ignores responses to a QP in ERR).
        if (!r.outstanding.empty()) to_error(qpn);
        while (!r.outstanding.empty() && live(qpn) != nullptr) {
            complete_front(qpn, cqe_status::WR_FLUSH_ERR);
        }
        // An earlier WQE's error decided meanwhile (its CQE still being written) means this one
        // is behind an error: flushed.
        if (r.error_decided) err = cqe_status::WR_FLUSH_ERR;
        if (live(qpn) != nullptr) complete(qpn, e.index, e.wqe, err, 0);
    };
    // A local error waits for the WQEs still in flight ahead of it (see error_wait).
    auto wait_for_earlier = [&]() {
        if (r.outstanding.empty() || q->state != qp_state::RTS) return false;
        r.error_wait = true;
        return true;
    };
    if (r.staged.front().st != cqe_status::SUCCESS) {
        if (wait_for_earlier()) return;
        const staged_wqe e = pop();
        fail(e, e.st);
        return;
    }
    if (q->type == spec::qp_type::UD) {
        staged_wqe e = pop();
        send_ud(qpn, e);
        return;
    }
    const spec::send_wqe& w = r.staged.front().wqe;
    outstanding_wr wr;
    wr.index = r.staged.front().index;
    wr.wqe = w;
    const auto op = static_cast<wqe_opcode>(w.opcode);
    if (op == wqe_opcode::RDMA_READ || op == wqe_opcode::ATOMIC_CMP_AND_SWP ||
        op == wqe_opcode::ATOMIC_FETCH_AND_ADD) {
        wr.kind = op == wqe_opcode::RDMA_READ ? wr_kind::read : wr_kind::atomic;
        cqe_status st = check_local_targets(qpn, w, wr.target, wr.length);
        // An atomic operates on exactly 8 aligned bytes (IBA 9.4.5; catalogue C7).
        if (st == cqe_status::SUCCESS && wr.kind == wr_kind::atomic &&
            (wr.length != 8 || (w.remote_addr & 7) != 0)) {
            st = cqe_status::LOC_QP_OP_ERR;
        }
        const uint32_t limit = std::max<uint32_t>(
            1, static_cast<uint32_t>(pk::QP_RD_ATOMIC_MAX_RD_ATOMIC.get(q->attrs.rd_atomic)));
        if (st == cqe_status::SUCCESS && r.rd_atomic >= limit) {
            // Wait for a slot at the head of the staging buffer: the completer resumes it when
            // a response arrives.
            r.stalled = true;
            return;
        }
        if (st != cqe_status::SUCCESS) {
            if (wait_for_earlier()) {
                r.staged.front().st = st;  // decided; completed when the earlier WQEs are done
                return;
            }
            const staged_wqe e = pop();
            fail(e, st);
            return;
        }
    } else {
        wr.kind = (op == wqe_opcode::SEND || op == wqe_opcode::SEND_WITH_IMM) ? wr_kind::send
                                                                              : wr_kind::write;
        wr.length = static_cast<uint32_t>(r.staged.front().payload.size());
    }
    staged_wqe e = pop();
    send_rc(qpn, wr, e);
}

}  // namespace chio::model
