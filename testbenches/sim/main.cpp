// chio-sim: runs one co-simulation scenario and reports it (docs/scenarios.md).
//
//   chio-sim SCENARIO [--seed N] [--queue-engine model|rtl|lockstep] [--trace FILE]
//            [--stats FILE] [--pcie KEY=VALUE]... [--adapter KEY=VALUE]... [scenario options]
//
// Exit status: 0 when the scenario passed its own checks (every completion seen exactly once,
// data verified, no lockstep mismatch), 1 when it did not, 2 on a bad command line.
#include <chrono>
#include <cstdio>
#include <exception>
#include <iostream>
#include <memory>
#include <string>
#include <systemc>
#include <vector>

#include "cosim/adapter_params_cli.h"
#include "cosim/pcie_link_params.h"
#include "testbenches/scenarios/migrate.h"
#include "testbenches/scenarios/options.h"
#include "testbenches/sim/faults_runner.h"
#include "testbenches/sim/scenario_runner.h"

namespace {

void usage() {
    std::printf(
        "Usage: chio-sim SCENARIO [options]\n\n"
        "Scenarios:\n"
        "  loopback   one adapter; SEND from one RC QP to another through the adapter's port,\n"
        "             every byte verified\n"
        "  pingpong   two hosts over a link; RC ping-pong like ibv_rc_pingpong (--events)\n"
        "  rdma       two hosts over a link; a seeded mix of every RC opcode, every byte and\n"
        "             atomic result verified\n"
        "  ud         N hosts over a switch (--hosts); UD datagrams to every peer, verified\n"
        "  vms        two hosts over a link; each host's PF manager provisions the VFs of the\n"
        "             topology file (--config), its hypervisor gives them to VMs, and VM k of\n"
        "             host 0 exchanges verified RDMA traffic with VM k of host 1\n"
        "  qos        one VF per --weights saturates the port; phases: weights, one VF capped\n"
        "             (--cap-gbps), one VF idle; shares, rates and Jain's index\n"
        "  isolation  a hostile VF attacks while a victim VF runs verified RDMA; every attack\n"
        "             refused and counted (--no-attacker: the victim alone)\n"
        "  faults     every fault scenario with live traffic (docs/faults.md): injected,\n"
        "             detected, recovered, completions expected/seen/lost/duplicated\n"
        "  migrate    VMs with live RC traffic (ping-pong, SEND stream); one VM moves with its\n"
        "             VF to another host, then a failed adapter's VF is restored on a standby;\n"
        "             downtime, bytes copied, completions expected/seen/lost/duplicated;\n"
        "             --unrecoverable: the replacement fails, the VF is hot-removed and its\n"
        "             VM's outstanding work completes flushed\n\n%s\n"
        "PCIe link parameters (--pcie KEY=VALUE; KEY (range, default): meaning):\n%s\n"
        "Adapter parameters (--adapter KEY=VALUE; KEY (range, default): meaning):\n%s",
        chio::tb::options_help(), chio::cosim::pcie_param_help().c_str(),
        chio::cosim::adapter_param_help().c_str());
}

}  // namespace

int sc_main(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    for (const auto& a : args) {
        if (a == "--help" || a == "-h") {
            usage();
            return 0;
        }
    }
    chio::tb::sim_options o;
    std::string err;
    if (!chio::tb::parse_options(args, o, err)) {
        std::fprintf(stderr, "chio-sim: %s\n", err.c_str());
        return 2;
    }
    if (o.scenario.empty()) {
        std::fprintf(stderr, "chio-sim: no scenario given (see chio-sim --help)\n");
        return 2;
    }
    if (o.scenario != "loopback" && o.scenario != "pingpong" && o.scenario != "rdma" &&
        o.scenario != "ud" && o.scenario != "vms" && o.scenario != "qos" &&
        o.scenario != "isolation" && o.scenario != "faults" && o.scenario != "migrate") {
        std::fprintf(stderr, "chio-sim: unknown scenario '%s' (see chio-sim --help)\n",
                     o.scenario.c_str());
        return 2;
    }
    try {
        if (o.scenario == "faults") return chio::tb::run_faults(o);
        if (o.scenario == "migrate") return chio::tb::run_migrate(o);
        return chio::tb::run_scenario(o);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "chio-sim: %s\n", e.what());
        return 1;
    }
}

int main(int argc, char** argv) {
    // SystemC's banner goes to stderr; users of chio-sim see the summary instead.
    setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 0);
    return sc_core::sc_elab_and_sim(argc, argv);
}
