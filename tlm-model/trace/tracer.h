// The run's waveform writer: one VCD (or FST) file holding the model's own signals and the
// signals of any Verilator VCD registered with add_vcd(), on one time axis in picoseconds.
//
// Contract
// - Cost when tracing is off: blocks hold a `tracer*` that is null and guard every call with
//   `if (m_tracer)`; no tracer object, buffer or file exists, so the cost is one predictable
//   branch per traced event.
// - add(scope, name, width) declares a signal. The scope is the dot-separated hierarchy
//   ("host0.adapter0.pf0"); each level becomes a nested $scope. Width is 1..64 bits. A signal may
//   be added at any time before close(); it shows as x until its first set().
// - set(s, value, time_ps) records a value change. Calls must come in non-decreasing time order,
//   because a VCD lists changes in time order and the writer streams them to disk in chunks
//   instead of sorting the whole run in memory. A time earlier than the last one is clamped to
//   the last one and counted (clamped_count()), so a stray late event shifts in time instead of
//   corrupting the file. Bits above the width are dropped; a set() that repeats the signal's
//   current value writes nothing.
// - add_vcd(path) registers a VCD written by Verilator (VerilatedVcdC, timescale 1 ps, time in
//   the same simulated picoseconds as set()). It is read at close(), so the Verilated model's
//   trace must be closed before this tracer is. Its scopes keep their names (Verilator's top is
//   "TOP"), its identifier codes are renumbered after ours, and its value changes are merged
//   with ours by timestamp into the one output file. add_vcd(path, scope) hangs the file's
//   hierarchy below `scope` instead: the dotted scope takes the place of the file's outermost
//   scope (Verilator's top, named after the model), so RTL signals sit in the model's hierarchy
//   (e.g. host0.adapter0.queue_engine.clk_i) on the same timeline.
// - close() writes the output. If the path ends in ".fst", a VCD is written next to it
//   (path + ".tmp.vcd"), converted with `vcd2fst` from the gtkwave package, and deleted. The
//   constructor already checks that vcd2fst is on PATH, so a long run does not end in an error.
// - Errors (bad arguments, unwritable files, a malformed VCD to merge, a failed conversion) throw
//   std::invalid_argument or std::runtime_error with one line naming the value or file.
// - Cheap recording (tracer_options): a time window keeps only the changes in [from_ps, to_ps]
//   and writes the values current at from_ps as the window's first block; a scope filter
//   (scope_filter.h) leaves unmatched signals out of the file (their set() returns at once);
//   triggered capture keeps recent changes in a fixed-size ring in memory and writes nothing
//   until trigger(): then the window [t - pre_ps, t + post_ps] is written (values at its start
//   first) and the rest of the run is dropped. Merged VCDs get the same window and filter at
//   close(). A triggered run that never triggers writes a file with declarations only.
// - Not thread-safe: SystemC runs all processes on one OS thread.
#pragma once

#include <cstdint>
#include <fstream>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "tlm-model/trace/scope_filter.h"
#include "tlm-model/trace/traced_signal.h"

namespace chio::model {

struct tracer_options {
    uint64_t from_ps = 0;           // first time recorded
    uint64_t to_ps = UINT64_MAX;    // last time recorded
    std::string scopes;             // scope_filter patterns; empty: every scope
    bool triggered = false;         // record only around the first trigger(); from/to unused
    uint64_t pre_ps = 10'000'000;   // triggered: span kept before the trigger (10 us)
    uint64_t post_ps = 5'000'000;   // triggered: span recorded after it (5 us)
    size_t ring_entries = 1 << 18;  // triggered: changes held in memory (24 bytes each)
};

class tracer {
public:
    // Handle to a declared signal; valid only with the tracer that returned it.
    struct signal {
        uint32_t index = UINT32_MAX;
    };

    explicit tracer(std::string path, tracer_options options = {});
    ~tracer();  // calls close() if needed; an error there is printed, since it cannot be thrown
    tracer(const tracer&) = delete;
    tracer& operator=(const tracer&) = delete;

    signal add(const std::string& scope, const std::string& name, unsigned width);
    void set(signal s, uint64_t value, uint64_t time_ps);
    void add_vcd(const std::string& vcd_path, const std::string& scope_prefix = "");
    void close();

    // Marks the event a triggered capture waits for (an error completion, a lockstep mismatch);
    // only the first call counts. Without options.triggered it is recorded but changes nothing.
    void trigger(uint64_t time_ps, const std::string& reason);
    bool triggered() const { return m_trigger_fired; }
    const std::string& trigger_reason() const { return m_trigger_reason; }
    uint64_t trigger_time_ps() const { return m_trigger_ps; }
    // The window actually written, [first, last] in ps (valid once recording began).
    uint64_t window_from_ps() const { return m_from; }
    uint64_t window_to_ps() const { return m_to; }

    // After close(): every signal in the written file (ours and the merged VCDs'), in file order.
    const std::vector<traced_signal>& written_signals() const { return m_written; }

    // Number of set() calls whose time went backwards and was clamped.
    uint64_t clamped_count() const { return m_clamped; }

private:
    struct signal_info {
        std::string scope;
        std::string name;
        unsigned width;
        std::string code;  // VCD identifier code
        uint64_t value = 0;
        bool has_value = false;
        bool enabled = true;  // kept by the scope filter
        uint64_t base = 0;    // triggered: value before the oldest change in the ring
        bool has_base = false;
    };
    // What happens to a change: held back before the window, written inside it, dropped after.
    enum class phase { waiting, recording, done };
    struct ring_entry {
        uint64_t time;
        uint64_t value;
        uint32_t index;
    };

    void stamp(uint64_t time);
    void write_value(const signal_info& sig, uint64_t value);
    void open_window(uint64_t from, uint32_t skip);
    void ring_push(uint32_t index, uint64_t value);
    void ring_pop();
    void flush();
    void write_output();

    std::string m_path;       // what the user asked for (.vcd or .fst)
    std::string m_vcd_path;   // the VCD written at close(): m_path, or a temporary for .fst
    std::string m_body_path;  // our value changes, spooled here until close()
    bool m_fst = false;
    std::ofstream m_body;
    std::string m_buf;  // value changes not yet written to m_body
    std::vector<signal_info> m_signals;
    std::vector<traced_signal> m_written;
    std::set<std::string> m_names;  // "scope.name" of every signal, to refuse duplicates
    std::vector<std::pair<std::string, std::string>> m_vcds;  // (path, scope prefix)
    uint64_t m_time = 0;                                      // latest time seen by set()
    uint64_t m_stamped = 0;       // latest timestamp written to m_buf or m_body
    bool m_time_written = false;  // a timestamp was written at all
    uint64_t m_clamped = 0;
    bool m_closed = false;

    tracer_options m_opt;
    scope_filter m_filter;
    phase m_phase = phase::recording;
    uint64_t m_from = 0;
    uint64_t m_to = UINT64_MAX;
    std::vector<ring_entry> m_ring;  // triggered: circular, m_ring_head is the oldest
    size_t m_ring_head = 0;
    size_t m_ring_size = 0;
    uint64_t m_base_time = 0;  // time of the newest change folded into the base values
    bool m_trigger_fired = false;
    std::string m_trigger_reason;
    uint64_t m_trigger_ps = 0;
};

}  // namespace chio::model
