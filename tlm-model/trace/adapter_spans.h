// Writes an adapter's activity as a Chrome/Perfetto trace-event file (JSON object format:
// {"traceEvents":[...]}; open it in ui.perfetto.dev or chrome://tracing), for those who read
// transactions on a timeline rather than signals in a waveform.
//
// Contract
// - Every doorbell, DMA transfer, CQE, EQE and command is one complete event ("ph":"X") with
//   its fields in "args". The probes report the instant an event happens (the DMA probe when the
//   transfer is issued, the command probe when it retires), so these have "dur": 0.
// - Spans with a real duration are derived from them: a work request runs from the doorbell
//   that posted it to its CQE (per queue, in order: RC completes a queue's WQEs in order, and
//   flushes complete the rest in order too), and a QP stays in a state from one qp_state change
//   to the next (closed at close()).
// - Tracks ("tid") separate the kinds; overlapping work requests of one queue go to separate
//   lanes, because the format requires the events of one track to nest.
// - Times: "ts" and "dur" in microseconds of simulated time, with picosecond resolution.
// - Events are streamed to the file as they happen; memory holds only open work requests.
// - Errors (unwritable file) throw std::runtime_error naming the file. Not thread-safe.
#pragma once

#include <cstdint>
#include <cstdio>
#include <deque>
#include <map>
#include <string>
#include <vector>

#include "tlm-model/adapter/adapter.h"

namespace chio::model {

class adapter_spans {
public:
    // Opens `path` and adds probes to `a` (which must outlive this object's use by the probes:
    // close() before the adapter goes).
    adapter_spans(const std::string& path, adapter& a, const std::string& process_name);
    ~adapter_spans();  // closes; an error there is printed, since it cannot be thrown
    adapter_spans(const adapter_spans&) = delete;
    adapter_spans& operator=(const adapter_spans&) = delete;

    void close();
    uint64_t events() const { return m_events; }

private:
    struct queue_state {
        uint16_t pi = 0;  // producer index of the last doorbell
        bool seen = false;
        std::deque<uint64_t> posted_ps;  // doorbell time of each WQE not yet completed
        std::vector<uint64_t> lane_end;  // per lane: end of its last work request
    };
    struct qp_span {
        uint64_t since_ps = 0;
        spec::qp_state state{};
    };

    void on_doorbell(uint16_t fn, uint16_t wqid, uint16_t pi);
    void on_cqe(uint32_t cqn, const spec::cqe& c);
    void on_eqe(uint32_t eqn, const spec::eqe& e);
    void on_qp_state(uint32_t qpn, spec::qp_state s);
    void on_command(uint16_t opcode, uint8_t status);
    void on_dma(uint16_t fn, bool write, uint64_t addr, uint64_t len, bool ok);

    // One "X" event; args is a JSON object body without braces ("\"qpn\":3").
    void emit(const char* name, const char* cat, uint32_t tid, uint64_t start_ps, uint64_t end_ps,
              const std::string& args);
    void name_track(uint32_t tid, const std::string& name);
    uint32_t track_for(uint16_t wqid, uint64_t start_ps, uint64_t end_ps);

    std::string m_path;
    std::FILE* m_file = nullptr;
    bool m_first = true;
    uint64_t m_events = 0;
    std::map<uint16_t, queue_state> m_queues;  // by wqid
    std::map<uint32_t, qp_span> m_qps;         // by QPN
    std::map<uint32_t, bool> m_named;          // tracks already named
};

}  // namespace chio::model
