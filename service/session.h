// One attached application process: the verbs objects it created on its host's adapter, named
// by per-connection handles, and the execution of its requests (verbs-shim/protocol.h).
//
// Contract
// - execute() runs in the host's worker thread (a SystemC thread: verbs calls take simulated
//   time); it answers every request with a status (0 or errno) and a body, and never trusts the
//   request: a short body, an unknown handle or op, a count above the limits is EINVAL.
// - close() destroys everything the process left behind, children before parents (QPs, SRQs,
//   AHs, MRs and their memory windows, CQs, PDs), so a process that exits or dies without
//   cleaning up leaves the adapter as it found it.
#pragma once

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "driver/verbs.h"
#include "service/remote_memory.h"
#include "verbs-shim/protocol.h"

namespace chio::service {

// The fabric's address resolution (RoCE's ARP/ND): the next-hop MAC of a GID, false if unknown.
using gid_resolver = std::function<bool(const verbs::gid&, uint64_t& mac)>;

struct session_stats {
    uint64_t requests = 0, sends = 0, recvs = 0, completions = 0, errors = 0;
    // Payload bytes of the send-queue work requests posted (SEND, WRITE, READ, atomics), and
    // the simulated time from the first of them to the last completion polled: the figures a
    // benchmark's own wall-clock numbers do not give (docs/verbs.md).
    uint64_t bytes = 0;
    double first_post_us = -1, last_completion_us = -1;
};

class session {
public:
    session(int id, unsigned host, verbs::context* ctx, remote_memory& mem, gid_resolver resolve);
    ~session() = default;

    int id() const { return m_id; }
    unsigned host() const { return m_host; }
    int pid() const { return m_pid; }
    const std::string& command() const { return m_command; }
    const session_stats& stats() const { return m_stats; }
    // Empty polls in a row with no model event near (host_worker::wait_for_completion).
    unsigned& idle_polls() { return m_idle_polls; }

    // Executes one request; status is 0 or a positive errno.
    std::vector<uint8_t> execute(shim::proto::op o, const std::vector<uint8_t>& body,
                                 int32_t& status);
    // Destroys every object the process still holds.
    void close();

private:
    template <typename T>
    struct table {
        std::map<uint32_t, T*> items;
        T* get(uint32_t h) const {
            auto it = items.find(h);
            return it == items.end() ? nullptr : it->second;
        }
    };
    struct mr_entry {
        verbs::mr* mr = nullptr;
        uint64_t window = 0;
    };

    using bytes = std::vector<uint8_t>;
    uint32_t next_handle() { return ++m_last_handle; }

    // One handler per operation: the request body in, the response body out, 0 or an errno.
    int dispatch(shim::proto::op o, const bytes& in, bytes& out);
    int on_hello(const bytes& in, bytes& out);
    int on_query_device(const bytes& in, bytes& out);
    int on_query_port(const bytes& in, bytes& out);
    int on_alloc_pd(const bytes& in, bytes& out);
    int on_reg_mr(const bytes& in, bytes& out);
    int on_dereg_mr(const bytes& in);
    int on_create_cq(const bytes& in, bytes& out);
    int on_req_notify_cq(const bytes& in);
    int on_create_srq(const bytes& in, bytes& out);
    // session_queues.cpp
    int on_create_qp(const bytes& in, bytes& out);
    int on_modify_qp(const bytes& in);
    int on_query_qp(const bytes& in, bytes& out);
    int on_post_send(const bytes& in, bytes& out);
    int on_post_recv(const bytes& in, bool srq, bytes& out);
    int on_poll_cq(const bytes& in, bytes& out);
    int on_create_ah(const bytes& in, bytes& out);
    int to_ah_attr(const shim::proto::ah_attr& in, verbs::ah_attr& out);

    // DEALLOC_PD, DESTROY_CQ/QP/SRQ/AH: the object named by {handle}, freed by `destroy`; the
    // handle dies with it (a refusal, EBUSY, keeps both).
    template <typename T>
    int on_destroy(std::map<uint32_t, T*>& items, int (*destroy)(T*), const bytes& in) {
        if (in.size() != sizeof(shim::proto::handle_req)) return EINVAL;
        shim::proto::handle_req r{};
        std::memcpy(&r, in.data(), sizeof(r));
        auto it = items.find(r.handle);
        if (it == items.end()) return EINVAL;
        if (const int e = destroy(it->second)) return e;
        items.erase(it);
        return 0;
    }
    template <typename T>
    int on_destroy(table<T>& t, int (*destroy)(T*), const bytes& in) {
        return on_destroy(t.items, destroy, in);
    }

    int m_id;
    unsigned m_host;
    verbs::context* m_ctx;
    remote_memory& m_mem;
    gid_resolver m_resolve;
    int m_pid = 0;
    std::string m_command;
    uint32_t m_last_handle = 0;
    unsigned m_idle_polls = 0;
    session_stats m_stats;

    table<verbs::pd> m_pds;
    std::map<uint32_t, mr_entry> m_mrs;
    table<verbs::cq> m_cqs;
    table<verbs::qp> m_qps;
    table<verbs::srq> m_srqs;
    table<verbs::ah> m_ahs;
};

}  // namespace chio::service
