// The consumer API on one host in loopback, events: the completion channel (one event per arm,
// solicited-only arming), port changes and CQ overflow as asynchronous events.
#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <set>
#include <vector>

#include "verbs_fixture.h"

namespace chio::verbs_test {
namespace {

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

TEST(verbs, async_events_report_port_changes_and_time_out_otherwise) {
    on_loopback([](drv::bus& b, cosim::platform& plat) {
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
}  // namespace chio::verbs_test
