// The wire protocol between chio's libibverbs.so.1 (verbs-shim/) and the simulator service
// (service/), over a Unix stream socket.
//
// Contract
// - One request at a time per connection: the library sends a request (header + body) and
//   blocks until the response (header + body) arrives. The service answers every request exactly
//   once, in order.
// - Every message is a fixed-size header followed by `len` bytes of body; bodies are the
//   fixed-size structs below (arrays of them for lists), little-endian, as the machine lays them
//   out (both ends run on the same machine). static_asserts pin the sizes so a change on one
//   side cannot silently disagree with the other.
// - Objects are named by handles the service assigns per connection (never pointers). A handle
//   of another connection, or a stale one, is refused with EINVAL.
// - Enumerations travel with libibverbs' numbering (which is also chio's, see spec/chio.toml),
//   except send flags and work-completion flags, which travel as chio's wqe_flags/cqe_flags.
// - A response's status is 0 or a positive errno value; for POLL_CQ a negative count is never
//   sent (errors are a status).
#pragma once

#include <cstdint>

namespace chio::shim::proto {

constexpr uint32_t VERSION = 1;
// Default socket path when CHIO_SOCKET is not set (./chio serve and ./chio run agree on it).
constexpr const char* DEFAULT_SOCKET = "/tmp/chio-verbs.sock";
constexpr uint32_t MAX_SGE = 4;      // = spec::limits::MAX_SGE (checked in the service)
constexpr uint32_t MAX_INLINE = 64;  // = spec::limits::MAX_INLINE (checked in the service)
constexpr uint32_t MAX_LIST = 256;   // work requests or completions in one message
constexpr uint32_t MAX_BODY = 1u << 20;

enum class op : uint32_t {
    HELLO = 1,
    QUERY_DEVICE,
    QUERY_PORT,
    ALLOC_PD,
    DEALLOC_PD,
    REG_MR,
    DEREG_MR,
    CREATE_CQ,
    DESTROY_CQ,
    POLL_CQ,
    REQ_NOTIFY_CQ,
    CREATE_QP,
    MODIFY_QP,
    QUERY_QP,
    DESTROY_QP,
    POST_SEND,
    POST_RECV,
    CREATE_SRQ,
    DESTROY_SRQ,
    POST_SRQ_RECV,
    CREATE_AH,
    DESTROY_AH,
};

struct req_header {
    uint32_t op;
    uint32_t len;
};
struct resp_header {
    int32_t status;
    uint32_t len;
};

struct hello_req {
    uint32_t version;
    int32_t pid;
    uint32_t host;  // simulated host the process runs on
    uint32_t reserved;
    char command[64];  // for the service's log
};
struct hello_resp {
    uint32_t host;
    uint32_t fn;  // PCIe function the process was given
    uint64_t node_guid;
};

struct device_attr {
    uint64_t fw_ver, max_mr_size;
    uint32_t vendor_id, vendor_part_id;
    uint32_t max_qp, max_qp_wr, max_sge, max_recv_sge, max_inline_data;
    uint32_t max_cq, max_cqe, max_mr, max_pd, max_ah;
    uint32_t max_srq, max_srq_wr, max_srq_sge;
    uint32_t max_qp_rd_atom, max_qp_init_rd_atom, num_comp_vectors, phys_port_cnt;
    uint32_t reserved;
};
static_assert(sizeof(device_attr) == 96, "device_attr layout");

struct port_attr {
    uint32_t state, max_mtu, active_mtu, speed_gbps;
    uint64_t mac;
    uint64_t gid_hi, gid_lo;
    uint32_t gid_tbl_len, pkey_tbl_len;
};
static_assert(sizeof(port_attr) == 48, "port_attr layout");

struct handle_req {  // every request that names one object and nothing else
    uint32_t handle;
    uint32_t arg;
};

struct handle_resp {  // every create that returns only a handle
    uint32_t handle;
    uint32_t reserved;
};

struct reg_mr_req {
    uint32_t pd;
    uint32_t access;
    uint64_t addr;  // the process's virtual address: where the device's accesses land
    uint64_t length;
    uint64_t iova;  // the address work requests name (ibv_reg_mr: equal to addr)
};
struct reg_mr_resp {
    uint32_t handle, lkey, rkey, reserved;
};

struct create_cq_req {
    int32_t cqe;
    uint32_t reserved;
};
struct create_cq_resp {
    uint32_t handle;
    int32_t cqe;
};

struct sge {
    uint64_t addr;
    uint32_t length, lkey;
};

struct send_wr {
    uint64_t wr_id;
    uint32_t opcode, send_flags, imm_data, num_sge;
    uint64_t remote_addr;  // rdma or atomic
    uint32_t rkey, ah;
    uint64_t compare_add, swap;
    uint32_t remote_qpn, remote_qkey;
    uint32_t inline_len, reserved;
    sge sg_list[MAX_SGE];
    uint8_t inline_data[MAX_INLINE];  // with the inline flag: the bytes, copied at post time
};
static_assert(sizeof(send_wr) == 200, "send_wr layout");

struct recv_wr {
    uint64_t wr_id;
    uint32_t num_sge, reserved;
    sge sg_list[MAX_SGE];
};

struct post_req {     // followed by count send_wr or recv_wr
    uint32_t handle;  // QP or SRQ
    uint32_t count;
};
struct post_resp {
    uint32_t bad_index;  // with a non-zero status: the first request not posted
    uint32_t reserved;
};

struct wc {
    uint64_t wr_id;
    uint32_t status, opcode, vendor_err, byte_len, imm_data, qp_num, src_qp, wc_flags;
    uint32_t pkey_index, reserved;
};
static_assert(sizeof(wc) == 48, "wc layout");

struct qp_cap {
    uint32_t max_send_wr, max_recv_wr, max_send_sge, max_recv_sge, max_inline_data;
};

struct create_qp_req {
    uint32_t pd, send_cq, recv_cq, srq;  // srq 0: none
    uint32_t qp_type, sq_sig_all;
    qp_cap cap;
    uint32_t reserved;
};
struct create_qp_resp {
    uint32_t handle, qp_num;
    qp_cap cap;
    uint32_t reserved;
};

struct ah_attr {
    uint64_t dgid_hi, dgid_lo;
    uint32_t is_global, sl, port_num, reserved;
};

struct qp_attr {
    uint32_t qp_state, cur_qp_state, path_mtu, qkey;
    uint32_t rq_psn, sq_psn, dest_qp_num, qp_access_flags;
    qp_cap cap;
    uint32_t pkey_index;
    ah_attr ah;
    uint8_t port_num, max_rd_atomic, max_dest_rd_atomic, min_rnr_timer;
    uint8_t timeout, retry_cnt, rnr_retry, reserved;
};

struct modify_qp_req {
    uint32_t handle;
    uint32_t attr_mask;
    qp_attr attr;
};
struct query_qp_resp {
    qp_attr attr;
    create_qp_req init;  // what the QP was created with (cap as granted)
};

struct create_srq_req {
    uint32_t pd, max_wr, max_sge, reserved;
};
struct create_srq_resp {
    uint32_t handle, max_wr, max_sge, reserved;
};

struct create_ah_req {
    uint32_t pd, reserved;
    ah_attr attr;
};

}  // namespace chio::shim::proto
