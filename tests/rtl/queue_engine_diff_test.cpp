// Differential test: the C++ reference and the Verilated RTL get the same constrained-random
// call sequence through the seam (queue_engine_ref vs queue_engine_rtl) and must give the same
// responses and output streams after every call. Prints its seed; CHIO_SEED=<n> re-runs a
// sequence, CHIO_DIFF_OPS=<n> sets its length. The first difference is reported with the last
// calls before it.
#include <gtest/gtest.h>

#include <array>
#include <deque>
#include <iostream>
#include <map>
#include <sstream>

#include "rtl/qe_random_ops.h"
#include "tlm-model/queue_engine/queue_engine_lockstep.h"
#include "tlm-model/queue_engine/queue_engine_ref.h"
#include "tlm-model/queue_engine/queue_engine_rtl.h"

namespace chio::test {
namespace {

using model::queue_engine;

constexpr size_t WINDOW = 16;

// What one call produced: its response (if any) and every element of the output streams.
struct call_result {
    std::string text;
    bool err = false;
    std::vector<std::string> tags;  // coverage: status and error names seen
};

call_result apply(queue_engine& e, const qe_op& o) {
    call_result r;
    std::ostringstream s;
    switch (o.kind) {
        case qe_op_kind::wq_cfg:
            e.wq_cfg(o.wq_cfg());
            break;
        case qe_op_kind::cr_cfg:
            e.cr_cfg(o.cr_cfg());
            break;
        case qe_op_kind::db:
            e.db(o.db());
            break;
        case qe_op_kind::deq: {
            const model::qe_deq_resp x = e.deq({o.id});
            s << model::to_string(x) << " ";
            r.tags.push_back(std::string("deq.") + spec::qe::to_string(x.status));
            break;
        }
        case qe_op_kind::deq_commit:
            e.deq_commit({o.id});
            break;
        case qe_op_kind::cq: {
            const model::qe_cq_resp x = e.cq({o.id});
            s << model::to_string(x) << " ";
            r.tags.push_back(std::string("cq.") + spec::qe::to_string(x.status));
            break;
        }
        case qe_op_kind::cq_commit:
            e.cq_commit({o.id, o.solicited});
            break;
        case qe_op_kind::arm:
            e.arm(o.arm_in());
            break;
    }
    model::qe_work w;
    while (e.pop_work(w)) {
        s << model::to_string(w) << " ";
        r.tags.push_back("work");
    }
    model::qe_event ev;
    while (e.pop_event(ev)) {
        s << model::to_string(ev) << " ";
        r.tags.push_back("event");
    }
    model::qe_err er;
    while (e.pop_err(er)) {
        s << model::to_string(er) << " ";
        r.err = true;
        r.tags.push_back(std::string("err.") + spec::qe::to_string(er.code) +
                         (er.is_cr ? ".cr" : ".wq"));
    }
    r.text = s.str();
    return r;
}

TEST(queue_engine_diff, ref_equals_rtl_on_random_calls) {
    const uint64_t seed = test_seed();
    const uint64_t ops = env_u64("CHIO_DIFF_OPS", 100000);
    std::cout << "queue_engine_diff: seed=" << seed << " ops=" << ops
              << " (re-run with CHIO_SEED=" << seed << ")" << std::endl;

    model::queue_engine_ref ref;
    model::queue_engine_rtl rtl;
    qe_op_gen gen(seed);
    std::deque<std::string> window;
    std::map<std::string, uint64_t> coverage;
    const uint64_t start_cycles = rtl.cycles();

    for (uint64_t n = 0; n < ops; ++n) {
        const qe_op o = gen.next();
        const call_result a = apply(ref, o);
        const call_result b = apply(rtl, o);
        if (a.text != b.text) {
            std::ostringstream rep;
            rep << "first difference at call #" << n << " (seed " << seed << ")\n"
                << "last " << window.size() << " calls before it:\n";
            for (const std::string& line : window) rep << "    " << line << "\n";
            rep << "  call:  " << to_string(o) << "\n"
                << "  model: " << a.text << "\n"
                << "  rtl:   " << b.text << "\n";
            FAIL() << rep.str();
        }
        for (const std::string& t : a.tags) ++coverage[t];
        if (a.err) gen.refused(o);
        if (o.kind == qe_op_kind::wq_cfg || o.kind == qe_op_kind::cr_cfg) gen.configured(o);
        window.push_back("#" + std::to_string(n) + " " + to_string(o) + " -> " + a.text);
        if (window.size() > WINDOW) window.pop_front();
    }

    std::cout << "coverage:";
    for (const auto& [tag, count] : coverage) std::cout << " " << tag << "=" << count;
    std::cout << "\nrtl cycles per call (serialized through the seam): "
              << static_cast<double>(rtl.cycles() - start_cycles) / static_cast<double>(ops)
              << std::endl;
    // The sequence must have reached every outcome, or it proves little.
    if (ops >= 100000) {
        for (const char* tag :
             {"deq.OK", "deq.EMPTY", "deq.DISABLED", "cq.OK", "cq.FULL", "cq.DISABLED", "work",
              "event", "err.DB_DISABLED.wq", "err.DB_OWNER.wq", "err.DB_RANGE.wq",
              "err.BAD_COMMIT.wq", "err.DB_DISABLED.cr", "err.DB_OWNER.cr", "err.DB_RANGE.cr",
              "err.BAD_COMMIT.cr", "err.CQ_OVERFLOW.cr"}) {
            EXPECT_GT(coverage[tag], 0u) << "outcome never reached: " << tag;
        }
    }
}

}  // namespace
}  // namespace chio::test
