// The consumer API (driver/verbs.h) on one host in loopback, objects and rejects: open and query,
// every object's create/destroy with the EBUSY rules, a refused modify leaving the QP unchanged,
// and the synchronous rejects of post_send/post_recv (a rejected request consumes nothing).
#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <set>
#include <vector>

#include "verbs_fixture.h"

namespace chio::verbs_test {
namespace {

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
        // Host 0 of a topology: MAC 02:c4:10:00:00:01, GID ::ffff:10.0.0.1.
        EXPECT_EQ(p.mac, 0x02C410000001ull);
        EXPECT_EQ(p.gid0.hi, 0u);
        EXPECT_EQ(p.gid0.lo, 0x0000FFFF0A000001ull);
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
        // Remote write or atomic without local write is refused, as by ibv_reg_mr (E1).
        EXPECT_EQ(v::reg_mr(pd, buf, 4096, v::ACCESS_REMOTE_WRITE), nullptr);
        EXPECT_EQ(errno, EINVAL);
        EXPECT_EQ(v::reg_mr(pd, buf, 4096, v::ACCESS_REMOTE_ATOMIC), nullptr);
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

}  // namespace
}  // namespace chio::verbs_test
