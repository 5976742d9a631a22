// Helpers of the consumer API's tests (tests/driver/verbs_*_test.cpp): a context in a driver
// thread on a loopback host, polling with a deadline, and two RC QPs of one device connected to
// each other.
#pragma once

#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <functional>
#include <string>
#include <systemc>
#include <vector>

#include "cosim/topology.h"
#include "driver/verbs.h"

namespace chio::verbs_test {

namespace v = verbs;

constexpr uint64_t MS = 1'000'000;

// Runs body in a driver thread of the one host of a loopback topology (packets turn around in
// the adapter's port), until it returns.
inline void on_loopback(std::function<void(drv::bus&, cosim::platform&)> body) {
    cosim::topology_params tp;
    tp.kind = cosim::topology_kind::loopback;
    cosim::topology net(tp);
    cosim::platform& host = net.host(0);
    host.run_driver([&](drv::bus& b) { body(b, host); });
    sc_core::sc_start();
}

// Runs body with an open context on a loopback host; closes the context afterwards.
inline void with_context(std::function<void(v::context*)> body) {
    bool ran = false;
    on_loopback([&](drv::bus& b, cosim::platform&) {
        std::string why;
        v::context* ctx = v::open_device(b, {}, &why);
        ASSERT_NE(ctx, nullptr) << why;
        body(ctx);
        EXPECT_EQ(v::close_device(ctx), 0);
        ran = true;
    });
    EXPECT_TRUE(ran);
}

// Polls until n completions arrived or timeout_ns passed; returns them.
inline std::vector<v::wc> poll_n(v::context* ctx, v::cq* cq, size_t n, uint64_t timeout_ns = MS) {
    drv::bus& b = v::driver_bus(ctx);
    const uint64_t deadline = b.now_ns() + timeout_ns;
    std::vector<v::wc> out;
    while (out.size() < n && b.now_ns() < deadline) {
        v::wc w[8];
        const int got = v::poll_cq(cq, 8, w);
        out.insert(out.end(), w, w + got);
        if (got == 0) b.relax();
    }
    return out;
}

// Two RC QPs of one device connected to each other, each with its own CQ, and a buffer.
struct rc_loop {
    v::pd* pd = nullptr;
    uint8_t* buf = nullptr;
    v::mr* mr = nullptr;
    v::cq *cq_a = nullptr, *cq_b = nullptr;
    v::qp *a = nullptr, *b = nullptr;
    v::port_attr port;

    static constexpr size_t BYTES = 1 << 16;

    v::sge sge_at(size_t off, uint32_t len) const {
        return {reinterpret_cast<uintptr_t>(buf + off), len, mr->lkey};
    }
};

inline v::qp* make_rc(v::pd* pd, v::cq* cq, const v::qp_cap& cap) {
    v::qp_init_attr init;
    init.send_cq = cq;
    init.recv_cq = cq;
    init.qp_type = v::qp_type::RC;
    init.cap = cap;
    return v::create_qp(pd, &init);
}

inline int to_init(v::qp* q) {
    v::qp_attr a;
    a.qp_state = v::qp_state::INIT;
    a.port_num = 1;
    a.qp_access_flags = v::ACCESS_REMOTE_WRITE | v::ACCESS_REMOTE_READ | v::ACCESS_REMOTE_ATOMIC;
    return v::modify_qp(q, &a, v::QP_STATE | v::QP_PKEY_INDEX | v::QP_PORT | v::QP_ACCESS_FLAGS);
}

inline int to_rtr_rts(v::qp* q, uint32_t dest, const v::port_attr& port) {
    v::qp_attr a;
    a.qp_state = v::qp_state::RTR;
    a.path_mtu = v::mtu::MTU_1024;
    a.dest_qp_num = dest;
    a.rq_psn = 100;
    a.ah_attr.dmac = port.mac;
    a.ah_attr.dgid = port.gid0;
    a.min_rnr_timer = 1;
    if (int e = v::modify_qp(q, &a,
                             v::QP_STATE | v::QP_AV | v::QP_PATH_MTU | v::QP_DEST_QPN |
                                 v::QP_RQ_PSN | v::QP_MAX_DEST_RD_ATOMIC | v::QP_MIN_RNR_TIMER))
        return e;
    a.qp_state = v::qp_state::RTS;
    a.sq_psn = 100;
    a.timeout = 10;
    return v::modify_qp(q, &a,
                        v::QP_STATE | v::QP_SQ_PSN | v::QP_TIMEOUT | v::QP_RETRY_CNT |
                            v::QP_RNR_RETRY | v::QP_MAX_QP_RD_ATOMIC);
}

// Builds an rc_loop; `connect` false leaves both QPs in RESET.
inline bool make_loop(v::context* ctx, rc_loop& l, const v::qp_cap& cap, bool connect = true,
                      v::comp_channel* ch_b = nullptr, void* cq_b_context = nullptr) {
    l.pd = v::alloc_pd(ctx);
    l.buf = static_cast<uint8_t*>(v::alloc_buf(ctx, rc_loop::BYTES));
    if (!l.pd || !l.buf || v::query_port(ctx, 1, &l.port) != 0) return false;
    l.mr = v::reg_mr(l.pd, l.buf, rc_loop::BYTES,
                     v::ACCESS_LOCAL_WRITE | v::ACCESS_REMOTE_WRITE | v::ACCESS_REMOTE_READ);
    l.cq_a = v::create_cq(ctx, 64, nullptr, nullptr, 0);
    l.cq_b = v::create_cq(ctx, 64, cq_b_context, ch_b, 0);
    if (!l.mr || !l.cq_a || !l.cq_b) return false;
    l.a = make_rc(l.pd, l.cq_a, cap);
    l.b = make_rc(l.pd, l.cq_b, cap);
    if (!l.a || !l.b) return false;
    if (!connect) return true;
    return to_init(l.a) == 0 && to_init(l.b) == 0 && to_rtr_rts(l.a, l.b->qp_num, l.port) == 0 &&
           to_rtr_rts(l.b, l.a->qp_num, l.port) == 0;
}

inline v::qp_cap small_cap() {
    v::qp_cap c;
    c.max_send_wr = 4;
    c.max_recv_wr = 16;
    c.max_send_sge = 2;
    c.max_recv_sge = 1;
    c.max_inline_data = 64;
    return c;
}

// Posts n receives of 256 bytes each on b, slot i at offset 32 KiB + 256 i, wr_id 1000 + i.
inline void post_recvs(rc_loop& l, int n) {
    for (int i = 0; i < n; ++i) {
        v::sge s = l.sge_at(32768 + 256 * i, 256);
        v::recv_wr wr;
        wr.wr_id = 1000 + i;
        wr.sg_list = &s;
        wr.num_sge = 1;
        v::recv_wr* bad = nullptr;
        ASSERT_EQ(v::post_recv(l.b, &wr, &bad), 0);
    }
}

inline int ud_up(v::qp* q, uint32_t qkey) {
    v::qp_attr a;
    a.qp_state = v::qp_state::INIT;
    a.port_num = 1;
    a.qkey = qkey;
    if (int e = v::modify_qp(q, &a, v::QP_STATE | v::QP_PKEY_INDEX | v::QP_PORT | v::QP_QKEY))
        return e;
    a.qp_state = v::qp_state::RTR;
    if (int e = v::modify_qp(q, &a, v::QP_STATE)) return e;
    a.qp_state = v::qp_state::RTS;
    a.sq_psn = 5;
    return v::modify_qp(q, &a, v::QP_STATE | v::QP_SQ_PSN);
}

}  // namespace chio::verbs_test
