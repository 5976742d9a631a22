// Verilated queue engine: see queue_engine_rtl.h for the driving protocol.
#include "tlm-model/queue_engine/queue_engine_rtl.h"

#include <verilated.h>
#include <verilated_vcd_c.h>

#include <algorithm>
#include <stdexcept>
#include <string>

#include "Vchio_queue_engine.h"
#include "tlm-model/queue_engine/rtl_coverage.h"

namespace chio::model {

namespace {

// An op takes a few clocks; a call that has not finished after this many is an RTL bug (a lost
// handshake or a stuck pipeline), reported instead of hanging the simulation.
constexpr uint64_t MAX_CYCLES_PER_CALL = 10000;
// Reset is held for a few clocks; then the engine clears its RAMs (one word per clock).
constexpr int RESET_CYCLES = 4;
constexpr uint64_t MAX_INIT_CYCLES = 4 * spec::qe::NUM_WQ + 4 * spec::qe::NUM_CR;

}  // namespace

queue_engine_rtl::queue_engine_rtl(const queue_engine_options& opt)
    : m_ctx(std::make_unique<VerilatedContext>()), m_opt(opt) {
    // Trace time stamps are picoseconds; two stamps per clock need at least 2 ps per clock.
    m_opt.clock_ps = std::max<uint64_t>(m_opt.clock_ps, 2);
    m_ctx->timeunit(-12);
    m_ctx->timeprecision(-12);
    m_now_ps = m_opt.now_ps ? m_opt.now_ps() : 0;
    if (!m_opt.trace_file.empty()) m_ctx->traceEverOn(true);
    m_top = std::make_unique<Vchio_queue_engine>(m_ctx.get(), "chio_queue_engine");
    if (!m_opt.trace_file.empty()) {
        m_trace = std::make_unique<VerilatedVcdC>();
        m_top->trace(m_trace.get(), 99);
        m_trace->open(m_opt.trace_file.c_str());
        if (!m_trace->isOpen()) {
            throw std::runtime_error("queue_engine_rtl: cannot open trace file " +
                                     m_opt.trace_file);
        }
    }
    // Every output is always taken: the C++ side has unbounded FIFOs.
    m_top->work_ready_i = 1;
    m_top->event_ready_i = 1;
    m_top->err_ready_i = 1;
    m_top->deq_resp_ready_i = 1;
    m_top->cq_resp_ready_i = 1;
    m_top->clk_i = 0;
    m_top->rst_ni = 0;
    m_top->eval();
    for (int i = 0; i < RESET_CYCLES; ++i) tick();
    m_top->rst_ni = 1;
    const uint64_t start = m_cycles;
    for (;;) {
        m_top->eval();
        if (m_top->idle_o) break;
        if (m_cycles - start > MAX_INIT_CYCLES) {
            throw std::runtime_error("queue_engine_rtl: RTL did not finish clearing after reset");
        }
        tick();
    }
    // Reset and RAM clearing are power-on, before simulated time starts: they are not dumped,
    // and the RTL's trace clock restarts so its first traced cycle lines up with the model's time
    // (otherwise the clearing cycles would put every later RTL change microseconds ahead).
    m_initialized = true;
    m_traced_any = false;
}

// Verilator 5.006 registers and erases a model's scopes through the calling thread's current
// context (Verilated::threadContextp), not the model's own. With several engines in a process the
// current context may belong to another engine, or to one already destroyed (a hang at exit was
// seen), so every entry point makes this engine's context current first.
void queue_engine_rtl::use_context() const { Verilated::threadContextp(m_ctx.get()); }

queue_engine_rtl::~queue_engine_rtl() {
    use_context();
    m_top->final();
    write_rtl_coverage(*m_ctx);
    if (m_trace) m_trace->close();
    m_trace.reset();
    m_top.reset();
    m_ctx.reset();
    // Leave no pointer to the destroyed context behind; Verilator falls back to its default.
    Verilated::threadContextp(nullptr);
}

void queue_engine_rtl::dump(uint64_t t) {
    if (m_trace && m_initialized && t >= m_opt.trace_from_ps && t <= m_opt.trace_to_ps) {
        m_trace->dump(t);
    }
}

void queue_engine_rtl::tick() {
    collect_outputs();
    uint64_t t = m_traced_any ? m_last_t + m_opt.clock_ps : 0;
    t = std::max(t, m_now_ps);
    m_traced_any = true;
    m_last_t = t;
    m_ctx->time(t);
    m_top->clk_i = 1;
    m_top->eval();
    dump(t);
    m_ctx->time(t + m_opt.clock_ps / 2);
    m_top->clk_i = 0;
    m_top->eval();
    dump(t + m_opt.clock_ps / 2);
    ++m_cycles;
}

// Called with the inputs settled before a rising edge: every valid output is taken at that edge
// (ready is always high), so it is recorded exactly once.
void queue_engine_rtl::collect_outputs() {
    Vchio_queue_engine& m = *m_top;
    if (m.work_valid_o) m_work.push_back(qe_work{m.work_wqid_o});
    if (m.event_valid_o) m_event.push_back(qe_event{m.event_crid_o, m.event_target_o});
    if (m.err_valid_o) {
        m_err.push_back(qe_err{static_cast<spec::qe::error>(m.err_code_o), m.err_is_cr_o != 0,
                               m.err_id_o, m.err_fn_o});
    }
    if (m.deq_resp_valid_o) {
        m_have_deq_resp = true;
        m_deq_resp = qe_deq_resp{static_cast<spec::qe::status>(m.deq_resp_status_o),
                                 m.deq_resp_wqid_o, m.deq_resp_index_o};
    }
    if (m.cq_resp_valid_o) {
        m_have_cq_resp = true;
        m_cq_resp = qe_cq_resp{static_cast<spec::qe::status>(m.cq_resp_status_o), m.cq_resp_crid_o,
                               m.cq_resp_index_o, m.cq_resp_phase_o != 0};
    }
}

void queue_engine_rtl::check_progress(uint64_t start, const char* what) const {
    if (m_cycles - start > MAX_CYCLES_PER_CALL) {
        throw std::runtime_error(std::string("queue_engine_rtl: RTL stuck waiting for ") + what);
    }
}

void queue_engine_rtl::handshake(unsigned char& valid, const unsigned char& ready) {
    use_context();
    // Simulated time stands still during a call (the RTL runs in a zero-time batch): read once.
    m_now_ps = m_opt.now_ps ? m_opt.now_ps() : 0;
    valid = 1;
    m_top->eval();  // the changed inputs settle before the edge that may take them
    const uint64_t start = m_cycles;
    for (;;) {
        const bool taken = ready != 0;
        tick();
        if (taken) break;
        check_progress(start, "input ready");
    }
    valid = 0;
    m_top->eval();
    run_until_idle();
}

void queue_engine_rtl::run_until_idle() {
    // The outputs are settled here: by the caller's eval() after its last input change, then by
    // each tick's falling-edge eval() (no input changes between clocks).
    const uint64_t start = m_cycles;
    while (!m_top->idle_o) {
        tick();
        check_progress(start, "idle");
    }
}

void queue_engine_rtl::wq_cfg(const qe_wq_cfg& c) {
    m_top->wq_cfg_wqid_i = c.wqid;
    m_top->wq_cfg_enable_i = c.enable;
    m_top->wq_cfg_sched_i = c.sched;
    m_top->wq_cfg_owner_fn_i = c.owner_fn;
    m_top->wq_cfg_log_size_i = c.log_size;
    handshake(m_top->wq_cfg_valid_i, m_top->wq_cfg_ready_o);
}

void queue_engine_rtl::cr_cfg(const qe_cr_cfg& c) {
    m_top->cr_cfg_crid_i = c.crid;
    m_top->cr_cfg_enable_i = c.enable;
    m_top->cr_cfg_owner_fn_i = c.owner_fn;
    m_top->cr_cfg_log_size_i = c.log_size;
    m_top->cr_cfg_target_i = c.target;
    handshake(m_top->cr_cfg_valid_i, m_top->cr_cfg_ready_o);
}

void queue_engine_rtl::db(const qe_db& d) {
    m_top->db_fn_i = d.fn;
    m_top->db_wqid_i = d.wqid;
    m_top->db_pi_i = d.pi;
    handshake(m_top->db_valid_i, m_top->db_ready_o);
}

qe_deq_resp queue_engine_rtl::deq(const qe_deq_req& r) {
    m_top->deq_req_wqid_i = r.wqid;
    m_have_deq_resp = false;
    handshake(m_top->deq_req_valid_i, m_top->deq_req_ready_o);
    if (!m_have_deq_resp) throw std::runtime_error("queue_engine_rtl: deq got no deq_resp");
    return m_deq_resp;
}

void queue_engine_rtl::deq_commit(const qe_deq_commit& c) {
    m_top->deq_commit_wqid_i = c.wqid;
    handshake(m_top->deq_commit_valid_i, m_top->deq_commit_ready_o);
}

qe_cq_resp queue_engine_rtl::cq(const qe_cq_req& r) {
    m_top->cq_req_crid_i = r.crid;
    m_have_cq_resp = false;
    handshake(m_top->cq_req_valid_i, m_top->cq_req_ready_o);
    if (!m_have_cq_resp) throw std::runtime_error("queue_engine_rtl: cq got no cq_resp");
    return m_cq_resp;
}

void queue_engine_rtl::cq_commit(const qe_cq_commit& c) {
    m_top->cq_commit_crid_i = c.crid;
    m_top->cq_commit_solicited_i = c.solicited;
    handshake(m_top->cq_commit_valid_i, m_top->cq_commit_ready_o);
}

void queue_engine_rtl::arm(const qe_arm& a) {
    m_top->arm_fn_i = a.fn;
    m_top->arm_crid_i = a.crid;
    m_top->arm_ci_i = a.ci;
    m_top->arm_arm_i = a.arm;
    m_top->arm_solicited_i = a.solicited;
    handshake(m_top->arm_valid_i, m_top->arm_ready_o);
}

namespace {
template <typename T>
bool pop_front(std::deque<T>& q, T& out) {
    if (q.empty()) return false;
    out = q.front();
    q.pop_front();
    return true;
}
}  // namespace

bool queue_engine_rtl::pop_work(qe_work& w) { return pop_front(m_work, w); }
bool queue_engine_rtl::pop_event(qe_event& e) { return pop_front(m_event, e); }
bool queue_engine_rtl::pop_err(qe_err& e) { return pop_front(m_err, e); }

}  // namespace chio::model
