#include "testbenches/bench/programs.h"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <map>
#include <memory>

#include "testbenches/scenarios/rc_endpoint.h"

namespace chio::tb::bench {

namespace {

namespace af = spec::access_flags;
namespace qa = spec::qp_attr;
using spec::qp_state;
using spec::wqe_opcode;

constexpr uint64_t TIMEOUT_NS = 100000000;  // 100 ms of simulated time without a completion
constexpr unsigned SQ_LOG = 8;              // 256 send WQEs per QP
constexpr unsigned RQ_LOG = 8;
constexpr unsigned CQ_LOG = 12;       // 4096 CQEs shared by every QP of a host
constexpr uint32_t QP_ID_SHIFT = 48;  // wr_id = qp index << 48 | sequence number

struct shared_state {
    rendezvous rv;
    bool done = false;  // host0 finished posting: host1 stops serving
};

// One host's side: the rc_endpoint's device, PD, CQs and buffer, plus `qps` RC QPs on those CQs.
struct side {
    rc_endpoint ep;
    std::vector<drv::queue_pair*> qps;
    std::vector<std::unique_ptr<drv::queue_pair>> extra;
    std::map<uint32_t, size_t> by_qpn;
    uint64_t peer_addr = 0;
    uint32_t peer_rkey = 0;
};

std::string key(const std::string& host, size_t k) { return host + ".qp" + std::to_string(k); }

bool open_side(side& s, drv::bus& b, const bench_options& o, uint64_t buffer, std::string& err) {
    rc_endpoint_options eo;
    eo.cq_log = CQ_LOG;
    eo.sq_log = SQ_LOG;
    eo.rq_log = RQ_LOG;
    eo.buffer_bytes = std::max<uint64_t>(buffer, 4096);
    if (!s.ep.open(b, eo)) {
        err = s.ep.error;
        return false;
    }
    s.qps.push_back(s.ep.qp.get());
    for (uint32_t k = 1; k < o.qps; ++k) {
        drv::cmd_result r;
        auto qp = s.ep.dev->create_qp(spec::qp_type::RC, *s.ep.scq, *s.ep.rcq, SQ_LOG, RQ_LOG, r,
                                      s.ep.pd);
        if (!qp) {
            err = std::string("CREATE_QP: ") + spec::cmd::to_string(r.status);
            return false;
        }
        s.qps.push_back(qp.get());
        s.extra.push_back(std::move(qp));
    }
    for (size_t k = 0; k < s.qps.size(); ++k) s.by_qpn[s.qps[k]->qpn()] = k;
    return true;
}

void publish(side& s, rendezvous& rv, const std::string& me) {
    for (size_t k = 0; k < s.qps.size(); ++k) {
        rv.put(key(me, k), {s.qps[k]->qpn(), 100 + k, s.ep.port.mac, s.ep.port.gid_hi,
                            s.ep.port.gid_lo, s.ep.buf.bus, s.ep.rkey});
    }
}

// RESET -> INIT -> RTR -> RTS towards the peer's QP k (as rc_endpoint::connect, for any QP).
bool connect(side& s, rendezvous& rv, const std::string& me, const std::string& peer,
             std::string& err) {
    for (size_t k = 0; k < s.qps.size(); ++k) {
        const std::vector<uint64_t> p = rv.get(key(peer, k));
        drv::qp_attr_values v;
        v.dest_qpn = static_cast<uint32_t>(p[0]);
        v.rq_psn = static_cast<uint32_t>(p[1]);
        v.sq_psn = static_cast<uint32_t>(100 + k);
        v.dest_mac = p[2];
        v.dest_gid_hi = p[3];
        v.dest_gid_lo = p[4];
        v.path_mtu = spec::path_mtu::MTU_4096;
        v.access_flags = af::LOCAL_WRITE | af::REMOTE_WRITE | af::REMOTE_READ | af::REMOTE_ATOMIC;
        v.timeout = 10;
        v.min_rnr_timer = 1;
        s.peer_addr = p[5];
        s.peer_rkey = static_cast<uint32_t>(p[6]);
        const struct {
            qp_state st;
            uint32_t mask;
        } steps[] = {{qp_state::INIT, qa::STATE | qa::PKEY_INDEX | qa::PORT | qa::ACCESS_FLAGS},
                     {qp_state::RTR, qa::STATE | qa::AV | qa::PATH_MTU | qa::DEST_QPN | qa::RQ_PSN |
                                         qa::MAX_DEST_RD_ATOMIC | qa::MIN_RNR_TIMER},
                     {qp_state::RTS, qa::STATE | qa::SQ_PSN | qa::TIMEOUT | qa::RETRY_CNT |
                                         qa::RNR_RETRY | qa::MAX_QP_RD_ATOMIC}};
        for (const auto& st : steps) {
            const drv::cmd_result r = s.qps[k]->modify(s.ep.dev->cmd(), st.st, st.mask, v);
            if (!r.ok()) {
                err = me + " MODIFY_QP to " + spec::to_string(st.st) + ": " +
                      spec::cmd::to_string(r.status);
                return false;
            }
        }
    }
    return true;
}

wqe_opcode opcode_of(program p) {
    switch (p) {
        case program::read_bw:
        case program::read_lat:
            return wqe_opcode::RDMA_READ;
        case program::send_bw:
        case program::send_lat:
            return wqe_opcode::SEND;
        default:
            return wqe_opcode::RDMA_WRITE;
    }
}

// Runs one point: `pt.iters` messages of `pt.size` bytes over every QP, at most
// `outstanding` in flight per QP, `pt.batch` WQEs per doorbell. Latency programs record each
// message's post-to-completion time.
bool run_point(side& s, drv::bus& b, const bench_options& o, uint32_t outstanding, point& pt,
               std::string& err) {
    const wqe_opcode op = opcode_of(o.prog);
    const bool lat = is_latency(o.prog);
    const size_t nq = s.qps.size();
    std::vector<uint64_t> inflight(nq, 0);
    std::vector<uint64_t> post_ns(lat ? pt.iters : 0);
    uint64_t posted = 0, done = 0;
    drv::send_wr w;
    w.opcode = op;
    w.remote_addr = s.peer_addr;
    w.rkey = s.peer_rkey;
    w.num_sge = 1;
    w.sg_list[0] = {s.ep.buf.bus, static_cast<uint32_t>(pt.size), s.ep.lkey};
    const auto wall0 = std::chrono::steady_clock::now();
    const std::clock_t cpu0 = std::clock();
    const uint64_t t0 = b.now_ns();
    spec::cqe cqes[16];
    for (auto* qp : s.qps) qp->set_wqe_in_doorbell(pt.wqe_in_doorbell);
    while (done < pt.iters) {
        // Refill: each QP gets whole batches (the last one may be short) while it has room.
        for (size_t k = 0; k < nq && posted < pt.iters; ++k) {
            for (;;) {
                const uint64_t want = std::min<uint64_t>(pt.batch, pt.iters - posted);
                if (want == 0 || outstanding - inflight[k] < want) break;
                for (uint64_t i = 0; i < want; ++i) {
                    w.wr_id = uint64_t{k} << QP_ID_SHIFT | posted;
                    if (lat) post_ns[posted] = b.now_ns();
                    if (int e = s.qps[k]->post_send(w, i + 1 == want); e != 0) {
                        err = "post_send errno " + std::to_string(e);
                        return false;
                    }
                    ++posted;
                    ++inflight[k];
                }
            }
        }
        const uint64_t deadline = b.now_ns() + TIMEOUT_NS;
        int n = 0;
        while ((n = s.ep.scq->poll(cqes, 16)) == 0) {
            if (b.now_ns() >= deadline) {
                err =
                    "no completion for 100 ms of simulated time at size " + std::to_string(pt.size);
                return false;
            }
            b.relax_until_dma(deadline);
        }
        for (int i = 0; i < n; ++i) {
            const spec::cqe& c = cqes[i];
            if (c.status != static_cast<uint8_t>(spec::cqe_status::SUCCESS)) {
                err = "completion status " +
                      std::string(spec::to_string(static_cast<spec::cqe_status>(c.status)));
                return false;
            }
            const size_t k = c.wr_id >> QP_ID_SHIFT;
            if (k >= nq || inflight[k] == 0) {
                err = "completion for an unknown work request";
                return false;
            }
            --inflight[k];
            ++done;
            if (lat) {
                const uint64_t seq = c.wr_id & ((uint64_t{1} << QP_ID_SHIFT) - 1);
                pt.lat_ns.push_back(static_cast<double>(b.now_ns() - post_ns[seq]));
            }
        }
    }
    pt.sim_ns = static_cast<double>(b.now_ns() - t0);
    pt.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
    pt.cpu_s = static_cast<double>(std::clock() - cpu0) / CLOCKS_PER_SEC;
    return true;
}

std::vector<point> plan(const bench_options& o) {
    std::vector<uint64_t> sizes = o.sizes;
    if (sizes.empty()) {
        if (o.prog == program::msg_rate) {
            sizes.push_back(64);
        } else {
            for (uint64_t s = 2; s <= (1u << 20); s *= 2) sizes.push_back(s);
        }
    }
    std::vector<point> pts;
    for (uint64_t s : sizes) {
        point p;
        p.size = s;
        p.iters = o.iters ? o.iters : default_iters(o, s);
        if (o.prog == program::msg_rate) {
            // One doorbell per WQE, then one per batch, then one per WQE carrying the WQE.
            p.batch = 1;
            pts.push_back(p);
            p.batch = std::max<uint32_t>(o.batch, 2);
            pts.push_back(p);
            p.batch = 1;
            p.wqe_in_doorbell = true;
            pts.push_back(p);
        } else {
            p.batch = is_latency(o.prog) ? 1 : o.batch;
            p.wqe_in_doorbell = o.wqe_in_doorbell;
            pts.push_back(p);
        }
    }
    return pts;
}

void host0(drv::bus& b, const bench_options& o, shared_state& sh, bench_result& res) {
    std::vector<point> pts = plan(o);
    uint64_t biggest = 0;
    for (const auto& p : pts) biggest = std::max(biggest, p.size);
    side s;
    std::string err;
    if (!open_side(s, b, o, biggest, err)) return void(res.error = "host0 " + err);
    publish(s, sh.rv, "host0");
    if (!connect(s, sh.rv, "host0", "host1", err)) return void(res.error = err);
    sh.rv.barrier("connected", 2);
    for (point& p : pts) {
        const uint32_t outstanding = outstanding_of(o);
        if (!run_point(s, b, o, outstanding, p, err)) {
            p.ok = false;
            res.error = err;
            res.points.push_back(p);
            break;
        }
        res.points.push_back(p);
    }
    sh.done = true;
    sh.rv.barrier("finished", 2);
    s.ep.close();
}

// host1: for SEND programs keeps every QP's receive queue full; otherwise it only answers.
void host1(drv::bus& b, const bench_options& o, shared_state& sh, bench_result& res) {
    uint64_t biggest = 0;
    for (const auto& p : plan(o)) biggest = std::max(biggest, p.size);
    side s;
    std::string err;
    if (!open_side(s, b, o, biggest, err)) return void(res.error = "host1 " + err);
    publish(s, sh.rv, "host1");
    if (!connect(s, sh.rv, "host1", "host0", err)) return void(res.error = err);
    const bool sends = opcode_of(o.prog) == wqe_opcode::SEND;
    drv::recv_wr rw;
    rw.num_sge = 1;
    rw.sg_list[0] = {s.ep.buf.bus, static_cast<uint32_t>(s.ep.buf.size), s.ep.lkey};
    // Receives per QP: the whole ring, or the shared receive CQ's share.
    const uint32_t per_qp =
        std::min<uint32_t>((1u << RQ_LOG), (1u << CQ_LOG) / static_cast<uint32_t>(s.qps.size()));
    if (sends) {
        for (auto* qp : s.qps) {
            for (uint32_t i = 0; i < per_qp; ++i) qp->post_recv(rw);
        }
    }
    sh.rv.barrier("connected", 2);
    spec::cqe cqes[32];
    while (sends && !sh.done) {
        const int n = s.ep.rcq->poll(cqes, 32);
        if (n == 0) {
            b.relax();
            continue;
        }
        for (int i = 0; i < n; ++i) {
            auto it = s.by_qpn.find(cqes[i].qpn);
            if (cqes[i].status != static_cast<uint8_t>(spec::cqe_status::SUCCESS) ||
                it == s.by_qpn.end()) {
                if (res.error.empty()) res.error = "host1 receive completion failed";
                continue;
            }
            s.qps[it->second]->post_recv(rw);
        }
    }
    sh.rv.barrier("finished", 2);
    s.ep.close();
}

}  // namespace

bool is_latency(program p) {
    return p == program::write_lat || p == program::send_lat || p == program::read_lat;
}

bool parse_program(const std::string& s, program& out) {
    static const std::map<std::string, program> names = {
        {"write_bw", program::write_bw}, {"read_bw", program::read_bw},
        {"send_bw", program::send_bw},   {"write_lat", program::write_lat},
        {"send_lat", program::send_lat}, {"read_lat", program::read_lat},
        {"msg_rate", program::msg_rate}};
    auto it = names.find(s);
    if (it == names.end()) return false;
    out = it->second;
    return true;
}

uint32_t outstanding_of(const bench_options& o) {
    if (is_latency(o.prog)) return 1;
    // msg_rate: room for two batches, so the next batch is posted while one is in flight (with
    // room for one, every batch would drain the pipeline first); the same for every run.
    if (o.prog == program::msg_rate) {
        return std::max(o.outstanding, 2 * std::max<uint32_t>(o.batch, 2));
    }
    return o.outstanding;
}

uint64_t default_iters(const bench_options& o, uint64_t size) {
    if (o.prog == program::msg_rate) return 2000;
    if (is_latency(o.prog)) return 200;
    return std::clamp<uint64_t>((16u << 20) / std::max<uint64_t>(size, 1), 32, 1000);
}

void start(cosim::topology& topo, const bench_options& o, bench_result& res) {
    auto sh = std::make_shared<shared_state>();
    topo.host(0).run_driver([sh, o, &res](drv::bus& b) { host0(b, o, *sh, res); });
    topo.host(1).run_driver([sh, o, &res](drv::bus& b) { host1(b, o, *sh, res); });
}

}  // namespace chio::tb::bench
