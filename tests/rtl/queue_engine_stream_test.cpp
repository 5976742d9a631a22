// Streaming differential test: drives the Verilated chio_queue_engine directly, with inputs on
// all streams at once (valid raised at random, held until ready) and random backpressure on the
// outputs, so that ops on the same queue run back to back through the pipeline (the bypass path
// the seam-level tests never reach, because the wrapper idles between calls). Every accepted
// input is applied to the C++ reference in acceptance order (ops taken in one clock in lane
// order D, Q, K, C: chio_queue_engine.sv); each output element the RTL hands over must equal the
// next one the reference made on that stream. Further phases keep the inputs valid and the
// outputs ready and measure accepted ops per clock: random ops, then a steady doorbell ->
// dequeue -> commit workload on receive queues and on send queues (with work tokens).
// Prints its seed (CHIO_SEED re-runs it; CHIO_DIFF_OPS sets the number of ops). A difference is
// reported with the clock it happened at and the last accepted ops; with CHIO_VCD=<file> the run
// writes a VCD of the clocks CHIO_VCD_FROM..CHIO_VCD_TO (the trace window ./chio rtl-soak asks
// for when it re-runs a failing seed).
#include <gtest/gtest.h>
#include <verilated.h>
#include <verilated_vcd_c.h>

#include <array>
#include <deque>
#include <iostream>
#include <memory>
#include <sstream>
#include <vector>

#include "Vchio_queue_engine.h"
#include "rtl/qe_random_ops.h"
#include "rtl/qe_stream_driver.h"
#include "tlm-model/queue_engine/queue_engine_ref.h"
#include "tlm-model/queue_engine/rtl_coverage.h"

namespace chio::test {
namespace {

constexpr size_t WINDOW = 16;

// Lane of an op kind in chio_queue_engine: D (wq_cfg, db), Q (deq), K (deq_commit), C (rings).
int lane_of(qe_op_kind k) {
    switch (k) {
        case qe_op_kind::wq_cfg:
        case qe_op_kind::db:
            return 0;
        case qe_op_kind::deq:
            return 1;
        case qe_op_kind::deq_commit:
            return 2;
        default:
            return 3;
    }
}

struct expected {
    uint64_t op;  // number of the accepted op that made it
    std::string text;
};

class stream_bench {
public:
    explicit stream_bench(uint64_t seed)
        : m_gen(seed), m_seed(seed), m_top(trace_ready(m_ctx), "top") {
        open_trace();
        set_output_ready(m_top, true);
        m_top.rst_ni = 0;
        for (int i = 0; i < 4; ++i) tick();
        m_top.rst_ni = 1;
        while (!idle()) tick();
    }

    ~stream_bench() {
        m_top.final();
        if (m_vcd) m_vcd->close();
        model::write_rtl_coverage(m_ctx);
    }
    stream_bench(const stream_bench&) = delete;
    stream_bench& operator=(const stream_bench&) = delete;

    // Runs until `ops` more inputs were accepted. in_pct: chance per clock that an idle input
    // stream gets a new op; ready_pct: chance that an output stream is ready.
    void run(uint64_t ops, unsigned in_pct, unsigned cfg_pct, unsigned ready_pct) {
        const uint64_t target = m_accepted + ops;
        while (m_accepted < target && !::testing::Test::HasFailure()) {
            for (int k = 0; k < QE_OP_KINDS; ++k) {
                const auto kind = static_cast<qe_op_kind>(k);
                const bool cfg = kind == qe_op_kind::wq_cfg || kind == qe_op_kind::cr_cfg;
                if (!m_pending[k] && m_gen.below(100) < (cfg ? cfg_pct : in_pct)) {
                    m_op[k] = m_gen.make(kind);
                    drive_input(m_top, m_op[k]);
                    m_pending[k] = true;
                }
            }
            set_output_ready(m_top, false);
            for (unsigned char* r : output_readies(m_top)) *r = m_gen.below(100) < ready_pct;
            cycle();
        }
    }

    void drain() {
        set_output_ready(m_top, true);
        for (int n = 0; n < 1000 && !idle(); ++n) cycle();
        EXPECT_TRUE(idle()) << "RTL did not become idle";
        for (int s = 0; s < NUM_OUT; ++s) {
            EXPECT_TRUE(m_expect[s].empty())
                << OUT_NAMES[s] << ": RTL never produced " << m_expect[s].front().text << " of op #"
                << m_expect[s].front().op << report_window();
        }
    }

    // Steady work queue traffic: `queues` queues of 2^10 entries; lane D rings their doorbells
    // one entry at a time, lane Q dequeues and lane K commits, each round robin over the queues,
    // every input always valid and every output always ready. Returns accepted db, deq and
    // deq_commit per clock.
    std::array<double, 3> run_steady(uint16_t first, uint16_t queues, bool sched, uint64_t ops) {
        set_output_ready(m_top, true);
        for (uint16_t q = 0; q < queues; ++q) {
            qe_op c;
            c.kind = qe_op_kind::wq_cfg;
            c.id = static_cast<uint16_t>(first + q);
            c.enable = true;
            c.sched = sched;
            c.log_size = 10;
            offer(c);
            while (m_pending[0] && !::testing::Test::HasFailure()) cycle();
        }
        std::array<uint16_t, 3> next{};  // round-robin position per lane
        std::vector<uint16_t> pi(queues, 0);
        const uint64_t c0 = m_clocks;
        const uint64_t errs0 = m_errs;
        const uint64_t deq_ok0 = m_deq_ok;
        const std::array<uint64_t, 3> n0 = {m_count[2], m_count[3], m_count[4]};
        const uint64_t target = m_accepted + ops;
        while (m_accepted < target && !::testing::Test::HasFailure()) {
            const std::array<qe_op_kind, 3> kinds = {qe_op_kind::db, qe_op_kind::deq,
                                                     qe_op_kind::deq_commit};
            for (size_t l = 0; l < 3; ++l) {
                if (m_pending[static_cast<size_t>(kinds[l])]) continue;
                qe_op o;
                o.kind = kinds[l];
                const uint16_t q = next[l];
                next[l] = static_cast<uint16_t>((q + 1) % queues);
                o.id = static_cast<uint16_t>(first + q);
                if (o.kind == qe_op_kind::db) o.idx = ++pi[q];
                offer(o);
            }
            cycle();
        }
        // Every doorbell, dequeue and commit of this traffic is valid: it proves the rate only
        // if the ops did their work.
        EXPECT_EQ(m_errs, errs0) << "steady traffic made errors";
        EXPECT_EQ(m_deq_ok - deq_ok0, m_count[3] - n0[1]) << "steady traffic made EMPTY dequeues";
        const double clocks = static_cast<double>(m_clocks - c0);
        return {static_cast<double>(m_count[2] - n0[0]) / clocks,
                static_cast<double>(m_count[3] - n0[1]) / clocks,
                static_cast<double>(m_count[4] - n0[2]) / clocks};
    }

    uint64_t accepted() const { return m_accepted; }
    uint64_t clocks() const { return m_clocks; }

private:
    void offer(const qe_op& o) {
        const auto k = static_cast<size_t>(o.kind);
        m_op[k] = o;
        drive_input(m_top, o);
        m_pending[k] = true;
    }

    bool idle() {
        m_top.eval();
        return m_top.idle_o != 0;
    }

    // Clock n: inputs settle at 2n (clock low), rising edge at 2n + 1.
    void tick() {
        m_top.eval();
        dump(2 * m_clocks);
        m_top.clk_i = 1;
        m_top.eval();
        dump(2 * m_clocks + 1);
        m_top.clk_i = 0;
        m_top.eval();
        ++m_clocks;
    }

    // Tracing is switched on before the model is built, and only when a VCD is asked for.
    static VerilatedContext* trace_ready(VerilatedContext& ctx) {
        if (std::getenv("CHIO_VCD") != nullptr) ctx.traceEverOn(true);
        return &ctx;
    }
    void open_trace() {
        const char* path = std::getenv("CHIO_VCD");
        if (path == nullptr || *path == '\0') return;
        m_vcd_from = env_u64("CHIO_VCD_FROM", 0);
        m_vcd_to = env_u64("CHIO_VCD_TO", UINT64_MAX);
        m_vcd = std::make_unique<VerilatedVcdC>();
        m_top.trace(m_vcd.get(), 99);
        m_vcd->open(path);
        std::cout << "queue_engine_stream: VCD of clocks " << m_vcd_from << ".." << m_vcd_to
                  << " in " << path << std::endl;
    }
    // Time unit: half a clock.
    void dump(uint64_t t) {
        if (m_vcd && m_clocks >= m_vcd_from && m_clocks <= m_vcd_to) m_vcd->dump(t);
    }

    // One clock: inputs taken and outputs handed over at this edge, then the edge.
    void cycle() {
        m_top.eval();
        std::array<bool, QE_OP_KINDS> taken{};
        for (int lane = 0; lane < 4; ++lane) {
            for (int k = 0; k < QE_OP_KINDS; ++k) {
                const auto kind = static_cast<qe_op_kind>(k);
                if (lane_of(kind) == lane && m_pending[k] && input_taken(m_top, kind)) {
                    taken[static_cast<size_t>(k)] = true;
                    ++m_count[static_cast<size_t>(k)];
                    accept(m_op[k]);
                }
            }
        }
        std::array<std::string, NUM_OUT> got;
        const std::array<bool, NUM_OUT> valid = take_outputs(m_top, got);
        for (int s = 0; s < NUM_OUT; ++s) {
            if (valid[static_cast<size_t>(s)]) check(s, got[static_cast<size_t>(s)]);
        }
        tick();
        for (int k = 0; k < QE_OP_KINDS; ++k) {
            if (taken[static_cast<size_t>(k)]) {
                m_pending[k] = false;
                clear_input(m_top, static_cast<qe_op_kind>(k));
            }
        }
    }

    void accept(const qe_op& o) {
        const uint64_t n = m_accepted++;
        std::vector<std::pair<int, std::string>> outs = apply_ref(m_ref, o);
        bool err = false;
        std::string line = "#" + std::to_string(n) + " " + to_string(o) + " ->";
        for (auto& [s, text] : outs) {
            err = err || s == OUT_ERR;
            m_errs += s == OUT_ERR;
            m_deq_ok += s == OUT_DEQ_RESP && text.find("status=OK") != std::string::npos;
            line += " " + text;
            m_expect[s].push_back({n, std::move(text)});
        }
        if (err) m_gen.refused(o);
        if (o.kind == qe_op_kind::wq_cfg || o.kind == qe_op_kind::cr_cfg) m_gen.configured(o);
        m_window.push_back(line);
        if (m_window.size() > WINDOW) m_window.pop_front();
    }

    void check(int s, const std::string& got) {
        if (m_expect[s].empty()) {
            ADD_FAILURE() << OUT_NAMES[s] << ": RTL produced " << got << " that the model did not"
                          << report_window();
            return;
        }
        const expected e = m_expect[s].front();
        m_expect[s].pop_front();
        if (e.text != got) {
            ADD_FAILURE() << "first difference on " << OUT_NAMES[s] << " for op #" << e.op
                          << " (seed " << m_seed << ", clock " << m_clocks
                          << ")\n  model: " << e.text << "\n  rtl:   " << got << report_window();
        }
    }

    std::string report_window() const {
        std::ostringstream s;
        s << "\nlast " << m_window.size() << " accepted ops (with the model's outputs):\n";
        for (const std::string& l : m_window) s << "    " << l << "\n";
        return s.str();
    }

    qe_op_gen m_gen;
    uint64_t m_seed;
    VerilatedContext m_ctx;
    Vchio_queue_engine m_top;
    model::queue_engine_ref m_ref;
    std::array<bool, QE_OP_KINDS> m_pending{};
    std::array<qe_op, QE_OP_KINDS> m_op{};
    std::array<std::deque<expected>, NUM_OUT> m_expect;
    std::deque<std::string> m_window;
    std::array<uint64_t, QE_OP_KINDS> m_count{};  // accepted ops per kind
    uint64_t m_errs = 0;                          // err elements the model made
    uint64_t m_deq_ok = 0;                        // deq_resp OK the model made
    uint64_t m_accepted = 0;
    uint64_t m_clocks = 0;
    std::unique_ptr<VerilatedVcdC> m_vcd;
    uint64_t m_vcd_from = 0;
    uint64_t m_vcd_to = 0;
};

TEST(queue_engine_stream, ref_equals_pipelined_rtl) {
    const uint64_t seed = test_seed();
    const uint64_t ops = env_u64("CHIO_DIFF_OPS", 100000);
    std::cout << "queue_engine_stream: seed=" << seed << " ops=" << ops
              << " (re-run with CHIO_SEED=" << seed << ")" << std::endl;
    stream_bench b(seed);

    // Random arrivals and backpressure: stalls with ops in flight, bypass under stalls.
    b.run(ops * 7 / 10, 40, 2, 70);
    b.drain();
    ASSERT_FALSE(HasFailure());

    // Random ops at full rate: every input stream always valid (configuration rarely), every
    // output ready. The one-element-per-clock err stream limits this mix (many refused ops).
    const uint64_t a0 = b.accepted();
    const uint64_t c0 = b.clocks();
    b.run(ops / 10, 100, 1, 100);
    const double rate =
        static_cast<double>(b.accepted() - a0) / static_cast<double>(b.clocks() - c0);
    b.drain();
    std::cout << "random ops, full rate: " << rate << " ops/clock" << std::endl;
    EXPECT_GT(rate, 1.0) << "the lanes should take more than one op per clock";

    // Steady doorbell -> dequeue -> commit traffic: one of each per clock is the target.
    for (const bool sched : {false, true}) {
        const auto r = b.run_steady(sched ? 64 : 0, 32, sched, ops / 10);
        b.drain();
        std::cout << (sched ? "send" : "receive") << " queues, steady: db " << r[0]
                  << "/clock, deq " << r[1] << "/clock, deq_commit " << r[2] << "/clock"
                  << std::endl;
        EXPECT_GT(r[0], 0.9);
        EXPECT_GT(r[1], 0.9);
    }
}

}  // namespace
}  // namespace chio::test
