// The service's session: every request a process sends is checked before it reaches the
// consumer API (bad sizes, handles, counts, enumerations and addresses get an errno, never a
// crash), and close() destroys everything a process left behind.
#include "service/session.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <functional>
#include <string>
#include <systemc>
#include <vector>

#include "cosim/topology.h"
#include "driver/verbs_context.h"

namespace {

namespace proto = chio::shim::proto;
namespace v = chio::verbs;
using chio::service::session;

struct reply {
    int32_t status = -1;
    std::vector<uint8_t> body;
    template <typename T>
    T as() const {
        T out{};
        EXPECT_EQ(body.size(), sizeof(T));
        if (body.size() == sizeof(T)) std::memcpy(&out, body.data(), sizeof(T));
        return out;
    }
};

reply run(session& s, proto::op o, const void* p, size_t n) {
    reply r;
    std::vector<uint8_t> b(static_cast<const uint8_t*>(p), static_cast<const uint8_t*>(p) + n);
    r.body = s.execute(o, b, r.status);
    return r;
}
template <typename T>
reply run(session& s, proto::op o, const T& body) {
    return run(s, o, &body, sizeof(body));
}
reply run(session& s, proto::op o) { return run(s, o, nullptr, 0); }

// Runs body with a session on the one host of a loopback topology, in its driver thread.
void with_session(std::function<void(session&, v::context*)> body) {
    chio::cosim::topology_params tp;
    tp.kind = chio::cosim::topology_kind::loopback;
    chio::cosim::topology net(tp);
    chio::cosim::platform& host = net.host(0);
    chio::service::remote_memory mem(host.mem);
    bool ran = false;
    host.run_driver([&](chio::drv::bus& b) {
        std::string why;
        v::context* ctx = v::open_device(b, {}, &why);
        ASSERT_NE(ctx, nullptr) << why;
        session s(1, 0, ctx, mem, [](const v::gid&, uint64_t&) { return false; });
        proto::hello_req h{};
        h.version = proto::VERSION;
        h.pid = getpid();
        EXPECT_EQ(run(s, proto::op::HELLO, h).status, 0);
        body(s, ctx);
        s.close();
        v::close_device(ctx);
        ran = true;
    });
    sc_core::sc_start();
    EXPECT_TRUE(ran);
}

struct objects {
    uint32_t pd = 0, cq = 0, qp = 0;
};

objects make_objects(session& s) {
    objects o;
    o.pd = run(s, proto::op::ALLOC_PD).as<proto::handle_resp>().handle;
    proto::create_cq_req c{16, 0};
    o.cq = run(s, proto::op::CREATE_CQ, c).as<proto::create_cq_resp>().handle;
    proto::create_qp_req q{};
    q.pd = o.pd;
    q.send_cq = q.recv_cq = o.cq;
    q.qp_type = 2;  // RC
    q.cap = {4, 4, 1, 1, 0};
    const reply r = run(s, proto::op::CREATE_QP, q);
    EXPECT_EQ(r.status, 0);
    o.qp = r.as<proto::create_qp_resp>().handle;
    return o;
}

TEST(session, refuses_malformed_requests_with_an_errno) {
    with_session([](session& s, v::context*) {
        proto::hello_req bad{};
        bad.version = proto::VERSION + 1;
        EXPECT_EQ(run(s, proto::op::HELLO, bad).status, EPROTO);
        bad.version = proto::VERSION;
        bad.pid = getpid();
        EXPECT_EQ(run(s, proto::op::HELLO, bad).status, EPROTO) << "a second HELLO";
        EXPECT_EQ(run(s, static_cast<proto::op>(999)).status, EINVAL);
        EXPECT_EQ(run(s, proto::op::DEALLOC_PD, proto::handle_req{77, 0}).status, EINVAL);
        const uint8_t shortbody[3] = {1, 2, 3};
        EXPECT_EQ(run(s, proto::op::REG_MR, shortbody, sizeof(shortbody)).status, EINVAL);
        EXPECT_EQ(run(s, proto::op::QUERY_PORT, shortbody, sizeof(shortbody)).status, EINVAL);

        const objects o = make_objects(s);
        ASSERT_NE(o.qp, 0u);
        // Objects of the wrong kind, or unknown: a CQ handle is no PD.
        proto::reg_mr_req m{o.cq, 1, 0x1000, 4096, 0x1000};
        EXPECT_EQ(run(s, proto::op::REG_MR, m).status, EINVAL);
        m.pd = o.pd;
        m.length = 0;
        EXPECT_EQ(run(s, proto::op::REG_MR, m).status, EINVAL);
        m.addr = ~0ull - 10;
        m.length = 100;  // wraps around
        EXPECT_EQ(run(s, proto::op::REG_MR, m).status, EINVAL);

        proto::create_qp_req q{};
        q.pd = o.pd;
        q.send_cq = q.recv_cq = o.cq;
        q.qp_type = 3;  // UC: chio has no UC
        q.cap = {4, 4, 1, 1, 0};
        EXPECT_EQ(run(s, proto::op::CREATE_QP, q).status, EOPNOTSUPP);
        q.qp_type = 2;
        q.srq = 12345;
        EXPECT_EQ(run(s, proto::op::CREATE_QP, q).status, EINVAL);

        // Posting: empty, oversized, inconsistent lists, and inline data beyond the limit.
        std::vector<uint8_t> msg(sizeof(proto::post_req) + sizeof(proto::send_wr));
        proto::post_req ph{o.qp, 0};
        std::memcpy(msg.data(), &ph, sizeof(ph));
        EXPECT_EQ(run(s, proto::op::POST_SEND, msg.data(), msg.size()).status, EINVAL);
        ph.count = proto::MAX_LIST + 1;
        std::memcpy(msg.data(), &ph, sizeof(ph));
        EXPECT_EQ(run(s, proto::op::POST_SEND, msg.data(), msg.size()).status, EINVAL);
        ph.count = 2;  // says two, carries one
        std::memcpy(msg.data(), &ph, sizeof(ph));
        EXPECT_EQ(run(s, proto::op::POST_SEND, msg.data(), msg.size()).status, EINVAL);
        ph.count = 1;
        std::memcpy(msg.data(), &ph, sizeof(ph));
        proto::send_wr w{};
        w.opcode = 2;
        w.send_flags = v::SEND_INLINE;
        w.inline_len = proto::MAX_INLINE + 1;
        std::memcpy(msg.data() + sizeof(ph), &w, sizeof(w));
        const reply pr = run(s, proto::op::POST_SEND, msg.data(), msg.size());
        EXPECT_EQ(pr.status, EINVAL);
        EXPECT_EQ(pr.as<proto::post_resp>().bad_index, 0u);
        w.inline_len = 0;
        w.send_flags = 0;
        w.num_sge = proto::MAX_SGE + 1;
        std::memcpy(msg.data() + sizeof(ph), &w, sizeof(w));
        EXPECT_EQ(run(s, proto::op::POST_SEND, msg.data(), msg.size()).status, EINVAL);

        EXPECT_EQ(run(s, proto::op::POLL_CQ, proto::handle_req{o.cq, 0}).status, EINVAL);
        EXPECT_EQ(run(s, proto::op::POLL_CQ, proto::handle_req{o.cq, proto::MAX_LIST + 1}).status,
                  EINVAL);
        EXPECT_EQ(run(s, proto::op::POLL_CQ, proto::handle_req{o.cq, 4}).status, 0);

        // Modify: an out-of-range state or MTU, an address without a global route, a GID
        // nobody has.
        proto::modify_qp_req mq{};
        mq.handle = o.qp;
        mq.attr_mask = v::QP_STATE;
        mq.attr.qp_state = 9;
        EXPECT_EQ(run(s, proto::op::MODIFY_QP, mq).status, EINVAL);
        mq.attr.qp_state = 1;
        mq.attr_mask = v::QP_STATE | v::QP_PATH_MTU;
        mq.attr.path_mtu = 7;
        EXPECT_EQ(run(s, proto::op::MODIFY_QP, mq).status, EINVAL);
        mq.attr_mask = v::QP_STATE | v::QP_AV;
        mq.attr.ah.is_global = 0;
        EXPECT_EQ(run(s, proto::op::MODIFY_QP, mq).status, EINVAL);
        mq.attr.ah.is_global = 1;
        EXPECT_EQ(run(s, proto::op::MODIFY_QP, mq).status, EHOSTUNREACH);
        proto::create_ah_req ah{};
        ah.pd = o.pd;
        ah.attr.is_global = 1;
        ah.attr.port_num = 1;
        EXPECT_EQ(run(s, proto::op::CREATE_AH, ah).status, EHOSTUNREACH);

        // A parent in use is refused, as libibverbs refuses it.
        EXPECT_EQ(run(s, proto::op::DESTROY_CQ, proto::handle_req{o.cq, 0}).status, EBUSY);
        EXPECT_EQ(run(s, proto::op::DEALLOC_PD, proto::handle_req{o.pd, 0}).status, EBUSY);
        EXPECT_GT(s.stats().errors, 0u);
    });
}

TEST(session, close_destroys_what_the_process_left) {
    std::vector<uint8_t> buf(8192, 0);
    with_session([&](session& s, v::context* ctx) {
        const objects o = make_objects(s);
        proto::reg_mr_req m{o.pd, v::ACCESS_LOCAL_WRITE | v::ACCESS_REMOTE_WRITE,
                            reinterpret_cast<uintptr_t>(buf.data()), buf.size(),
                            reinterpret_cast<uintptr_t>(buf.data())};
        const reply mr = run(s, proto::op::REG_MR, m);
        ASSERT_EQ(mr.status, 0);
        EXPECT_NE(mr.as<proto::reg_mr_resp>().rkey, 0u);
        proto::create_srq_req sr{o.pd, 8, 1, 0};
        ASSERT_EQ(run(s, proto::op::CREATE_SRQ, sr).status, 0);
        EXPECT_EQ(ctx->qps.size(), 1u);
        EXPECT_EQ(ctx->mrs.size(), 1u);
        EXPECT_EQ(ctx->srqs.size(), 1u);
        s.close();
        EXPECT_TRUE(ctx->qps.empty());
        EXPECT_TRUE(ctx->srqs.empty());
        EXPECT_TRUE(ctx->mrs.empty());
        EXPECT_TRUE(ctx->cqs.empty());
        EXPECT_TRUE(ctx->pds.empty());
        // The handles died with the objects.
        EXPECT_EQ(run(s, proto::op::DESTROY_QP, proto::handle_req{o.qp, 0}).status, EINVAL);
    });
}

}  // namespace
