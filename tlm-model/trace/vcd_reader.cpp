#include "tlm-model/trace/vcd_reader.h"

#include <charconv>
#include <cstring>
#include <stdexcept>
#include <utility>

namespace chio::model {

vcd_reader::vcd_reader(std::string path, bool has_header) : m_path(std::move(path)), m_in(m_path) {
    if (!m_in) {
        fail("cannot open file");
    }
    if (has_header) {
        read_header();
    }
}

void vcd_reader::fail(const std::string& what) const {
    throw std::runtime_error("VCD " + m_path + ": " + what);
}

bool vcd_reader::next_token(std::string& tok) { return static_cast<bool>(m_in >> tok); }

void vcd_reader::expect_token(std::string& tok, const char* what) {
    if (!next_token(tok)) {
        fail(std::string("file ends where ") + what + " was expected");
    }
}

// Every header command and $comment runs up to its own $end.
void vcd_reader::skip_to_end() {
    std::string tok;
    do {
        expect_token(tok, "$end");
    } while (tok != "$end");
}

void vcd_reader::read_header() {
    std::vector<std::string> scope;
    std::string tok;
    while (next_token(tok)) {
        if (tok == "$enddefinitions") {
            skip_to_end();
            return;
        }
        if (tok == "$scope") {
            std::string type;
            std::string name;
            expect_token(type, "scope type");
            expect_token(name, "scope name");
            scope.push_back(name);
            skip_to_end();
        } else if (tok == "$upscope") {
            if (scope.empty()) {
                fail("$upscope without an open $scope");
            }
            scope.pop_back();
            skip_to_end();
        } else if (tok == "$var") {
            vcd_var v;
            v.scope = scope;
            std::string width;
            expect_token(v.type, "var type");
            expect_token(width, "var width");
            auto [end, ec] = std::from_chars(width.data(), width.data() + width.size(), v.width);
            if (ec != std::errc() || end != width.data() + width.size() || v.width == 0) {
                fail("bad var width '" + width + "'");
            }
            expect_token(v.id, "identifier code");
            for (expect_token(tok, "var name"); tok != "$end"; expect_token(tok, "$end")) {
                v.reference += v.reference.empty() ? tok : " " + tok;
            }
            m_vars.push_back(std::move(v));
        } else if (tok == "$timescale") {
            read_timescale();
        } else if (!tok.empty() && tok[0] == '$') {
            skip_to_end();  // $date, $version, $comment and vendor extensions carry no signals
        } else {
            fail("unexpected token '" + tok + "' in header");
        }
    }
    fail("no $enddefinitions");
}

// "$timescale 1ps $end" or "$timescale 100 ns $end": a magnitude of 1, 10 or 100 and a unit.
void vcd_reader::read_timescale() {
    std::string text;
    std::string tok;
    for (expect_token(tok, "timescale"); tok != "$end"; expect_token(tok, "$end")) {
        text += tok;
    }
    size_t digits = 0;
    while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') {
        ++digits;
    }
    const std::string magnitude = text.substr(0, digits);
    const std::string unit = text.substr(digits);
    static const std::pair<const char*, uint64_t> units[] = {{"s", 1000000000000ULL},
                                                             {"ms", 1000000000ULL},
                                                             {"us", 1000000ULL},
                                                             {"ns", 1000ULL},
                                                             {"ps", 1ULL}};
    uint64_t unit_ps = 0;
    for (const auto& [name, ps] : units) {
        if (unit == name) {
            unit_ps = ps;
        }
    }
    if (unit_ps == 0 || (magnitude != "1" && magnitude != "10" && magnitude != "100")) {
        fail("timescale '" + text +
             "' is not 1|10|100 s|ms|us|ns|ps (finer than 1 ps is not "
             "supported)");
    }
    m_scale_ps = unit_ps * std::stoull(magnitude);
}

uint64_t vcd_reader::parse_time(const std::string& tok) {
    uint64_t t = 0;
    auto [end, ec] = std::from_chars(tok.data() + 1, tok.data() + tok.size(), t);
    uint64_t ps = 0;
    if (tok.size() < 2 || ec != std::errc() || end != tok.data() + tok.size() ||
        __builtin_mul_overflow(t, m_scale_ps, &ps)) {
        fail("bad timestamp '" + tok + "'");
    }
    return ps;
}

bool vcd_reader::next_block(uint64_t& time_ps, std::vector<vcd_change>& changes) {
    changes.clear();
    if (m_done) {
        return false;
    }
    bool stamped = m_have_time;
    uint64_t time = m_have_time ? m_next_time : 0;
    m_have_time = false;
    std::string tok;
    while (next_token(tok)) {
        const char c = tok[0];
        if (c == '#') {
            const uint64_t t = parse_time(tok);
            if (!stamped && changes.empty()) {  // the file's first timestamp opens this block
                stamped = true;
                time = t;
                continue;
            }
            m_next_time = t;
            m_have_time = true;
            time_ps = time;
            return true;
        }
        if (c == '$') {
            if (tok == "$comment") {
                skip_to_end();
            }
            continue;  // $dumpvars, $dumpall, $dumpon, $dumpoff and their $end
        }
        if (std::strchr("bBrRsS", c) != nullptr) {  // vector, real, string: value then id
            std::string id;
            expect_token(id, "identifier code");
            changes.push_back({tok, id});
        } else if (std::strchr("01xXzZ", c) != nullptr && tok.size() > 1) {  // scalar: value+id
            changes.push_back({tok.substr(0, 1), tok.substr(1)});
        } else {
            fail("unexpected token '" + tok + "' in value changes");
        }
    }
    m_done = true;
    time_ps = time;
    return stamped || !changes.empty();
}

}  // namespace chio::model
