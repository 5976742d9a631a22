// chio-verbs-service: the simulation unmodified verbs applications attach to (./chio serve).
// Options and behaviour: docs/verbs.md.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <systemc>

#include "cosim/topology.h"
#include "service/verbs_service.h"
#include "verbs-shim/protocol.h"

namespace {

void usage() {
    std::printf(
        "Usage: chio-verbs-service [--socket PATH] [--hosts N] [--config FILE] [--seed N]\n"
        "                          [--queue-engine model|rtl|lockstep] [--progress SECONDS]\n"
        "Simulates N hosts (default 2: a pair on one link; more: a star on a switch), each with\n"
        "a chio adapter, and serves verbs processes started with ./chio run on PATH (default\n"
        "$CHIO_SOCKET or %s). --config FILE is JSON with the same keys: hosts, seed,\n"
        "queue_engine, progress (command-line options win).\n",
        chio::shim::proto::DEFAULT_SOCKET);
}

struct options {
    std::string socket;
    unsigned hosts = 2;
    uint64_t seed = 1;
    std::string queue_engine;
    double progress = 5.0;
};

// One-line errors naming the field and value; false stops the service.
bool apply_config(const std::string& path, options& o) {
    std::ifstream f(path);
    if (!f) {
        std::fprintf(stderr, "chio-verbs: cannot read config %s\n", path.c_str());
        return false;
    }
    nlohmann::json j = nlohmann::json::parse(f, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
        std::fprintf(stderr, "chio-verbs: config %s is not a JSON object\n", path.c_str());
        return false;
    }
    for (auto& [k, v] : j.items()) {
        if (k == "hosts" && v.is_number_unsigned()) {
            o.hosts = v.get<unsigned>();
        } else if (k == "seed" && v.is_number_unsigned()) {
            o.seed = v.get<uint64_t>();
        } else if (k == "queue_engine" && v.is_string()) {
            o.queue_engine = v.get<std::string>();
        } else if (k == "progress" && v.is_number()) {
            o.progress = v.get<double>();
        } else if (k == "socket" && v.is_string()) {
            o.socket = v.get<std::string>();
        } else {
            std::fprintf(stderr, "chio-verbs: config %s: bad field '%s' = %s\n", path.c_str(),
                         k.c_str(), v.dump().c_str());
            return false;
        }
    }
    return true;
}

bool parse(int argc, char** argv, options& o) {
    std::string config;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "-h" || a == "--help") {
            usage();
            std::exit(0);
        }
        if (i + 1 < argc && a == "--config") config = argv[++i];
    }
    if (const char* e = std::getenv("CHIO_SOCKET")) o.socket = e;
    if (!config.empty() && !apply_config(config, o)) return false;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (i + 1 >= argc) {
            std::fprintf(stderr, "chio-verbs: unknown or incomplete option '%s'\n", a.c_str());
            return false;
        }
        const char* v = argv[++i];
        char* end = nullptr;
        if (a == "--config") {
            continue;
        } else if (a == "--socket") {
            o.socket = v;
        } else if (a == "--hosts") {
            o.hosts = static_cast<unsigned>(std::strtoul(v, &end, 10));
            if (*end || o.hosts == 0 || o.hosts > 64) {
                std::fprintf(stderr, "chio-verbs: --hosts must be 1-64, got '%s'\n", v);
                return false;
            }
        } else if (a == "--seed") {
            o.seed = std::strtoull(v, &end, 0);
            if (*end) {
                std::fprintf(stderr, "chio-verbs: --seed must be a number, got '%s'\n", v);
                return false;
            }
        } else if (a == "--queue-engine") {
            o.queue_engine = v;
        } else if (a == "--progress") {
            o.progress = std::strtod(v, &end);
            if (*end || o.progress < 0) {
                std::fprintf(stderr, "chio-verbs: --progress must be seconds >= 0, got '%s'\n", v);
                return false;
            }
        } else {
            std::fprintf(stderr, "chio-verbs: unknown option '%s' (see --help)\n", a.c_str());
            return false;
        }
    }
    if (o.socket.empty()) o.socket = chio::shim::proto::DEFAULT_SOCKET;
    if (o.hosts == 0 || o.hosts > 64) {
        std::fprintf(stderr, "chio-verbs: hosts must be 1-64, got %u\n", o.hosts);
        return false;
    }
    return true;
}

void on_signal(int) { chio::service::verbs_service::request_stop(); }

}  // namespace

int sc_main(int argc, char** argv) {
    options o;
    if (!parse(argc, argv, o)) return 2;
    chio::cosim::topology_params tp;
    tp.kind = o.hosts == 1   ? chio::cosim::topology_kind::loopback
              : o.hosts == 2 ? chio::cosim::topology_kind::pair
                             : chio::cosim::topology_kind::star;
    tp.hosts = o.hosts;
    tp.seed = o.seed;
    if (!o.queue_engine.empty() &&
        !chio::model::parse_queue_engine_kind(o.queue_engine.c_str(), tp.host.adapter.qe_kind)) {
        std::fprintf(stderr, "chio-verbs: queue_engine must be model, rtl or lockstep, got '%s'\n",
                     o.queue_engine.c_str());
        return 2;
    }
    std::printf("chio-verbs: %u hosts, seed %llu\n", o.hosts,
                static_cast<unsigned long long>(o.seed));
    try {
        chio::cosim::topology topo(tp);
        chio::service::service_options so;
        so.socket_path = o.socket;
        so.progress_s = o.progress;
        chio::service::verbs_service svc(topo, so);
        std::signal(SIGINT, on_signal);
        std::signal(SIGTERM, on_signal);
        std::signal(SIGPIPE, SIG_IGN);
        return svc.run();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "chio-verbs: %s\n", e.what());
        return 1;
    }
}

int main(int argc, char** argv) {
    // SystemC's banner goes to stderr; the service's own lines say what runs.
    setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 0);
    return sc_core::sc_elab_and_sim(argc, argv);
}
