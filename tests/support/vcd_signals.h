// Reads a whole VCD (or an FST converted with fst2vcd) into per-signal change lists, through
// the model's vcd_reader, for tests that check what a trace shows: which signals exist, their
// widths, and their (time, value) changes. Values wider than 64 bits or x/z read as 0.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <map>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "tlm-model/trace/vcd_reader.h"

namespace chio::test {

using changes = std::vector<std::pair<uint64_t, uint64_t>>;  // (time in ps, value)

struct vcd_signals {
    std::map<std::string, unsigned> widths;  // full dotted name (no range) -> width
    std::map<std::string, changes> by_name;  // full dotted name -> its changes
    std::vector<uint64_t> times;             // every block's time, in file order

    bool has(const std::string& name) const { return widths.count(name) != 0; }
    const changes& of(const std::string& name) const {
        static const changes none;
        auto it = by_name.find(name);
        return it == by_name.end() ? none : it->second;
    }
    // The value the signal holds at time t (the last change at or before t), or -1 if none.
    int64_t at(const std::string& name, uint64_t t) const {
        int64_t v = -1;
        for (const auto& [time, value] : of(name)) {
            if (time > t) break;
            v = static_cast<int64_t>(value);
        }
        return v;
    }
};

inline uint64_t vcd_value(const std::string& token) {
    if (token.empty()) return 0;
    if (token[0] == 'b' || token[0] == 'B') {
        uint64_t v = 0;
        for (size_t i = 1; i < token.size(); ++i) v = (v << 1) | (token[i] == '1' ? 1 : 0);
        return v;
    }
    return token[0] == '1' ? 1 : 0;
}

inline vcd_signals read_vcd_signals(const std::string& path) {
    model::vcd_reader r(path);
    vcd_signals out;
    std::multimap<std::string, std::string> names;  // id code -> full names (aliases share one)
    for (const model::vcd_var& v : r.vars()) {
        std::string full;
        for (const std::string& s : v.scope) full += s + ".";
        full += v.reference.substr(0, v.reference.find(' '));
        out.widths[full] = v.width;
        names.emplace(v.id, full);
    }
    uint64_t t = 0;
    std::vector<model::vcd_change> block;
    while (r.next_block(t, block)) {
        out.times.push_back(t);
        for (const model::vcd_change& c : block) {
            auto [lo, hi] = names.equal_range(c.id);
            for (auto it = lo; it != hi; ++it)
                out.by_name[it->second].emplace_back(t, vcd_value(c.value));
        }
    }
    return out;
}

}  // namespace chio::test
