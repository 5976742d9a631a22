#include "tlm-model/trace/scope_filter.h"

#include <fnmatch.h>

#include <stdexcept>

namespace chio::model {

scope_filter::scope_filter(const std::string& patterns) {
    if (patterns.empty()) return;
    size_t start = 0;
    for (;;) {
        const size_t comma = patterns.find(',', start);
        const std::string p = patterns.substr(start, comma - start);
        if (p.empty()) {
            throw std::invalid_argument("scope pattern list '" + patterns +
                                        "' has an empty pattern");
        }
        m_patterns.push_back(p);
        if (comma == std::string::npos) break;
        start = comma + 1;
    }
}

bool scope_filter::keeps(const std::string& dotted_scope) const {
    if (m_patterns.empty()) return true;
    // The scope itself, then each ancestor: "a.b.c", "a.b", "a".
    std::string s = dotted_scope;
    for (;;) {
        for (const std::string& p : m_patterns) {
            if (fnmatch(p.c_str(), s.c_str(), 0) == 0) return true;
        }
        const size_t dot = s.rfind('.');
        if (dot == std::string::npos) return false;
        s.resize(dot);
    }
}

bool scope_filter::may_keep_below(const std::string& dotted_scope) const {
    if (keeps(dotted_scope)) return true;
    const std::string below = dotted_scope + ".";
    for (const std::string& p : m_patterns) {
        const std::string literal = p.substr(0, p.find_first_of("*?["));
        if (below.rfind(literal, 0) == 0 || literal.rfind(below, 0) == 0) return true;
    }
    return false;
}

}  // namespace chio::model
