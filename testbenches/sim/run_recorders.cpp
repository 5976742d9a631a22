#include "testbenches/sim/run_recorders.h"

#include <filesystem>
#include <systemc>

#include "testbenches/sim/window_rerun.h"
#include "tlm-model/trace/adapter_trace.h"
#include "tlm-model/trace/gtkw_writer.h"
#include "tlm-model/trace/probe_chain.h"

namespace chio::tb {
namespace {

// The adapter's place in the platform, and the RTL queue engine's below it.
constexpr const char* ADAPTER_SCOPE = "host0.adapter0";
constexpr const char* RTL_SCOPE = "host0.adapter0.queue_engine";

uint64_t now_ps() {
    return static_cast<uint64_t>(sc_core::sc_time_stamp().value() /
                                 sc_core::sc_time(1, sc_core::SC_PS).value());
}

double ns(uint64_t ps) { return ps == UINT64_MAX ? -1.0 : static_cast<double>(ps) / 1000.0; }

}  // namespace

run_recorders::run_recorders(const sim_options& o) : m_o(o) {
    if (!o.trace.empty()) {
        model::tracer_options t;
        t.from_ps = o.trace_from_ps;
        t.to_ps = o.trace_to_ps;
        t.scopes = o.trace_scope;
        t.triggered = o.trace_trigger;
        t.pre_ps = o.trace_pre_ps;
        t.post_ps = o.trace_post_ps;
        m_tracer = std::make_unique<model::tracer>(o.trace, t);
        // The RTL writes its own VCD, merged at the end; not at all when the scope filter
        // leaves none of it, so a filtered run does not pay for RTL tracing. A triggered run
        // does not trace the RTL either: after the trigger, the window is re-run for it.
        if (o.queue_engine != model::queue_engine_kind::model &&
            model::scope_filter(o.trace_scope).may_keep_below(RTL_SCOPE)) {
            if (o.trace_trigger) {
                m_rerun_rtl = true;
            } else {
                m_rtl_vcd = o.trace + ".rtl.vcd";
            }
        }
    }
}

void run_recorders::set_rtl_trace_options(model::queue_engine_options& q) const {
    q.trace_file = m_rtl_vcd;
    // A time window applies to the RTL's own dump too, so the RTL runs untraced outside it.
    if (!m_o.trace_trigger) {
        q.trace_from_ps = m_o.trace_from_ps;
        q.trace_to_ps = m_o.trace_to_ps;
    }
}

void run_recorders::attach(model::adapter& a) {
    if (m_tracer) model::attach_adapter_trace(a, *m_tracer, ADAPTER_SCOPE);
    if (!m_o.spans.empty())
        m_spans = std::make_unique<model::adapter_spans>(m_o.spans, a, "host0.adapter0");
    model::adapter_probes& p = a.probes();
    // Marks of the first work request: a few compares per event, kept even without tracing so
    // the stats always say where to look.
    model::chain_probe(p.doorbell, [this](uint16_t, uint16_t wqid, uint16_t) {
        if (m_db_ps == UINT64_MAX && wqid % 2 == 0) m_db_ps = now_ps();
    });
    model::chain_probe(p.cqe, [this](uint32_t, const spec::cqe& c) {
        // The first completion names the first work request; its send and receive CQEs may
        // come in either order (the receive side often completes first).
        if (m_db_ps != UINT64_MAX && !m_have_first_wr) {
            m_have_first_wr = true;
            m_first_wr_id = c.wr_id;
        }
        if (m_have_first_wr && c.wr_id == m_first_wr_id) {
            const bool recv = c.opcode >= static_cast<uint8_t>(spec::cqe_opcode::RECV);
            uint64_t& mark = recv ? m_recv_ps : m_send_ps;
            if (mark == UINT64_MAX) mark = now_ps();
        }
        // --trace-trigger error: the first error completion opens the window.
        if (c.status != static_cast<uint8_t>(spec::cqe_status::SUCCESS) && m_tracer) {
            m_tracer->trigger(
                now_ps(),
                "error completion " +
                    std::string(spec::to_string(static_cast<spec::cqe_status>(c.status))) +
                    " on QP " + std::to_string(c.qpn) + " wr_id " + std::to_string(c.wr_id));
        }
    });
}

void run_recorders::fail(uint64_t time_ps, const std::string& reason) {
    if (m_tracer) m_tracer->trigger(time_ps, reason);
}

void run_recorders::end_of_simulation() {
    if (m_spans) m_spans->close();
}

void run_recorders::finish(nlohmann::json& stats) {
    stats["first_wr"] = {{"doorbell_ns", ns(m_db_ps)},
                         {"send_cqe_ns", ns(m_send_ps)},
                         {"recv_cqe_ns", ns(m_recv_ps)}};
    if (m_spans) stats["spans"] = {{"file", m_o.spans}, {"events", m_spans->events()}};
    if (!m_tracer) return;
    if (!m_rtl_vcd.empty()) m_tracer->add_vcd(m_rtl_vcd, RTL_SCOPE);
    std::string rerun_vcd, rerun_error;
    if (m_rerun_rtl && m_tracer->triggered()) {
        // The child's VCD already names the RTL below RTL_SCOPE: merged without a prefix.
        rerun_vcd = m_o.trace + ".window.vcd";
        rerun_error = rerun_rtl_window(m_o, RTL_SCOPE, m_tracer->window_from_ps(),
                                       m_tracer->window_to_ps(), rerun_vcd);
        if (rerun_error.empty()) m_tracer->add_vcd(rerun_vcd);
    }
    m_tracer->close();
    if (!m_rtl_vcd.empty()) std::remove(m_rtl_vcd.c_str());
    if (!rerun_vcd.empty()) std::remove(rerun_vcd.c_str());
    // A save file beside every trace, so it opens with the reviewer's signals in place (not for
    // a window's re-run, whose trace is merged into its parent's).
    if (m_o.stop_at_ps == UINT64_MAX) {
        model::write_gtkw(model::gtkw_path_for(m_o.trace), m_o.trace, m_tracer->written_signals());
    }
    const auto bytes = std::filesystem::file_size(m_o.trace);
    nlohmann::json t = {{"file", m_o.trace},
                        {"gtkw", model::gtkw_path_for(m_o.trace)},
                        {"bytes", bytes},
                        {"rtl_traced", !m_rtl_vcd.empty()},
                        {"clamped", m_tracer->clamped_count()}};
    if (m_o.trace_trigger) {
        t["trigger"] = {{"rtl_rerun", m_rerun_rtl && m_tracer->triggered()},
                        {"rtl_rerun_error", rerun_error},
                        {"fired", m_tracer->triggered()},
                        {"reason", m_tracer->trigger_reason()},
                        {"time_ns", ns(m_tracer->trigger_time_ps())}};
    }
    const bool windowed = m_o.trace_from_ps != 0 || m_o.trace_to_ps != UINT64_MAX;
    if (m_o.trace_trigger ? m_tracer->triggered() : windowed) {
        const uint64_t to = m_tracer->window_to_ps();
        t["window_ns"] = {ns(m_tracer->window_from_ps()),
                          to == UINT64_MAX ? nlohmann::json() : nlohmann::json(ns(to))};
    }
    stats["trace"] = t;
    if (m_o.trace_trigger && !m_tracer->triggered()) {
        m_summary = "trigger never fired: the waveform holds declarations only";
    } else if (m_o.trace_trigger) {
        char buf[160];
        std::snprintf(buf, sizeof(buf), "triggered at %.3f us, window %.3f..%.3f us: ",
                      ns(m_tracer->trigger_time_ps()) / 1000, ns(m_tracer->window_from_ps()) / 1000,
                      ns(m_tracer->window_to_ps()) / 1000);
        m_summary = buf + m_tracer->trigger_reason();
        if (!rerun_error.empty()) m_summary += " (RTL signals missing: " + rerun_error + ")";
    }
}

}  // namespace chio::tb
