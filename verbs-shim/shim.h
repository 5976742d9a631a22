// Inside chio's libibverbs.so.1: the objects behind the ibv_* pointers an application holds,
// and the connection to the verbs service. Compiled against Debian's <infiniband/verbs.h>
// (rdma-core 44), so every struct the application reads has rdma-core's layout.
//
// Contract
// - Each ibv_* object is the first member of its shim_* struct, so a pointer the application
//   passes back converts with a static cast; the service names the object by `h`.
// - The context is a verbs_context (abi_compat set to __VERBS_ABI_IS_EXTENDED, sz set), so the
//   inline verbs that go through it (ibv_query_port, ibv_query_device_ex, ibv_create_qp_ex)
//   reach us.
// - call() sends one request and waits for its response under a process-wide lock: verbs may be
//   called from several threads, the protocol carries one request at a time.
#pragma once

#include <infiniband/verbs.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <vector>

#include "verbs-shim/protocol.h"

namespace chio::shim {

struct shim_device {
    ibv_device dev;
    uint64_t node_guid = 0;  // network order, as ibv_get_device_guid returns it
};

struct shim_context {
    verbs_context vctx;  // ends with the ibv_context the application holds
};

struct shim_pd {
    ibv_pd pd;
    uint32_t h;
};

struct shim_mr {
    ibv_mr mr;
    uint32_t h;
};

struct shim_cq {
    ibv_cq cq;
    uint32_t h;
    bool armed = false;
    // Completions fetched by ibv_get_cq_event to learn that the CQ had work; poll_cq returns
    // them first, in order.
    std::deque<ibv_wc> early;
};

struct shim_srq {
    ibv_srq srq;
    uint32_t h;
};

struct shim_ah {
    ibv_ah ah;
    uint32_t h;
};

struct shim_qp {
    ibv_qp_ex qpx;  // qpx.qp_base is the ibv_qp the application holds
    uint32_t h;
    bool extended = false;  // created through ibv_create_qp_ex with send ops (ibv_wr_* API)
    // The ibv_wr_* batch between ibv_wr_start and ibv_wr_complete.
    std::vector<proto::send_wr> batch;
    int batch_error = 0;
};

struct shim_channel {
    ibv_comp_channel ch;
};

// The connection to the service, opened by ibv_get_device_list. false when no service answers
// (the reason went to stderr once).
bool connect_service();
const proto::hello_resp& service_identity();
// One request/response; returns the response status (0 or errno; EIO when the service went
// away). `out` receives the response body when not null.
int call(proto::op o, const void* body, size_t len, std::vector<uint8_t>* out = nullptr);
// A request whose body is {handle, arg} and whose response body is not needed.
int call_handle(proto::op o, uint32_t handle, uint32_t arg = 0);

// ibv send flags <-> chio wqe flags; ibv wc flags <- chio cqe flags (numbered differently).
uint32_t to_chio_send_flags(unsigned ibv_flags);
unsigned from_chio_wc_flags(uint32_t chio_flags);

// Installs the data-path operations into a new context (datapath.cpp).
void fill_context_ops(ibv_context_ops& ops);
// Makes a QP usable through ibv_qp_to_qp_ex and the ibv_wr_* calls (datapath.cpp).
void fill_qp_ex_ops(ibv_qp_ex& q);
// Converts and posts a list; shared by post_send and ibv_wr_complete (datapath.cpp).
int post_send_list(shim_qp* q, std::vector<proto::send_wr>& wrs, uint32_t* bad_index);
int to_wire(const ibv_send_wr& w, bool ud, proto::send_wr& out);

// Object creation helpers used by the extended verbs (objects.cpp).
// The verbs_context operation behind ibv_create_qp_ex (objects.cpp).
ibv_qp* create_qp_ex_op(ibv_context* c, ibv_qp_init_attr_ex* a);

}  // namespace chio::shim

// Set errno to e and return ret: the failure path of the verbs that return a pointer or -1.
template <typename T>
T shim_fail(int e, T ret) {
    errno = e;
    return ret;
}
