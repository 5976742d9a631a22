#include "testbenches/scenarios/vm_peer.h"

#include <cstring>
#include <vector>

#include "testbenches/scenarios/result.h"

namespace chio::tb {

namespace v = chio::verbs;

namespace {

// Buffer layout (64 KiB): what this side sends, where the peer's SENDs land, where the peer's
// WRITE lands, and the source of this side's WRITE; 16 KiB each.
constexpr uint64_t AREA = 16 << 10;
constexpr uint64_t SEND_SRC = 0, RECV_DST = AREA, WRITE_DST = 2 * AREA, WRITE_SRC = 3 * AREA;

uint64_t pattern_seed(uint64_t seed, unsigned role) { return seed * 4 + role; }

// The WRITE's bytes are message number `count` of the sender's pattern.
void fill_write(uint8_t* p, const vm_peer_options& o, unsigned role) {
    fill_pattern(p, uint64_t{o.count} * o.size, pattern_seed(o.seed, role), o.count);
}

// RESET -> INIT -> RTR -> RTS towards the peer's record {qpn, mac, gid hi, gid lo, ...}.
int connect(v::qp* q, const std::vector<uint64_t>& peer) {
    v::qp_attr a;
    a.qp_state = v::qp_state::INIT;
    a.port_num = 1;
    a.qp_access_flags = v::ACCESS_LOCAL_WRITE | v::ACCESS_REMOTE_WRITE | v::ACCESS_REMOTE_READ;
    if (int e =
            v::modify_qp(q, &a, v::QP_STATE | v::QP_PKEY_INDEX | v::QP_PORT | v::QP_ACCESS_FLAGS)) {
        return e;
    }
    a.qp_state = v::qp_state::RTR;
    a.dest_qp_num = static_cast<uint32_t>(peer[0]);
    a.ah_attr.dmac = peer[1];
    a.ah_attr.dgid = {peer[2], peer[3]};
    a.rq_psn = 100;
    a.min_rnr_timer = 1;
    if (int e = v::modify_qp(q, &a,
                             v::QP_STATE | v::QP_AV | v::QP_PATH_MTU | v::QP_DEST_QPN |
                                 v::QP_RQ_PSN | v::QP_MAX_DEST_RD_ATOMIC | v::QP_MIN_RNR_TIMER)) {
        return e;
    }
    a.qp_state = v::qp_state::RTS;
    a.sq_psn = 100;
    a.timeout = 8;  // 1 ms
    return v::modify_qp(q, &a,
                        v::QP_STATE | v::QP_SQ_PSN | v::QP_TIMEOUT | v::QP_RETRY_CNT |
                            v::QP_RNR_RETRY | v::QP_MAX_QP_RD_ATOMIC);
}

}  // namespace

vm_peer_result run_vm_peer(
    drv::bus& b, rendezvous& rv, const std::string& me, const std::string& peer, unsigned role,
    const vm_peer_options& o, const std::function<void(uint32_t qpn)>& before_traffic,
    const std::function<void(verbs::context*, verbs::pd*, verbs::qp*)>& after_traffic) {
    vm_peer_result r;
    const uint64_t bytes = uint64_t{o.count} * o.size;
    if (o.count == 0 || o.size == 0 || bytes > AREA) {
        r.error = me + ": count * size = " + std::to_string(bytes) + " is not in 1..16384";
        return r;
    }
    std::string err;
    v::context* ctx = v::open_device(b, {}, &err);
    if (ctx == nullptr) {
        r.error = me + " open_device: " + err;
        return r;
    }
    v::port_attr port;
    v::pd* pd = v::alloc_pd(ctx);
    auto* buf = static_cast<uint8_t*>(v::alloc_buf(ctx, 4 * AREA));
    v::cq* cq = v::create_cq(ctx, 64, nullptr, nullptr, 0);
    v::mr* mr = pd && buf
                    ? v::reg_mr(pd, buf, 4 * AREA, v::ACCESS_LOCAL_WRITE | v::ACCESS_REMOTE_WRITE)
                    : nullptr;
    v::qp_init_attr init;
    init.send_cq = cq;
    init.recv_cq = cq;
    init.cap.max_send_wr = init.cap.max_recv_wr = 32;
    init.cap.max_send_sge = init.cap.max_recv_sge = 1;
    init.sq_sig_all = 1;
    v::qp* qp = mr && cq ? v::create_qp(pd, &init) : nullptr;
    if (qp == nullptr || v::query_port(ctx, 1, &port) != 0) {
        r.error = me + ": could not create PD, buffer, MR, CQ or QP";
        v::close_device(ctx);
        return r;
    }
    r.qpn = qp->qp_num;
    if (before_traffic) before_traffic(r.qpn);
    rv.put(me, {qp->qp_num, port.mac, port.gid0.hi, port.gid0.lo, mr->iova, mr->rkey});
    const std::vector<uint64_t> p = rv.get(peer);
    if (int e = connect(qp, p))
        r.error = me + ": connecting the QP failed (" + std::to_string(e) + ")";
    for (uint32_t i = 0; r.error.empty() && i < o.count; ++i) {
        v::sge s{mr->iova + RECV_DST + uint64_t{i} * o.size, o.size, mr->lkey};
        v::recv_wr w;
        w.wr_id = i;
        w.sg_list = &s;
        w.num_sge = 1;
        v::recv_wr* bad = nullptr;
        if (v::post_recv(qp, &w, &bad) != 0) r.error = me + ": post_recv refused";
    }
    // Both sides' receives are posted before either sends (no RNR retries in the picture).
    const std::string pair = role == 0 ? me + "|" + peer : peer + "|" + me;
    rv.barrier(pair, 2);
    const uint64_t ps = pattern_seed(o.seed, role);
    for (uint32_t i = 0; i < o.count; ++i) fill_pattern(buf + uint64_t{i} * o.size, o.size, ps, i);
    fill_write(buf + WRITE_SRC, o, role);
    for (uint32_t i = 0; r.error.empty() && i <= o.count; ++i) {
        // The WRITE first (wr_id count), then the SENDs: RC order makes the last SEND's arrival
        // prove the WRITE landed.
        const bool write = i == 0;
        const uint32_t msg = write ? o.count : i - 1;
        v::sge s{mr->iova + (write ? WRITE_SRC : SEND_SRC + uint64_t{msg} * o.size),
                 write ? static_cast<uint32_t>(bytes) : o.size, mr->lkey};
        v::send_wr w;
        w.wr_id = msg;
        w.sg_list = &s;
        w.num_sge = 1;
        w.opcode = write ? v::wr_opcode::RDMA_WRITE : v::wr_opcode::SEND;
        w.send_flags = v::SEND_SIGNALED;
        w.wr.rdma.remote_addr = p[4] + WRITE_DST;
        w.wr.rdma.rkey = static_cast<uint32_t>(p[5]);
        v::send_wr* bad = nullptr;
        if (v::post_send(qp, &w, &bad) == 0) ++r.sends;
    }
    r.expected = r.sends + (r.error.empty() ? o.count : 0);
    const uint64_t deadline = b.now_ns() + o.timeout_ns;
    while (r.seen < r.expected && b.now_ns() < deadline) {
        v::wc wc[8];
        const int n = v::poll_cq(cq, 8, wc);
        for (int i = 0; i < n; ++i) {
            ++r.seen;
            if (wc[i].status != v::wc_status::SUCCESS) ++r.error_completions;
        }
        if (n <= 0) b.relax();
    }
    // Verify what the peer sent: its SENDs and its WRITE.
    std::vector<uint8_t> want(bytes);
    const uint64_t peer_ps = pattern_seed(o.seed, 1 - role);
    for (uint32_t i = 0; i < o.count; ++i) {
        fill_pattern(want.data(), o.size, peer_ps, i);
        const bool same =
            std::memcmp(want.data(), buf + RECV_DST + uint64_t{i} * o.size, o.size) == 0;
        r.bytes_verified += same ? o.size : 0;
        r.data_mismatches += same ? 0 : 1;
    }
    fill_write(want.data(), o, 1 - role);
    const bool same = std::memcmp(want.data(), buf + WRITE_DST, bytes) == 0;
    r.bytes_verified += same ? bytes : 0;
    r.data_mismatches += same ? 0 : 1;
    // Neither side tears down its QP while the other may still need its ACKs.
    rv.barrier("done " + pair, 2);
    if (r.error.empty() && r.seen < r.expected) {
        r.error = me + ": " + std::to_string(r.expected - r.seen) + " completions missing";
    }
    if (r.error.empty() && r.error_completions) r.error = me + ": error completions";
    if (r.error.empty() && r.data_mismatches) r.error = me + ": data mismatch";
    r.ok = r.error.empty();
    if (after_traffic) after_traffic(ctx, pd, qp);
    v::close_device(ctx);
    return r;
}

}  // namespace chio::tb
