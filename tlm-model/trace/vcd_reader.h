// Reader for Value Change Dump files (IEEE 1364 §18), as Verilator's VerilatedVcdC writes them.
// The tracer uses it to merge Verilator's waveform into the run's own at close().
//
// Contract
// - The file is read as whitespace-separated tokens, as the standard defines it; line breaks
//   carry no meaning, so any conforming writer's layout is accepted.
// - The header ($scope/$var/$upscope/$timescale) is parsed by the constructor. Times are scaled
//   to picoseconds; a timescale finer than 1 ps cannot be represented and is rejected.
// - Value changes are handed out one time block at a time, in file order. $dumpvars, $dumpall,
//   $dumpon and $dumpoff only group changes and are dropped; $comment blocks are skipped.
// - Errors (missing file, malformed header or value change) throw std::runtime_error with one
//   line naming the file and the bad token.
#pragma once

#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

namespace chio::model {

// One $var declaration. Several vars may share an id code (Verilator aliases a port and the
// signal it drives this way); they then always carry the same value.
struct vcd_var {
    std::vector<std::string> scope;  // outermost first, e.g. {"TOP", "chio_queue_engine"}
    std::string type;                // wire, reg, integer, real, ...
    unsigned width = 0;
    std::string id;         // identifier code as written in the file
    std::string reference;  // name, plus the bit range if the file gives one ("q [7:0]")
};

// One value change: the value token as written ("1", "b1010", "r0.5") and the id code.
struct vcd_change {
    std::string value;
    std::string id;
};

class vcd_reader {
public:
    // has_header = false reads a headerless body (the tracer's own spool file), in picoseconds.
    explicit vcd_reader(std::string path, bool has_header = true);

    const std::vector<vcd_var>& vars() const { return m_vars; }

    // Reads the next time block: its time in ps and the changes in it. Changes before the first
    // timestamp belong to time 0. Returns false when the file is exhausted.
    bool next_block(uint64_t& time_ps, std::vector<vcd_change>& changes);

private:
    bool next_token(std::string& tok);
    void expect_token(std::string& tok, const char* what);
    void skip_to_end();
    void read_header();
    void read_timescale();
    uint64_t parse_time(const std::string& tok);
    [[noreturn]] void fail(const std::string& what) const;

    std::string m_path;
    std::ifstream m_in;
    std::vector<vcd_var> m_vars;
    uint64_t m_scale_ps = 1;   // file time unit in ps
    bool m_have_time = false;  // a '#' token was read and its block not yet returned
    uint64_t m_next_time = 0;  // time of the pending block, in ps
    bool m_done = false;
};

}  // namespace chio::model
