// Fuzz target (c): WQE and ring contents in host memory (catalogue rows C3-C10, C13, C16, C17,
// D4, D5, E6 and the requester/responder paths they reach).
//
// Each input starts from two connected RC QPs on one adapter (fuzz/qp_pair.h). It posts a few
// receives on side b through the driver, then writes raw send WQEs straight into side a's send
// ring, past every check post_send() would make: opcode, flags, SGE count, inline length, keys,
// addresses and lengths all come from the input (addresses and keys biased towards the
// registered regions, their edges, the guard pages around them, the other side's region and
// anything), and rings the SQ doorbell after some of them. Finally both QPs are moved to ERR and
// drained. Checked (completion_check.h, invariants 1-4, per queue), and:
// - invariant 7: the guard pages around both registered regions are unchanged (no DMA outside a
//   registered region, whatever the WQE said);
// - invariant 15: after the QPs are moved to ERR every WQE that must complete does, within 50 ms
//   of simulated time.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <systemc>

#include "chio/spec/spec.h"
#include "cosim/platform.h"
#include "fuzz/completion_check.h"
#include "fuzz/fuzz_check.h"
#include "fuzz/platform_harness.h"
#include "fuzz/qp_pair.h"

namespace {

using namespace chio;
using fuzz::qp_side;

constexpr int MAX_RECVS = 8;
constexpr int MAX_WQES = 24;  // below the 64-entry ring: indices never wrap within an input
constexpr uint64_t DRAIN_NS = 50'000'000;

uint64_t pick_addr(FuzzedDataProvider& in, const qp_side& own, const qp_side& other) {
    switch (in.ConsumeIntegralInRange(0, 7)) {
        case 0:
            return own.buf.bus + in.ConsumeIntegralInRange<uint64_t>(0, fuzz::GUARD_BYTES);
        case 1:
            return own.region() + fuzz::REGION_BYTES - in.ConsumeIntegralInRange<uint64_t>(0, 64);
        case 2:
            return other.region() + in.ConsumeIntegralInRange<uint64_t>(0, fuzz::REGION_BYTES);
        case 3:
            return in.ConsumeIntegral<uint64_t>();
        default:
            return own.region() + in.ConsumeIntegralInRange<uint64_t>(0, fuzz::REGION_BYTES);
    }
}

uint32_t pick_len(FuzzedDataProvider& in) {
    switch (in.ConsumeIntegralInRange(0, 7)) {
        case 0:
            return in.ConsumeIntegral<uint32_t>();
        case 1:
            return fuzz::REGION_BYTES + in.ConsumeIntegralInRange<uint32_t>(0, 8);
        case 2:
            return 8;
        default:
            return in.ConsumeIntegralInRange<uint32_t>(0, 3000);
    }
}

uint32_t pick_key(FuzzedDataProvider& in, uint32_t usual, const qp_side& a, const qp_side& b) {
    switch (in.ConsumeIntegralInRange(0, 7)) {
        case 0:
            return in.ConsumeIntegral<uint32_t>();
        case 1:
            return a.lkey;
        case 2:
            return b.rkey;
        case 3:
            return usual ^ 0x100;  // same index, another key variant (stale key, E5)
        default:
            return usual;
    }
}

spec::send_wqe make_wqe(FuzzedDataProvider& in, uint64_t wr_id, const qp_side& a,
                        const qp_side& b) {
    spec::send_wqe w{};
    w.opcode = in.ConsumeIntegralInRange(0, 15) == 0 ? in.ConsumeIntegral<uint8_t>()
                                                     : in.ConsumeIntegralInRange<uint8_t>(0, 6);
    w.flags = in.ConsumeIntegralInRange(0, 7) == 0
                  ? in.ConsumeIntegral<uint8_t>()
                  : static_cast<uint8_t>(spec::wqe_flags::SIGNALED |
                                         (in.ConsumeBool() ? 0 : spec::wqe_flags::INLINE) |
                                         (in.ConsumeBool() ? 0 : spec::wqe_flags::SOLICITED));
    w.imm = in.ConsumeIntegral<uint32_t>();
    w.wr_id = wr_id;
    w.remote_addr = pick_addr(in, b, a);
    w.rkey = pick_key(in, b.rkey, a, b);
    w.compare_add = in.ConsumeIntegral<uint64_t>();
    w.swap = in.ConsumeIntegral<uint64_t>();
    w.ud_qpn = in.ConsumeIntegral<uint32_t>();
    w.ud_qkey = in.ConsumeIntegral<uint32_t>();
    w.ud_ah = in.ConsumeIntegral<uint32_t>();
    if (w.flags & spec::wqe_flags::INLINE) {
        w.inline_len = in.ConsumeIntegralInRange(0, 15) == 0
                           ? in.ConsumeIntegral<uint32_t>()
                           : in.ConsumeIntegralInRange<uint32_t>(0, spec::limits::MAX_INLINE);
        const auto bytes = in.ConsumeBytes<uint8_t>(sizeof(w.sg_list));
        if (!bytes.empty()) std::memcpy(w.sg_list, bytes.data(), bytes.size());
        w.num_sge = in.ConsumeIntegral<uint8_t>();
    } else {
        w.num_sge = in.ConsumeIntegralInRange(0, 15) == 0
                        ? in.ConsumeIntegral<uint8_t>()
                        : in.ConsumeIntegralInRange<uint8_t>(0, spec::limits::MAX_SGE);
        for (spec::sge& s : w.sg_list) {
            s.addr = pick_addr(in, a, b);
            s.length = pick_len(in);
            s.lkey = pick_key(in, a.lkey, a, b);
        }
    }
    return w;
}

void ring_sq(fuzz::qp_pair& p, uint16_t pi) {
    namespace db = spec::bar0::db;
    p.io().barrier(drv::barrier_kind::to_device);
    p.io().mmio_write64(p.dev().db_page(0) + db::SQ_DB,
                        db::SQ_DB_QPN.make(p.a.qp->qpn()) | db::SQ_DB_PI.make(pi));
}

void body(FuzzedDataProvider& in, drv::bus& io) {
    fuzz::qp_pair p(io);
    std::string err;
    CHIO_FUZZ_CHECK(p.open(err), "two connected QPs from reset", "setup", err);
    fuzz::completion_check a_sq("a.sq", p.a.qp->qpn()), b_rq("b.rq", p.b.qp->qpn());
    fuzz::completion_check a_rq("a.rq", p.a.qp->qpn()), b_sq("b.sq", p.b.qp->qpn());

    const int recvs = in.ConsumeIntegralInRange(0, MAX_RECVS);
    for (int i = 0; i < recvs; ++i) {
        drv::recv_wr r;
        r.wr_id = 1000 + static_cast<uint64_t>(i);
        r.num_sge = 1;
        const uint32_t off = in.ConsumeIntegralInRange<uint32_t>(0, fuzz::REGION_BYTES - 1);
        r.sg_list[0] = {p.b.region() + off,
                        in.ConsumeIntegralInRange<uint32_t>(0, fuzz::REGION_BYTES - off), p.b.lkey};
        CHIO_FUZZ_CHECK(p.b.qp->post_recv(r) == 0, "post_recv of a valid WR", "b.rq", "refused");
        b_rq.add_posted(true);
    }

    static const bool verbose = std::getenv("CHIO_FUZZ_VERBOSE") != nullptr;
    auto* ring = static_cast<spec::send_wqe*>(p.a.qp->sq_ring().cpu);
    uint16_t written = 0, announced = 0;
    const int wqes = in.ConsumeIntegralInRange(1, MAX_WQES);
    for (int i = 0; i < wqes && in.remaining_bytes() > 0; ++i) {
        const spec::send_wqe w = make_wqe(in, static_cast<uint64_t>(i), p.a, p.b);
        // CHIO_FUZZ_VERBOSE=1 lists the WQEs, to read a finding.
        if (verbose) {
            std::fprintf(stderr,
                         "wqe %d at %s: opcode %u flags 0x%x num_sge %u inline_len %u raddr 0x%llx "
                         "rkey 0x%x sge0 0x%llx+%u key 0x%x\n",
                         i, sc_core::sc_time_stamp().to_string().c_str(), w.opcode, w.flags,
                         w.num_sge, w.inline_len, static_cast<unsigned long long>(w.remote_addr),
                         w.rkey, static_cast<unsigned long long>(w.sg_list[0].addr),
                         w.sg_list[0].length, w.sg_list[0].lkey);
        }
        ring[written] = w;
        ++written;
        a_sq.add_posted((w.flags & spec::wqe_flags::SIGNALED) != 0);
        if (in.ConsumeBool()) {
            ring_sq(p, written);
            announced = written;
            if (verbose) {
                std::fprintf(stderr, "doorbell pi %u at %s\n", written,
                             sc_core::sc_time_stamp().to_string().c_str());
            }
            // Let the device work a little between doorbells, sometimes not at all.
            const int polls = in.ConsumeIntegralInRange(0, 20);
            for (int k = 0; k < polls; ++k) {
                p.poll();
                io.relax();
            }
        }
    }
    if (announced != written) ring_sq(p, written);

    // Whatever happened, ERR flushes what is left; then every WQE that must complete has.
    (void)p.wait_for([&] { return a_sq.complete(p.a.send_cqes); }, 2'000'000);
    CHIO_FUZZ_CHECK(p.to_error(p.a).ok(), "modify to ERR is legal from any state", "a.qp", "");
    CHIO_FUZZ_CHECK(p.to_error(p.b).ok(), "modify to ERR is legal from any state", "b.qp", "");
    const bool drained = p.wait_for(
        [&] { return a_sq.complete(p.a.send_cqes) && b_rq.complete(p.b.recv_cqes); }, DRAIN_NS);
    CHIO_FUZZ_CHECK(drained, "15 liveness", "a.sq / b.rq",
                    "not every WQE completed within 50 ms after ERR");
    a_sq.check(p.a.send_cqes);
    b_rq.check(p.b.recv_cqes);
    a_rq.check(p.a.recv_cqes);
    b_sq.check(p.b.send_cqes);
    for (const qp_side* s : {&p.a, &p.b}) {
        const std::string damage = s->guard_damage();
        CHIO_FUZZ_CHECK(damage.empty(), "7 no DMA outside registered regions",
                        s == &p.a ? "side a's buffer" : "side b's buffer", damage);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    FuzzedDataProvider in(data, size);
    fuzz::platform_harness::get().run([&in](drv::bus& b, cosim::platform&) { body(in, b); });
    return 0;
}
