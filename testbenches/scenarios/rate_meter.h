// Measures what each flow (a function, a QP: any key) put on a link, from the link's point of
// view: bits serialized over time, achieved share, average rate, the highest and lowest rate over
// fixed windows, and Jain's fairness index.
//
// Rule: a frame occupies the link from the start to the end of its serialization; its bits count
// to a window in proportion to the part of that interval inside the window (a frame straddling a
// window boundary counts partially). That is what an observer on the wire would measure; counting
// whole frames at their start or end would add up to one frame of error per window (3 % of a
// 100 us window at 10 Gb/s with 4 KiB frames).
//
// Windows are consecutive, of window_ns each, starting at start(); only whole windows count for
// the maximum and minimum. Pure C++: times in nanoseconds.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

namespace chio::tb {

struct flow_rate {
    uint64_t bits = 0;             // inside [start, stop)
    double share = 0.0;            // of all flows' bits
    double avg_gbps = 0.0;         // bits / (stop - start)
    double max_window_gbps = 0.0;  // over whole windows
    double min_window_gbps = 0.0;  // over whole windows
    uint32_t windows = 0;          // whole windows measured
};

class rate_meter {
public:
    explicit rate_meter(double window_ns = 100000.0) : m_window(window_ns) {}

    // The measurement interval: frames outside [start, stop) are ignored (parts of straddling
    // frames count). start() clears everything recorded.
    void start(double t_ns);
    void stop(double t_ns) { m_stop = t_ns; }
    // A frame of `bits` serialized over [begin_ns, end_ns) for flow `key`.
    void record(uint32_t key, double begin_ns, double end_ns, uint64_t bits);

    flow_rate flow(uint32_t key) const;
    std::vector<uint32_t> keys() const;
    double duration_ns() const { return m_stop - m_start; }
    uint64_t total_bits() const;

    // Jain's fairness index of x: (sum x)^2 / (n * sum x^2); 1 = all equal, 1/n = one takes all.
    static double jain_index(const std::vector<double>& x);
    // Jain's index over achieved share / configured share for the given keys (weights need not
    // sum to 1; they are normalized).
    double jain_over_shares(const std::map<uint32_t, double>& weights) const;

private:
    double m_window;
    double m_start = 0.0;
    double m_stop = 0.0;
    std::map<uint32_t, std::vector<double>> m_bins;  // bits per window, per flow
};

}  // namespace chio::tb
