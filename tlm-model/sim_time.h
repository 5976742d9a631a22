// Nanoseconds <-> sc_time on the hot paths, bit-identical to SystemC's own conversions.
//
// sc_time(double, SC_NS) and sc_time::to_seconds() are out-of-line library calls that look up
// the simulation context and divide by the time resolution on every call; the link, port and
// PCIe timing call them dozens of times per work request (about 4 % of a bench's CPU time).
// These helpers cache the resolution once and then do the library's arithmetic, in the same
// order, so every time they produce is the one the library would
// (tests/tlm-model/sim_time_test.cpp compares them over 1.2 million values). The resolution is
// fixed by the first sc_time SystemC creates and chio never changes it.
#pragma once

#include <cstdint>
#include <systemc>

namespace chio {

namespace sim_time_detail {
// Time-resolution units per nanosecond (1000 at SystemC's default 1 ps resolution).
inline double units_per_ns() {
    static const double k = static_cast<double>(sc_core::sc_time(1.0, sc_core::SC_NS).value());
    return k;
}
// The resolution in femtoseconds, as sc_time::to_seconds() multiplies by it.
inline double resolution_fs() {
    static const double fs = 1e6 / units_per_ns();
    return fs;
}
}  // namespace sim_time_detail

// sc_time(v, SC_NS): the library rounds v x (units per ns) to the nearest unit, halves up.
// One unit times that product is the same rounding (sc_time::operator*= adds 0.5 and truncates
// to int64 as the constructor does; 1.0 x a double is exact), inline where from_value() is an
// out-of-line library call.
inline sc_core::sc_time ns_time(double v) {
    if (v == 0) return sc_core::SC_ZERO_TIME;
    static const sc_core::sc_time unit = sc_core::sc_time::from_value(1);
    return unit * (v * sim_time_detail::units_per_ns());
}

// t.to_seconds() * 1e9.
inline double time_ns(const sc_core::sc_time& t) {
    return static_cast<double>(t.value()) * sim_time_detail::resolution_fs() * 1e-15 * 1e9;
}

}  // namespace chio
