#include "testbenches/scenarios/pingpong.h"

#include <algorithm>
#include <cstring>
#include <memory>

#include "testbenches/scenarios/rc_endpoint.h"

namespace chio::tb {

namespace {

constexpr uint64_t TIMEOUT_NS = 100000000;  // 100 ms of simulated time per wait
constexpr uint64_t HEALTH_WATCH_NS = 100'000;

// One completion from `cq`: by polling, or by arming it and sleeping on its event.
bool wait_cq(rc_endpoint& ep, drv::completion_queue& cq, spec::cqe& c, bool events) {
    drv::bus& b = ep.dev->io();
    const uint64_t deadline = b.now_ns() + TIMEOUT_NS;
    // Past HEALTH_WATCH_NS a polling wait also watches the device once per health period, so
    // a lost device (--fault) ends it at the verdict rather than at TIMEOUT_NS per message.
    uint64_t next_health = b.now_ns() + HEALTH_WATCH_NS;
    for (;;) {
        if (cq.poll(&c, 1) == 1) return true;
        const uint64_t now = b.now_ns();
        if (now >= deadline) return false;
        if (!events) {
            if (now >= next_health) {
                if (ep.dev->check_health() != drv::health::ok) return false;
                next_health = now + uint64_t{spec::limits::HEALTH_PERIOD_US} * 1000;
            }
            b.relax();
            continue;
        }
        // Arm, then poll once more: a completion that raced the arm is not lost.
        cq.arm(false);
        if (cq.poll(&c, 1) == 1) return true;
        while (!ep.dev->take_cq_event(cq.cqn()) && b.now_ns() < deadline) {
            ep.dev->wait_event(deadline - b.now_ns());
        }
    }
}

struct shared_state {
    rendezvous rv;
};

void run_side(bool client, drv::bus& b, const sim_options& o, shared_state& sh,
              scenario_result& res) {
    const std::string me = client ? "host0" : "host1", peer = client ? "host1" : "host0";
    rc_endpoint ep;
    rc_endpoint_options eo;
    eo.buffer_bytes = std::max<uint64_t>(2 * uint64_t{o.size}, 4096);
    if (!ep.open(b, eo)) return res.fail(me + " " + ep.error);
    ep.publish(sh.rv, me, client ? 1 : 2);
    if (!ep.connect(sh.rv, peer, client ? 1 : 2, eo)) return res.fail(me + " " + ep.error);
    uint8_t* tx = ep.cpu();
    uint8_t* rx = ep.cpu() + o.size;
    auto post_recv = [&](uint64_t id) {
        drv::recv_wr w;
        w.wr_id = id;
        w.sg_list[0] = {ep.buf.bus + o.size, o.size, ep.lkey};
        w.num_sge = 1;
        return ep.qp->post_recv(w) == 0;
    };
    auto post_send = [&](uint64_t id) {
        drv::send_wr w;
        w.wr_id = id;
        w.sg_list[0] = {ep.buf.bus, o.size, ep.lkey};
        w.num_sge = 1;
        return ep.qp->post_send(w) == 0;
    };
    std::vector<uint8_t> expect(o.size);
    std::vector<double> rtt;
    if (!post_recv(0)) return res.fail(me + " post_recv failed");
    sh.rv.barrier("connected", 2);
    for (uint64_t i = 0; i < o.count; ++i) {
        const uint64_t t0 = b.now_ns();
        if (client) {
            fill_pattern(tx, o.size, o.seed, i);
            if (!post_send(i)) return res.fail("client post_send failed");
            ++res.sends;
            ++res.per_opcode["SEND"];
        }
        // Client: its send completion and the echo; server: the message, then its echo's send.
        for (int step = 0; step < 2; ++step) {
            const bool want_recv = client ? step == 1 : step == 0;
            spec::cqe c{};
            if (!wait_cq(ep, want_recv ? *ep.rcq : *ep.scq, c, o.events)) {
                return res.fail(me + ": no completion for 100 ms at iteration " +
                                std::to_string(i));
            }
            ++res.seen;
            if (c.wr_id != i) ++res.duplicated;
            if (c.status != static_cast<uint8_t>(spec::cqe_status::SUCCESS)) {
                ++res.error_completions;
                return res.fail(me + " completion status " +
                                spec::to_string(static_cast<spec::cqe_status>(c.status)));
            }
            if (!want_recv) continue;
            fill_pattern(expect.data(), o.size, o.seed, i);
            if (c.byte_len != o.size || std::memcmp(rx, expect.data(), o.size) != 0) {
                ++res.data_mismatches;
            } else {
                res.bytes_verified += o.size;
            }
            if (i + 1 < o.count && !post_recv(i + 1)) return res.fail(me + " post_recv failed");
            if (!client) {
                std::memcpy(tx, rx, o.size);  // echo
                if (!post_send(i)) return res.fail("server post_send failed");
                ++res.sends;
                ++res.per_opcode["SEND"];
            }
        }
        if (client) rtt.push_back(static_cast<double>(b.now_ns() - t0));
    }
    res.expected += 2 * o.count;
    if (client && !rtt.empty()) {
        std::sort(rtt.begin(), rtt.end());
        double sum = 0;
        for (double v : rtt) sum += v;
        res.figures["rtt_avg_ns"] = sum / static_cast<double>(rtt.size());
        res.figures["rtt_p50_ns"] = rtt[rtt.size() / 2];
        res.figures["rtt_p99_ns"] = rtt[std::min(rtt.size() - 1, rtt.size() * 99 / 100)];
    }
    sh.rv.barrier("finished", 2);
    ep.close();
}

}  // namespace

void start_pingpong(cosim::topology& topo, const sim_options& o, scenario_result& res) {
    auto sh = std::make_shared<shared_state>();
    topo.host(0).run_driver([sh, o, &res](drv::bus& b) { run_side(true, b, o, *sh, res); });
    topo.host(1).run_driver([sh, o, &res](drv::bus& b) { run_side(false, b, o, *sh, res); });
}

}  // namespace chio::tb
