// Two connected QPs for transport tests: side a (the requester in most tests) and side b, on the
// loopback topology (both QPs on one adapter) or the pair topology (one adapter per host, one
// link between them). Every CQE polled goes through a wr_tracker.
//
// Threads: on the pair topology host 1's driver thread probes its device, builds side b and then
// waits at a barrier; host 0's thread connects both sides and runs the test body, driving side b
// through host 1's own bus (SystemC threads are cooperative, so only one thread uses a device at
// a time). The body therefore sees both sides from one thread on either topology.
#pragma once

#include <gtest/gtest.h>

#include <cstring>
#include <functional>
#include <memory>
#include <string>

#include "cosim/topology.h"
#include "driver/device.h"
#include "support/wr_tracker.h"
#include "testbenches/scenarios/rendezvous.h"

namespace chio::test {

struct sides_options {
    cosim::topology_kind kind = cosim::topology_kind::loopback;
    model::queue_engine_kind qe = model::queue_engine_kind::model;
    spec::qp_type type = spec::qp_type::RC;
    spec::path_mtu mtu = spec::path_mtu::MTU_4096;
    uint32_t timeout = 10;  // 4.2 ms
    uint32_t retry_cnt = 7;
    uint32_t rnr_retry = 7;
    uint32_t min_rnr_timer = 1;  // 10 us
    uint32_t max_rd_atomic = 16;
    uint32_t max_dest_rd_atomic = 16;  // responder resources, both sides
    uint32_t access_b = spec::access_flags::LOCAL_WRITE | spec::access_flags::REMOTE_WRITE |
                        spec::access_flags::REMOTE_READ | spec::access_flags::REMOTE_ATOMIC;
    bool srq_b = false;  // side b receives through a shared receive queue
    uint32_t qkey = 0x11111111;
    unsigned sq_log = 6, rq_log = 6;
    uint64_t buffer_bytes = 256 << 10;
    model::link_direction_config link;
    uint64_t seed = 1;
    std::string pcap;
    uint32_t psn_base = 0x100;       // each side starts at psn_base + its QPN (mod 2^24)
    model::qp_engine_timing timing;  // both adapters' pipeline parameters
};

struct side {
    drv::device* dev = nullptr;
    uint32_t pd = 0;
    std::unique_ptr<drv::completion_queue> scq, rcq;
    std::unique_ptr<drv::shared_receive_queue> srq;
    std::unique_ptr<drv::queue_pair> qp;
    drv::dma_buffer buf;
    uint32_t lkey = 0, rkey = 0;
    spec::cmd::query_port_out port{};
    uint32_t ah = 0;  // UD: address handle towards the other side
    uint8_t* cpu() const { return static_cast<uint8_t*>(buf.cpu); }
    uint64_t addr(uint64_t off) const { return buf.bus + off; }
};

class two_sides {
public:
    side a, b;
    wr_tracker tracker;
    sides_options opt;
    cosim::topology* topo = nullptr;  // the link (pair) and the adapters' counters

    int post_send(side& s, const drv::send_wr& wr) {
        const int e = s.qp->post_send(wr);
        if (e == 0) tracker.posted(s.qp->qpn(), wr_tracker::queue::send, wr.wr_id);
        return e;
    }
    int post_recv(side& s, const drv::recv_wr& wr) {
        if (s.srq) {
            const int e = s.srq->post_recv(wr);
            if (e == 0) tracker.posted_srq(s.srq->srqn(), wr.wr_id);
            return e;
        }
        const int e = s.qp->post_recv(wr);
        if (e == 0) tracker.posted(s.qp->qpn(), wr_tracker::queue::recv, wr.wr_id);
        return e;
    }
    // A receive of `len` bytes at offset `off` of s's buffer.
    int post_recv(side& s, uint64_t wr_id, uint64_t off, uint32_t len) {
        drv::recv_wr r;
        r.wr_id = wr_id;
        r.sg_list[0] = {s.addr(off), len, s.lkey};
        r.num_sge = 1;
        return post_recv(s, r);
    }

    // Polls every CQ into the tracker once; true when anything arrived.
    bool poll_once() {
        bool any = false;
        spec::cqe wc[16];
        for (side* s : {&a, &b}) {
            for (drv::completion_queue* cq : {s->scq.get(), s->rcq.get()}) {
                const int n = cq->poll(wc, 16);
                for (int i = 0; i < n; ++i) tracker.record(wc[i]);
                any = any || n > 0;
            }
        }
        return any;
    }
    // Polls until pred() holds or timeout_ns of simulated time pass; false on timeout.
    bool wait_for(const std::function<bool()>& pred, uint64_t timeout_ns = 50'000'000) {
        drv::bus& io = a.dev->io();
        const uint64_t deadline = io.now_ns() + timeout_ns;
        for (;;) {
            poll_once();
            if (pred()) return true;
            if (io.now_ns() >= deadline) return false;
            io.relax();
        }
    }
    // Polls until every host's memory has taken in the device writes on their way to it. A
    // requester's completion does not wait for the responder's payload writes to land (they
    // are posted: the responder acknowledges once it has issued them), so a check of the
    // responder's memory from the requester's side settles first, as a peer CPU spinning on
    // the bytes would.
    bool settle(uint64_t timeout_ns = 1'000'000) {
        return wait_for(
            [&] {
                for (unsigned h = 0; h < topo->size(); ++h) {
                    if (topo->host(h).mem.writes_on_the_way() != 0) return false;
                }
                return true;
            },
            timeout_ns);
    }
    // Waits for the completion of one request; nullptr on timeout.
    const spec::cqe* wait_wr(side& s, wr_tracker::queue q, uint64_t wr_id,
                             uint64_t timeout_ns = 50'000'000) {
        const uint32_t qpn = s.qp->qpn();
        wait_for([&] { return tracker.find(qpn, q, wr_id) != nullptr; }, timeout_ns);
        return tracker.find(qpn, q, wr_id);
    }
    bool wait_all(uint64_t timeout_ns = 50'000'000) {
        return wait_for([&] { return tracker.all_done(); }, timeout_ns);
    }
    // The exactly-once verdict every test ends with: all done, nothing lost, duplicated or
    // reordered, and nothing more arrives afterwards.
    void expect_exactly_once() {
        EXPECT_TRUE(wait_all()) << tracker.missing();
        // Late or stray completions would show up here.
        drv::bus& io = a.dev->io();
        const uint64_t until = io.now_ns() + 200'000;
        while (io.now_ns() < until) {
            poll_once();
            io.relax();
        }
        EXPECT_TRUE(tracker.errors().empty()) << join(tracker.errors());
        EXPECT_EQ(tracker.completed_count(), tracker.posted_count());
    }
    static std::string join(const std::vector<std::string>& v) {
        std::string s;
        for (const auto& x : v) s += x + "\n";
        return s;
    }

    spec::cmd::query_qp_out query(side& s) {
        spec::cmd::query_qp_out o{};
        EXPECT_TRUE(s.qp->query(s.dev->cmd(), o).ok());
        return o;
    }
    drv::cmd_result modify(side& s, spec::qp_state st, uint32_t mask,
                           const drv::qp_attr_values& v = {}) {
        return s.qp->modify(s.dev->cmd(), st, mask, v);
    }
};

namespace detail {

inline bool build_side(drv::device& dev, drv::bus& io, const sides_options& o, bool is_b, side& s,
                       std::string& err) {
    s.dev = &dev;
    drv::cmd_result r;
    if (!dev.create_pd(s.pd).ok() || !dev.query_port(s.port).ok()) {
        err = "CREATE_PD/QUERY_PORT";
        return false;
    }
    s.scq = dev.create_cq(8, r);
    s.rcq = s.scq ? dev.create_cq(8, r) : nullptr;
    if (!s.rcq) {
        err = "CREATE_CQ";
        return false;
    }
    if (is_b && o.srq_b) {
        s.srq = dev.create_srq(s.pd, o.rq_log, r);
        if (!s.srq) {
            err = std::string("CREATE_SRQ: ") + spec::cmd::to_string(r.status);
            return false;
        }
    }
    s.qp = dev.create_qp(o.type, *s.scq, *s.rcq, o.sq_log, o.rq_log, r, s.pd, s.srq.get());
    if (!s.qp) {
        err = std::string("CREATE_QP: ") + spec::cmd::to_string(r.status);
        return false;
    }
    s.buf = io.dma_alloc(o.buffer_bytes, 4096);
    namespace af = spec::access_flags;
    const uint32_t access =
        af::LOCAL_WRITE | af::REMOTE_WRITE | af::REMOTE_READ | af::REMOTE_ATOMIC;
    if (s.buf.cpu == nullptr ||
        !dev.reg_mr(s.pd, s.buf.bus, s.buf.size, s.buf.bus, access, s.lkey, s.rkey).ok()) {
        err = "buffer or REG_MR";
        return false;
    }
    std::memset(s.buf.cpu, 0, s.buf.size);
    return true;
}

// RESET -> INIT -> RTR -> RTS with the attributes each transition requires.
inline bool connect(side& s, const side& peer, const sides_options& o, uint32_t access,
                    std::string& err) {
    namespace a = spec::qp_attr;
    using spec::qp_state;
    drv::qp_attr_values v;
    v.dest_qpn = peer.qp->qpn();
    v.rq_psn = (o.psn_base + peer.qp->qpn()) & 0xFFFFFF;
    v.sq_psn = (o.psn_base + s.qp->qpn()) & 0xFFFFFF;
    v.dest_mac = peer.port.mac;
    v.dest_gid_hi = peer.port.gid_hi;
    v.dest_gid_lo = peer.port.gid_lo;
    v.path_mtu = o.mtu;
    v.access_flags = access;
    v.timeout = o.timeout;
    v.retry_cnt = o.retry_cnt;
    v.rnr_retry = o.rnr_retry;
    v.min_rnr_timer = o.min_rnr_timer;
    v.max_rd_atomic = o.max_rd_atomic;
    v.max_dest_rd_atomic = o.max_dest_rd_atomic;
    v.qkey = o.qkey;
    const bool rc = o.type == spec::qp_type::RC;
    const struct {
        qp_state st;
        uint32_t mask;
    } steps[] = {
        {qp_state::INIT, rc ? a::STATE | a::PKEY_INDEX | a::PORT | a::ACCESS_FLAGS
                            : a::STATE | a::PKEY_INDEX | a::PORT | a::QKEY},
        {qp_state::RTR, rc ? a::STATE | a::AV | a::PATH_MTU | a::DEST_QPN | a::RQ_PSN |
                                 a::MAX_DEST_RD_ATOMIC | a::MIN_RNR_TIMER
                           : a::STATE},
        {qp_state::RTS,
         rc ? a::STATE | a::SQ_PSN | a::TIMEOUT | a::RETRY_CNT | a::RNR_RETRY | a::MAX_QP_RD_ATOMIC
            : a::STATE | a::SQ_PSN},
    };
    for (const auto& st : steps) {
        const drv::cmd_result r = s.qp->modify(s.dev->cmd(), st.st, st.mask, v);
        if (!r.ok()) {
            err = std::string("MODIFY_QP to ") + spec::to_string(st.st) + ": " +
                  spec::cmd::to_string(r.status);
            return false;
        }
    }
    if (!rc &&
        !s.dev->create_ah(s.pd, peer.port.mac, peer.port.gid_hi, peer.port.gid_lo, s.ah).ok()) {
        err = "CREATE_AH";
        return false;
    }
    return true;
}

}  // namespace detail

// Builds the topology, the two sides, connects them and runs body(t) in host 0's driver thread;
// returns the topology for inspection after the simulation.
inline std::unique_ptr<cosim::topology> run_two_sides(
    const sides_options& o, const std::function<void(two_sides&)>& body,
    std::function<void(cosim::topology&)> before = {}) {
    cosim::topology_params tp;
    tp.kind = o.kind;
    tp.link = o.link;
    tp.seed = o.seed;
    tp.pcap = o.pcap;
    tp.host.adapter.qe_kind = o.qe;
    tp.host.adapter.timing = o.timing;
    tp.host.seed = o.seed;  // the scoreboard names it in every violation
    auto topo = std::make_unique<cosim::topology>(tp);
    if (before) before(*topo);
    auto t = std::make_shared<two_sides>();
    t->opt = o;
    t->topo = topo.get();
    auto rv = std::make_shared<tb::rendezvous>();
    const bool pair = o.kind != cosim::topology_kind::loopback;
    if (pair) {
        topo->host(1).run_driver([t, rv, o](drv::bus& io) {
            drv::device dev(io);
            std::string err;
            const bool ok = dev.probe() && detail::build_side(dev, io, o, true, t->b, err);
            EXPECT_TRUE(ok) << "host 1: " << dev.last_error() << err;
            rv->put("b", {ok ? 1u : 0u});
            rv->barrier("end", 2);  // side b is driven from host 0's thread until here
            t->b = side{};
        });
    }
    topo->host(0).run_driver([t, rv, o, pair, &body](drv::bus& io) {
        drv::device dev(io);
        std::string err;
        bool ok = dev.probe() && detail::build_side(dev, io, o, false, t->a, err);
        if (!pair) ok = ok && detail::build_side(dev, io, o, true, t->b, err);
        if (pair) ok = rv->get("b")[0] == 1 && ok;
        namespace af = spec::access_flags;
        const uint32_t access_a =
            af::LOCAL_WRITE | af::REMOTE_WRITE | af::REMOTE_READ | af::REMOTE_ATOMIC;
        ok = ok && detail::connect(t->a, t->b, o, access_a, err) &&
             detail::connect(t->b, t->a, o, o.access_b, err);
        EXPECT_TRUE(ok) << "set-up: " << dev.last_error() << err;
        if (ok) body(*t);
        t->a = side{};
        if (pair) {
            rv->barrier("end", 2);
        } else {
            t->b = side{};
        }
    });
    sc_core::sc_start();
    return topo;
}

// Deterministic bytes for message i under seed.
inline void fill_pattern(uint8_t* p, uint32_t len, uint64_t seed, uint64_t i) {
    uint64_t x = seed * 0x9E3779B97F4A7C15ull ^ (i + 1) * 0xBF58476D1CE4E5B9ull;
    for (uint32_t k = 0; k < len; ++k) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        p[k] = static_cast<uint8_t>(x);
    }
}

// The pair topology with every other option at its default.
inline sides_options pair_options() {
    sides_options o;
    o.kind = cosim::topology_kind::pair;
    return o;
}

// A signaled RDMA WRITE of len bytes from side a's buffer at offset src to side b's at dst.
inline drv::send_wr rdma_write(const two_sides& t, uint64_t id, uint64_t src, uint64_t dst,
                               uint32_t len) {
    drv::send_wr w;
    w.wr_id = id;
    w.opcode = spec::wqe_opcode::RDMA_WRITE;
    w.flags = spec::wqe_flags::SIGNALED;
    w.sg_list[0] = {t.a.addr(src), len, t.a.lkey};
    w.num_sge = 1;
    w.remote_addr = t.b.addr(dst);
    w.rkey = t.b.rkey;
    return w;
}

}  // namespace chio::test
