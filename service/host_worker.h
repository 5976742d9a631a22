// The driver side of one simulated host in the verbs service: a SystemC thread that opens the
// host's adapter function through the consumer API (driver/verbs.h) and then executes the
// requests of every process attached to that host, one at a time, in arrival order.
//
// Contract
// - One thread owns the host's verbs context (the consumer API does not lock), so requests of
//   all the host's processes are serialized here; each takes the simulated time its MMIO and
//   commands take.
// - submit() may be called between sc_start() calls; the job is done when take_done() returns
//   it. After each job the worker calls sc_pause(), so the service answers the process as soon
//   as its request is complete instead of at the end of a time slice.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <systemc>
#include <vector>

#include "cosim/platform.h"
#include "cosim/sc_bus.h"
#include "driver/verbs.h"
#include "service/remote_memory.h"
#include "service/session.h"

namespace chio::service {

struct job {
    int client = 0;
    session* owner = nullptr;
    bool close = false;  // destroy the session's objects (the process went away)
    shim::proto::op o = shim::proto::op::HELLO;
    std::vector<uint8_t> body;
    int32_t status = 0;
    std::vector<uint8_t> response;
};

class host_worker {
public:
    host_worker(unsigned index, cosim::platform& p);
    ~host_worker();
    host_worker(const host_worker&) = delete;
    host_worker& operator=(const host_worker&) = delete;

    unsigned index() const { return m_index; }
    bool ready() const { return m_ctx != nullptr; }
    bool failed() const { return m_failed; }
    const std::string& error() const { return m_error; }
    verbs::context* context() { return m_ctx; }
    remote_memory& memory() { return m_mem; }
    const verbs::port_attr& port() const { return m_port; }

    void submit(std::unique_ptr<job> j);
    // A request is queued or being executed: its process waits for the answer.
    bool busy() const { return m_executing || !m_queue.empty(); }
    std::vector<std::unique_ptr<job>> take_done();

    static const sc_core::sc_time POLL_INTERVAL;
    static const sc_core::sc_time POLL_WINDOW;
    static constexpr unsigned IDLE_POLLS_BEFORE_JUMP = 1000;

private:
    void run();
    void wait_for_completion(job& j);

    unsigned m_index;
    cosim::sc_bus m_bus;
    remote_memory m_mem;
    verbs::context* m_ctx = nullptr;
    verbs::port_attr m_port;
    bool m_failed = false;
    bool m_executing = false;
    std::string m_error;
    std::deque<std::unique_ptr<job>> m_queue;
    std::vector<std::unique_ptr<job>> m_done;
    sc_core::sc_event m_work;
};

}  // namespace chio::service
