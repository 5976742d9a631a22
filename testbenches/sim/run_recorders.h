// What a chio-sim run records besides its statistics: the waveform (with its .gtkw save file),
// the span log, and the times of the first work request (for `./chio demo`'s picture).
//
// Tracing off costs nothing here: without --trace and --spans no recorder exists and no probe
// is installed beyond the cheap first-work-request marks.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "testbenches/scenarios/options.h"
#include "tlm-model/adapter/adapter.h"
#include "tlm-model/trace/adapter_spans.h"
#include "tlm-model/trace/tracer.h"

namespace chio::tb {

class run_recorders {
public:
    // Before the platform exists: opens the outputs, so a bad path fails before the run.
    explicit run_recorders(const sim_options& o);
    // Where the Verilated queue engine should write its VCD ("" for none), and when.
    const std::string& rtl_vcd() const { return m_rtl_vcd; }
    void set_rtl_trace_options(model::queue_engine_options& q) const;
    // Once the platform exists: installs the probes on its adapter.
    void attach(model::adapter& a);
    // A failure found outside the probes (lockstep mismatch, failed check) at time_ps.
    void fail(uint64_t time_ps, const std::string& reason);
    // After the simulation, before the platform is destroyed: closes the span log.
    void end_of_simulation();
    // After the platform is destroyed (the RTL's VCD is closed): merges and writes the
    // waveform and its save file. Adds a "trace" object and the first work request's times.
    void finish(nlohmann::json& stats);
    // One line for the summary ("" when nothing was traced).
    std::string summary() const { return m_summary; }

private:
    const sim_options& m_o;
    std::unique_ptr<model::tracer> m_tracer;
    std::unique_ptr<model::adapter_spans> m_spans;
    std::string m_rtl_vcd;
    bool m_rerun_rtl = false;  // triggered, RTL engine: re-run the window for the RTL's signals
    std::string m_summary;
    // The first work request: the first SQ doorbell, and the send and receive CQEs of the wr_id
    // that completes first after it (the window ./chio demo zooms on).
    uint64_t m_db_ps = UINT64_MAX, m_send_ps = UINT64_MAX, m_recv_ps = UINT64_MAX;
    uint64_t m_first_wr_id = 0;
    bool m_have_first_wr = false;
};

}  // namespace chio::tb
