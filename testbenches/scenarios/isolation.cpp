#include "testbenches/scenarios/isolation.h"

#include <algorithm>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "cosim/hypervisor.h"
#include "cosim/sc_bus.h"
#include "driver/manager.h"
#include "testbenches/scenarios/rc_pair.h"
#include "testbenches/scenarios/victim_traffic.h"

namespace chio::tb {

namespace {

namespace cmd = spec::cmd;
namespace db = spec::bar0::db;
using cmd::status;

constexpr uint16_t VICTIM = 1, PEER = 2, HOSTILE = 3;
constexpr unsigned ROUNDS = 3;              // every attack this many times (storms: per round)
constexpr unsigned STORM = 64;              // doorbells per storm round and kind
constexpr unsigned FLRS = 4;                // resets in the FLR storm
constexpr uint64_t BETWEEN_NS = 5'000;      // victim traffic between two attempts
constexpr uint64_t WAIT_NS = 5'000'000;     // an attacker's completion
constexpr uint64_t VM_BYTES = 16ull << 20;  // the hostile VM's memory

uint64_t mac_of(uint16_t fn) { return 0x02C420000000ull | fn; }
uint64_t gid_lo_of(uint16_t fn) { return 0x0000FFFF0A000100ull | fn; }

struct attack {
    std::string name;
    std::string refusal;  // the documented outcome (docs/virtualization.md, isolation rules)
    uint64_t attempts = 0, refused = 0, effects = 0;
};

struct state {
    // Declared first, so destroyed last: the VM's devices below free their DMA memory through
    // the VM, which the hypervisor owns (destroying the hypervisor first was a use after free
    // that ASan found when the scenario's thread was collected).
    std::shared_ptr<cosim::hypervisor> hv_owner;
    const sim_options* o = nullptr;
    cosim::platform* host = nullptr;
    cosim::hypervisor* hv = nullptr;
    std::unique_ptr<cosim::sc_bus> vbus, pbus;
    std::unique_ptr<drv::device> vdev, pdev;
    cosim::vm* vm = nullptr;
    std::unique_ptr<drv::bus> abus;
    std::unique_ptr<drv::device> adev;
    rc_pair victim;
    std::unique_ptr<victim_traffic> traffic;
    std::vector<attack> attacks;
    uint64_t attempts_total = 0, attempts_done = 0, during_traffic = 0;
};

template <typename In>
status exec(drv::device& d, cmd::opcode op, const In& in, uint32_t in_size) {
    uint8_t out[cmd::OUTPUT_SIZE] = {};
    return d.cmd().exec(op, &in, in_size, out, cmd::OUTPUT_SIZE).status;
}

// What the victim could notice: errors counted on its functions, packets dropped for them, its
// error completions, and its QPs leaving RTS.
uint64_t victim_signal(state& st) {
    const model::device_contexts& c = st.host->adapter.contexts();
    uint64_t s = c.fns[VICTIM].errors + c.fns[PEER].errors + c.fns[VICTIM].rx_dropped +
                 c.fns[PEER].rx_dropped + c.fns[VICTIM].tx_dropped + c.fns[PEER].tx_dropped +
                 st.traffic->error_completions();
    for (const auto* q : {st.victim.a.qp.get(), st.victim.b.qp.get()}) {
        const model::qp_ctx& ctx = c.qps[q->qpn()];
        if (!ctx.valid || ctx.state != spec::qp_state::RTS) ++s;
    }
    return s;
}

// Victim traffic for `ns` of simulated time.
void pump(state& st, uint64_t ns) {
    drv::bus& io = *st.vbus;
    const uint64_t until = io.now_ns() + ns;
    while (io.now_ns() < until) {
        st.traffic->step();
        io.relax();
    }
}

// One attempt of attack `a`: `fn` returns true when the device refused it as documented.
void attempt(state& st, attack& a, const std::function<bool()>& fn) {
    // The victim's traffic advances with the attacks: by the last attempt all of it is posted.
    ++st.attempts_done;
    st.traffic->set_budget(st.attempts_done * st.o->count / st.attempts_total);
    if (!st.traffic->done()) ++st.during_traffic;
    const uint64_t before = victim_signal(st);
    ++a.attempts;
    if (fn()) ++a.refused;
    a.effects += victim_signal(st) - before;
    pump(st, BETWEEN_NS);
}

// Waits for one completion on cq while the victim's traffic goes on.
spec::cqe wait_cqe(state& st, drv::completion_queue& cq) {
    spec::cqe wc{};
    wc.status = 0xFF;
    const uint64_t until = st.abus->now_ns() + WAIT_NS;
    while (cq.poll(&wc, 1) == 0 && st.abus->now_ns() < until) {
        st.traffic->step();
        st.abus->relax();
    }
    return wc;
}

// A fresh connected pair inside the hostile VF (a QP that fails goes to ERR, so each work
// request attack gets its own). Short ACK timeout so a dropped frame fails fast.
std::unique_ptr<rc_pair> hostile_pair(state& st) {
    auto p = std::make_unique<rc_pair>();
    rc_pair_options o;
    o.buffer_bytes = 16 << 10;
    o.sq_log = 4;
    o.rq_log = 4;
    o.cq_log = 4;
    o.timeout = 4;  // 65 us
    o.retry_cnt = 1;
    std::string err;
    if (!p->open(*st.adev, *st.adev, o, err)) return nullptr;
    return p;
}

bool post_one(rc_pair& p, spec::wqe_opcode op, uint64_t addr, uint32_t len, uint32_t lkey,
              uint64_t remote = 0, uint32_t rkey = 0) {
    drv::send_wr w;
    w.wr_id = 1;
    w.opcode = op;
    w.sg_list[0] = {addr, len, lkey};
    w.num_sge = 1;
    w.remote_addr = remote;
    w.rkey = rkey;
    return p.a.qp->post_send(w) == 0;
}

uint32_t db_errors(state& st) {
    return st.abus->mmio_read32(st.adev->bar0() + spec::bar0::reg::DB_ERR_COUNT);
}

// A doorbell on the attacker's own page naming one of the victim's queues.
bool ring_victim(state& st, unsigned k) {
    const uint32_t before = db_errors(st);
    const uint64_t page = st.adev->db_page(0);
    if (k % 3 == 2) {
        st.abus->mmio_write64(page + db::CQ_DB,
                              db::CQ_DB_CQN.make(st.victim.a.scq->cqn()) | db::CQ_DB_ARM.make(1));
    } else {
        const drv::queue_pair& q = k % 3 == 0 ? *st.victim.a.qp : *st.victim.b.qp;
        st.abus->mmio_write64(page + db::SQ_DB,
                              db::SQ_DB_QPN.make(q.qpn()) | db::SQ_DB_PI.make(k + 5));
    }
    return db_errors(st) == before + 1;
}

bool command_on_victim(state& st, unsigned k) {
    drv::device& a = *st.adev;
    const uint32_t qpn = st.victim.a.qp->qpn();
    switch (k % 6) {
        case 0:
            return exec(a, cmd::opcode::QUERY_QP, cmd::query_qp_in{qpn}, cmd::QUERY_QP_IN_SIZE) ==
                   status::BAD_RES;
        case 1: {
            cmd::modify_qp_in m{};
            m.qpn = qpn;
            m.new_state = static_cast<uint32_t>(spec::qp_state::ERR);
            m.attr_mask = spec::qp_attr::STATE;
            return exec(a, cmd::opcode::MODIFY_QP, m, cmd::MODIFY_QP_IN_SIZE) == status::BAD_RES;
        }
        case 2:
            return exec(a, cmd::opcode::DESTROY_QP, cmd::destroy_qp_in{st.victim.b.qp->qpn()},
                        cmd::DESTROY_QP_IN_SIZE) == status::BAD_RES;
        case 3:
            return exec(a, cmd::opcode::DESTROY_CQ, cmd::destroy_cq_in{st.victim.a.scq->cqn()},
                        cmd::DESTROY_CQ_IN_SIZE) == status::BAD_RES;
        case 4:
            return exec(a, cmd::opcode::DEREG_MR, cmd::dereg_mr_in{st.victim.b.lkey},
                        cmd::DEREG_MR_IN_SIZE) == status::BAD_RES;
        default:
            return exec(a, cmd::opcode::DESTROY_PD, cmd::destroy_pd_in{st.victim.a.pd},
                        cmd::DESTROY_PD_IN_SIZE) == status::BAD_RES;
    }
}

bool pf_only_command(state& st, unsigned k) {
    drv::device& a = *st.adev;
    switch (k % 6) {
        case 0: {
            cmd::set_vf_quota_in q{};
            q.fn = VICTIM;
            q.qps = 1;
            return exec(a, cmd::opcode::SET_VF_QUOTA, q, cmd::SET_VF_QUOTA_IN_SIZE) ==
                   status::BAD_OP;
        }
        case 1: {
            cmd::set_vf_addr_in in{};
            in.fn = HOSTILE;
            in.mac = mac_of(VICTIM);
            return exec(a, cmd::opcode::SET_VF_ADDR, in, cmd::SET_VF_ADDR_IN_SIZE) ==
                   status::BAD_OP;
        }
        case 2: {
            cmd::set_vf_qos_in in{};
            in.fn = HOSTILE;
            in.weight = 1000;
            return exec(a, cmd::opcode::SET_VF_QOS, in, cmd::SET_VF_QOS_IN_SIZE) == status::BAD_OP;
        }
        case 3:
            return exec(a, cmd::opcode::QUERY_VF_STATS, cmd::query_vf_stats_in{VICTIM},
                        cmd::QUERY_VF_STATS_IN_SIZE) == status::BAD_OP;
        case 4:
            return exec(a, cmd::opcode::RESET_VF, cmd::reset_vf_in{VICTIM},
                        cmd::RESET_VF_IN_SIZE) == status::BAD_OP;
        default: {
            cmd::set_qp_qos_in in{};
            in.qpn = st.victim.a.qp->qpn();
            in.weight = 1;
            in.rate_limit_mbps = 1;
            return exec(a, cmd::opcode::SET_QP_QOS, in, cmd::SET_QP_QOS_IN_SIZE) == status::BAD_OP;
        }
    }
}

// A work request of the hostile VF that must complete with `want`.
bool wr_attack(state& st, spec::cqe_status want, const std::function<bool(rc_pair&)>& post) {
    auto p = hostile_pair(st);
    if (!p || !post(*p)) return false;
    const spec::cqe wc = wait_cqe(st, *p->a.scq);
    p->close();
    return wc.status == static_cast<uint8_t>(want);
}

bool dma_outside_vm(state& st) {
    auto p = hostile_pair(st);
    if (!p) return false;
    // Guest-physical memory the VM does not have: the MR registers (the device cannot know),
    // the gather is refused by the IOMMU.
    const uint64_t gpa = VM_BYTES + (1 << 20);
    uint32_t lkey = 0, rkey = 0;
    if (!st.adev->reg_mr(p->a.pd, gpa, 4096, gpa, spec::access_flags::LOCAL_WRITE, lkey, rkey)
             .ok()) {
        return false;
    }
    const uint64_t faults = st.host->iommu.counters().faults;
    if (!post_one(*p, spec::wqe_opcode::SEND, gpa, 256, lkey)) return false;
    const spec::cqe wc = wait_cqe(st, *p->a.scq);
    const bool faulted = st.host->iommu.counters().faults > faults &&
                         st.host->iommu.fault_log().back().fn == HOSTILE;
    st.adev->dereg_mr(lkey);
    p->close();
    return faulted && wc.status == static_cast<uint8_t>(spec::cqe_status::LOC_PROT_ERR);
}

// The hostile VF claims the victim's MAC and GID and sends: the spoof check drops the frame
// before the port; the RC request runs out of retries.
bool mac_spoof(state& st) {
    auto p = hostile_pair(st);
    if (!p) return false;
    const uint64_t dropped = st.host->adapter.contexts().fns[HOSTILE].tx_dropped;
    if (!st.adev->set_addr(mac_of(VICTIM), 0, gid_lo_of(VICTIM)).ok()) return false;
    drv::recv_wr r;
    r.sg_list[0] = {p->b.addr(0), 1024, p->b.lkey};
    r.num_sge = 1;
    p->b.qp->post_recv(r);
    const bool posted = post_one(*p, spec::wqe_opcode::SEND, p->a.addr(0), 512, p->a.lkey);
    const spec::cqe wc = wait_cqe(st, *p->a.scq);
    st.adev->set_addr(mac_of(HOSTILE), 0, gid_lo_of(HOSTILE));  // its own again
    p->close();
    return posted && wc.status == static_cast<uint8_t>(spec::cqe_status::RETRY_EXC_ERR) &&
           st.host->adapter.contexts().fns[HOSTILE].tx_dropped > dropped;
}

// Doorbells on the attacker's own idle QP (no new WQE): nothing is sent.
bool own_doorbell_storm(state& st, rc_pair& idle) {
    const uint64_t tx = st.host->adapter.contexts().fns[HOSTILE].tx_packets;
    for (unsigned k = 0; k < STORM; ++k) idle.a.qp->ring_send_doorbell();
    for (int i = 0; i < 20; ++i) st.abus->relax();
    return st.host->adapter.contexts().fns[HOSTILE].tx_packets == tx;
}

// Function level reset of the hostile VF by its own config space: honoured for it alone.
bool self_flr(state& st) {
    namespace pc = spec::pci::pcie_cap;
    st.abus->cfg_write(spec::pci::PCIE_CAP_OFFSET + pc::DEV_CTRL,
                       static_cast<uint32_t>(pc::DEV_CTRL_INITIATE_FLR.make(1)), 2);
    pump(st, 2'000);
    const model::device_contexts& c = st.host->adapter.contexts();
    const model::qp_ctx& a = c.qps[st.victim.a.qp->qpn()];
    const model::qp_ctx& b = c.qps[st.victim.b.qp->qpn()];
    return a.valid && a.fn == VICTIM && b.valid && b.fn == PEER && c.fns[VICTIM].enabled &&
           c.fns[PEER].enabled;
}

bool bring_up(state& st, drv::bus& io, drv::device& pf, drv::manager& mgr, std::string& err) {
    if (!pf.probe()) {
        err = "PF probe: " + pf.last_error();
        return false;
    }
    if (!mgr.enable_vfs(3).ok()) {
        err = "enable_vfs(3) refused";
        return false;
    }
    for (uint16_t fn = 1; fn <= 3; ++fn) {
        if (!mgr.set_address(fn, mac_of(fn), 0, gid_lo_of(fn), true).ok()) {
            err = "set_address(" + std::to_string(fn) + ") refused";
            return false;
        }
    }
    (void)io;
    auto make = [&st](uint16_t fn) {
        cosim::sc_bus_params bp;
        bp.fn = fn;
        return std::make_unique<cosim::sc_bus>(st.host->rc, st.host->mem, st.host->irq, bp);
    };
    st.vbus = make(VICTIM);
    st.pbus = make(PEER);
    st.vdev = std::make_unique<drv::device>(*st.vbus);
    st.pdev = std::make_unique<drv::device>(*st.pbus);
    if (!st.vdev->probe() || !st.pdev->probe()) {
        err = "victim or peer VF probe failed";
        return false;
    }
    rc_pair_options po;
    po.sq_log = 7;
    po.rq_log = 7;
    po.buffer_bytes = st.o->count * st.o->size + 4096;
    if (!st.victim.open(*st.vdev, *st.pdev, po, err)) {
        err = "victim pair: " + err;
        return false;
    }
    st.traffic = std::make_unique<victim_traffic>(st.victim, st.o->count, st.o->size,
                                                  std::min<uint32_t>(st.o->depth, 64), st.o->seed);
    if (!st.o->attacker) return true;
    // The hostile VF is passed through to its VM: its DMA can reach only the VM's memory.
    st.vm = st.hv->create_vm({"hostile", VM_BYTES, 2 << 20}, err);
    if (st.vm == nullptr || !st.hv->assign(*st.vm, HOSTILE, err)) {
        err = "hypervisor: " + err;
        return false;
    }
    st.abus = st.hv->make_guest_bus(*st.vm, HOSTILE);
    st.adev = std::make_unique<drv::device>(*st.abus);
    if (!st.adev->probe()) {
        err = "hostile VF probe in its VM: " + st.adev->last_error();
        return false;
    }
    return true;
}

void run_attacks(state& st) {
    const auto R = ROUNDS;
    st.attacks = {
        {"doorbell_other_vf", "dropped, counted in the attacker's DB_ERR_COUNT"},
        {"commands_on_victim_resources", "BAD_RES (as for a resource that does not exist)"},
        {"victim_rkey", "NAK; attacker's WRITE completes REM_ACCESS_ERR, no byte written"},
        {"victim_lkey", "attacker's SEND completes LOC_PROT_ERR, nothing gathered"},
        {"dma_outside_vm", "IOMMU fault (fn, GPA); the SEND completes LOC_PROT_ERR"},
        {"pf_only_commands", "BAD_OP"},
        {"mac_spoof", "frame dropped before the port (tx_dropped); RC ends RETRY_EXC_ERR"},
        {"doorbell_storm", "victim-named doorbells dropped and counted; own idle QP sends nothing"},
        {"flr_storm", "reset honoured for the attacker's own function only; others untouched"},
    };
    st.attempts_total = R * (6 + 6 + 1 + 1 + 1 + 6 + 1) + R * (STORM + 1) + FLRS;
    auto idle = hostile_pair(st);
    for (unsigned r = 0; r < R; ++r) {
        for (unsigned k = 0; k < 6; ++k) {
            attempt(st, st.attacks[0], [&st, k] { return ring_victim(st, k); });
            attempt(st, st.attacks[1], [&st, k] { return command_on_victim(st, k); });
            attempt(st, st.attacks[5], [&st, k] { return pf_only_command(st, k); });
        }
        attempt(st, st.attacks[2], [&st] {
            return wr_attack(st, spec::cqe_status::REM_ACCESS_ERR, [&st](rc_pair& p) {
                return post_one(p, spec::wqe_opcode::RDMA_WRITE, p.a.addr(0), 256, p.a.lkey,
                                st.victim.b.addr(0), st.victim.b.rkey);
            });
        });
        attempt(st, st.attacks[3], [&st] {
            return wr_attack(st, spec::cqe_status::LOC_PROT_ERR, [&st](rc_pair& p) {
                return post_one(p, spec::wqe_opcode::SEND, st.victim.a.addr(0), 64,
                                st.victim.a.lkey);
            });
        });
        attempt(st, st.attacks[4], [&st] { return dma_outside_vm(st); });
        attempt(st, st.attacks[6], [&st] { return mac_spoof(st); });
        for (unsigned k = 0; k < STORM; ++k) {
            attempt(st, st.attacks[7], [&st, k] { return ring_victim(st, k); });
        }
        attempt(st, st.attacks[7], [&st, &idle] { return idle && own_doorbell_storm(st, *idle); });
    }
    idle.reset();  // its QPs go with the FLR
    for (unsigned k = 0; k < FLRS; ++k) {
        attempt(st, st.attacks[8], [&st] { return self_flr(st); });
    }
}

void report(state& st, scenario_result& res) {
    const victim_traffic::report v = st.traffic->finish();
    res.sends = st.o->count;
    res.expected = v.expected;
    res.seen = v.seen;
    res.duplicated = v.duplicated;
    res.error_completions = v.errors;
    res.bytes_verified = v.bytes_verified;
    res.data_mismatches = v.data_mismatches;
    const model::device_contexts& c = st.host->adapter.contexts();
    const uint64_t victim_fn_errors = c.fns[VICTIM].errors + c.fns[PEER].errors;
    char cd[24], dd[24];
    std::snprintf(cd, sizeof cd, "%016llx", static_cast<unsigned long long>(v.completion_digest));
    std::snprintf(dd, sizeof dd, "%016llx", static_cast<unsigned long long>(v.data_digest));
    nlohmann::json attacks = nlohmann::json::array();
    bool all_refused = true;
    for (const attack& a : st.attacks) {
        attacks.push_back({{"name", a.name},
                           {"attempts", a.attempts},
                           {"refused", a.refused},
                           {"effects_on_victim", a.effects},
                           {"documented", a.refusal}});
        all_refused = all_refused && a.refused == a.attempts && a.effects == 0;
        if (a.refused != a.attempts) {
            res.fail("attack " + a.name + ": " + std::to_string(a.attempts - a.refused) + " of " +
                     std::to_string(a.attempts) + " not refused as documented");
        }
        if (a.effects != 0) res.fail("attack " + a.name + " affected the victim");
    }
    const uint64_t lost = v.lost;
    nlohmann::json iso = {{"attacker", st.o->attacker},
                          {"attacks", attacks},
                          {"all_refused", all_refused},
                          {"attempts_during_victim_traffic", st.during_traffic},
                          {"victim",
                           {{"completions",
                             {{"expected", v.expected},
                              {"seen", v.seen},
                              {"lost", lost},
                              {"duplicated", v.duplicated}}},
                            {"data_mismatches", v.data_mismatches},
                            {"errors", v.errors + victim_fn_errors},
                            {"bytes_verified", v.bytes_verified},
                            {"completion_digest", cd},
                            {"data_digest", dd}}}};
    if (st.o->attacker) {
        iso["hostile"] = {{"fn", HOSTILE},
                          {"vm", "hostile"},
                          {"iommu_faults", st.host->iommu.counters().faults},
                          {"errors", c.fns[HOSTILE].errors},
                          {"tx_dropped", c.fns[HOSTILE].tx_dropped}};
    }
    if (victim_fn_errors != 0) res.fail("the victim's functions counted errors");
    res.sections["isolation"] = iso;
    if (!st.o->quiet) {
        std::printf("  %-30s %8s %8s %8s  %s\n", "attack", "attempts", "refused", "effects",
                    "documented refusal");
        for (const attack& a : st.attacks) {
            std::printf("  %-30s %8llu %8llu %8llu  %s\n", a.name.c_str(),
                        static_cast<unsigned long long>(a.attempts),
                        static_cast<unsigned long long>(a.refused),
                        static_cast<unsigned long long>(a.effects), a.refusal.c_str());
        }
        std::printf(
            "  victim: %llu completions (%llu lost, %llu duplicated, %llu errors), "
            "%llu bytes verified, %llu mismatches, digests %s/%s\n",
            static_cast<unsigned long long>(v.seen), static_cast<unsigned long long>(lost),
            static_cast<unsigned long long>(v.duplicated),
            static_cast<unsigned long long>(v.errors + victim_fn_errors),
            static_cast<unsigned long long>(v.bytes_verified),
            static_cast<unsigned long long>(v.data_mismatches), cd, dd);
    }
}

void run(state& st, drv::bus& io, scenario_result& res) {
    drv::device pf(io);
    drv::manager mgr(pf, [&st](const std::string& line) {
        if (!st.o->quiet) std::printf("  %s\n", line.c_str());
    });
    std::string err;
    if (!bring_up(st, io, pf, mgr, err)) {
        res.fail(err);
        return;
    }
    if (st.o->attacker) {
        run_attacks(st);
    } else {
        st.traffic->set_budget(st.o->count);
    }
    st.traffic->set_budget(st.o->count);
    const uint64_t until = io.now_ns() + 50'000'000;
    while (!st.traffic->done() && io.now_ns() < until) pump(st, 1'000);
    pump(st, 100'000);  // late or stray completions would show here
    report(st, res);
    st.victim.close();
}

}  // namespace

void start_isolation(cosim::topology& topo, const sim_options& o, scenario_result& res) {
    cosim::platform& host = topo.host(0);
    auto st = std::make_shared<state>();
    st->hv_owner = std::make_shared<cosim::hypervisor>(host);
    st->o = &o;
    st->host = &host;
    st->hv = st->hv_owner.get();
    host.run_driver([st, &res](drv::bus& io) { run(*st, io, res); });
}

}  // namespace chio::tb
