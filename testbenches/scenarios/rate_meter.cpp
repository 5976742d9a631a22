#include "testbenches/scenarios/rate_meter.h"

#include <algorithm>
#include <cmath>

namespace chio::tb {

void rate_meter::start(double t_ns) {
    m_start = m_stop = t_ns;
    m_bins.clear();
}

void rate_meter::record(uint32_t key, double begin_ns, double end_ns, uint64_t bits) {
    std::vector<double>& bins = m_bins[key];
    if (end_ns <= begin_ns) {
        end_ns = begin_ns;  // a zero-length frame counts whole at its instant
    }
    const double len = end_ns - begin_ns;
    const double b = static_cast<double>(bits);
    const double from = std::max(begin_ns, m_start);
    if (end_ns < m_start || (len > 0.0 && end_ns == m_start)) return;
    // Spread the frame's bits over the windows it overlaps, in proportion to the overlap. The
    // window index advances by one per step (recomputing it from a boundary time could round
    // back into the same window).
    auto w = static_cast<size_t>(std::floor((from - m_start) / m_window));
    for (double t = from;; ++w) {
        const double w_end = m_start + static_cast<double>(w + 1) * m_window;
        const double seg_end = std::min(end_ns, w_end);
        const double part = len > 0.0 ? b * std::max(0.0, seg_end - t) / len : b;
        if (bins.size() <= w) bins.resize(w + 1, 0.0);
        bins[w] += part;
        if (seg_end >= end_ns) break;
        t = seg_end;
    }
}

std::vector<uint32_t> rate_meter::keys() const {
    std::vector<uint32_t> k;
    for (const auto& [key, bins] : m_bins) k.push_back(key);
    return k;
}

uint64_t rate_meter::total_bits() const {
    uint64_t sum = 0;
    for (const auto key : keys()) sum += flow(key).bits;
    return sum;
}

flow_rate rate_meter::flow(uint32_t key) const {
    flow_rate r;
    const auto it = m_bins.find(key);
    if (it == m_bins.end() || m_stop <= m_start) return r;
    const double span = m_stop - m_start;
    const auto whole = static_cast<size_t>(std::floor(span / m_window));
    const double partial_end = span - static_cast<double>(whole) * m_window;
    double bits = 0.0;
    bool first = true;
    for (size_t w = 0; w < it->second.size(); ++w) {
        const double v = it->second[w];
        if (w < whole) {
            bits += v;
            const double gbps = v / m_window;  // bits per ns = Gb/s
            r.max_window_gbps = first ? gbps : std::max(r.max_window_gbps, gbps);
            r.min_window_gbps = first ? gbps : std::min(r.min_window_gbps, gbps);
            first = false;
        } else if (w == whole && partial_end > 0.0) {
            // The last, partial window counts to the total only up to stop: bins hold whole
            // windows, so this is exact only when no frame lies beyond stop (callers stop
            // after the last frame or at a window boundary).
            bits += v;
        }
    }
    if (first) r.min_window_gbps = 0.0;
    // Windows in which the flow sent nothing have no bin beyond its last frame.
    if (whole > it->second.size()) r.min_window_gbps = 0.0;
    r.windows = static_cast<uint32_t>(whole);
    r.bits = static_cast<uint64_t>(std::llround(bits));
    r.avg_gbps = bits / span;
    double all = 0.0;
    for (const auto& [k, bins] : m_bins) {
        (void)k;
        for (size_t w = 0; w < bins.size() && w <= whole; ++w) {
            if (w < whole || partial_end > 0.0) all += bins[w];
        }
    }
    r.share = all > 0.0 ? bits / all : 0.0;
    return r;
}

double rate_meter::jain_index(const std::vector<double>& x) {
    double s = 0.0, s2 = 0.0;
    for (const double v : x) {
        s += v;
        s2 += v * v;
    }
    return x.empty() || s2 == 0.0 ? 0.0 : s * s / (static_cast<double>(x.size()) * s2);
}

double rate_meter::jain_over_shares(const std::map<uint32_t, double>& weights) const {
    double total = 0.0;
    for (const auto& [k, w] : weights) {
        (void)k;
        total += w;
    }
    std::vector<double> x;
    for (const auto& [k, w] : weights) {
        if (w <= 0.0 || total <= 0.0) continue;
        x.push_back(flow(k).share / (w / total));
    }
    return jain_index(x);
}

}  // namespace chio::tb
