// tlm-model/sim_time.h: the cached conversions give exactly SystemC's own results, so switching
// a timing path to them cannot move a single picosecond of any simulated result.
#include "tlm-model/sim_time.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <vector>

namespace {

using sc_core::SC_NS;
using sc_core::sc_time;

// Values the timing paths produce: serialization at the default link and port rates, the
// round-trip fit, and parameters as typed.
std::vector<double> timing_values() {
    std::vector<double> v = {0.0, 0.5, 1.0, 8.0, 20.0, 260.0, 520.0, 1e-3, 4.9999995e-4, 1e9};
    for (uint64_t b = 0; b < 200000; ++b) {
        v.push_back(static_cast<double>(b) * 8.0 / 113.7);
        v.push_back(static_cast<double>(b) * 8.0 / 100.0);
        v.push_back(520.0 + 0.29 * static_cast<double>(b));
    }
    return v;
}

TEST(sim_time, ns_time_equals_sc_time_from_double) {
    const unsigned seed = 20261127;
    std::printf("seed %u\n", seed);
    std::mt19937_64 g(seed);
    std::uniform_real_distribution<double> u(0.0, 1e8);
    std::vector<double> v = timing_values();
    for (int i = 0; i < 200000; ++i) v.push_back(u(g));
    for (double x : v) {
        ASSERT_EQ(chio::ns_time(x), sc_time(x, SC_NS)) << "ns " << x;
    }
}

TEST(sim_time, time_ns_equals_to_seconds_times_1e9) {
    const unsigned seed = 20261128;
    std::printf("seed %u\n", seed);
    std::mt19937_64 g(seed);
    std::uniform_int_distribution<uint64_t> u(0, uint64_t{1} << 50);
    for (int i = 0; i < 400000; ++i) {
        const sc_time t = sc_time::from_value(i < 100000 ? static_cast<uint64_t>(i) : u(g));
        ASSERT_EQ(chio::time_ns(t), t.to_seconds() * 1e9) << "value " << t.value();
    }
}

}  // namespace
