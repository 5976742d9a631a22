// The share each function should get of what the port carried: weighted max-min fairness (what
// a work-conserving weighted scheduler with caps converges to). Capped functions whose weighted
// share exceeds their cap get the cap; the rest is split among the others by weight, repeated
// until no one exceeds a cap. Pure C++.
#pragma once

#include <cstdint>
#include <map>

namespace chio::tb {

struct share_config {
    uint32_t weight = 1;
    double cap_gbps = 0.0;  // 0: uncapped
};

// total_gbps: what all the functions together achieved. Returns the expected rate per key.
std::map<uint32_t, double> fair_rates(const std::map<uint32_t, share_config>& cfg,
                                      double total_gbps);

}  // namespace chio::tb
