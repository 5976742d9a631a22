// The consumer API (driver/verbs.h) on one host in loopback: open and query, every object's
// create/destroy with the EBUSY rules, synchronous rejects of post_send/post_recv (and that a
// rejected request consumes nothing), work-completion fields, the completion channel, UD with an
// address handle, flush on ERR, and a refused modify leaving the QP unchanged.
#include "driver/verbs.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <functional>
#include <set>
#include <vector>

#include "support/platform_fixture.h"

namespace chio {
namespace {

namespace v = verbs;

constexpr uint64_t MS = 1'000'000;

// Runs body with an open context in a driver thread; closes the context afterwards.
void with_context(std::function<void(v::context*)> body) {
    bool ran = false;
    test::run_driver([&](drv::bus& b, cosim::platform&) {
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
std::vector<v::wc> poll_n(v::context* ctx, v::cq* cq, size_t n, uint64_t timeout_ns = MS) {
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

v::qp* make_rc(v::pd* pd, v::cq* cq, const v::qp_cap& cap) {
    v::qp_init_attr init;
    init.send_cq = cq;
    init.recv_cq = cq;
    init.qp_type = v::qp_type::RC;
    init.cap = cap;
    return v::create_qp(pd, &init);
}

int to_init(v::qp* q) {
    v::qp_attr a;
    a.qp_state = v::qp_state::INIT;
    a.port_num = 1;
    a.qp_access_flags = v::ACCESS_REMOTE_WRITE | v::ACCESS_REMOTE_READ | v::ACCESS_REMOTE_ATOMIC;
    return v::modify_qp(q, &a, v::QP_STATE | v::QP_PKEY_INDEX | v::QP_PORT | v::QP_ACCESS_FLAGS);
}

int to_rtr_rts(v::qp* q, uint32_t dest, const v::port_attr& port) {
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
bool make_loop(v::context* ctx, rc_loop& l, const v::qp_cap& cap, bool connect = true,
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

v::qp_cap small_cap() {
    v::qp_cap c;
    c.max_send_wr = 4;
    c.max_recv_wr = 16;
    c.max_send_sge = 2;
    c.max_recv_sge = 1;
    c.max_inline_data = 64;
    return c;
}

// Posts n receives of 256 bytes each on b, slot i at offset 32 KiB + 256 i, wr_id 1000 + i.
void post_recvs(rc_loop& l, int n) {
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

TEST(verbs, open_and_query_device_and_port) {
    with_context([](v::context* ctx) {
        v::device_attr d;
        ASSERT_EQ(v::query_device(ctx, &d), 0);
        EXPECT_EQ(d.vendor_id, spec::pci::VENDOR_ID);
        EXPECT_EQ(d.max_qp, spec::limits::MAX_QP);
        EXPECT_EQ(d.max_cq, spec::limits::MAX_CQ);
        EXPECT_EQ(d.max_sge, spec::limits::MAX_SGE);
        EXPECT_EQ(d.max_recv_sge, spec::limits::MAX_RECV_SGE);
        EXPECT_EQ(d.max_inline_data, spec::limits::MAX_INLINE);
        EXPECT_EQ(d.max_qp_wr, 1u << spec::limits::MAX_WQ_LOG_SIZE);
        EXPECT_EQ(d.phys_port_cnt, 1);
        v::port_attr p;
        ASSERT_EQ(v::query_port(ctx, 1, &p), 0);
        EXPECT_EQ(p.state, v::port_state::ACTIVE);
        EXPECT_NE(p.gid0.hi | p.gid0.lo, 0u);
        v::gid g;
        ASSERT_EQ(v::query_gid(ctx, 1, 0, &g), 0);
        EXPECT_EQ(g.lo, p.gid0.lo);
        EXPECT_EQ(v::query_port(ctx, 2, &p), EINVAL);
        EXPECT_EQ(v::query_gid(ctx, 1, 1, &g), EINVAL);
    });
}

TEST(verbs, every_object_creates_and_destroys_and_busy_parents_refuse) {
    with_context([](v::context* ctx) {
        v::pd* pd = v::alloc_pd(ctx);
        ASSERT_NE(pd, nullptr);
        auto* buf = static_cast<uint8_t*>(v::alloc_buf(ctx, 8192));
        ASSERT_NE(buf, nullptr);
        v::mr* mr = v::reg_mr(pd, buf + 4096, 4096, v::ACCESS_LOCAL_WRITE);
        ASSERT_NE(mr, nullptr);
        EXPECT_EQ(mr->iova, reinterpret_cast<uintptr_t>(buf + 4096));
        EXPECT_EQ(mr->length, 4096u);
        // Outside every alloc_buf() buffer, or running past its end: EFAULT.
        int local = 0;
        EXPECT_EQ(v::reg_mr(pd, &local, sizeof local, v::ACCESS_LOCAL_WRITE), nullptr);
        EXPECT_EQ(errno, EFAULT);
        EXPECT_EQ(v::reg_mr(pd, buf + 4096, 8192, v::ACCESS_LOCAL_WRITE), nullptr);
        EXPECT_EQ(errno, EFAULT);
        // Remote write without local write is refused, as by ibv_reg_mr.
        EXPECT_EQ(v::reg_mr(pd, buf, 4096, v::ACCESS_REMOTE_WRITE), nullptr);
        EXPECT_EQ(errno, EINVAL);

        v::comp_channel* ch = v::create_comp_channel(ctx);
        ASSERT_NE(ch, nullptr);
        v::cq* cq = v::create_cq(ctx, 100, nullptr, ch, 0);
        ASSERT_NE(cq, nullptr);
        EXPECT_EQ(cq->cqe, 128);
        EXPECT_EQ(v::create_cq(ctx, 0, nullptr, nullptr, 0), nullptr);
        EXPECT_EQ(errno, EINVAL);

        v::srq_init_attr si;
        si.max_wr = 10;
        si.max_sge = 1;
        v::srq* srq = v::create_srq(pd, &si);
        ASSERT_NE(srq, nullptr);
        EXPECT_EQ(si.max_wr, 16u);

        v::qp_init_attr qi;
        qi.send_cq = cq;
        qi.recv_cq = cq;
        qi.srq = srq;
        qi.cap.max_send_wr = 5;
        qi.cap.max_send_sge = 1;
        v::qp* rc = v::create_qp(pd, &qi);
        ASSERT_NE(rc, nullptr);
        EXPECT_EQ(qi.cap.max_send_wr, 8u);  // rounded up to the ring size
        EXPECT_EQ(rc->state, v::qp_state::RESET);
        EXPECT_EQ(rc->srq, srq);

        v::qp_init_attr ui;
        ui.send_cq = cq;
        ui.recv_cq = cq;
        ui.qp_type = v::qp_type::UD;
        ui.cap.max_send_sge = spec::limits::MAX_SGE + 1;  // more than the device has
        EXPECT_EQ(v::create_qp(pd, &ui), nullptr);
        EXPECT_EQ(errno, EINVAL);
        ui.cap.max_send_sge = 1;
        ui.srq = srq;  // SRQs serve RC QPs only
        EXPECT_EQ(v::create_qp(pd, &ui), nullptr);
        ui.srq = nullptr;
        v::qp* ud = v::create_qp(pd, &ui);
        ASSERT_NE(ud, nullptr);

        v::port_attr port;
        ASSERT_EQ(v::query_port(ctx, 1, &port), 0);
        v::ah_attr aa;
        aa.dmac = port.mac;
        aa.dgid = port.gid0;
        v::ah* ah = v::create_ah(pd, &aa);
        ASSERT_NE(ah, nullptr);

        // Parents in use refuse to go.
        EXPECT_EQ(v::dealloc_pd(pd), EBUSY);
        EXPECT_EQ(v::destroy_cq(cq), EBUSY);
        EXPECT_EQ(v::destroy_srq(srq), EBUSY);
        EXPECT_EQ(v::destroy_comp_channel(ch), EBUSY);

        EXPECT_EQ(v::destroy_ah(ah), 0);
        EXPECT_EQ(v::destroy_qp(ud), 0);
        EXPECT_EQ(v::destroy_qp(rc), 0);
        EXPECT_EQ(v::destroy_srq(srq), 0);
        EXPECT_EQ(v::destroy_cq(cq), 0);
        EXPECT_EQ(v::destroy_comp_channel(ch), 0);
        EXPECT_EQ(v::dealloc_pd(pd), EBUSY);  // the MR is still there
        EXPECT_EQ(v::dereg_mr(mr), 0);
        EXPECT_EQ(v::dealloc_pd(pd), 0);
        EXPECT_EQ(v::free_buf(ctx, buf), 0);
        EXPECT_EQ(v::free_buf(ctx, buf), EINVAL);
    });
}

TEST(verbs, refused_modify_leaves_the_qp_unchanged) {
    with_context([](v::context* ctx) {
        rc_loop l;
        ASSERT_TRUE(make_loop(ctx, l, small_cap(), false));
        v::qp_attr a;
        a.qp_state = v::qp_state::RTS;  // RESET -> RTS is not a transition
        EXPECT_EQ(v::modify_qp(l.a, &a, v::QP_STATE), EINVAL);
        a.qp_state = v::qp_state::INIT;  // RESET -> INIT needs PORT and ACCESS_FLAGS
        EXPECT_EQ(v::modify_qp(l.a, &a, v::QP_STATE), EINVAL);
        a.pkey_index = 3;  // only the default P_Key exists
        EXPECT_EQ(v::modify_qp(l.a, &a, v::QP_STATE | v::QP_PKEY_INDEX), EINVAL);
        v::qp_attr q;
        v::qp_init_attr qi;
        ASSERT_EQ(v::query_qp(l.a, &q, v::QP_STATE, &qi), 0);
        EXPECT_EQ(q.qp_state, v::qp_state::RESET);
        EXPECT_EQ(l.a->state, v::qp_state::RESET);
        EXPECT_EQ(qi.send_cq, l.cq_a);
        ASSERT_EQ(to_init(l.a), 0);
        ASSERT_EQ(to_rtr_rts(l.a, 77, l.port), 0);
        ASSERT_EQ(v::query_qp(l.a, &q, 0, nullptr), 0);
        EXPECT_EQ(q.qp_state, v::qp_state::RTS);
        EXPECT_EQ(q.dest_qp_num, 77u);
        EXPECT_EQ(q.path_mtu, v::mtu::MTU_1024);
        EXPECT_EQ(q.sq_psn, 100u);
        EXPECT_EQ(q.timeout, 10);
    });
}

TEST(verbs, post_send_and_post_recv_refuse_in_reset_and_init) {
    with_context([](v::context* ctx) {
        rc_loop l;
        ASSERT_TRUE(make_loop(ctx, l, small_cap(), false));
        v::sge s = l.sge_at(0, 8);
        v::send_wr sw;
        sw.sg_list = &s;
        sw.num_sge = 1;
        v::send_wr* bad_s = nullptr;
        v::recv_wr rw;
        rw.sg_list = &s;
        rw.num_sge = 1;
        v::recv_wr* bad_r = nullptr;
        EXPECT_EQ(v::post_send(l.a, &sw, &bad_s), EINVAL);
        EXPECT_EQ(bad_s, &sw);
        EXPECT_EQ(v::post_recv(l.a, &rw, &bad_r), EINVAL);
        EXPECT_EQ(bad_r, &rw);
        ASSERT_EQ(to_init(l.a), 0);
        bad_s = nullptr;
        EXPECT_EQ(v::post_send(l.a, &sw, &bad_s), EINVAL);
        EXPECT_EQ(bad_s, &sw);
        EXPECT_EQ(v::post_recv(l.a, &rw, &bad_r), 0);  // receives are fine from INIT on
    });
}

TEST(verbs, post_send_rejects_stop_the_list_and_consume_nothing) {
    with_context([](v::context* ctx) {
        rc_loop l;
        ASSERT_TRUE(make_loop(ctx, l, small_cap()));
        post_recvs(l, 16);
        // [ok, too many sges]: the first is posted, the second rejected.
        v::sge s3[3] = {l.sge_at(0, 4), l.sge_at(4, 4), l.sge_at(8, 4)};
        v::send_wr w[5];
        for (int i = 0; i < 5; ++i) {
            w[i].wr_id = 1 + i;
            w[i].sg_list = s3;
            w[i].num_sge = 1;
            w[i].send_flags = v::SEND_SIGNALED;
            w[i].next = i < 4 ? &w[i + 1] : nullptr;
        }
        w[1].num_sge = 3;
        w[1].next = nullptr;
        v::send_wr* bad = nullptr;
        EXPECT_EQ(v::post_send(l.a, &w[0], &bad), EINVAL);
        EXPECT_EQ(bad, &w[1]);
        std::vector<v::wc> wcs = poll_n(ctx, l.cq_a, 2);
        ASSERT_EQ(wcs.size(), 1u);
        EXPECT_EQ(wcs[0].wr_id, 1u);

        // Inline longer than the QP's max_inline_data; an unknown flag; UD-only fields are moot.
        std::memset(l.buf, 0xAB, 128);
        v::sge big = l.sge_at(0, 65);
        v::send_wr in;
        in.wr_id = 50;
        in.sg_list = &big;
        in.num_sge = 1;
        in.send_flags = v::SEND_INLINE | v::SEND_SIGNALED;
        EXPECT_EQ(v::post_send(l.a, &in, &bad), EINVAL);
        EXPECT_EQ(bad, &in);
        in.send_flags = 0x80;
        EXPECT_EQ(v::post_send(l.a, &in, &bad), EINVAL);
        v::sge null_sge{0, 4, 0};  // inline from a null address
        in.sg_list = &null_sge;
        in.send_flags = v::SEND_INLINE;
        EXPECT_EQ(v::post_send(l.a, &in, &bad), EINVAL);
        in.sg_list = &big;
        // Inline at the limit goes, copied from the CPU address; no lkey needed.
        big.length = 64;
        big.lkey = 0;
        in.send_flags = v::SEND_INLINE | v::SEND_SIGNALED;
        EXPECT_EQ(v::post_send(l.a, &in, &bad), 0);
        wcs = poll_n(ctx, l.cq_a, 1);
        ASSERT_EQ(wcs.size(), 1u);
        EXPECT_EQ(wcs[0].status, v::wc_status::SUCCESS);
        wcs = poll_n(ctx, l.cq_b, 2);
        ASSERT_EQ(wcs.size(), 2u);
        EXPECT_EQ(wcs[1].byte_len, 64u);
        EXPECT_EQ(l.buf[32768 + 256 + 63], 0xAB);

        // A 4-deep send ring: five in one list -> four posted, ENOMEM at the fifth.
        w[1].num_sge = 1;
        w[1].next = &w[2];
        bad = nullptr;
        EXPECT_EQ(v::post_send(l.a, &w[0], &bad), ENOMEM);
        EXPECT_EQ(bad, &w[4]);
        wcs = poll_n(ctx, l.cq_a, 5, 2 * MS);
        ASSERT_EQ(wcs.size(), 4u);
        for (int i = 0; i < 4; ++i) EXPECT_EQ(wcs[i].wr_id, 1u + i);
        // The ring has room again; the rejected one now goes, completing once.
        w[4].next = nullptr;
        EXPECT_EQ(v::post_send(l.a, &w[4], &bad), 0);
        wcs = poll_n(ctx, l.cq_a, 2);
        ASSERT_EQ(wcs.size(), 1u);
        EXPECT_EQ(wcs[0].wr_id, 5u);
    });
}

TEST(verbs, post_recv_rejects_too_many_sges_and_a_full_ring) {
    with_context([](v::context* ctx) {
        rc_loop l;
        v::qp_cap cap = small_cap();
        cap.max_recv_wr = 2;
        ASSERT_TRUE(make_loop(ctx, l, cap));
        v::sge s[2] = {l.sge_at(0, 8), l.sge_at(8, 8)};
        v::recv_wr r[3];
        for (int i = 0; i < 3; ++i) {
            r[i].wr_id = 10 + i;
            r[i].sg_list = s;
            r[i].num_sge = 1;
            r[i].next = i < 2 ? &r[i + 1] : nullptr;
        }
        r[0].num_sge = 2;  // max_recv_sge is 1
        v::recv_wr* bad = nullptr;
        EXPECT_EQ(v::post_recv(l.b, &r[0], &bad), EINVAL);
        EXPECT_EQ(bad, &r[0]);
        r[0].num_sge = 1;
        EXPECT_EQ(v::post_recv(l.b, &r[0], &bad), ENOMEM);  // ring of 2
        EXPECT_EQ(bad, &r[2]);
        // Exactly the two posted receives are flushed when the QP goes to ERR.
        v::qp_attr a;
        a.qp_state = v::qp_state::ERR;
        ASSERT_EQ(v::modify_qp(l.b, &a, v::QP_STATE), 0);
        const std::vector<v::wc> wcs = poll_n(ctx, l.cq_b, 3);
        ASSERT_EQ(wcs.size(), 2u);
        std::set<uint64_t> ids;
        for (const v::wc& w : wcs) {
            EXPECT_EQ(w.status, v::wc_status::WR_FLUSH_ERR);
            EXPECT_EQ(w.qp_num, l.b->qp_num);
            ids.insert(w.wr_id);
        }
        EXPECT_EQ(ids, (std::set<uint64_t>{10, 11}));
    });
}

TEST(verbs, send_with_imm_and_write_with_imm_complete_with_the_right_fields) {
    with_context([](v::context* ctx) {
        rc_loop l;
        ASSERT_TRUE(make_loop(ctx, l, small_cap()));
        post_recvs(l, 2);
        for (uint32_t i = 0; i < 3000; ++i) l.buf[i] = static_cast<uint8_t>(i * 13);
        // 200 bytes in two gather entries, with immediate data.
        v::sge g[2] = {l.sge_at(0, 120), l.sge_at(120, 80)};
        v::send_wr w;
        w.wr_id = 7;
        w.opcode = v::wr_opcode::SEND_WITH_IMM;
        w.send_flags = v::SEND_SIGNALED;
        w.imm_data = 0x12345678;
        w.sg_list = g;
        w.num_sge = 2;
        v::send_wr* bad = nullptr;
        ASSERT_EQ(v::post_send(l.a, &w, &bad), 0);
        std::vector<v::wc> s = poll_n(ctx, l.cq_a, 1);
        std::vector<v::wc> r = poll_n(ctx, l.cq_b, 1);
        ASSERT_EQ(s.size(), 1u);
        ASSERT_EQ(r.size(), 1u);
        EXPECT_EQ(s[0].wr_id, 7u);
        EXPECT_EQ(s[0].status, v::wc_status::SUCCESS);
        EXPECT_EQ(s[0].opcode, v::wc_opcode::SEND);
        EXPECT_EQ(s[0].qp_num, l.a->qp_num);
        EXPECT_EQ(r[0].wr_id, 1000u);
        EXPECT_EQ(r[0].status, v::wc_status::SUCCESS);
        EXPECT_EQ(r[0].opcode, v::wc_opcode::RECV);
        EXPECT_EQ(r[0].byte_len, 200u);
        EXPECT_EQ(r[0].imm_data, 0x12345678u);
        EXPECT_TRUE(r[0].wc_flags & v::WC_WITH_IMM);
        EXPECT_EQ(r[0].qp_num, l.b->qp_num);
        EXPECT_EQ(std::memcmp(l.buf + 32768, l.buf, 200), 0);

        // RDMA WRITE with immediate: data lands at the remote address, the receive completes as
        // RECV_RDMA_WITH_IMM carrying the length and the immediate.
        v::sge src = l.sge_at(0, 3000);
        w.wr_id = 8;
        w.opcode = v::wr_opcode::RDMA_WRITE_WITH_IMM;
        w.imm_data = 0xCAFE;
        w.sg_list = &src;
        w.num_sge = 1;
        w.wr.rdma.remote_addr = reinterpret_cast<uintptr_t>(l.buf + 8192);
        w.wr.rdma.rkey = l.mr->rkey;
        ASSERT_EQ(v::post_send(l.a, &w, &bad), 0);
        s = poll_n(ctx, l.cq_a, 1);
        r = poll_n(ctx, l.cq_b, 1);
        ASSERT_EQ(s.size(), 1u);
        ASSERT_EQ(r.size(), 1u);
        EXPECT_EQ(s[0].opcode, v::wc_opcode::RDMA_WRITE);
        EXPECT_EQ(s[0].status, v::wc_status::SUCCESS);
        EXPECT_EQ(r[0].opcode, v::wc_opcode::RECV_RDMA_WITH_IMM);
        EXPECT_EQ(r[0].wr_id, 1001u);
        EXPECT_EQ(r[0].byte_len, 3000u);
        EXPECT_EQ(r[0].imm_data, 0xCAFEu);
        EXPECT_TRUE(r[0].wc_flags & v::WC_WITH_IMM);
        EXPECT_EQ(std::memcmp(l.buf + 8192, l.buf, 3000), 0);
    });
}

TEST(verbs, completion_channel_reports_one_event_per_arm) {
    with_context([](v::context* ctx) {
        v::comp_channel* ch = v::create_comp_channel(ctx);
        ASSERT_NE(ch, nullptr);
        int marker = 0;
        rc_loop l;
        ASSERT_TRUE(make_loop(ctx, l, small_cap(), true, ch, &marker));
        post_recvs(l, 4);
        v::cq* got = nullptr;
        void* got_ctx = nullptr;
        ASSERT_EQ(v::req_notify_cq(l.cq_b, 0), 0);
        EXPECT_EQ(v::get_cq_event(ch, &got, &got_ctx, 100'000), ETIMEDOUT);  // nothing happened

        v::sge s = l.sge_at(0, 16);
        v::send_wr w;
        w.sg_list = &s;
        w.num_sge = 1;
        v::send_wr* bad = nullptr;
        auto send = [&](unsigned flags) {
            w.send_flags = flags;
            ASSERT_EQ(v::post_send(l.a, &w, &bad), 0);
            ASSERT_EQ(poll_n(ctx, l.cq_a, 1).size(), 1u);
        };
        send(v::SEND_SIGNALED);
        ASSERT_EQ(v::get_cq_event(ch, &got, &got_ctx, MS), 0);
        EXPECT_EQ(got, l.cq_b);
        EXPECT_EQ(got_ctx, &marker);
        v::ack_cq_events(got, 1);
        EXPECT_EQ(l.cq_b->comp_events_completed, 1u);
        v::wc wc;
        EXPECT_EQ(v::poll_cq(l.cq_b, 1, &wc), 1);
        EXPECT_EQ(wc.opcode, v::wc_opcode::RECV);

        // Not re-armed: the next completion raises no event.
        send(v::SEND_SIGNALED);
        EXPECT_EQ(v::get_cq_event(ch, &got, &got_ctx, 200'000), ETIMEDOUT);
        EXPECT_EQ(v::poll_cq(l.cq_b, 1, &wc), 1);

        // Armed for solicited only: an unsolicited receive raises nothing, a solicited one does.
        ASSERT_EQ(v::req_notify_cq(l.cq_b, 1), 0);
        send(v::SEND_SIGNALED);
        EXPECT_EQ(v::get_cq_event(ch, &got, &got_ctx, 200'000), ETIMEDOUT);
        EXPECT_EQ(poll_n(ctx, l.cq_b, 1).size(), 1u);
        send(v::SEND_SIGNALED | v::SEND_SOLICITED);
        ASSERT_EQ(v::get_cq_event(ch, &got, &got_ctx, MS), 0);
        EXPECT_EQ(got, l.cq_b);
        v::ack_cq_events(got, 1);
        EXPECT_EQ(v::poll_cq(l.cq_b, 1, &wc), 1);
        // The channel cannot go while its CQ uses it.
        EXPECT_EQ(v::destroy_comp_channel(ch), EBUSY);
    });
}

int ud_up(v::qp* q, uint32_t qkey) {
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

TEST(verbs, ud_send_with_an_address_handle_delivers_grh_and_src_qp) {
    with_context([](v::context* ctx) {
        v::pd* pd = v::alloc_pd(ctx);
        auto* buf = static_cast<uint8_t*>(v::alloc_buf(ctx, 4096));
        ASSERT_TRUE(pd && buf);
        v::mr* mr = v::reg_mr(pd, buf, 4096, v::ACCESS_LOCAL_WRITE);
        v::cq* cq = v::create_cq(ctx, 16, nullptr, nullptr, 0);
        ASSERT_TRUE(mr && cq);
        v::qp_init_attr init;
        init.send_cq = cq;
        init.recv_cq = cq;
        init.qp_type = v::qp_type::UD;
        init.cap = small_cap();
        v::qp* tx = v::create_qp(pd, &init);
        v::qp* rx = v::create_qp(pd, &init);
        ASSERT_TRUE(tx && rx);
        ASSERT_EQ(ud_up(tx, 0x1111), 0);
        ASSERT_EQ(ud_up(rx, 0x2222), 0);
        v::port_attr port;
        ASSERT_EQ(v::query_port(ctx, 1, &port), 0);
        v::ah_attr aa;
        aa.dmac = port.mac;
        aa.dgid = port.gid0;
        v::ah* ah = v::create_ah(pd, &aa);
        ASSERT_NE(ah, nullptr);

        v::sge rs{reinterpret_cast<uintptr_t>(buf + 1024), v::GRH_BYTES + 512, mr->lkey};
        v::recv_wr rw;
        rw.wr_id = 42;
        rw.sg_list = &rs;
        rw.num_sge = 1;
        v::recv_wr* bad_r = nullptr;
        ASSERT_EQ(v::post_recv(rx, &rw, &bad_r), 0);

        for (int i = 0; i < 100; ++i) buf[i] = static_cast<uint8_t>(0x40 + i);
        v::sge ss{reinterpret_cast<uintptr_t>(buf), 100, mr->lkey};
        v::send_wr sw;
        sw.wr_id = 41;
        sw.opcode = v::wr_opcode::RDMA_WRITE;  // not a UD operation
        sw.send_flags = v::SEND_SIGNALED;
        sw.imm_data = 0xBEEF;
        sw.sg_list = &ss;
        sw.num_sge = 1;
        sw.wr.ud.remote_qpn = rx->qp_num;
        sw.wr.ud.remote_qkey = 0x2222;
        v::send_wr* bad = nullptr;
        sw.wr.ud.ah = ah;
        EXPECT_EQ(v::post_send(tx, &sw, &bad), EINVAL);
        sw.opcode = v::wr_opcode::SEND_WITH_IMM;
        sw.wr.ud.ah = nullptr;  // UD needs an address handle
        EXPECT_EQ(v::post_send(tx, &sw, &bad), EINVAL);
        sw.wr.ud.ah = ah;
        ASSERT_EQ(v::post_send(tx, &sw, &bad), 0);

        const std::vector<v::wc> wcs = poll_n(ctx, cq, 2);
        ASSERT_EQ(wcs.size(), 2u);
        const v::wc& r = wcs[0].opcode == v::wc_opcode::RECV ? wcs[0] : wcs[1];
        const v::wc& s = wcs[0].opcode == v::wc_opcode::RECV ? wcs[1] : wcs[0];
        EXPECT_EQ(s.wr_id, 41u);
        EXPECT_EQ(s.status, v::wc_status::SUCCESS);
        EXPECT_EQ(s.opcode, v::wc_opcode::SEND);
        EXPECT_EQ(r.wr_id, 42u);
        EXPECT_EQ(r.status, v::wc_status::SUCCESS);
        EXPECT_EQ(r.byte_len, v::GRH_BYTES + 100);
        EXPECT_EQ(r.src_qp, tx->qp_num);
        EXPECT_EQ(r.qp_num, rx->qp_num);
        EXPECT_EQ(r.imm_data, 0xBEEFu);
        EXPECT_EQ(r.wc_flags & (v::WC_GRH | v::WC_WITH_IMM), v::WC_GRH | v::WC_WITH_IMM);
        // IPv4 GIDs: the GRH's last 20 bytes are the IPv4 header (RoCEv2 Annex A17.4.5.1).
        EXPECT_EQ(buf[1024 + 20], 0x45);
        EXPECT_EQ(std::memcmp(buf + 1024 + v::GRH_BYTES, buf, 100), 0);

        // A wrong Q_Key: the datagram is dropped silently (no receive completion).
        ASSERT_EQ(v::post_recv(rx, &rw, &bad_r), 0);
        sw.wr.ud.remote_qkey = 0x3333;
        ASSERT_EQ(v::post_send(tx, &sw, &bad), 0);
        const std::vector<v::wc> more = poll_n(ctx, cq, 2, 200'000);
        ASSERT_EQ(more.size(), 1u);
        EXPECT_EQ(more[0].wr_id, 41u);
    });
}

TEST(verbs, rdma_read_and_atomics_through_the_verbs_work_request) {
    with_context([](v::context* ctx) {
        rc_loop l;
        ASSERT_TRUE(make_loop(ctx, l, small_cap()));
        v::mr* amr =
            v::reg_mr(l.pd, l.buf + 16384, 4096, v::ACCESS_LOCAL_WRITE | v::ACCESS_REMOTE_ATOMIC);
        ASSERT_NE(amr, nullptr);
        for (uint32_t i = 0; i < 1000; ++i) l.buf[4096 + i] = static_cast<uint8_t>(i * 3 + 1);
        v::sge dst = l.sge_at(0, 1000);
        v::send_wr w;
        w.wr_id = 1;
        w.opcode = v::wr_opcode::RDMA_READ;
        w.send_flags = v::SEND_SIGNALED;
        w.sg_list = &dst;
        w.num_sge = 1;
        w.wr.rdma.remote_addr = reinterpret_cast<uintptr_t>(l.buf + 4096);
        w.wr.rdma.rkey = l.mr->rkey;
        v::send_wr* bad = nullptr;
        ASSERT_EQ(v::post_send(l.a, &w, &bad), 0);
        std::vector<v::wc> wcs = poll_n(ctx, l.cq_a, 1);
        ASSERT_EQ(wcs.size(), 1u);
        EXPECT_EQ(wcs[0].status, v::wc_status::SUCCESS);
        EXPECT_EQ(wcs[0].opcode, v::wc_opcode::RDMA_READ);
        EXPECT_EQ(std::memcmp(l.buf, l.buf + 4096, 1000), 0);

        uint64_t target = 40;
        std::memcpy(l.buf + 16384, &target, 8);
        dst = l.sge_at(64, 8);
        w.wr_id = 2;
        w.opcode = v::wr_opcode::ATOMIC_FETCH_AND_ADD;
        w.wr.atomic.remote_addr = reinterpret_cast<uintptr_t>(l.buf + 16384);
        w.wr.atomic.rkey = amr->rkey;
        w.wr.atomic.compare_add = 2;
        ASSERT_EQ(v::post_send(l.a, &w, &bad), 0);
        wcs = poll_n(ctx, l.cq_a, 1);
        ASSERT_EQ(wcs.size(), 1u);
        EXPECT_EQ(wcs[0].status, v::wc_status::SUCCESS);
        EXPECT_EQ(wcs[0].opcode, v::wc_opcode::FETCH_ADD);
        uint64_t old = 0;
        std::memcpy(&old, l.buf + 64, 8);
        std::memcpy(&target, l.buf + 16384, 8);
        EXPECT_EQ(old, 40u);
        EXPECT_EQ(target, 42u);

        w.wr_id = 3;
        w.opcode = v::wr_opcode::ATOMIC_CMP_AND_SWP;
        w.wr.atomic.compare_add = 42;
        w.wr.atomic.swap = 7;
        ASSERT_EQ(v::post_send(l.a, &w, &bad), 0);
        wcs = poll_n(ctx, l.cq_a, 1);
        ASSERT_EQ(wcs.size(), 1u);
        EXPECT_EQ(wcs[0].opcode, v::wc_opcode::COMP_SWAP);
        std::memcpy(&old, l.buf + 64, 8);
        std::memcpy(&target, l.buf + 16384, 8);
        EXPECT_EQ(old, 42u);
        EXPECT_EQ(target, 7u);
    });
}

TEST(verbs, a_bad_rkey_completes_with_an_error_and_flushes_the_rest_once) {
    with_context([](v::context* ctx) {
        rc_loop l;
        ASSERT_TRUE(make_loop(ctx, l, small_cap()));
        std::memset(l.buf + 8192, 0x5A, 64);
        v::sge src = l.sge_at(0, 64);
        v::send_wr w[3];
        for (int i = 0; i < 3; ++i) {
            w[i].wr_id = 1 + i;
            w[i].opcode = v::wr_opcode::RDMA_WRITE;
            w[i].send_flags = v::SEND_SIGNALED;
            w[i].sg_list = &src;
            w[i].num_sge = 1;
            w[i].wr.rdma.remote_addr = reinterpret_cast<uintptr_t>(l.buf + 8192);
            w[i].wr.rdma.rkey = l.mr->rkey ^ 0x100;  // no such key
            w[i].next = i < 2 ? &w[i + 1] : nullptr;
        }
        v::send_wr* bad = nullptr;
        ASSERT_EQ(v::post_send(l.a, &w[0], &bad), 0);
        const std::vector<v::wc> wcs = poll_n(ctx, l.cq_a, 4, 2 * MS);
        ASSERT_EQ(wcs.size(), 3u);
        EXPECT_EQ(wcs[0].wr_id, 1u);
        EXPECT_EQ(wcs[0].status, v::wc_status::REM_ACCESS_ERR);
        for (int i = 1; i < 3; ++i) {
            EXPECT_EQ(wcs[i].wr_id, 1u + i);
            EXPECT_EQ(wcs[i].status, v::wc_status::WR_FLUSH_ERR);
        }
        uint8_t expect[64];
        std::memset(expect, 0x5A, 64);
        EXPECT_EQ(std::memcmp(l.buf + 8192, expect, 64), 0);  // no byte written
        v::qp_attr a;
        ASSERT_EQ(v::query_qp(l.a, &a, v::QP_STATE, nullptr), 0);
        EXPECT_EQ(a.qp_state, v::qp_state::ERR);
        // Posted in ERR: accepted and flushed.
        w[0].next = nullptr;
        ASSERT_EQ(v::post_send(l.a, &w[0], &bad), 0);
        const std::vector<v::wc> more = poll_n(ctx, l.cq_a, 2);
        ASSERT_EQ(more.size(), 1u);
        EXPECT_EQ(more[0].status, v::wc_status::WR_FLUSH_ERR);
    });
}

TEST(verbs, srq_feeds_an_rc_qp_and_the_qp_refuses_its_own_receives) {
    with_context([](v::context* ctx) {
        rc_loop l;
        v::pd* pd = v::alloc_pd(ctx);
        ASSERT_NE(pd, nullptr);
        v::srq_init_attr si;
        si.max_wr = 4;
        si.max_sge = 1;
        v::srq* srq = v::create_srq(pd, &si);
        ASSERT_NE(srq, nullptr);
        l.pd = pd;
        l.buf = static_cast<uint8_t*>(v::alloc_buf(ctx, rc_loop::BYTES));
        l.mr = v::reg_mr(pd, l.buf, rc_loop::BYTES, v::ACCESS_LOCAL_WRITE);
        l.cq_a = v::create_cq(ctx, 16, nullptr, nullptr, 0);
        l.cq_b = v::create_cq(ctx, 16, nullptr, nullptr, 0);
        ASSERT_TRUE(l.mr && l.cq_a && l.cq_b);
        ASSERT_EQ(v::query_port(ctx, 1, &l.port), 0);
        l.a = make_rc(pd, l.cq_a, small_cap());
        v::qp_init_attr qi;
        qi.send_cq = l.cq_b;
        qi.recv_cq = l.cq_b;
        qi.srq = srq;
        qi.cap = small_cap();
        l.b = v::create_qp(pd, &qi);
        ASSERT_TRUE(l.a && l.b);
        ASSERT_EQ(to_init(l.a), 0);
        ASSERT_EQ(to_init(l.b), 0);
        ASSERT_EQ(to_rtr_rts(l.a, l.b->qp_num, l.port), 0);
        ASSERT_EQ(to_rtr_rts(l.b, l.a->qp_num, l.port), 0);

        v::sge rs = l.sge_at(4096, 256);
        v::recv_wr rw;
        rw.wr_id = 77;
        rw.sg_list = &rs;
        rw.num_sge = 1;
        v::recv_wr* bad_r = nullptr;
        EXPECT_EQ(v::post_recv(l.b, &rw, &bad_r), EINVAL);
        EXPECT_EQ(bad_r, &rw);
        rw.num_sge = 2;
        EXPECT_EQ(v::post_srq_recv(srq, &rw, &bad_r), EINVAL);  // max_sge 1
        rw.num_sge = 1;
        ASSERT_EQ(v::post_srq_recv(srq, &rw, &bad_r), 0);

        std::memcpy(l.buf, "through the shared receive queue", 32);
        v::sge ss = l.sge_at(0, 32);
        v::send_wr sw;
        sw.send_flags = v::SEND_SIGNALED;
        sw.sg_list = &ss;
        sw.num_sge = 1;
        v::send_wr* bad = nullptr;
        ASSERT_EQ(v::post_send(l.a, &sw, &bad), 0);
        const std::vector<v::wc> r = poll_n(ctx, l.cq_b, 1);
        ASSERT_EQ(r.size(), 1u);
        EXPECT_EQ(r[0].wr_id, 77u);
        EXPECT_EQ(r[0].status, v::wc_status::SUCCESS);
        EXPECT_EQ(r[0].byte_len, 32u);
        EXPECT_EQ(r[0].qp_num, l.b->qp_num);
        EXPECT_EQ(std::memcmp(l.buf + 4096, l.buf, 32), 0);
    });
}

TEST(verbs, async_events_report_port_changes_and_time_out_otherwise) {
    test::run_driver([](drv::bus& b, cosim::platform& plat) {
        v::context* ctx = v::open_device(b);
        ASSERT_NE(ctx, nullptr);
        v::async_event ev;
        EXPECT_EQ(v::get_async_event(ctx, &ev, 100'000), ETIMEDOUT);
        plat.adapter.net().link_state_changed(false);
        ASSERT_EQ(v::get_async_event(ctx, &ev, MS), 0);
        EXPECT_EQ(ev.type, v::event_type::PORT_ERR) << v::event_type_str(ev.type);
        EXPECT_EQ(ev.port_num, 1);
        v::ack_async_event(&ev);
        plat.adapter.net().link_state_changed(true);
        ASSERT_EQ(v::get_async_event(ctx, &ev, MS), 0);
        EXPECT_EQ(ev.type, v::event_type::PORT_ACTIVE) << v::event_type_str(ev.type);
        EXPECT_EQ(v::close_device(ctx), 0);
    });
}

TEST(verbs, cq_overflow_is_reported_as_a_cq_error_event) {
    with_context([](v::context* ctx) {
        rc_loop l;
        ASSERT_TRUE(make_loop(ctx, l, small_cap()));
        // A second, two-entry CQ for a third QP that completes four sends without being polled.
        v::cq* tiny = v::create_cq(ctx, 2, nullptr, nullptr, 0);
        ASSERT_NE(tiny, nullptr);
        ASSERT_EQ(tiny->cqe, 2);
        v::qp* q = make_rc(l.pd, tiny, small_cap());
        ASSERT_NE(q, nullptr);
        ASSERT_EQ(to_init(q), 0);
        v::qp* peer = make_rc(l.pd, l.cq_b, small_cap());
        ASSERT_NE(peer, nullptr);
        ASSERT_EQ(to_init(peer), 0);
        ASSERT_EQ(to_rtr_rts(q, peer->qp_num, l.port), 0);
        ASSERT_EQ(to_rtr_rts(peer, q->qp_num, l.port), 0);
        v::sge s = l.sge_at(0, 8);
        v::send_wr w[4];
        for (int i = 0; i < 4; ++i) {
            w[i].wr_id = i;
            w[i].opcode = v::wr_opcode::RDMA_WRITE;
            w[i].send_flags = v::SEND_SIGNALED;
            w[i].sg_list = &s;
            w[i].num_sge = 1;
            w[i].wr.rdma.remote_addr = reinterpret_cast<uintptr_t>(l.buf + 1024);
            w[i].wr.rdma.rkey = l.mr->rkey;
            w[i].next = i < 3 ? &w[i + 1] : nullptr;
        }
        v::send_wr* bad = nullptr;
        ASSERT_EQ(v::post_send(q, &w[0], &bad), 0);
        v::async_event ev;
        bool cq_err = false;
        while (v::get_async_event(ctx, &ev, 2 * MS) == 0) {
            if (ev.type == v::event_type::CQ_ERR) {
                cq_err = true;
                EXPECT_EQ(ev.cq, tiny);
            }
        }
        EXPECT_TRUE(cq_err);
    });
}

}  // namespace
}  // namespace chio
