#include "testbenches/scenarios/faults.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <memory>
#include <random>
#include <vector>

#include "cosim/topology.h"
#include "driver/device.h"

namespace chio::tb {

namespace {

using cosim::fault_kind;
using spec::qp_state;
namespace a = spec::qp_attr;

constexpr uint64_t STALL_NS = 200'000;         // liveness bound of the driver (no progress)
constexpr uint64_t RUN_LIMIT_NS = 20'000'000;  // hard stop of one phase
constexpr uint32_t MSG_SIZE = 1024;
constexpr uint32_t RECOVERY_MSGS = 4;

bool is_msix(fault_kind k) { return k == fault_kind::msix_lost || k == fault_kind::msix_delay; }
bool is_pcie(fault_kind k) {
    return k == fault_kind::pcie_ur_read || k == fault_kind::pcie_ur_write ||
           k == fault_kind::pcie_ca_read || k == fault_kind::pcie_ca_write ||
           k == fault_kind::pcie_poison || k == fault_kind::pcie_timeout;
}

bool connect(drv::device& dev, drv::queue_pair& qp, uint32_t dest,
             const spec::cmd::query_port_out& peer) {
    drv::qp_attr_values v;
    v.dest_qpn = dest;
    v.access_flags = spec::access_flags::LOCAL_WRITE;
    v.dest_mac = peer.mac;
    v.dest_gid_hi = peer.gid_hi;
    v.dest_gid_lo = peer.gid_lo;
    v.timeout = 8;  // 1 ms: a lost packet is retried well inside the phase limit
    const struct {
        qp_state s;
        uint32_t mask;
    } steps[] = {{qp_state::INIT, a::STATE | a::PKEY_INDEX | a::PORT | a::ACCESS_FLAGS},
                 {qp_state::RTR, a::STATE | a::AV | a::PATH_MTU | a::DEST_QPN | a::RQ_PSN |
                                     a::MAX_DEST_RD_ATOMIC | a::MIN_RNR_TIMER},
                 {qp_state::RTS, a::STATE | a::SQ_PSN | a::TIMEOUT | a::RETRY_CNT | a::RNR_RETRY |
                                     a::MAX_QP_RD_ATOMIC}};
    for (const auto& s : steps) {
        if (!qp.modify(dev.cmd(), s.s, s.mask, v).ok()) return false;
    }
    return true;
}

// One traffic phase on fresh resources: `count` SENDs from qa to qb. Counts every completion
// against what was posted; calls `tick` once per loop (fault triggers) with the sends done.
struct phase {
    uint64_t expected = 0, seen = 0, duplicated = 0, errors = 0, polled_without_irq = 0;
    bool ok = false;  // every completion SUCCESS and every message arrived
};

class traffic {
public:
    traffic(drv::bus& b, drv::device& d) : m_bus(b), m_dev(d) {}

    bool setup(std::string& err) {
        drv::cmd_result r;
        spec::cmd::query_port_out port{};
        if (!m_dev.create_pd(m_pd).ok() || !m_dev.query_port(port).ok()) {
            err = "CREATE_PD or QUERY_PORT failed";
            return false;
        }
        m_scq = m_dev.create_cq(8, r);
        m_rcq = m_scq ? m_dev.create_cq(8, r) : nullptr;
        m_qa = m_rcq ? m_dev.create_qp(spec::qp_type::RC, *m_scq, *m_rcq, 6, 6, r, m_pd) : nullptr;
        m_qb = m_qa ? m_dev.create_qp(spec::qp_type::RC, *m_scq, *m_rcq, 6, 6, r, m_pd) : nullptr;
        if (!m_qb || !connect(m_dev, *m_qa, m_qb->qpn(), port) ||
            !connect(m_dev, *m_qb, m_qa->qpn(), port)) {
            err = std::string("QP set-up failed: ") + spec::cmd::to_string(r.status);
            return false;
        }
        m_buf = m_bus.dma_alloc(2 * 16 * MSG_SIZE, 4096);
        uint32_t rkey = 0;
        if (m_buf.cpu == nullptr || !m_dev
                                         .reg_mr(m_pd, m_buf.bus, m_buf.size, m_buf.bus,
                                                 spec::access_flags::LOCAL_WRITE, m_lkey, rkey)
                                         .ok()) {
            err = "buffer or REG_MR failed";
            return false;
        }
        return true;
    }

    ~traffic() {
        m_qa.reset();
        m_qb.reset();
        m_scq.reset();
        m_rcq.reset();
        if (m_buf.cpu != nullptr) m_bus.dma_free(m_buf);
    }

    template <typename Tick>
    phase run(uint64_t count, bool events, Tick tick) {
        phase p;
        std::vector<uint8_t> send_seen(count, 0), recv_seen(count, 0);
        uint64_t posted = 0, sends_done = 0, recvs_done = 0, recvs_posted = 0;
        bool stop_posting = false, forced_err = false, timed_out = false;
        const uint64_t start = m_bus.now_ns();
        uint64_t last_progress = start;
        const uint32_t depth = 16;
        spec::cqe wc[32];
        for (;;) {
            while (!stop_posting && posted < count &&
                   posted - std::min(sends_done, recvs_done) < depth) {
                const uint64_t slot = posted % depth;
                drv::recv_wr rw;
                rw.wr_id = posted;
                rw.sg_list[0] = {m_buf.bus + (depth + slot) * MSG_SIZE, MSG_SIZE, m_lkey};
                rw.num_sge = 1;
                drv::send_wr sw;
                sw.wr_id = posted;
                sw.sg_list[0] = {m_buf.bus + slot * MSG_SIZE, MSG_SIZE, m_lkey};
                sw.num_sge = 1;
                // A refused post (device lost) consumes nothing and expects nothing (C13).
                if (m_qb->post_recv(rw) != 0) {
                    stop_posting = true;
                    break;
                }
                ++recvs_posted;
                if (m_qa->post_send(sw) != 0) {
                    stop_posting = true;
                    break;
                }
                ++posted;
            }
            if (events) {
                // Interrupts of events already consumed are stale: drop them before arming, so
                // the next wait ends only for a new event (or times out).
                while (m_bus.wait_interrupt(m_dev.async_eq().vector(), 0)) {
                }
                m_scq->arm(false);
                m_rcq->arm(false);
            }
            bool progress = false;
            bool found = false;
            for (drv::completion_queue* cq : {m_scq.get(), m_rcq.get()}) {
                const int n = cq->poll(wc, 32);
                for (int k = 0; k < n; ++k) {
                    const spec::cqe& c = wc[k];
                    progress = true;
                    found = true;
                    const bool recv = c.opcode >= static_cast<uint8_t>(spec::cqe_opcode::RECV);
                    if (c.wr_id >= count || (recv ? recv_seen : send_seen)[c.wr_id]++ != 0) {
                        ++p.duplicated;
                        continue;
                    }
                    ++p.seen;
                    ++(recv ? recvs_done : sends_done);
                    if (c.status != static_cast<uint8_t>(spec::cqe_status::SUCCESS)) {
                        ++p.errors;
                        stop_posting = true;
                    }
                }
            }
            // Completions found after a wait that no interrupt ended: the bounded wait and
            // the poll after it rescued them (catalogue H3).
            if (found && timed_out) ++p.polled_without_irq;
            timed_out = false;
            tick(sends_done);
            m_dev.poll_events();
            if (m_dev.check_health() != drv::health::ok) stop_posting = true;
            const uint64_t now = m_bus.now_ns();
            if (progress) last_progress = now;
            if (sends_done == posted && recvs_done == recvs_posted &&
                (posted == count || stop_posting)) {
                break;
            }
            if (now - start > RUN_LIMIT_NS) break;
            if (!progress && now - last_progress > STALL_NS) {
                // Liveness (invariant 15): first move both QPs to ERR so the device flushes
                // what it holds; if even that does not complete them, the device is lost.
                stop_posting = true;
                last_progress = now;
                if (!forced_err && !m_dev.lost()) {
                    forced_err = true;
                    m_qa->modify(m_dev.cmd(), qp_state::ERR, a::STATE);
                    m_qb->modify(m_dev.cmd(), qp_state::ERR, a::STATE);
                } else {
                    m_dev.declare_lost(drv::health::stalled);
                }
            } else if (p.errors != 0 && !forced_err && !m_dev.lost()) {
                // A QP that reported an error is in ERR; its peer still holds receive WQEs
                // for messages that will not come: flush them too.
                forced_err = true;
                m_qb->modify(m_dev.cmd(), qp_state::ERR, a::STATE);
                m_qa->modify(m_dev.cmd(), qp_state::ERR, a::STATE);
            }
            // With events the driver sleeps after every pass (the interrupt wakes it); polling
            // spins only while there is progress.
            if (progress && !events) continue;
            if (events) {
                const uint64_t irq0 = m_dev.interrupts();
                m_dev.wait_event(20'000);
                timed_out = m_dev.interrupts() == irq0;
            } else {
                m_bus.relax();
            }
        }
        p.expected = posted + recvs_posted;
        p.ok = p.errors == 0 && p.seen == p.expected && p.duplicated == 0 && posted == count;
        return p;
    }

private:
    drv::bus& m_bus;
    drv::device& m_dev;
    uint32_t m_pd = 0, m_lkey = 0;
    std::unique_ptr<drv::completion_queue> m_scq, m_rcq;
    std::unique_ptr<drv::queue_pair> m_qa, m_qb;
    drv::dma_buffer m_buf;
};

void note(fault_outcome& r, const std::string& s) {
    std::snprintf(r.note, sizeof(r.note), "%s", s.c_str());
}

void drive(drv::bus& bus, cosim::platform& plat, fault_kind k, const sim_options& o,
           fault_outcome& res) {
    drv::device dev(bus);
    if (!dev.probe()) return note(res, "bring-up: " + dev.last_error());
    std::mt19937_64 rng(o.seed * 1000003u + static_cast<uint64_t>(k));
    const uint64_t count = std::max<uint64_t>(16, std::min<uint64_t>(o.count, 256));
    uint64_t detected_by_phase = 0;
    phase main;
    {
        traffic t(bus, dev);
        std::string err;
        if (!t.setup(err)) return note(res, err);
        cosim::fault_spec f;
        f.kind = k;
        if (is_pcie(k)) {
            // Somewhere in the first messages' DMA (each SEND makes several reads and writes).
            f.after = std::uniform_int_distribution<uint64_t>(0, 2 * count)(rng);
            plat.rc.faults().arm(f);
        } else if (is_msix(k)) {
            f.after = std::uniform_int_distribution<uint64_t>(0, 3)(rng);
            f.delay_us = 60;
            plat.rc.faults().arm(f);
        }
        const uint64_t trigger_at = std::uniform_int_distribution<uint64_t>(1, count / 2)(rng);
        bool fired = false;
        main = t.run(count, is_msix(k), [&](uint64_t sends_done) {
            if (fired || sends_done < trigger_at) return;
            fired = true;
            if (k == fault_kind::dev_fatal) {
                plat.adapter.inject_fatal(spec::syndrome::ENGINE_FATAL);
                ++res.injected;
            } else if (k == fault_kind::dev_heartbeat) {
                plat.adapter.stop_heartbeat();
                ++res.injected;
            } else if (k == fault_kind::host_removal) {
                plat.rc.faults().remove();
                ++res.injected;
            }
        });
        if (is_pcie(k) || is_msix(k)) res.injected = plat.rc.faults().injected(k);
        detected_by_phase = main.errors != 0 || dev.lost() || main.polled_without_irq != 0;
    }
    res.expected = main.expected;
    res.seen = main.seen;
    res.duplicated = main.duplicated;
    res.detected = res.injected != 0 && detected_by_phase ? 1 : 0;
    // An MSI-X fault that the bounded wait absorbed leaves the traffic intact: that is the
    // recovery. Everything else recovers on new resources (after a reset if the device was lost).
    std::string how;
    if (k == fault_kind::host_removal) {
        res.recoverable = false;
        how = dev.recover() ? "removed device came back?" : "removed: " + dev.last_error();
    } else {
        if (dev.lost()) {
            how = std::string("lost (") + drv::to_string(dev.lost_reason()) + "), reset";
            if (!dev.recover()) how += " failed: " + dev.last_error();
        } else if (main.polled_without_irq != 0) {
            how = "wait timed out without interrupt; the poll after it found the completions";
        } else if (main.errors != 0) {
            how = "error completion, QPs to ERR, new QPs";
        } else {
            how = "no error completion";
        }
        traffic t(bus, dev);
        std::string err;
        if (t.setup(err)) {
            const phase again = t.run(RECOVERY_MSGS, false, [](uint64_t) {});
            res.expected += again.expected;
            res.seen += again.seen;
            res.duplicated += again.duplicated;
            res.recovered = again.ok ? 1 : 0;
        } else {
            how += "; recovery set-up: " + err;
        }
    }
    res.lost = res.expected - std::min(res.expected, res.seen);
    note(res, how);
}

}  // namespace

fault_outcome run_fault_scenario(fault_kind k, const sim_options& o) {
    fault_outcome res;
    std::snprintf(res.name, sizeof(res.name), "%s", cosim::to_string(k));
    cosim::topology_params tp;
    tp.kind = cosim::topology_kind::loopback;
    tp.seed = o.seed;
    tp.host.adapter.qe_kind = o.queue_engine;
    auto topo = std::make_unique<cosim::topology>(tp);
    cosim::platform& plat = topo->host(0);
    plat.run_driver([&](drv::bus& b) { drive(b, plat, k, o, res); });
    sc_core::sc_start();
    return res;
}

bool fault_passed(const fault_outcome& r) {
    return r.injected != 0 && r.detected != 0 && r.lost == 0 && r.duplicated == 0 &&
           (r.recovered != 0 || !r.recoverable);
}

}  // namespace chio::tb
