// The `migrate` scenario's guest applications: an RC ping-pong and an RC SEND stream, written
// against the consumer API (chio::verbs) over the unchanged driver. They have no migration path:
// they run the same whether or not their VM (or their peer's) is moved meanwhile.
//
// Messages: the first 8 bytes are the sequence number (bit 63: the last message); the rest is
// fill_pattern(seed, seq). A receiver checks that messages arrive in order without gaps or
// repeats and byte for byte. The sending side runs until `*stop` is set, then sends one last
// message. Every work request is signaled and has a unique wr_id; a completion for a wr_id not
// outstanding counts as duplicated, an outstanding one never completed as lost.
//
// Contract: runs in a SystemC thread on the VM's bus; never waits longer than timeout_ns for
// the whole run.
#pragma once

#include <cstdint>
#include <string>

#include "driver/bus.h"
#include "testbenches/scenarios/rendezvous.h"

namespace chio::tb {

struct app_options {
    uint32_t size = 4096;  // bytes per message
    uint32_t depth = 16;   // stream: SENDs in flight
    uint64_t seed = 1;
    uint64_t timeout_ns = 100'000'000;
    const bool* stop = nullptr;
};

struct app_result {
    std::string error;
    uint64_t expected = 0, seen = 0, lost = 0, duplicated = 0, error_completions = 0;
    uint64_t messages = 0;  // sent (sender, client) or received (receiver, server)
    uint64_t bytes_verified = 0, data_mismatches = 0;
    uint64_t gaps = 0, repeats = 0;  // messages missing or seen twice in the sequence
};

enum class app_role { stream_sender, stream_receiver, ping_client, ping_server };
const char* to_string(app_role r);

// me/peer: rendezvous names of the two ends.
app_result run_app(drv::bus& b, rendezvous& rv, const std::string& me, const std::string& peer,
                   app_role role, const app_options& o);

}  // namespace chio::tb
