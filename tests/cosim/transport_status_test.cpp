// Every work-completion status the adapter produces, each from the path that produces it
// (requester.cpp, requester_send.cpp, responder*.cpp, completer.cpp, qp_engine.cpp), with the
// consequences the catalogue names: the QP(s) in ERR afterwards, later requests flushed with
// WR_FLUSH_ERR in order, no byte written by a refused access, and every posted request
// completed exactly once.
//
//   status              producing path                                      catalogue
//   SUCCESS             every test in transport_ops_test.cpp
//   LOC_LEN_ERR         UD datagram larger than the path MTU (requester)     C5
//                       receive buffer smaller than the SEND (responder)     C10
//   LOC_QP_OP_ERR       RDMA WRITE on a UD QP; atomic of length != 8         C6, C7
//                       UD send through an address handle of another PD
//   LOC_PROT_ERR        gather entry with a bad lkey; READ into an MR        C9
//                       without LOCAL_WRITE; receive entry with a bad lkey
//   WR_FLUSH_ERR        everything behind an error                           F2
//   REM_INV_REQ_ERR     READ/WRITE/atomic the responder QP does not allow;   D4, C10
//                       SEND longer than the receive buffer
//   REM_ACCESS_ERR      bad rkey, out-of-range remote address                D5
//   REM_OP_ERR          responder's receive entry has a bad lkey              D9
//   RETRY_EXC_ERR       transport_loss_test.cpp                               D7
//   RNR_RETRY_EXC_ERR   transport_loss_test.cpp                               D6
#include <gtest/gtest.h>

#include <cstring>

#include "support/two_sides.h"

namespace chio {
namespace {

using test::two_sides;
using test::wr_tracker;
using op = spec::wqe_opcode;
using Q = wr_tracker::queue;
using spec::cqe_status;
using spec::qp_state;
using topo = cosim::topology_kind;
using qe = model::queue_engine_kind;

constexpr uint64_t TX = 0, RX = 64 << 10, ATOM = 200 << 10;

uint8_t st(cqe_status s) { return static_cast<uint8_t>(s); }

drv::send_wr one_sge(uint64_t id, op o, const test::side& s, uint64_t off, uint32_t len) {
    drv::send_wr w;
    w.wr_id = id;
    w.opcode = o;
    w.sg_list[0] = {s.addr(off), len, s.lkey};
    w.num_sge = 1;
    return w;
}

// Expects the request's completion with status `want` (and its opcode class) within the wait.
void expect_status(two_sides& t, test::side& s, Q q, uint64_t id, cqe_status want) {
    const spec::cqe* c = t.wait_wr(s, q, id);
    ASSERT_TRUE(c) << "wr_id " << id << " never completed";
    EXPECT_EQ(c->status, st(want))
        << "wr_id " << id << " completed " << spec::to_string(static_cast<cqe_status>(c->status))
        << ", expected " << spec::to_string(want);
}

void expect_state(two_sides& t, test::side& s, qp_state want) {
    EXPECT_EQ(t.query(s).state, static_cast<uint32_t>(want))
        << "QP " << s.qp->qpn() << " is "
        << spec::to_string(static_cast<qp_state>(t.query(s).state));
}

// A good SEND posted behind a failing request: it must come back flushed, after the error.
void post_follower(two_sides& t, uint64_t id) {
    ASSERT_EQ(t.post_send(t.a, one_sge(id, op::SEND, t.a, TX, 16)), 0);
}

test::sides_options pair_model() {
    test::sides_options o;
    o.kind = topo::pair;
    o.timeout = 8;  // 1 ms: a lost reply would show quickly
    return o;
}

// --- requester-side (local) errors ---------------------------------------------------------

TEST(transport_status, loc_len_err_ud_datagram_larger_than_mtu) {
    auto o = pair_model();
    o.type = spec::qp_type::UD;
    test::run_two_sides(o, [](two_sides& t) {
        // A UD QP has no path MTU attribute: its datagrams are bounded by the port's active MTU.
        const uint32_t mtu = 256u << (t.a.port.active_mtu - 1);
        ASSERT_EQ(t.post_recv(t.b, 100, RX, 2 * mtu), 0);
        drv::send_wr w = one_sge(1, op::SEND, t.a, TX, mtu + 1);
        w.ah = t.a.ah;
        w.remote_qpn = t.b.qp->qpn();
        w.remote_qkey = t.opt.qkey;
        ASSERT_EQ(t.post_send(t.a, w), 0);
        expect_status(t, t.a, Q::send, 1, cqe_status::LOC_LEN_ERR);
        // A UD send error stops only the send queue: the sender is in SQE (IBA 10.3.1), and
        // SQE -> RTS makes it usable again.
        spec::cmd::query_qp_out qa{};
        ASSERT_TRUE(t.a.qp->query(t.a.dev->cmd(), qa).ok());
        EXPECT_EQ(qa.state, static_cast<uint32_t>(qp_state::SQE));
        ASSERT_TRUE(t.modify(t.a, qp_state::RTS, spec::qp_attr::STATE).ok());
        // The receive stays outstanding until the test flushes it by moving the receiver to ERR.
        ASSERT_TRUE(t.modify(t.b, qp_state::ERR, spec::qp_attr::STATE).ok());
        expect_status(t, t.b, Q::recv, 100, cqe_status::WR_FLUSH_ERR);
        t.expect_exactly_once();
    });
}

TEST(transport_status, loc_len_err_and_rem_inv_req_err_receive_too_small) {
    test::run_two_sides(pair_model(), [](two_sides& t) {
        ASSERT_EQ(t.post_recv(t.b, 100, RX, 64), 0);
        ASSERT_EQ(t.post_recv(t.b, 101, RX + 4096, 4096), 0);  // flushed
        std::memset(t.b.cpu() + RX, 0, 4096);
        ASSERT_EQ(t.post_send(t.a, one_sge(1, op::SEND, t.a, TX, 65)), 0);
        post_follower(t, 2);
        expect_status(t, t.b, Q::recv, 100, cqe_status::LOC_LEN_ERR);
        expect_status(t, t.b, Q::recv, 101, cqe_status::WR_FLUSH_ERR);
        expect_status(t, t.a, Q::send, 1, cqe_status::REM_INV_REQ_ERR);
        expect_status(t, t.a, Q::send, 2, cqe_status::WR_FLUSH_ERR);
        expect_state(t, t.a, qp_state::ERR);
        expect_state(t, t.b, qp_state::ERR);
        t.expect_exactly_once();
    });
}

TEST(transport_status, loc_qp_op_err_rdma_write_on_ud) {
    auto o = pair_model();
    o.type = spec::qp_type::UD;
    test::run_two_sides(o, [](two_sides& t) {
        drv::send_wr w = one_sge(1, op::RDMA_WRITE, t.a, TX, 16);
        w.ah = t.a.ah;
        w.remote_qpn = t.b.qp->qpn();
        w.remote_addr = t.b.addr(RX);
        w.rkey = t.b.rkey;
        ASSERT_EQ(t.post_send(t.a, w), 0);
        expect_status(t, t.a, Q::send, 1, cqe_status::LOC_QP_OP_ERR);
        t.expect_exactly_once();
    });
}

TEST(transport_status, loc_qp_op_err_atomic_not_eight_bytes) {
    test::run_two_sides(pair_model(), [](two_sides& t) {
        uint64_t v = 42;
        std::memcpy(t.b.cpu() + ATOM, &v, 8);
        drv::send_wr w = one_sge(1, op::ATOMIC_FETCH_AND_ADD, t.a, RX, 4);
        w.remote_addr = t.b.addr(ATOM);
        w.rkey = t.b.rkey;
        w.compare_add = 1;
        ASSERT_EQ(t.post_send(t.a, w), 0);
        post_follower(t, 2);
        expect_status(t, t.a, Q::send, 1, cqe_status::LOC_QP_OP_ERR);
        expect_status(t, t.a, Q::send, 2, cqe_status::WR_FLUSH_ERR);
        expect_state(t, t.a, qp_state::ERR);
        std::memcpy(&v, t.b.cpu() + ATOM, 8);
        EXPECT_EQ(v, 42u) << "a refused atomic changed remote memory";
        t.expect_exactly_once();
    });
}

TEST(transport_status, loc_qp_op_err_ud_address_handle_of_another_pd) {
    auto o = pair_model();
    o.type = spec::qp_type::UD;
    test::run_two_sides(o, [](two_sides& t) {
        uint32_t other_pd = 0, ah = 0;
        ASSERT_TRUE(t.a.dev->create_pd(other_pd).ok());
        ASSERT_TRUE(
            t.a.dev->create_ah(other_pd, t.b.port.mac, t.b.port.gid_hi, t.b.port.gid_lo, ah).ok());
        drv::send_wr w = one_sge(1, op::SEND, t.a, TX, 16);
        w.ah = ah;
        w.remote_qpn = t.b.qp->qpn();
        w.remote_qkey = t.opt.qkey;
        ASSERT_EQ(t.post_send(t.a, w), 0);
        expect_status(t, t.a, Q::send, 1, cqe_status::LOC_QP_OP_ERR);
        t.expect_exactly_once();
    });
}

TEST(transport_status, loc_prot_err_gather_with_bad_lkey) {
    test::run_two_sides(pair_model(), [](two_sides& t) {
        ASSERT_EQ(t.post_recv(t.b, 100, RX, 4096), 0);
        drv::send_wr w = one_sge(1, op::SEND, t.a, TX, 100);
        w.sg_list[0].lkey ^= 0x100;  // another MR index
        ASSERT_EQ(t.post_send(t.a, w), 0);
        post_follower(t, 2);
        expect_status(t, t.a, Q::send, 1, cqe_status::LOC_PROT_ERR);
        expect_status(t, t.a, Q::send, 2, cqe_status::WR_FLUSH_ERR);
        expect_state(t, t.a, qp_state::ERR);
        // The receiver saw nothing; its receive stays posted until it is flushed.
        ASSERT_TRUE(t.modify(t.b, qp_state::ERR, spec::qp_attr::STATE).ok());
        expect_status(t, t.b, Q::recv, 100, cqe_status::WR_FLUSH_ERR);
        t.expect_exactly_once();
    });
}

TEST(transport_status, loc_prot_err_read_into_mr_without_local_write) {
    test::run_two_sides(pair_model(), [](two_sides& t) {
        drv::dma_buffer ro = t.a.dev->io().dma_alloc(4096, 4096);
        uint32_t lkey = 0, rkey = 0;
        ASSERT_TRUE(t.a.dev->reg_mr(t.a.pd, ro.bus, ro.size, ro.bus, 0, lkey, rkey).ok());
        std::memset(ro.cpu, 0x5A, 4096);
        drv::send_wr w;
        w.wr_id = 1;
        w.opcode = op::RDMA_READ;
        w.sg_list[0] = {ro.bus, 512, lkey};
        w.num_sge = 1;
        w.remote_addr = t.b.addr(TX);
        w.rkey = t.b.rkey;
        ASSERT_EQ(t.post_send(t.a, w), 0);
        post_follower(t, 2);
        expect_status(t, t.a, Q::send, 1, cqe_status::LOC_PROT_ERR);
        expect_status(t, t.a, Q::send, 2, cqe_status::WR_FLUSH_ERR);
        for (int i = 0; i < 4096; ++i) ASSERT_EQ(static_cast<uint8_t*>(ro.cpu)[i], 0x5A);
        t.expect_exactly_once();
    });
}

// --- responder-side (remote) errors --------------------------------------------------------

TEST(transport_status, rem_inv_req_err_read_not_allowed_by_responder_qp) {
    auto o = pair_model();
    o.access_b = spec::access_flags::LOCAL_WRITE | spec::access_flags::REMOTE_WRITE;
    test::run_two_sides(o, [](two_sides& t) {
        std::memset(t.a.cpu() + RX, 0x33, 256);
        drv::send_wr w = one_sge(1, op::RDMA_READ, t.a, RX, 256);
        w.remote_addr = t.b.addr(TX);
        w.rkey = t.b.rkey;
        ASSERT_EQ(t.post_send(t.a, w), 0);
        post_follower(t, 2);
        expect_status(t, t.a, Q::send, 1, cqe_status::REM_INV_REQ_ERR);
        expect_status(t, t.a, Q::send, 2, cqe_status::WR_FLUSH_ERR);
        expect_state(t, t.a, qp_state::ERR);
        expect_state(t, t.b, qp_state::ERR);
        for (int i = 0; i < 256; ++i) ASSERT_EQ(t.a.cpu()[RX + i], 0x33) << "refused READ wrote";
        t.expect_exactly_once();
    });
}

TEST(transport_status, rem_inv_req_err_atomic_not_allowed_by_responder_qp) {
    auto o = pair_model();
    o.qe = qe::rtl;
    o.access_b = spec::access_flags::LOCAL_WRITE | spec::access_flags::REMOTE_READ;
    test::run_two_sides(o, [](two_sides& t) {
        uint64_t v = 7;
        std::memcpy(t.b.cpu() + ATOM, &v, 8);
        drv::send_wr w = one_sge(1, op::ATOMIC_CMP_AND_SWP, t.a, RX, 8);
        w.remote_addr = t.b.addr(ATOM);
        w.rkey = t.b.rkey;
        w.compare_add = 7;
        w.swap = 8;
        ASSERT_EQ(t.post_send(t.a, w), 0);
        expect_status(t, t.a, Q::send, 1, cqe_status::REM_INV_REQ_ERR);
        std::memcpy(&v, t.b.cpu() + ATOM, 8);
        EXPECT_EQ(v, 7u) << "refused atomic executed";
        expect_state(t, t.b, qp_state::ERR);
        t.expect_exactly_once();
    });
}

TEST(transport_status, rem_access_err_stale_rkey_writes_nothing) {
    test::run_two_sides(pair_model(), [](two_sides& t) {
        std::memset(t.b.cpu() + RX, 0, 8192);
        drv::send_wr w = one_sge(1, op::RDMA_WRITE, t.a, TX, 3000);
        w.remote_addr = t.b.addr(RX);
        w.rkey = t.b.rkey + 1;  // another registration variant: a stale key (E5)
        ASSERT_EQ(t.post_send(t.a, w), 0);
        post_follower(t, 2);
        expect_status(t, t.a, Q::send, 1, cqe_status::REM_ACCESS_ERR);
        expect_status(t, t.a, Q::send, 2, cqe_status::WR_FLUSH_ERR);
        expect_state(t, t.a, qp_state::ERR);
        expect_state(t, t.b, qp_state::ERR);
        for (int i = 0; i < 8192; ++i) ASSERT_EQ(t.b.cpu()[RX + i], 0) << "refused WRITE wrote";
        t.expect_exactly_once();
    });
}

TEST(transport_status, rem_access_err_write_past_the_region_writes_nothing) {
    auto o = pair_model();
    o.mtu = spec::path_mtu::MTU_1024;
    test::run_two_sides(o, [](two_sides& t) {
        const uint64_t end = t.b.buf.size;
        std::memset(t.b.cpu() + end - 4096, 0, 4096);
        drv::send_wr w = one_sge(1, op::RDMA_WRITE, t.a, TX, 4000);
        w.remote_addr = t.b.addr(end - 2000);  // 2000 bytes past the end
        w.rkey = t.b.rkey;
        ASSERT_EQ(t.post_send(t.a, w), 0);
        expect_status(t, t.a, Q::send, 1, cqe_status::REM_ACCESS_ERR);
        for (uint64_t i = end - 4096; i < end; ++i) ASSERT_EQ(t.b.cpu()[i], 0) << "wrote at " << i;
        t.expect_exactly_once();
    });
}

TEST(transport_status, rem_op_err_responder_receive_with_bad_lkey) {
    auto o = pair_model();
    o.qe = qe::rtl;
    test::run_two_sides(o, [](two_sides& t) {
        drv::recv_wr r;
        r.wr_id = 100;
        r.sg_list[0] = {t.b.addr(RX), 4096, t.b.lkey ^ 0x100};
        r.num_sge = 1;
        ASSERT_EQ(t.post_recv(t.b, r), 0);
        ASSERT_EQ(t.post_send(t.a, one_sge(1, op::SEND, t.a, TX, 100)), 0);
        expect_status(t, t.b, Q::recv, 100, cqe_status::LOC_PROT_ERR);
        expect_status(t, t.a, Q::send, 1, cqe_status::REM_OP_ERR);
        expect_state(t, t.a, qp_state::ERR);
        expect_state(t, t.b, qp_state::ERR);
        t.expect_exactly_once();
    });
}

// A local error behind a request still in flight: completions stay in posting order (IBA
// 10.8.3: a work queue's completions are returned in order), so the in-flight WRITE completes
// before the failing SEND reports its error.
TEST(transport_status, local_error_behind_in_flight_request_completes_in_order) {
    auto o = pair_model();
    o.link.latency_ns = 20000;  // the WRITE's ACK takes 40 us to come back
    test::run_two_sides(o, [](two_sides& t) {
        drv::send_wr w = one_sge(1, op::RDMA_WRITE, t.a, TX, 4096);
        w.remote_addr = t.b.addr(RX);
        w.rkey = t.b.rkey;
        ASSERT_EQ(t.post_send(t.a, w), 0);
        drv::send_wr bad = one_sge(2, op::SEND, t.a, TX, 16);
        bad.sg_list[0].lkey ^= 0x100;
        ASSERT_EQ(t.post_send(t.a, bad), 0);
        t.expect_exactly_once();
        const spec::cqe* first = t.tracker.find(t.a.qp->qpn(), Q::send, 1);
        const spec::cqe* second = t.tracker.find(t.a.qp->qpn(), Q::send, 2);
        ASSERT_TRUE(first && second);
        EXPECT_EQ(second->status, st(cqe_status::LOC_PROT_ERR));
        // The WRITE was on the wire before the error: it completes successfully or, had the
        // QP already been in ERR, flushed; either way before the error (the tracker's order).
        EXPECT_TRUE(first->status == st(cqe_status::SUCCESS) ||
                    first->status == st(cqe_status::WR_FLUSH_ERR))
            << spec::to_string(static_cast<cqe_status>(first->status));
    });
}

// The UD receive path's own LOC_LEN_ERR: a datagram (GRH + payload) larger than the receive
// buffer completes that receive in error; UD gives no delivery guarantee the error could break,
// so the receiver stays in RTS and takes the next datagram; the sender saw success.
TEST(transport_status, loc_len_err_ud_receive_too_small_receiver_stays_usable) {
    auto o = pair_model();
    o.type = spec::qp_type::UD;
    o.qe = qe::rtl;
    test::run_two_sides(o, [](two_sides& t) {
        ASSERT_EQ(t.post_recv(t.b, 100, RX, spec::roce::GRH + 99), 0);
        ASSERT_EQ(t.post_recv(t.b, 101, RX + 4096, spec::roce::GRH + 100), 0);
        for (uint64_t id : {1, 2}) {
            drv::send_wr w = one_sge(id, op::SEND, t.a, TX, 100);
            w.ah = t.a.ah;
            w.remote_qpn = t.b.qp->qpn();
            w.remote_qkey = t.opt.qkey;
            ASSERT_EQ(t.post_send(t.a, w), 0);
            expect_status(t, t.a, Q::send, id, cqe_status::SUCCESS);
            expect_status(t, t.b, Q::recv, 99 + id,
                          id == 1 ? cqe_status::LOC_LEN_ERR : cqe_status::SUCCESS);
        }
        expect_state(t, t.b, qp_state::RTS);
        EXPECT_EQ(std::memcmp(t.b.cpu() + RX + 4096 + spec::roce::GRH, t.a.cpu() + TX, 100), 0);
        t.expect_exactly_once();
    });
}

}  // namespace
}  // namespace chio
