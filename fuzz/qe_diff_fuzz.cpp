// Fuzz target (e): the queue engine's stream inputs, C++ reference against Verilated RTL.
//
// Each input is a sequence of seam calls (wq_cfg, cr_cfg, db, deq, deq_commit, cq, cq_commit,
// arm) decoded from the bytes; both engines get the same calls from their reset state, and after
// every call their responses and their work/event/err output streams must be identical
// (catalogue invariant 20). Ids and indices are biased towards a few live queues and the ring
// edges so that the fuzzer reaches full rings, wrap and every DB_RANGE case quickly.
//
// One pair of engines serves the whole process: building the Verilated engine takes its reset
// sequence (about half a second under ASan), which would leave the fuzzer at one input per
// second. The ids an input can name are therefore a fixed pool of in-range queues (the first few,
// the last, the first EQ) plus any out-of-range value, which holds no state; every input starts
// by disabling every pool queue in both engines and draining their outputs. Enabling a queue sets
// its indices, arm and error state (queue_engine.h), so each input sees the same engine whatever
// ran before it, and a saved crash input reproduces on its own. (Were anything left over, both
// engines would still have had identical histories: the comparison stays sound.)
#include <fuzzer/FuzzedDataProvider.h>

#include <cstdint>
#include <sstream>
#include <string>

#include "chio/spec/spec.h"
#include "fuzz/fuzz_check.h"
#include "tlm-model/queue_engine/queue_engine_lockstep.h"
#include "tlm-model/queue_engine/queue_engine_ref.h"
#include "tlm-model/queue_engine/queue_engine_rtl.h"

namespace {

using namespace chio;
using model::queue_engine;

constexpr size_t MAX_CALLS = 96;  // bounds one input's work: RTL calls are the cost

// The in-range ids an input can reach (reset at the start of every input).
constexpr uint16_t WQ_POOL[] = {0, 1, 2, 3, 4, 5, spec::qe::NUM_WQ - 1};
constexpr uint16_t CR_POOL[] = {0,
                                1,
                                2,
                                3,
                                spec::limits::MAX_CQ,
                                spec::limits::MAX_CQ + 1,
                                spec::limits::MAX_CQ + 2,
                                spec::qe::NUM_CR - 1};

// An id from the pool, or one past the last queue and beyond (no state there).
template <size_t N>
uint16_t pick_id(FuzzedDataProvider& in, const uint16_t (&pool)[N], uint32_t num) {
    if (in.ConsumeIntegralInRange(0, 7) == 0) {
        return static_cast<uint16_t>(num + in.ConsumeIntegralInRange<uint32_t>(0, 0xFFFF - num));
    }
    return pool[in.ConsumeIntegralInRange<size_t>(0, N - 1)];
}
uint16_t pick_wqid(FuzzedDataProvider& in) { return pick_id(in, WQ_POOL, spec::qe::NUM_WQ); }
uint16_t pick_crid(FuzzedDataProvider& in) { return pick_id(in, CR_POOL, spec::qe::NUM_CR); }

uint8_t pick_fn(FuzzedDataProvider& in) {
    return in.ConsumeBool() ? 0 : in.ConsumeIntegral<uint8_t>();
}

// An index: near the ring's edges (small values, the sizes, wrap) or anything.
uint16_t pick_index(FuzzedDataProvider& in) {
    return in.ConsumeBool() ? in.ConsumeIntegralInRange<uint16_t>(0, 70)
                            : in.ConsumeIntegral<uint16_t>();
}

// Applies one call to e; returns the response and every output as one line.
std::string apply(queue_engine& e, int kind, const model::qe_wq_cfg& wc, const model::qe_cr_cfg& cc,
                  const model::qe_db& d, const model::qe_arm& a, uint16_t id, bool solicited) {
    std::ostringstream s;
    switch (kind) {
        case 0:
            e.wq_cfg(wc);
            break;
        case 1:
            e.cr_cfg(cc);
            break;
        case 2:
            e.db(d);
            break;
        case 3:
            s << model::to_string(e.deq({id})) << ' ';
            break;
        case 4:
            e.deq_commit({id});
            break;
        case 5:
            s << model::to_string(e.cq({id})) << ' ';
            break;
        case 6:
            e.cq_commit({id, solicited});
            break;
        default:
            e.arm(a);
            break;
    }
    model::qe_work w;
    while (e.pop_work(w)) s << model::to_string(w) << ' ';
    model::qe_event ev;
    while (e.pop_event(ev)) s << model::to_string(ev) << ' ';
    model::qe_err er;
    while (e.pop_err(er)) s << model::to_string(er) << ' ';
    return s.str();
}

// Disables every pool queue and drains the outputs: the state every input starts from.
void reset_pool(queue_engine& e) {
    for (uint16_t id : WQ_POOL) e.wq_cfg({id, false, false, 0, 0});
    for (uint16_t id : CR_POOL) e.cr_cfg({id, false, 0, 0, 0});
    model::qe_work w;
    while (e.pop_work(w)) {
    }
    model::qe_event ev;
    while (e.pop_event(ev)) {
    }
    model::qe_err er;
    while (e.pop_err(er)) {
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    FuzzedDataProvider in(data, size);
    static model::queue_engine_ref ref;
    static model::queue_engine_rtl rtl;
    reset_pool(ref);
    reset_pool(rtl);
    for (size_t n = 0; n < MAX_CALLS && in.remaining_bytes() > 0; ++n) {
        const int kind = in.ConsumeIntegralInRange(0, 7);
        model::qe_wq_cfg wc;
        model::qe_cr_cfg cc;
        model::qe_db d;
        model::qe_arm a;
        uint16_t id = 0;
        bool solicited = false;
        switch (kind) {
            case 0:
                wc = {pick_wqid(in), in.ConsumeIntegralInRange(0, 7) != 0, in.ConsumeBool(),
                      pick_fn(in),
                      static_cast<uint8_t>(in.ConsumeBool() ? in.ConsumeIntegralInRange(0, 3)
                                                            : in.ConsumeIntegral<uint8_t>())};
                break;
            case 1:
                cc = {pick_crid(in), in.ConsumeIntegralInRange(0, 7) != 0, pick_fn(in),
                      static_cast<uint8_t>(in.ConsumeBool() ? in.ConsumeIntegralInRange(0, 3)
                                                            : in.ConsumeIntegral<uint8_t>()),
                      in.ConsumeIntegral<uint16_t>()};
                break;
            case 2:
                d = {pick_fn(in), pick_wqid(in), pick_index(in)};
                break;
            case 3:
            case 4:
                id = pick_wqid(in);
                break;
            case 5:
                id = pick_crid(in);
                break;
            case 6:
                id = pick_crid(in);
                solicited = in.ConsumeBool();
                break;
            default: {
                const uint8_t fn = pick_fn(in);
                const uint16_t crid = pick_crid(in);
                const uint16_t ci = pick_index(in);
                const bool arm = in.ConsumeBool();
                a = {fn, crid, ci, arm, in.ConsumeBool()};
                break;
            }
        }
        const std::string want = apply(ref, kind, wc, cc, d, a, id, solicited);
        const std::string got = apply(rtl, kind, wc, cc, d, a, id, solicited);
        CHIO_FUZZ_CHECK(want == got, "20 model == RTL", "queue engine call " + std::to_string(n),
                        "reference gave '" + want + "', RTL gave '" + got + "'");
    }
    return 0;
}
