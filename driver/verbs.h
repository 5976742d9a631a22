// The consumer API (the deck's cAPI): a verbs interface shaped after rdma-core's libibverbs, built
// on the driver classes (device, completion_queue, queue_pair, shared_receive_queue).
//
// Contract
// - Names and semantics follow libibverbs: verbs::open_device ~ ibv_open_device, verbs::post_send
//   ~ ibv_post_send, and so on (the table is in docs/consumer-api.md). Plain C++17, no SystemC.
// - Errors: calls returning int return 0 or a positive errno value (EINVAL, ENOMEM, EBUSY,
//   ETIMEDOUT, EIO), as libibverbs does; calls returning an object pointer return nullptr and set
//   errno. A failed call changes nothing (a failed modify_qp leaves the QP as it was).
// - Posting: post_send/post_recv walk the `next` list in order; the first request that cannot be
//   posted stops the walk, is returned in *bad_wr with its errno, and neither it nor any later
//   request is consumed; the ones before it are posted and will complete.
// - Ownership: the context owns every object created from it. destroy_* / dealloc_* / dereg_*
//   free the object (the pointer dies with it) and refuse with EBUSY while another object uses it
//   (a CQ under a QP, a PD under an MR, a channel under a CQ). close_device frees what is left.
// - Memory: buffers a device may touch must be host memory the device can reach. alloc_buf()
//   returns such memory; reg_mr() over it uses the buffer's CPU address as the IOVA, so an sge's
//   addr is (uintptr_t)buf exactly as with libibverbs, and a peer's remote_addr is the CPU address
//   the owner registered. reg_mr_iova() registers an explicit IOVA -> bus address mapping.
// - Threading: one thread uses a context and all its objects (in the co-simulation, the driver's
//   SC_THREAD). Nothing here locks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "chio/spec/spec.h"
#include "driver/bus.h"
#include "driver/device.h"

namespace chio::verbs {

using qp_type = spec::qp_type;       // RC, UD
using qp_state = spec::qp_state;     // RESET, INIT, RTR, RTS, SQD, SQE, ERR
using mtu = spec::path_mtu;          // MTU_256 .. MTU_4096
using wr_opcode = spec::wqe_opcode;  // RDMA_WRITE, SEND, RDMA_READ, atomics, ...
using wc_opcode = spec::cqe_opcode;  // SEND, RDMA_WRITE, ..., RECV, RECV_RDMA_WITH_IMM
using wc_status = spec::cqe_status;  // SUCCESS, ..., WR_FLUSH_ERR, ...
using port_state = spec::port_state;

// Access flags (ibv_access_flags).
constexpr int ACCESS_LOCAL_WRITE = spec::access_flags::LOCAL_WRITE;
constexpr int ACCESS_REMOTE_WRITE = spec::access_flags::REMOTE_WRITE;
constexpr int ACCESS_REMOTE_READ = spec::access_flags::REMOTE_READ;
constexpr int ACCESS_REMOTE_ATOMIC = spec::access_flags::REMOTE_ATOMIC;
// Send flags (ibv_send_flags).
constexpr unsigned SEND_FENCE = spec::wqe_flags::FENCE;
constexpr unsigned SEND_SIGNALED = spec::wqe_flags::SIGNALED;
constexpr unsigned SEND_SOLICITED = spec::wqe_flags::SOLICITED;
constexpr unsigned SEND_INLINE = spec::wqe_flags::INLINE;
// Work-completion flags (ibv_wc_flags).
constexpr unsigned WC_WITH_IMM = spec::cqe_flags::WITH_IMM;
constexpr unsigned WC_GRH = spec::cqe_flags::GRH;
// modify_qp/query_qp attribute mask (ibv_qp_attr_mask; same values).
constexpr int QP_STATE = spec::qp_attr::STATE;
constexpr int QP_ACCESS_FLAGS = spec::qp_attr::ACCESS_FLAGS;
constexpr int QP_PKEY_INDEX = spec::qp_attr::PKEY_INDEX;
constexpr int QP_PORT = spec::qp_attr::PORT;
constexpr int QP_QKEY = spec::qp_attr::QKEY;
constexpr int QP_AV = spec::qp_attr::AV;
constexpr int QP_PATH_MTU = spec::qp_attr::PATH_MTU;
constexpr int QP_TIMEOUT = spec::qp_attr::TIMEOUT;
constexpr int QP_RETRY_CNT = spec::qp_attr::RETRY_CNT;
constexpr int QP_RNR_RETRY = spec::qp_attr::RNR_RETRY;
constexpr int QP_RQ_PSN = spec::qp_attr::RQ_PSN;
constexpr int QP_MAX_QP_RD_ATOMIC = spec::qp_attr::MAX_QP_RD_ATOMIC;
constexpr int QP_MIN_RNR_TIMER = spec::qp_attr::MIN_RNR_TIMER;
constexpr int QP_SQ_PSN = spec::qp_attr::SQ_PSN;
constexpr int QP_MAX_DEST_RD_ATOMIC = spec::qp_attr::MAX_DEST_RD_ATOMIC;
constexpr int QP_DEST_QPN = spec::qp_attr::DEST_QPN;

// The receive-side Global Routing Header a UD receive buffer starts with (IBA 11.4.1.1).
constexpr uint32_t GRH_BYTES = spec::roce::GRH;

struct gid {
    uint64_t hi = 0;  // bytes 0-7 (network order as a big-endian number)
    uint64_t lo = 0;  // bytes 8-15
};

struct device_attr {
    uint64_t fw_ver = 0;
    uint32_t vendor_id = 0, vendor_part_id = 0;
    uint64_t max_mr_size = 0;
    uint32_t max_qp = 0, max_qp_wr = 0, max_sge = 0, max_recv_sge = 0, max_inline_data = 0;
    uint32_t max_cq = 0, max_cqe = 0, max_mr = 0, max_pd = 0, max_ah = 0;
    uint32_t max_srq = 0, max_srq_wr = 0, max_srq_sge = 0;
    uint32_t max_qp_rd_atom = 0, max_qp_init_rd_atom = 0;
    uint32_t num_comp_vectors = 0;
    uint8_t phys_port_cnt = 0;
};

struct port_attr {
    port_state state = port_state::DOWN;
    mtu max_mtu = mtu::MTU_4096, active_mtu = mtu::MTU_4096;
    uint32_t speed_gbps = 0;
    uint64_t mac = 0;  // the port's MAC, low 48 bits
    gid gid0;          // GID index 0: ::ffff:IPv4 of the port
    uint32_t gid_tbl_len = 1, pkey_tbl_len = 1;
};

struct context;
struct pd;
struct mr;
struct cq;
struct qp;
struct srq;
struct ah;

// A completion channel (ibv_comp_channel): CQs created on it report their events here.
struct comp_channel {
    context* ctx = nullptr;
    int refcnt = 0;  // CQs using it
    std::deque<cq*> m_ready;
};

struct wc {
    uint64_t wr_id = 0;
    wc_status status = wc_status::SUCCESS;
    wc_opcode opcode = wc_opcode::SEND;
    uint32_t vendor_err = 0;
    uint32_t byte_len = 0;
    uint32_t imm_data = 0;  // valid with WC_WITH_IMM
    uint32_t qp_num = 0;
    uint32_t src_qp = 0;    // UD: the sender's QP number
    unsigned wc_flags = 0;  // WC_WITH_IMM, WC_GRH
    uint16_t pkey_index = 0;
};

struct sge {
    uint64_t addr = 0;  // IOVA inside the MR named by lkey
    uint32_t length = 0;
    uint32_t lkey = 0;
};

struct send_wr {
    uint64_t wr_id = 0;
    send_wr* next = nullptr;
    sge* sg_list = nullptr;
    int num_sge = 0;
    wr_opcode opcode = wr_opcode::SEND;
    unsigned send_flags = 0;
    uint32_t imm_data = 0;
    struct {
        struct {
            uint64_t remote_addr = 0;
            uint32_t rkey = 0;
        } rdma;
        struct {
            uint64_t remote_addr = 0;
            uint64_t compare_add = 0;
            uint64_t swap = 0;
            uint32_t rkey = 0;
        } atomic;
        struct {
            verbs::ah* ah = nullptr;
            uint32_t remote_qpn = 0;
            uint32_t remote_qkey = 0;
        } ud;
    } wr;
};

struct recv_wr {
    uint64_t wr_id = 0;
    recv_wr* next = nullptr;
    sge* sg_list = nullptr;
    int num_sge = 0;
};

struct qp_cap {
    uint32_t max_send_wr = 0, max_recv_wr = 0;
    uint32_t max_send_sge = 0, max_recv_sge = 0;
    uint32_t max_inline_data = 0;
};

struct qp_init_attr {
    void* qp_context = nullptr;
    cq* send_cq = nullptr;
    cq* recv_cq = nullptr;
    verbs::srq* srq = nullptr;
    qp_cap cap;  // in: requested; out: what the QP got (work requests rounded up to 2^n)
    verbs::qp_type qp_type = verbs::qp_type::RC;
    int sq_sig_all = 0;  // 1: every send is signaled
};

struct ah_attr {
    uint64_t dmac = 0;  // next-hop MAC (RoCE: what the kernel resolves from dgid)
    gid dgid;
    uint8_t is_global = 1;
    uint8_t sl = 0;
    uint8_t port_num = 1;
};

struct qp_attr {
    verbs::qp_state qp_state = verbs::qp_state::RESET;
    verbs::qp_state cur_qp_state = verbs::qp_state::RESET;
    mtu path_mtu = mtu::MTU_4096;
    uint32_t qkey = 0;
    uint32_t rq_psn = 0, sq_psn = 0;
    uint32_t dest_qp_num = 0;
    int qp_access_flags = 0;
    qp_cap cap;
    verbs::ah_attr ah_attr;
    uint16_t pkey_index = 0;
    uint8_t port_num = 1;
    uint8_t max_rd_atomic = 16, max_dest_rd_atomic = 16;
    uint8_t min_rnr_timer = 12;  // IBA table 45 code
    uint8_t timeout = 14;        // 4.096 us << timeout
    uint8_t retry_cnt = 7;
    uint8_t rnr_retry = 7;  // 7: retry for ever
};

struct srq_init_attr {
    void* srq_context = nullptr;
    uint32_t max_wr = 0, max_sge = 0;  // in: requested; out: granted
};

enum class event_type {
    QP_FATAL,      // the QP went to ERR on its own (catalogue F)
    CQ_ERR,        // CQ overflow or a CQ access error
    PORT_ACTIVE,   // the port came up
    PORT_ERR,      // the port went down
    DEVICE_FATAL,  // anything the driver does not know (doorbell errors, ...)
};

struct async_event {
    event_type type = event_type::DEVICE_FATAL;
    verbs::qp* qp = nullptr;  // QP_FATAL
    verbs::cq* cq = nullptr;  // CQ_ERR
    int port_num = 0;         // PORT_*
    uint32_t raw_type = 0, raw_data = 0;
};

// --- objects: fields above the m_ ones are the caller's to read, as in libibverbs ---

struct pd {
    context* ctx = nullptr;
    uint32_t handle = 0;
    int refcnt = 0;  // MRs, QPs, SRQs and AHs in it
};

struct mr {
    context* ctx = nullptr;
    verbs::pd* pd = nullptr;
    void* addr = nullptr;  // CPU address (nullptr after reg_mr_iova)
    size_t length = 0;
    uint64_t iova = 0;
    uint32_t lkey = 0, rkey = 0;
    int access = 0;
};

struct cq {
    context* ctx = nullptr;
    comp_channel* channel = nullptr;
    void* cq_context = nullptr;
    int cqe = 0;  // capacity granted
    uint32_t handle = 0;
    int refcnt = 0;  // QPs using it
    uint32_t comp_events_completed = 0;
    std::unique_ptr<drv::completion_queue> m_impl;
};

struct srq {
    context* ctx = nullptr;
    verbs::pd* pd = nullptr;
    void* srq_context = nullptr;
    uint32_t handle = 0;
    uint32_t max_wr = 0, max_sge = 0;
    int refcnt = 0;  // QPs using it
    std::unique_ptr<drv::shared_receive_queue> m_impl;
};

struct qp {
    context* ctx = nullptr;
    verbs::pd* pd = nullptr;
    void* qp_context = nullptr;
    cq* send_cq = nullptr;
    cq* recv_cq = nullptr;
    verbs::srq* srq = nullptr;
    uint32_t qp_num = 0;
    verbs::qp_state state = verbs::qp_state::RESET;
    verbs::qp_type qp_type = verbs::qp_type::RC;
    qp_cap cap;
    int sq_sig_all = 0;
    std::unique_ptr<drv::queue_pair> m_impl;
};

struct ah {
    context* ctx = nullptr;
    verbs::pd* pd = nullptr;
    uint32_t handle = 0;
    ah_attr attr;
};

struct open_options {
    drv::device_options device;
};

// --- device ---
// Probes the device behind `b` and opens it. nullptr with errno (ENODEV, EIO) and *error set to
// the driver's one-line reason on failure.
context* open_device(drv::bus& b, const open_options& o = {}, std::string* error = nullptr);
int close_device(context* ctx);
// Frees the context and every object under it in host memory without a command to the device,
// for when the device can no longer be asked: the simulation that held it has ended, or the
// owner is tearing down outside a driver thread. Whatever the device still holds stays there
// until its next reset. close_device is the orderly way.
void abandon_device(context* ctx);
int query_device(context* ctx, device_attr* attr);
int query_port(context* ctx, uint8_t port_num, port_attr* attr);
int query_gid(context* ctx, uint8_t port_num, int index, gid* out);
// Host memory the device can reach (nullptr, errno ENOMEM when none is left), and its release.
void* alloc_buf(context* ctx, size_t size, size_t align = 4096);
int free_buf(context* ctx, void* buf);
// The escape hatch to the driver under the context, for tests and diagnosis.
drv::device& driver_device(context* ctx);
drv::bus& driver_bus(context* ctx);

// --- protection domains and memory ---
pd* alloc_pd(context* ctx);
int dealloc_pd(pd* p);
// addr must lie in one alloc_buf() buffer (else EFAULT); the IOVA is (uintptr_t)addr.
mr* reg_mr(pd* p, void* addr, size_t length, int access);
// [iova, iova + length) maps to bus addresses from bus_addr on.
mr* reg_mr_iova(pd* p, uint64_t iova, size_t length, uint64_t bus_addr, int access);
int dereg_mr(mr* m);

// --- completion queues and events ---
comp_channel* create_comp_channel(context* ctx);
int destroy_comp_channel(comp_channel* ch);
// cqe is rounded up to a power of two (cq->cqe); channel may be nullptr (no events); every CQ
// reports on the one completion vector, so comp_vector must be 0.
cq* create_cq(context* ctx, int cqe, void* cq_context, comp_channel* channel, int comp_vector);
int destroy_cq(cq* c);
// Up to num_entries completions, oldest first; returns how many (0: none), or -EINVAL for bad
// arguments (negative, as ibv_poll_cq). Never blocks. An empty poll runs the driver's health
// check at most once per health period, so a polling consumer of a device that was lost
// (removed, fatal) gets its outstanding WRs back flushed, once (docs/faults.md).
int poll_cq(cq* c, int num_entries, wc* out);
// Arms the CQ: the next completion (solicited_only: the next solicited one or any error) raises
// one event on the CQ's channel.
int req_notify_cq(cq* c, int solicited_only);
// Blocks (at most timeout_ns of device time) for an event on the channel; 0 with *out_cq and
// *out_cq_context set, or ETIMEDOUT. The CQ is disarmed: re-arm, then poll.
int get_cq_event(comp_channel* ch, cq** out_cq, void** out_cq_context, uint64_t timeout_ns);
void ack_cq_events(cq* c, unsigned nevents);
// Asynchronous events (QP fatal, CQ error, port change); 0 or ETIMEDOUT.
int get_async_event(context* ctx, async_event* ev, uint64_t timeout_ns);
void ack_async_event(async_event* ev);

// --- queue pairs ---
// The QP starts in RESET; init->cap comes back with what it got (work requests rounded up to a
// power of two; max_recv_wr 0 on an SRQ). EINVAL when a capability exceeds the device's.
qp* create_qp(pd* p, qp_init_attr* init);
// EINVAL for an illegal transition or a missing/unexpected attribute; the QP is then unchanged.
int modify_qp(qp* q, qp_attr* attr, int attr_mask);
// Fills every field whatever attr_mask says (as providers do); init may be nullptr.
int query_qp(qp* q, qp_attr* attr, int attr_mask, qp_init_attr* init);
int destroy_qp(qp* q);
int post_send(qp* q, send_wr* wr, send_wr** bad_wr);
int post_recv(qp* q, recv_wr* wr, recv_wr** bad_wr);

// --- shared receive queues and address handles ---
srq* create_srq(pd* p, srq_init_attr* init);
int destroy_srq(srq* s);
int post_srq_recv(srq* s, recv_wr* wr, recv_wr** bad_wr);
ah* create_ah(pd* p, ah_attr* attr);
int destroy_ah(ah* a);

// Names for messages: "SUCCESS", "WR_FLUSH_ERR", ... (ibv_wc_status_str), "QP_FATAL", ...
const char* wc_status_str(wc_status s);
const char* event_type_str(event_type t);

}  // namespace chio::verbs
