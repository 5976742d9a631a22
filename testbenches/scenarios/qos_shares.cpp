#include "testbenches/scenarios/qos_shares.h"

namespace chio::tb {

std::map<uint32_t, double> fair_rates(const std::map<uint32_t, share_config>& cfg,
                                      double total_gbps) {
    std::map<uint32_t, double> rate;
    std::map<uint32_t, share_config> open = cfg;  // not yet fixed at their cap
    double remaining = total_gbps;
    for (bool changed = true; changed && !open.empty();) {
        changed = false;
        double wsum = 0.0;
        for (const auto& [k, c] : open) wsum += c.weight;
        for (auto it = open.begin(); it != open.end();) {
            const double fair = remaining * it->second.weight / wsum;
            if (it->second.cap_gbps > 0.0 && fair > it->second.cap_gbps) {
                rate[it->first] = it->second.cap_gbps;
                remaining -= it->second.cap_gbps;
                it = open.erase(it);
                changed = true;
                break;  // the others' shares grow: recompute
            }
            ++it;
        }
        if (!changed) {
            for (const auto& [k, c] : open) rate[k] = remaining * c.weight / wsum;
        }
    }
    return rate;
}

}  // namespace chio::tb
