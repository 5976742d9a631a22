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

#include <cstdint>
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

    uint32_t next_handle() { return ++m_last_handle; }

    int hello(const shim::proto::hello_req& r, shim::proto::hello_resp& out);
    int reg_mr(const shim::proto::reg_mr_req& r, shim::proto::reg_mr_resp& out);
    int dereg_mr(uint32_t h);
    int create_qp(const shim::proto::create_qp_req& r, shim::proto::create_qp_resp& out);
    int modify_qp(const shim::proto::modify_qp_req& r);
    int query_qp(uint32_t h, shim::proto::query_qp_resp& out);
    int destroy_qp(uint32_t h);
    int post_send(const std::vector<uint8_t>& body, shim::proto::post_resp& out);
    int post_recv(const std::vector<uint8_t>& body, bool srq, shim::proto::post_resp& out);
    int poll_cq(uint32_t h, uint32_t n, std::vector<uint8_t>& out);
    int create_ah(const shim::proto::create_ah_req& r, shim::proto::handle_resp& out);
    int to_ah_attr(const shim::proto::ah_attr& in, verbs::ah_attr& out);

    int m_id;
    unsigned m_host;
    verbs::context* m_ctx;
    remote_memory& m_mem;
    gid_resolver m_resolve;
    int m_pid = 0;
    std::string m_command;
    uint32_t m_last_handle = 0;
    session_stats m_stats;

    table<verbs::pd> m_pds;
    std::map<uint32_t, mr_entry> m_mrs;
    table<verbs::cq> m_cqs;
    table<verbs::qp> m_qps;
    table<verbs::srq> m_srqs;
    table<verbs::ah> m_ahs;
};

}  // namespace chio::service
