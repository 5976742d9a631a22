// The consumer API on one host in loopback, moving data: work-completion fields of SEND and
// WRITE with immediate, RDMA READ and atomics, UD with an address handle (GRH, src_qp), an SRQ,
// and an error completion followed by flushes, each work request completing exactly once.
#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <set>
#include <vector>

#include "verbs_fixture.h"

namespace chio::verbs_test {
namespace {

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

}  // namespace
}  // namespace chio::verbs_test
