// The queue engine backed by the Verilated RTL (rtl/chio_queue_engine.sv, --cc model).
//
// Each call drives its input stream (valid held until the RTL's ready), then clocks the model
// until the pipeline is idle (idle_o: no op in flight, every output FIFO drained). Every output
// ready is held high, and every output element is collected at the clock edge that takes it, into
// the response slot or the work/event/err FIFOs; so all outputs of a call are visible when it
// returns, as the seam requires. One context (VerilatedContext) per instance, made the thread's
// current context on every call: several engines may coexist in one thread.
//
// Tracing: with options.trace_file set, a VCD (1 ps units) of all RTL signals is written there.
// Each clock is stamped t = max(last t + clock_ps, now_ps()) (rising edge at t, falling edge at
// t + clock_ps / 2), so time never goes back although the RTL runs in zero-time batches.
#pragma once

#include <deque>
#include <memory>

#include "tlm-model/queue_engine/queue_engine.h"

class Vchio_queue_engine;
class VerilatedContext;
class VerilatedVcdC;

namespace chio::model {

class queue_engine_rtl : public queue_engine {
public:
    explicit queue_engine_rtl(const queue_engine_options& opt = {});
    ~queue_engine_rtl() override;
    queue_engine_rtl(const queue_engine_rtl&) = delete;
    queue_engine_rtl& operator=(const queue_engine_rtl&) = delete;

    void wq_cfg(const qe_wq_cfg& c) override;
    void cr_cfg(const qe_cr_cfg& c) override;
    void db(const qe_db& d) override;
    qe_deq_resp deq(const qe_deq_req& r) override;
    void deq_commit(const qe_deq_commit& c) override;
    qe_cq_resp cq(const qe_cq_req& r) override;
    void cq_commit(const qe_cq_commit& c) override;
    void arm(const qe_arm& a) override;

    bool pop_work(qe_work& w) override;
    bool pop_event(qe_event& e) override;
    bool pop_err(qe_err& e) override;

    uint64_t cycles() const override { return m_cycles; }
    const char* kind() const override { return "rtl"; }

private:
    // Holds the input stream's valid (set by the caller with its payload) until the RTL takes
    // it, then drops it and clocks until the engine is idle.
    void handshake(unsigned char& valid, const unsigned char& ready);
    void run_until_idle();
    // One clock: collect the outputs taken at this edge, rising and falling edge. Called with
    // the model settled (eval() after the last input change): each clock costs two eval()s.
    void tick();
    void collect_outputs();
    void dump(uint64_t t);
    void check_progress(uint64_t start, const char* what) const;
    void use_context() const;

    std::unique_ptr<VerilatedContext> m_ctx;
    std::unique_ptr<Vchio_queue_engine> m_top;
    std::unique_ptr<VerilatedVcdC> m_trace;
    queue_engine_options m_opt;
    uint64_t m_cycles = 0;
    uint64_t m_last_t = 0;
    uint64_t m_now_ps = 0;  // now_ps() at the start of the current call
    bool m_traced_any = false;
    bool m_initialized = false;  // reset and RAM clearing done (not traced)

    bool m_have_deq_resp = false;
    qe_deq_resp m_deq_resp;
    bool m_have_cq_resp = false;
    qe_cq_resp m_cq_resp;
    std::deque<qe_work> m_work;
    std::deque<qe_event> m_event;
    std::deque<qe_err> m_err;
};

}  // namespace chio::model
