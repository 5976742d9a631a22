// The verbs service: the simulation that unmodified verbs applications attach to.
//
// It owns simulated time. Application processes connect over a Unix socket (libibverbs.so.1
// from verbs-shim/), say which host they run on (HELLO), and send one verbs request at a time;
// each request is executed by that host's worker (host_worker) inside the simulation.
//
// How time advances: the service runs the SystemC kernel in slices while the model has
// something to do (a request queued or executing, or an event within HORIZON: packets, DMA) and
// stops it, idle, when nothing is: simulated time then stands still however long the processes
// take to decide. Timers further away (RC ACK timeouts) are reached only when a process needs
// them: its request is executing, or it polls for a completion (host_worker). A slice ends
// early when a request completes, so a process waits for its own request only. Between slices
// the service accepts connections, reads requests and writes responses.
//
// A process that closes its socket (exit, crash, kill) is detached: its objects are destroyed
// in the simulation and its memory windows removed. Attach, detach and a periodic progress line
// go to stdout.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "cosim/topology.h"
#include "service/host_worker.h"

namespace chio::service {

struct service_options {
    std::string socket_path;
    double progress_s = 5.0;  // wall-clock seconds between progress lines (0: none)
};

class verbs_service {
public:
    verbs_service(cosim::topology& topo, const service_options& o);
    ~verbs_service();

    // Opens every host's adapter, listens, and serves until stop() (a signal) is requested.
    // Returns the process exit code.
    int run();
    static void request_stop();

private:
    struct client {
        int fd = -1;
        std::vector<uint8_t> in;
        std::unique_ptr<session> sess;
        bool busy = false;     // a request is being executed
        bool closing = false;  // socket gone; waiting for the worker to clean up
    };

    bool listen_socket();
    void accept_clients();
    void read_client(int id);
    void drain(int id);
    void handle_message(int id, const shim::proto::req_header& h, std::vector<uint8_t> body);
    void reply(client& c, int32_t status, const std::vector<uint8_t>& body);
    void detach(int id);
    void collect_done();
    bool resolve(const verbs::gid& g, uint64_t& mac) const;
    void progress(bool force);

    service_options m_opt;
    std::vector<std::unique_ptr<host_worker>> m_hosts;
    std::map<int, client> m_clients;
    int m_listen = -1;
    int m_next_client = 0;
    uint64_t m_requests = 0;
    uint64_t m_last_progress_requests = 0;
    double m_last_progress_wall = 0;
};

}  // namespace chio::service
