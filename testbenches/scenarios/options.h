// Command-line options shared by every chio-sim scenario.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tlm-model/queue_engine/queue_engine.h"

namespace chio::tb {

struct sim_options {
    std::string scenario;
    uint64_t seed = 1;
    model::queue_engine_kind queue_engine = model::queue_engine_kind::model;
    std::string trace;     // waveform file (.fst or .vcd); empty: no trace
    std::string stats;     // JSON results file; empty: none
    uint64_t count = 64;   // messages
    uint32_t size = 4096;  // bytes per message
    uint32_t depth = 16;   // messages in flight
    uint32_t hosts = 3;    // ud: hosts on the switch
    bool events = false;   // pingpong: wait for completion events instead of polling
    std::string pcap;      // fabric capture; empty: none
    double loss = 0.0;     // link loss probability, per frame and direction
    bool quiet = false;
};

// Parses argv (after the program name). On a bad argument returns false with a one-line error
// naming the option and the value.
bool parse_options(const std::vector<std::string>& args, sim_options& o, std::string& error);

const char* options_help();

}  // namespace chio::tb
