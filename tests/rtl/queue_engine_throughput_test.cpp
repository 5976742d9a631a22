// Throughput testbench of the Verilated chio_queue_engine: measures accepted operations per clock
// at steady state and checks the target, one doorbell and one dequeue accepted every
// clock. It counts clocks, not wall time, so the check is deterministic.
//
// Each workload keeps the doorbell, dequeue and commit inputs valid on every clock with the next
// op of a fixed schedule, every output ready, and counts handshakes over a window of clocks after
// a warm-up. Workloads: (1) the three ops of a clock on three different queues (round robin over
// 32 queues); (2) all three on the same queue in the same clock, the hazard case: the dequeue
// must see the doorbell's new producer index and the commit the dequeue's new fetch index through
// the lanes' same-clock merges; (3) as (2) on send queues, which also raise a `work` token per
// doorbell. Every dequeue must answer OK with the expected index, and nothing may be refused.
// Then a short backpressure episode: deq_resp not ready for a few clocks stalls the pipeline
// without losing a response.
// With CHIO_VCD=<file>, the first clocks of workload (3) and the backpressure episode are traced
// there (the timing diagrams of docs/rtl.md are drawn from this VCD by rtl/tools/make_docs_img.sh).
#include <gtest/gtest.h>
#include <verilated.h>
#include <verilated_vcd_c.h>

#include <array>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <vector>

#include "Vchio_queue_engine.h"
#include "rtl/qe_random_ops.h"
#include "rtl/qe_stream_driver.h"
#include "tlm-model/queue_engine/rtl_coverage.h"

namespace chio::test {
namespace {

constexpr uint16_t QUEUES = 32;
constexpr uint64_t WARMUP_CLOCKS = 64;
constexpr uint64_t WINDOW_CLOCKS = 20000;

struct rates {
    double db = 0, deq = 0, commit = 0, work = 0;
};

class throughput_bench {
public:
    throughput_bench() : m_top(trace_ready(m_ctx), "top") {
        if (const char* path = std::getenv("CHIO_VCD"); path != nullptr && *path != '\0') {
            m_vcd = std::make_unique<VerilatedVcdC>();
            m_top.trace(m_vcd.get(), 99);
            m_vcd->open(path);
        }
        set_output_ready(m_top, true);
        m_top.rst_ni = 0;
        for (int i = 0; i < 4; ++i) tick();
        m_top.rst_ni = 1;
        for (int i = 0; i < (1 << 14) && !idle(); ++i) tick();
    }
    ~throughput_bench() {
        m_top.final();
        if (m_vcd) m_vcd->close();
        model::write_rtl_coverage(m_ctx);
    }
    throughput_bench(const throughput_bench&) = delete;
    throughput_bench& operator=(const throughput_bench&) = delete;

    // Configures queues [first, first + QUEUES) with 2^10 entries.
    void configure(uint16_t first, bool sched) {
        for (uint16_t q = 0; q < QUEUES; ++q) {
            qe_op c;
            c.kind = qe_op_kind::wq_cfg;
            c.id = static_cast<uint16_t>(first + q);
            c.enable = true;
            c.sched = sched;
            c.log_size = 10;
            drive_input(m_top, c);
            for (bool taken = false; !taken;) {
                m_top.eval();
                taken = input_taken(m_top, c.kind);
                tick();
            }
            clear_input(m_top, c.kind);
        }
        for (int i = 0; i < 100 && !idle(); ++i) tick();
    }

    // Lane l's op number n goes to queue first + n % QUEUES, the same schedule for every lane.
    // same_queue: all lanes start together, so the three ops of a clock hit one queue; else lane
    // l starts l clocks late, so each op finds the previous lane's op of that queue one clock
    // ahead of it (state from the forwarding register) and the lanes of a clock hit 3 queues.
    rates run(uint16_t first, bool same_queue, bool traced = false) {
        std::array<uint64_t, 3> n{};  // ops accepted per lane (db, deq, deq_commit)
        std::vector<uint16_t> pi(QUEUES, 0), fetch(QUEUES, 0);
        const std::array<qe_op_kind, 3> kinds = {qe_op_kind::db, qe_op_kind::deq,
                                                 qe_op_kind::deq_commit};
        std::array<uint64_t, 3> at_start{};
        uint64_t work_at_start = 0;
        for (uint64_t clk = 0; clk < WARMUP_CLOCKS + WINDOW_CLOCKS; ++clk) {
            trace_window(traced && clk < 12, "steady state");
            if (clk == WARMUP_CLOCKS) {
                at_start = n;
                work_at_start = m_work;
            }
            std::array<uint16_t, 3> q{};
            for (size_t l = 0; l < 3; ++l) {
                if (!same_queue && clk < l) continue;
                qe_op o;
                o.kind = kinds[l];
                q[l] = static_cast<uint16_t>(n[l] % QUEUES);
                o.id = static_cast<uint16_t>(first + q[l]);
                if (o.kind == qe_op_kind::db) o.idx = static_cast<uint16_t>(pi[q[l]] + 1);
                drive_input(m_top, o);
            }
            m_top.eval();
            std::array<bool, 3> taken{};
            for (size_t l = 0; l < 3; ++l) taken[l] = input_taken(m_top, kinds[l]);
            check_outputs(first, fetch);
            tick();
            for (size_t l = 0; l < 3; ++l) {
                if (!taken[l]) continue;
                ++n[l];
                if (l == 0) ++pi[q[0]];
            }
        }
        for (const qe_op_kind k : kinds) clear_input(m_top, k);
        for (int i = 0; i < 100 && !idle(); ++i) {
            check_outputs(first, fetch);
            tick();
        }
        const auto w = static_cast<double>(WINDOW_CLOCKS);
        return {static_cast<double>(n[0] - at_start[0]) / w,
                static_cast<double>(n[1] - at_start[1]) / w,
                static_cast<double>(n[2] - at_start[2]) / w,
                static_cast<double>(m_work - work_at_start) / w};
    }

    // Dequeues on one queue of `first` every clock for 12 clocks (after a doorbell that gives
    // them entries) with deq_resp_ready low on clocks 4..6: the responses wait in their FIFO,
    // S1 stalls, deq_req_ready drops, and no response is lost.
    void backpressure(uint16_t first, std::vector<uint16_t>& fetch, bool traced) {
        qe_op db;
        db.kind = qe_op_kind::db;
        db.id = first;
        db.idx = static_cast<uint16_t>(fetch[0] + 32);
        drive_input(m_top, db);
        m_top.eval();
        tick();
        clear_input(m_top, db.kind);
        for (int i = 0; i < 4; ++i) tick();
        const uint64_t deq0 = m_deq_ok;
        int accepted = 0;
        for (int clk = 0; clk < 14; ++clk) {
            trace_window(traced, "backpressure");
            qe_op d;
            d.kind = qe_op_kind::deq;
            d.id = first;
            if (clk < 12) drive_input(m_top, d);
            m_top.deq_resp_ready_i = clk < 4 || clk > 6;
            m_top.eval();
            accepted += input_taken(m_top, d.kind);
            check_outputs(first, fetch);
            tick();
            if (clk >= 11) clear_input(m_top, d.kind);
        }
        m_top.deq_resp_ready_i = 1;
        for (int i = 0; i < 10; ++i) {
            check_outputs(first, fetch);
            tick();
        }
        trace_window(false, "");
        EXPECT_EQ(m_deq_ok - deq0, static_cast<uint64_t>(accepted))
            << "every accepted dequeue gets its response after the stall";
        EXPECT_LT(accepted, 12) << "the stall must have held the dequeue input";
    }

    uint64_t errors() const { return m_errors; }
    uint64_t bad_deqs() const { return m_bad_deqs; }

private:
    bool idle() {
        m_top.eval();
        return m_top.idle_o != 0;
    }
    // Clock n: inputs settle at 2n (clock low), rising edge at 2n + 1 (VCD time unit: half a
    // clock).
    void tick() {
        m_top.eval();
        if (m_tracing) m_vcd->dump(2 * m_clocks);
        m_top.clk_i = 1;
        m_top.eval();
        if (m_tracing) m_vcd->dump(2 * m_clocks + 1);
        m_top.clk_i = 0;
        m_top.eval();
        ++m_clocks;
    }
    static VerilatedContext* trace_ready(VerilatedContext& ctx) {
        if (std::getenv("CHIO_VCD") != nullptr) ctx.traceEverOn(true);
        return &ctx;
    }
    void trace_window(bool on, const char* what) {
        if (!m_vcd || on == m_tracing) return;
        m_tracing = on;
        if (on) std::cout << "VCD window '" << what << "' from t=" << 2 * m_clocks << std::endl;
    }
    // Before an edge: the outputs taken at it (valid and ready).
    void check_outputs(uint16_t first, std::vector<uint16_t>& fetch) {
        m_top.eval();
        m_work += m_top.work_valid_o;
        m_errors += m_top.err_valid_o;
        if (m_top.deq_resp_valid_o && m_top.deq_resp_ready_i) {
            const auto q = static_cast<uint16_t>(m_top.deq_resp_wqid_o - first);
            const bool ok = m_top.deq_resp_status_o == static_cast<int>(spec::qe::status::OK) &&
                            q < QUEUES && m_top.deq_resp_index_o == fetch[q];
            if (ok) {
                ++fetch[q];
                ++m_deq_ok;
            } else {
                ++m_bad_deqs;
            }
        }
    }

    VerilatedContext m_ctx;
    Vchio_queue_engine m_top;
    std::unique_ptr<VerilatedVcdC> m_vcd;
    bool m_tracing = false;
    uint64_t m_clocks = 0;
    uint64_t m_deq_ok = 0;
    uint64_t m_work = 0;
    uint64_t m_errors = 0;
    uint64_t m_bad_deqs = 0;
};

void report(const char* name, const rates& r) {
    std::cout << "qe_throughput " << name << ": db " << r.db << "/clock, deq " << r.deq
              << "/clock, deq_commit " << r.commit << "/clock, work " << r.work << "/clock; total "
              << r.db + r.deq + r.commit << " ops/clock over " << WINDOW_CLOCKS << " clocks"
              << std::endl;
}

TEST(queue_engine_throughput, one_doorbell_and_one_dequeue_per_clock) {
    throughput_bench b;
    b.configure(0, false);
    b.configure(64, false);
    b.configure(128, true);

    const rates spread = b.run(0, false);
    report("receive queues, lanes on different queues", spread);
    const rates same = b.run(64, true);
    report("receive queues, all lanes on one queue per clock", same);
    const rates send = b.run(128, true, true);
    report("send queues (work tokens), all lanes on one queue per clock", send);

    b.configure(192, false);
    std::vector<uint16_t> fetch(QUEUES, 0);
    b.backpressure(192, fetch, true);

    EXPECT_EQ(b.errors(), 0u) << "the schedule's ops are all valid";
    EXPECT_EQ(b.bad_deqs(), 0u) << "every dequeue must return the next entry";
    for (const rates& r : {spread, same, send}) {
        EXPECT_GE(r.db, 1.0);
        EXPECT_GE(r.deq, 1.0);
        EXPECT_GE(r.commit, 1.0);
    }
    EXPECT_GE(send.work, 1.0) << "each doorbell of an idle send queue raises a work token";
}

}  // namespace
}  // namespace chio::test
