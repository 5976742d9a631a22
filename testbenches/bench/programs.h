// perftest-style programs (write_bw, read_bw, send_bw, write_lat, send_lat, read_lat,
// msg_rate) on the pair topology: host0 posts, host1 serves (for SEND it keeps receives posted).
// Each program measures simulated time in the driver thread and wall time around each point.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cosim/topology.h"
#include "tlm-model/queue_engine/queue_engine.h"

namespace chio::tb::bench {

enum class program { write_bw, read_bw, send_bw, write_lat, send_lat, read_lat, msg_rate };

struct bench_options {
    program prog = program::write_bw;
    std::string name;
    std::vector<uint64_t> sizes;  // empty: 2 B .. 1 MiB in powers of two (msg_rate: 64 B)
    uint32_t qps = 1;
    uint32_t outstanding = 16;  // WRs in flight per QP (latency programs: 1)
    uint32_t batch = 1;         // WRs per doorbell (msg_rate: the batched run's size)
    uint64_t iters = 0;         // 0: chosen per size (see default_iters)
    model::queue_engine_kind queue_engine = model::queue_engine_kind::model;
    std::string stats;
    std::string plot;
    bool quiet = false;
    bool pcie_fcfs = false;        // --pcie-order fcfs: every TLP class in one queue per direction
    cosim::pcie_link_params pcie;  // both hosts' links, after --pcie KEY=VALUE settings
    // --adapter KEY=VALUE settings (cosim/adapter_params_cli.h), checked when parsed and applied
    // in order to the topology's params, so they reach both adapters and the wire.
    std::vector<std::string> adapter;
    // --wqe-in-doorbell: a doorbell announcing one WQE carries it (queue_pair::
    // set_wqe_in_doorbell); msg_rate always adds a run with it.
    bool wqe_in_doorbell = false;
};

// One measured point.
struct point {
    uint64_t size = 0;
    uint32_t batch = 1;
    bool wqe_in_doorbell = false;  // WQEs written into the doorbell page
    uint64_t iters = 0;
    double sim_ns = 0;  // first post to last completion
    double wall_s = 0;  // wall time of the same interval
    double cpu_s = 0;   // process CPU time of the same interval (wall minus time shared away)
    std::vector<double> lat_ns;  // latency programs: one per iteration
    bool ok = true;
};

struct bench_result {
    std::vector<point> points;
    std::string error;  // first failure, one line
};

bool is_latency(program p);
bool parse_program(const std::string& s, program& out);
// Default iterations: bandwidth programs move about 16 MiB per point (at least 32, at most
// 1000 messages); latency programs 200; msg_rate 2000.
uint64_t default_iters(const bench_options& o, uint64_t size);

// WRs in flight per QP: --outstanding; 1 for latency programs; msg_rate at least two batches.
uint32_t outstanding_of(const bench_options& o);

// Starts host0's and host1's driver threads for the program; results land in `res` when
// sc_start() returns.
void start(cosim::topology& topo, const bench_options& o, bench_result& res);

}  // namespace chio::tb::bench
