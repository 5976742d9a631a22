// Fuzz target (d, second half): incoming RoCE packets at the adapter's port, handled by the
// responder (requests) and the requester's completer (responses, ACKs and NAKs): catalogue rows
// D1-D5, D8, D10, C10, E5, E6.
//
// Each input starts from two connected RC QPs on one adapter (fuzz/qp_pair.h), with a few
// receives posted on both; then packets built from the input arrive at the port as if from the
// wire: any opcode (mostly a defined one), destination QP mostly one of the two, PSN near the
// expected one, RETH/AtomicETH addresses and keys biased towards the registered regions, their
// edges and the guard pages, any AETH syndrome and MSN, payloads up to a little over the path
// MTU, sometimes the damaged-in-flight flag. Responses the adapter sends go back into it through
// the loopback (to the peer QP: unexpected ACKs for its completer). Finally both QPs are moved to
// ERR and drained. Checked:
// - invariants 1-4 on both receive queues (completion_check.h); no send CQE at all, since no send
//   was posted (a response must never complete a WQE that does not exist);
// - invariant 7: the guard pages are unchanged (no packet writes outside a registered region);
// - invariant 15: every receive completes within 50 ms of simulated time after ERR.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "chio/spec/spec.h"
#include "cosim/platform.h"
#include "fuzz/completion_check.h"
#include "fuzz/fuzz_check.h"
#include "fuzz/platform_harness.h"
#include "fuzz/qp_pair.h"
#include "tlm-model/fabric/packet.h"

namespace {

using namespace chio;
using fuzz::qp_side;

constexpr int RECVS_PER_SIDE = 4;
constexpr int MAX_PACKETS = 16;
constexpr size_t MAX_PAYLOAD = 1024 + 64;  // the pair's path MTU is 1024
constexpr uint64_t DRAIN_NS = 50'000'000;

uint64_t pick_va(FuzzedDataProvider& in, const qp_side& target) {
    switch (in.ConsumeIntegralInRange(0, 5)) {
        case 0:
            return target.buf.bus + in.ConsumeIntegralInRange<uint64_t>(0, fuzz::GUARD_BYTES);
        case 1:
            return target.region() + fuzz::REGION_BYTES -
                   in.ConsumeIntegralInRange<uint64_t>(0, 64);
        case 2:
            return in.ConsumeIntegral<uint64_t>();
        default:
            return target.region() + in.ConsumeIntegralInRange<uint64_t>(0, fuzz::REGION_BYTES);
    }
}

uint32_t pick_rkey(FuzzedDataProvider& in, const qp_side& target, const qp_side& other) {
    switch (in.ConsumeIntegralInRange(0, 5)) {
        case 0:
            return in.ConsumeIntegral<uint32_t>();
        case 1:
            return other.rkey;
        case 2:
            return target.lkey;
        default:
            return target.rkey;
    }
}

model::roce_packet make_packet(FuzzedDataProvider& in, const fuzz::qp_pair& p,
                               const model::mac_address& mac) {
    model::roce_packet k;
    const bool to_b = in.ConsumeBool();
    const qp_side& target = to_b ? p.b : p.a;
    const qp_side& other = to_b ? p.a : p.b;
    k.dst_mac = mac;  // both QPs are on the one adapter: its port's MAC
    k.src_mac = mac;
    if (in.ConsumeIntegralInRange(0, 15) == 0) k.dst_mac[5] ^= 1;  // not for us: dropped
    const auto& ops = model::all_opcodes();
    k.opcode = in.ConsumeIntegralInRange(0, 15) == 0
                   ? static_cast<spec::roce::opcode>(in.ConsumeIntegral<uint8_t>())
                   : ops[in.ConsumeIntegralInRange<size_t>(0, ops.size() - 1)];
    k.solicited = in.ConsumeBool();
    k.ack_req = in.ConsumeBool();
    switch (in.ConsumeIntegralInRange(0, 7)) {
        case 0:
            k.dest_qp = in.ConsumeIntegral<uint32_t>() & 0xFFFFFF;
            break;
        default:
            k.dest_qp = target.qp->qpn();
            break;
    }
    k.psn = in.ConsumeIntegralInRange(0, 7) == 0
                ? in.ConsumeIntegral<uint32_t>() & 0xFFFFFF
                : (fuzz::initial_psn(k.dest_qp) + in.ConsumeIntegralInRange(-2, 6)) & 0xFFFFFF;
    k.reth.va = pick_va(in, target);
    k.reth.rkey = pick_rkey(in, target, other);
    k.reth.dma_len = in.ConsumeBool() ? in.ConsumeIntegralInRange<uint32_t>(0, 2100)
                                      : in.ConsumeIntegral<uint32_t>();
    k.aeth.syndrome = in.ConsumeIntegral<uint8_t>();
    k.aeth.msn = in.ConsumeIntegral<uint32_t>() & 0xFFFFFF;
    k.imm = in.ConsumeIntegral<uint32_t>();
    k.atomic.va = pick_va(in, target);
    k.atomic.rkey = pick_rkey(in, target, other);
    k.atomic.swap_add = in.ConsumeIntegral<uint64_t>();
    k.atomic.compare = in.ConsumeIntegral<uint64_t>();
    k.atomic_ack.orig = in.ConsumeIntegral<uint64_t>();
    k.deth.qkey = in.ConsumeIntegral<uint32_t>();
    k.deth.src_qp = in.ConsumeIntegral<uint32_t>() & 0xFFFFFF;
    k.corrupt = in.ConsumeIntegralInRange(0, 31) == 0;
    k.payload = in.ConsumeBytes<uint8_t>(in.ConsumeIntegralInRange<size_t>(0, MAX_PAYLOAD));
    return k;
}

void body(FuzzedDataProvider& in, drv::bus& io, cosim::platform& plat) {
    fuzz::qp_pair p(io);
    std::string err;
    CHIO_FUZZ_CHECK(p.open(err), "two connected QPs from reset", "setup", err);
    fuzz::completion_check a_rq("a.rq", p.a.qp->qpn()), b_rq("b.rq", p.b.qp->qpn());
    fuzz::completion_check a_sq("a.sq", p.a.qp->qpn()), b_sq("b.sq", p.b.qp->qpn());
    for (qp_side* s : {&p.a, &p.b}) {
        fuzz::completion_check& rq = s == &p.a ? a_rq : b_rq;
        for (int i = 0; i < RECVS_PER_SIDE; ++i) {
            drv::recv_wr r;
            r.wr_id = static_cast<uint64_t>(i);
            r.num_sge = 1;
            r.sg_list[0] = {s->region() + uint64_t{4096} * static_cast<uint64_t>(i), 4096, s->lkey};
            CHIO_FUZZ_CHECK(s->qp->post_recv(r) == 0, "post_recv of a valid WR", "rq", "refused");
            rq.add_posted(true);
        }
    }
    static const bool verbose = std::getenv("CHIO_FUZZ_VERBOSE") != nullptr;
    const int packets = in.ConsumeIntegralInRange(1, MAX_PACKETS);
    for (int i = 0; i < packets && in.remaining_bytes() > 0; ++i) {
        auto pkt = std::make_shared<const model::roce_packet>(
            make_packet(in, p, plat.adapter.net().config().mac));
        // CHIO_FUZZ_VERBOSE=1 lists the packets, to read a finding.
        if (verbose) {
            std::fprintf(stderr, "packet %d at %s: %s%s\n", i,
                         sc_core::sc_time_stamp().to_string().c_str(),
                         model::describe(*pkt).c_str(), pkt->corrupt ? " (corrupt)" : "");
        }
        plat.adapter.net().receive(pkt);
        const int polls = in.ConsumeIntegralInRange(0, 20);
        for (int k = 0; k < polls; ++k) {
            p.poll();
            io.relax();
        }
    }
    p.poll();
    if (verbose) {
        std::fprintf(stderr, "before ERR at %s: a.rq %s; b.rq %s\n",
                     sc_core::sc_time_stamp().to_string().c_str(),
                     fuzz::completion_check::summary(p.a.recv_cqes).c_str(),
                     fuzz::completion_check::summary(p.b.recv_cqes).c_str());
    }
    CHIO_FUZZ_CHECK(p.to_error(p.a).ok(), "modify to ERR is legal from any state", "a.qp", "");
    CHIO_FUZZ_CHECK(p.to_error(p.b).ok(), "modify to ERR is legal from any state", "b.qp", "");
    const bool drained = p.wait_for(
        [&] { return a_rq.complete(p.a.recv_cqes) && b_rq.complete(p.b.recv_cqes); }, DRAIN_NS);
    CHIO_FUZZ_CHECK(drained, "15 liveness", "a.rq / b.rq",
                    "not every receive completed within 50 ms after ERR");
    a_rq.check(p.a.recv_cqes);
    b_rq.check(p.b.recv_cqes);
    a_sq.check(p.a.send_cqes);
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
    fuzz::platform_harness::get().run(
        [&in](drv::bus& b, cosim::platform& plat) { body(in, b, plat); });
    return 0;
}
