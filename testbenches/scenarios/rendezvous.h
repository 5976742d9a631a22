// Out-of-band exchange between driver threads of different simulated hosts, standing in for the
// TCP connection that rdma-core's examples use to swap QP numbers and keys. Not part of the
// device model: it takes no simulated time.
#pragma once

#include <map>
#include <string>
#include <systemc>
#include <vector>

namespace chio::tb {

class rendezvous {
public:
    // Publishes `value` under `key` and wakes waiters.
    void put(const std::string& key, std::vector<uint64_t> value) {
        m_values[key] = std::move(value);
        m_ev.notify(sc_core::SC_ZERO_TIME);
    }
    // Waits (in an SC_THREAD) until `key` is published; returns its value.
    std::vector<uint64_t> get(const std::string& key) {
        while (m_values.count(key) == 0) sc_core::wait(m_ev);
        return m_values[key];
    }
    // All `n` parties arrive at barrier `name` before any leaves.
    void barrier(const std::string& name, unsigned n) {
        const unsigned mine = ++m_arrived[name];
        if (mine == n) m_ev.notify(sc_core::SC_ZERO_TIME);
        while (m_arrived[name] < n) sc_core::wait(m_ev);
    }

private:
    std::map<std::string, std::vector<uint64_t>> m_values;
    std::map<std::string, unsigned> m_arrived;
    sc_core::sc_event m_ev;
};

}  // namespace chio::tb
