#include "tlm-model/trace/gtkw_writer.h"

#include <fnmatch.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace chio::model {
namespace {

// GTKWave trace flags (gtkwave's analyzer.h): right-justified hex, decimal or binary values,
// and the blank rows that open and close a group.
constexpr unsigned FLAG_HEX = 0x22;
constexpr unsigned FLAG_DEC = 0x24;
constexpr unsigned FLAG_BIN = 0x28;
constexpr unsigned FLAG_GROUP_BEGIN = 0x800200;
constexpr unsigned FLAG_GROUP_END = 0x1000200;

// GTKWave's colour indices for [color].
enum colour : unsigned {
    NORMAL = 0,
    RED = 1,
    ORANGE = 2,
    YELLOW = 3,
    GREEN = 4,
    BLUE = 5,
    INDIGO = 6,
    VIOLET = 7
};

struct group {
    const char* name;
    colour col;
    std::vector<const char*> patterns;  // in display order
};

// What a reviewer looks at first, in the order a work request meets it: the doorbell, the
// queue engine's handshakes, the DMA it causes, the completions, then the slow-changing state.
// Queue-engine patterns name the ports at the top of the RTL scope, not the module's aliases.
const std::vector<group>& groups() {
    static const std::vector<group> table = {
        {"doorbell",
         YELLOW,
         {"*.doorbell.count", "*.doorbell.wqid", "*.doorbell.pi", "*.doorbell.fn"}},
        {"qe db",
         ORANGE,
         {"*.queue_engine.clk_i", "*.queue_engine.db_valid_i", "*.queue_engine.db_ready_o",
          "*.queue_engine.db_*"}},
        {"qe deq_req",
         ORANGE,
         {"*.queue_engine.deq_req_valid_i", "*.queue_engine.deq_req_ready_o",
          "*.queue_engine.deq_req_*"}},
        {"qe deq_resp",
         ORANGE,
         {"*.queue_engine.deq_resp_valid_o", "*.queue_engine.deq_resp_ready_i",
          "*.queue_engine.deq_resp_*"}},
        {"qe cq_req",
         ORANGE,
         {"*.queue_engine.cq_req_valid_i", "*.queue_engine.cq_req_ready_o",
          "*.queue_engine.cq_req_*"}},
        {"qe cq_resp",
         ORANGE,
         {"*.queue_engine.cq_resp_valid_o", "*.queue_engine.cq_resp_ready_i",
          "*.queue_engine.cq_resp_*"}},
        {"qe event",
         ORANGE,
         {"*.queue_engine.event_valid_o", "*.queue_engine.event_ready_i",
          "*.queue_engine.event_*"}},
        {"dma",
         BLUE,
         {"*.dma.rd_count", "*.dma.rd_addr", "*.dma.rd_len", "*.dma.wr_count", "*.dma.wr_addr",
          "*.dma.wr_len", "*.dma.fail_count"}},
        {"cqe",
         GREEN,
         {"*.cqe.count", "*.cqe.cqn", "*.cqe.qpn", "*.cqe.opcode", "*.cqe.status", "*.cqe.wr_id",
          "*.cqe.byte_len"}},
        {"eqe", VIOLET, {"*.eqe.count", "*.eqe.eqn", "*.eqe.type", "*.eqe.data"}},
        {"qp state", INDIGO, {"*.qp.qpn", "*.qp.state"}},
        {"commands", NORMAL, {"*.cmd.count", "*.cmd.opcode", "*.cmd.status"}},
    };
    return table;
}

bool matches(const char* pattern, const std::string& name) {
    return fnmatch(pattern, name.c_str(), 0) == 0;
}

unsigned format_of(const traced_signal& s) {
    if (s.width == 1) return FLAG_BIN;
    for (const char* hex : {"*addr*", "*wr_id*", "*opcode*"}) {
        if (matches(hex, s.name)) return FLAG_HEX;
    }
    return FLAG_DEC;
}

// Error signals stand out in red whatever their group's colour.
colour colour_of(const traced_signal& s, colour group_colour) {
    return s.name == "status" || s.name == "fail_count" || matches("err_*", s.name) ? RED
                                                                                    : group_colour;
}

}  // namespace

std::string gtkw_path_for(const std::string& trace_path) {
    return std::filesystem::path(trace_path).replace_extension(".gtkw").string();
}

size_t write_gtkw(const std::string& gtkw_path, const std::string& dump_path,
                  const std::vector<traced_signal>& signals) {
    std::ofstream out(gtkw_path, std::ios::trunc);
    if (!out) {
        throw std::runtime_error("gtkw: cannot write " + gtkw_path);
    }
    namespace fs = std::filesystem;
    out << "[*] GTKWave save file written by chio (tlm-model/trace/gtkw_writer.cpp)\n"
        << "[dumpfile] \"" << fs::absolute(dump_path).lexically_normal().string() << "\"\n"
        << "[savefile] \"" << fs::absolute(gtkw_path).lexically_normal().string() << "\"\n"
        << "[timestart] 0\n[size] 1800 900\n[pos] -1 -1\n"
        << "[treeopen] host0.\n[treeopen] host0.adapter0.\n"
        << "[sst_width] 260\n[signals_width] 320\n[sst_expanded] 1\n";
    std::vector<bool> placed(signals.size(), false);
    size_t count = 0;
    for (const group& g : groups()) {
        std::vector<size_t> members;
        for (const char* pattern : g.patterns) {
            for (size_t i = 0; i < signals.size(); ++i) {
                if (!placed[i] && matches(pattern, signals[i].full_name())) {
                    placed[i] = true;
                    members.push_back(i);
                }
            }
        }
        if (members.empty()) continue;  // nothing of this group was recorded
        out << '@' << std::hex << FLAG_GROUP_BEGIN << std::dec << "\n-" << g.name << '\n';
        for (const size_t i : members) {
            const traced_signal& s = signals[i];
            out << "[color] " << colour_of(s, g.col) << "\n@" << std::hex << format_of(s)
                << std::dec << '\n'
                << s.full_name() << s.range << '\n';
        }
        out << "[color] " << NORMAL << "\n@" << std::hex << FLAG_GROUP_END << std::dec << "\n-"
            << g.name << '\n';
        count += members.size();
    }
    out << "[pattern_trace] 1\n[pattern_trace] 0\n";
    out.flush();
    if (!out) {
        throw std::runtime_error("gtkw: writing " + gtkw_path + " failed (disk full?)");
    }
    return count;
}

}  // namespace chio::model
