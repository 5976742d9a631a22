// Which scopes of a trace are recorded: a comma-separated list of glob patterns (fnmatch, where
// '*' also matches dots). A signal is kept when its scope or one of the scope's ancestors matches
// a pattern, so "host0.adapter0.cqe" keeps everything below the CQE scope and "*.queue_engine"
// keeps the whole RTL. An empty list keeps everything.
//
// Evaluated once per signal declaration, never per value change: a filtered-out signal costs
// one branch per set().
#pragma once

#include <string>
#include <vector>

namespace chio::model {

class scope_filter {
public:
    scope_filter() = default;
    // Throws std::invalid_argument naming the list when it has an empty pattern ("a,,b").
    explicit scope_filter(const std::string& patterns);

    bool keeps(const std::string& dotted_scope) const;
    // Whether any signal at or below `dotted_scope` may be kept: false lets a caller skip
    // recording a whole subtree (e.g. not trace the RTL at all). Judged from each pattern's
    // literal start (up to its first wildcard), so it may say true for a subtree that ends up
    // empty, never false for one that does not.
    bool may_keep_below(const std::string& dotted_scope) const;
    bool keeps_all() const { return m_patterns.empty(); }

private:
    std::vector<std::string> m_patterns;
};

}  // namespace chio::model
