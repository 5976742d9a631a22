#include "testbenches/scenarios/rdma.h"

#include <cstring>
#include <memory>
#include <random>

#include "testbenches/scenarios/rc_endpoint.h"

namespace chio::tb {

namespace {

using spec::wqe_opcode;

// Buffer layout of each host (1 MiB): per in-flight slot a 64 KiB data region; the last 4 KiB
// holds the atomic counter.
constexpr uint64_t SLOT = 64 * 1024;
constexpr uint64_t COUNTER = 1024 * 1024 - 4096;
constexpr uint32_t RECV_DEPTH = 64;

struct shared_state {
    rendezvous rv;
    uint8_t* peer_cpu = nullptr;  // host 1's buffer, for verifying remote writes
    uint64_t sends_expected = 0;  // SEND and WRITE_WITH_IMM messages host 1 must receive
    bool done = false;
};

struct op_record {
    wqe_opcode op;
    uint32_t len = 0;
    uint64_t id = 0;
    uint64_t remote_off = 0;
    uint64_t expect_orig = 0;  // atomics
};

const char* name(wqe_opcode op) {
    switch (op) {
        case wqe_opcode::SEND:
            return "SEND";
        case wqe_opcode::SEND_WITH_IMM:
            return "SEND_WITH_IMM";
        case wqe_opcode::RDMA_WRITE:
            return "RDMA_WRITE";
        case wqe_opcode::RDMA_WRITE_WITH_IMM:
            return "RDMA_WRITE_WITH_IMM";
        case wqe_opcode::RDMA_READ:
            return "RDMA_READ";
        case wqe_opcode::ATOMIC_CMP_AND_SWP:
            return "COMPARE_AND_SWAP";
        case wqe_opcode::ATOMIC_FETCH_AND_ADD:
            return "FETCH_AND_ADD";
    }
    return "?";
}

// Whether host 1's memory comes to hold what check() expects within SETTLE_NS. The requester's
// completion does not wait for the responder's writes to land (they are posted: the responder
// acknowledges once it has issued them), so this looks as a CPU on host 1 spinning on the bytes
// would, and the bytes must arrive within a few link times.
constexpr uint64_t SETTLE_NS = 10'000;
template <typename Check>
bool settled(drv::bus& b, Check check) {
    const uint64_t deadline = b.now_ns() + SETTLE_NS;
    while (!check()) {
        if (b.now_ns() >= deadline) return false;
        b.relax();
    }
    return true;
}

void requester(drv::bus& b, const sim_options& o, shared_state& sh, scenario_result& res) {
    rc_endpoint ep;
    if (!ep.open(b)) return res.fail("host0 " + ep.error);
    ep.publish(sh.rv, "host0", 100);
    if (!ep.connect(sh.rv, "host1", 100)) return res.fail("host0 " + ep.error);
    sh.rv.barrier("connected", 2);
    std::mt19937_64 rng(o.seed);
    const uint32_t depth = std::min<uint32_t>(o.depth, 8);
    std::vector<op_record> inflight(depth);
    uint64_t counter = 0;  // the model of host 1's atomic counter
    uint64_t posted = 0, done = 0;
    std::vector<uint8_t> expect(SLOT);
    while (done < o.count) {
        while (posted < o.count && posted - done < depth) {
            const uint64_t slot = posted % depth;
            op_record& r = inflight[slot];
            r = op_record{};
            r.id = posted;
            r.op = static_cast<wqe_opcode>(rng() % 7);
            r.len =
                r.op == wqe_opcode::ATOMIC_CMP_AND_SWP || r.op == wqe_opcode::ATOMIC_FETCH_AND_ADD
                    ? 8
                    : static_cast<uint32_t>(8 + rng() % (std::min<uint64_t>(o.size, SLOT) - 7));
            r.remote_off = slot * SLOT;
            drv::send_wr w;
            w.wr_id = posted;
            w.opcode = r.op;
            w.imm = static_cast<uint32_t>(posted);
            w.remote_addr = ep.peer_addr + r.remote_off;
            w.rkey = ep.peer_rkey;
            w.num_sge = 1;
            uint8_t* local = ep.cpu() + slot * SLOT;
            if (r.op == wqe_opcode::RDMA_READ) {
                // Host 1's slot region holds the pattern of this id; read it back.
                fill_pattern(sh.peer_cpu + r.remote_off, r.len, o.seed ^ 0x5EAD, posted);
                std::memset(local, 0, r.len);
            } else if (r.op == wqe_opcode::ATOMIC_FETCH_AND_ADD) {
                w.remote_addr = ep.peer_addr + COUNTER;
                w.compare_add = rng() % 1000;
                r.expect_orig = counter;
                counter += w.compare_add;
            } else if (r.op == wqe_opcode::ATOMIC_CMP_AND_SWP) {
                w.remote_addr = ep.peer_addr + COUNTER;
                w.compare_add = (rng() & 1) ? counter : counter + 1;  // hit or miss
                w.swap = rng();
                r.expect_orig = counter;
                if (counter == w.compare_add) counter = w.swap;
            } else {
                fill_pattern(local, r.len, o.seed, posted);
                std::memcpy(local, &posted, 8);  // a SEND's receiver finds the id here
            }
            w.sg_list[0] = {ep.buf.bus + slot * SLOT, r.len, ep.lkey};
            if (int e = ep.qp->post_send(w); e != 0)
                return res.fail("post_send errno " + std::to_string(e));
            ++posted;
            ++res.sends;
            ++res.per_opcode[name(r.op)];
            if (r.op == wqe_opcode::SEND || r.op == wqe_opcode::SEND_WITH_IMM ||
                r.op == wqe_opcode::RDMA_WRITE_WITH_IMM) {
                ++sh.sends_expected;
            }
        }
        spec::cqe c{};
        if (!ep.wait_completion(c, 100000000)) {
            res.fail("host0: no completion for 100 ms of simulated time");
            break;
        }
        const uint64_t slot = c.wr_id % depth;
        op_record& r = inflight[slot];
        if (c.wr_id != r.id || c.wr_id != done) {
            ++res.duplicated;  // out of order or unknown
            continue;
        }
        ++res.seen;
        ++done;
        if (c.status != static_cast<uint8_t>(spec::cqe_status::SUCCESS)) {
            ++res.error_completions;
            res.fail(std::string("host0 ") + name(r.op) + " status " +
                     spec::to_string(static_cast<spec::cqe_status>(c.status)));
            continue;
        }
        const uint8_t* local = ep.cpu() + slot * SLOT;
        bool good = true;
        if (r.op == wqe_opcode::RDMA_WRITE || r.op == wqe_opcode::RDMA_WRITE_WITH_IMM) {
            good = settled(
                b, [&] { return std::memcmp(sh.peer_cpu + r.remote_off, local, r.len) == 0; });
        } else if (r.op == wqe_opcode::RDMA_READ) {
            fill_pattern(expect.data(), r.len, o.seed ^ 0x5EAD, r.id);
            good = std::memcmp(local, expect.data(), r.len) == 0;
        } else if (r.op == wqe_opcode::ATOMIC_CMP_AND_SWP ||
                   r.op == wqe_opcode::ATOMIC_FETCH_AND_ADD) {
            uint64_t orig = 0;
            std::memcpy(&orig, local, 8);
            good = orig == r.expect_orig;
        }
        if (!good) {
            ++res.data_mismatches;
            res.fail(std::string("host0 ") + name(r.op) + " " + std::to_string(r.id) +
                     ": data differs");
        } else if (r.op != wqe_opcode::SEND && r.op != wqe_opcode::SEND_WITH_IMM) {
            res.bytes_verified += r.len;
        }
    }
    res.expected += o.count;
    // The final counter value is the model's.
    uint64_t final_counter = 0;
    settled(b, [&] {
        std::memcpy(&final_counter, sh.peer_cpu + COUNTER, 8);
        return final_counter == counter;
    });
    if (final_counter != counter) {
        ++res.data_mismatches;
        res.fail("atomic counter " + std::to_string(final_counter) + ", expected " +
                 std::to_string(counter));
    }
    sh.done = true;
    sh.rv.barrier("finished", 2);
    ep.close();
}

void responder(drv::bus& b, const sim_options& o, shared_state& sh, scenario_result& res) {
    rc_endpoint ep;
    if (!ep.open(b)) return res.fail("host1 " + ep.error);
    sh.peer_cpu = ep.cpu();
    std::memset(ep.cpu() + COUNTER, 0, 8);
    ep.publish(sh.rv, "host1", 100);
    if (!ep.connect(sh.rv, "host0", 100)) return res.fail("host1 " + ep.error);
    // Receive buffers: a separate area, one 64 KiB slot per posted receive.
    drv::dma_buffer rx = b.dma_alloc(uint64_t{RECV_DEPTH} * SLOT, 4096);
    uint32_t rx_lkey = 0, unused = 0;
    ep.dev->reg_mr(ep.pd, rx.bus, rx.size, rx.bus, spec::access_flags::LOCAL_WRITE, rx_lkey,
                   unused);
    uint64_t posted = 0;
    auto post = [&] {
        drv::recv_wr w;
        w.wr_id = posted;
        w.sg_list[0] = {rx.bus + (posted % RECV_DEPTH) * SLOT, static_cast<uint32_t>(SLOT),
                        rx_lkey};
        w.num_sge = 1;
        if (ep.qp->post_recv(w) == 0) ++posted;
    };
    for (uint32_t i = 0; i < RECV_DEPTH; ++i) post();
    sh.rv.barrier("connected", 2);
    uint64_t received = 0;
    std::vector<uint8_t> expect(SLOT);
    // Once the requester is done, a SEND it counted may never arrive (an error completion or
    // an injected fault ended it, --fault): wait for the rest at most IDLE_AFTER_DONE_NS of
    // simulated time without a completion, counted from the moment this side sees the requester
    // done (a requester busy with READs and atomics for longer than that after the last SEND
    // has lost no SEND), so the scenario fails instead of hanging.
    constexpr uint64_t IDLE_AFTER_DONE_NS = 1'000'000;
    uint64_t last_seen_ns = b.now_ns();
    bool saw_done = false;
    while (!sh.done || received < sh.sends_expected) {
        spec::cqe c{};
        if (!ep.wait_completion(c, 1000)) {
            if (sh.done && !saw_done) {
                saw_done = true;
                last_seen_ns = b.now_ns();  // never earlier than the last completion
            }
            if (sh.done && received < sh.sends_expected &&
                b.now_ns() - last_seen_ns > IDLE_AFTER_DONE_NS) {
                res.fail("host1: " + std::to_string(sh.sends_expected - received) +
                         " SENDs never arrived");
                break;
            }
            continue;
        }
        last_seen_ns = b.now_ns();
        if (c.wr_id >= posted || c.wr_id != received) {
            ++res.duplicated;
            continue;
        }
        ++received;
        ++res.seen;
        if (c.status != static_cast<uint8_t>(spec::cqe_status::SUCCESS)) {
            ++res.error_completions;
            res.fail(std::string("host1 receive status ") +
                     spec::to_string(static_cast<spec::cqe_status>(c.status)));
            continue;
        }
        if (c.opcode == static_cast<uint8_t>(spec::cqe_opcode::RECV)) {
            const uint8_t* got = static_cast<uint8_t*>(rx.cpu) + (c.wr_id % RECV_DEPTH) * SLOT;
            uint64_t id = 0;
            std::memcpy(&id, got, 8);
            fill_pattern(expect.data(), c.byte_len, o.seed, id);
            std::memcpy(expect.data(), &id, 8);
            if (std::memcmp(got, expect.data(), c.byte_len) != 0) {
                ++res.data_mismatches;
                res.fail("host1 SEND " + std::to_string(id) + ": data differs");
            } else {
                res.bytes_verified += c.byte_len;
            }
        }
        post();
    }
    res.expected += sh.sends_expected;
    sh.rv.barrier("finished", 2);
    ep.close();
}

}  // namespace

void start_rdma(cosim::topology& topo, const sim_options& o, scenario_result& res) {
    auto sh = std::make_shared<shared_state>();
    topo.host(0).run_driver([sh, o, &res](drv::bus& b) {
        requester(b, o, *sh, res);
        sh->done = true;  // also after an early return: the responder's wait is then bounded
    });
    topo.host(1).run_driver([sh, o, &res](drv::bus& b) { responder(b, o, *sh, res); });
}

}  // namespace chio::tb
