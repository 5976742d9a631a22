#include "service/host_worker.h"

namespace chio::service {

const sc_core::sc_time host_worker::POLL_INTERVAL(100, sc_core::SC_NS);
const sc_core::sc_time host_worker::POLL_WINDOW(10, sc_core::SC_US);

host_worker::host_worker(unsigned index, cosim::platform& p)
    : m_index(index), m_bus(p.rc, p.mem, p.irq), m_mem(p.mem) {
    sc_core::sc_spawn([this] { run(); }, sc_core::sc_gen_unique_name("verbs_worker"));
}

// The service ends with the worker's thread suspended, and SystemC does not resume it: the
// context it opened is freed here, without commands (there is no simulation left to run them).
host_worker::~host_worker() { verbs::abandon_device(m_ctx); }

void host_worker::submit(std::unique_ptr<job> j) {
    m_queue.push_back(std::move(j));
    m_work.notify(sc_core::SC_ZERO_TIME);
}

std::vector<std::unique_ptr<job>> host_worker::take_done() {
    std::vector<std::unique_ptr<job>> out;
    out.swap(m_done);
    return out;
}

// An empty poll is answered once the CQ has a completion or nothing can happen soon: while
// the model has an event within POLL_WINDOW, the worker polls again every POLL_INTERVAL of
// simulated time (a CPU spinning on its CQ). Without this, a process spinning on ibv_poll_cq
// would let simulated time advance only between its requests, and the simulation would crawl
// at the speed of the socket round trip.
//
// An event further away (an RC transport timer: ACK timeout, RNR retry) is not reached by one
// poll, or a process waiting in wall-clock time for its peer would inflate simulated time
// 10 us per poll. After IDLE_POLLS_BEFORE_JUMP empty polls in a row with nothing nearer, the
// process is waiting for exactly that event (a retransmission after a loss or an RNR NAK), and
// the poll advances time to it.
void host_worker::wait_for_completion(job& j) {
    using sc_core::sc_time;
    const sc_time until = sc_core::sc_time_stamp() + POLL_WINDOW;
    unsigned& idle = j.owner->idle_polls();
    while (j.status == 0 && j.response.empty() && sc_core::sc_pending_activity()) {
        const sc_time now = sc_core::sc_time_stamp();
        const sc_time next = sc_core::sc_time_to_pending_activity();
        if (now + next <= until) {
            sc_core::wait(POLL_INTERVAL);
        } else if (++idle >= IDLE_POLLS_BEFORE_JUMP) {
            idle = 0;
            sc_core::wait(next);
        } else {
            break;
        }
        j.response = j.owner->execute(j.o, j.body, j.status);
    }
    if (!j.response.empty()) idle = 0;
}

void host_worker::run() {
    std::string why;
    verbs::context* ctx = verbs::open_device(m_bus, {}, &why);
    if (ctx == nullptr) {
        m_failed = true;
        m_error = "host" + std::to_string(m_index) + ": cannot open the adapter: " + why;
        sc_core::sc_pause();
        return;
    }
    verbs::query_port(ctx, 1, &m_port);
    m_ctx = ctx;
    sc_core::sc_pause();
    for (;;) {
        while (m_queue.empty()) sc_core::wait(m_work);
        std::unique_ptr<job> j = std::move(m_queue.front());
        m_queue.pop_front();
        m_executing = true;
        if (j->close) {
            j->owner->close();
        } else {
            j->response = j->owner->execute(j->o, j->body, j->status);
            if (j->o == shim::proto::op::POLL_CQ) wait_for_completion(*j);
        }
        m_executing = false;
        m_done.push_back(std::move(j));
        sc_core::sc_pause();
    }
}

}  // namespace chio::service
