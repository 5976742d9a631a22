// Writes one VCD file from several sources of value changes, merged by timestamp: the tracer's
// own spool (headerless, its signals declared with declare()) and Verilator VCD files.
//
// Contract
// - Identifier codes given to declare() are written unchanged. Each var of a source with a header
//   gets a fresh code that no other signal uses; vars sharing a code in their file (aliases) keep
//   sharing the fresh one.
// - Scopes from all sources form one tree: a scope with the same path in two sources is one scope
//   in the output. Two vars with the same name in the same scope are an error.
// - Output times strictly increase; the changes of one time from all sources follow one
//   timestamp, in source order. A source block whose time is earlier than that source's previous
//   block is clamped to it and counted.
// - set_filter() leaves the vars of sources with a header whose output scope it does not keep out
//   of the file, with their changes. set_window(from, to) keeps the changes in [from, to] of
//   those sources; the values they hold at `from` are written at `from`. (The tracer applies
//   both to its own signals before they reach the spool.)
// - Errors throw std::runtime_error with one line naming the file and the problem.
#pragma once

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "tlm-model/trace/scope_filter.h"
#include "tlm-model/trace/traced_signal.h"
#include "tlm-model/trace/vcd_reader.h"

namespace chio::model {

struct vcd_scope_node;  // one $scope of the output: its vars and child scopes (vcd_merge.cpp)

// The VCD identifier code of index i: printable ASCII 33..126, least significant digit first.
std::string vcd_id_code(uint64_t index);

class vcd_merge {
public:
    explicit vcd_merge(std::string out_path);
    ~vcd_merge();

    // Declares one of the tracer's own signals. Call it for all of them before add_source().
    void declare(const std::string& dotted_scope, const std::string& name, unsigned width,
                 const std::string& code);
    // Opens the source now (a source with a header has its vars declared); read by write().
    // A non-empty dotted `scope_prefix` takes the place of the file's outermost scope (for a
    // Verilator VCD, the top named after the model), so the file's hierarchy hangs below it.
    void add_source(const std::string& path, bool has_header, const std::string& scope_prefix = "");
    void set_filter(const scope_filter& f) { m_filter = f; }
    void set_window(uint64_t from_ps, uint64_t to_ps) {
        m_from = from_ps;
        m_to = to_ps;
    }
    // Writes the file; returns the number of clamped time blocks.
    uint64_t write();
    // Every signal declared so far (own and from sources), in order of declaration; one entry
    // per name, so aliases of one code appear under each of their names.
    const std::vector<traced_signal>& signals() const { return m_signals; }

private:
    struct source {
        std::string path;
        std::unique_ptr<vcd_reader> reader;
        std::unordered_map<std::string, std::string> codes;  // file code -> output code
        bool renumbered = false;
        bool live = false;
        uint64_t time = 0;
        std::vector<vcd_change> changes;
        // Window: the values held before `from` (file code -> value), and a block read ahead
        // while they are handed out first.
        std::unordered_map<std::string, std::string> before;
        bool held = false;
        uint64_t held_time = 0;
        std::vector<vcd_change> held_changes;
    };

    void add_var(const std::vector<std::string>& scope, const std::string& type, unsigned width,
                 const std::string& code, const std::string& reference, const std::string& origin);
    std::string fresh_code();
    void advance(source& src, uint64_t& clamped);
    bool read_block(source& src, uint64_t& t, uint64_t& clamped);

    std::string m_out_path;
    std::unique_ptr<vcd_scope_node> m_root;
    std::set<std::string> m_used_codes;
    uint64_t m_next_code = 0;
    std::vector<source> m_sources;
    std::vector<traced_signal> m_signals;
    scope_filter m_filter;
    uint64_t m_from = 0;
    uint64_t m_to = UINT64_MAX;
};

}  // namespace chio::model
