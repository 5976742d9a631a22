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
// A work request that completes with an error ends the run of that side: it counts as seen (and
// a receive as expected: it completed, once), and in error_completions; flushed counts those
// with WR_FLUSH_ERR (the driver flushes every outstanding WR once when its device is lost, e.g.
// removed). A receiving side (stream receiver, ping server) ends when its peer is gone: once
// told to stop, nothing arrived for client_gone_ns (longer than a sender's whole retry budget,
// so a live client's last message always makes it); client_gone says so.
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
    // 20 ms: above 8 transmissions of a 1 ms timeout (the QPs' retry budget, see setup).
    uint64_t client_gone_ns = 20'000'000;
    const bool* stop = nullptr;
};

struct app_result {
    std::string error;
    uint64_t expected = 0, seen = 0, lost = 0, duplicated = 0, error_completions = 0;
    uint64_t messages = 0;  // sent (sender, client) or received (receiver, server)
    uint64_t bytes_verified = 0, data_mismatches = 0;
    uint64_t gaps = 0, repeats = 0;    // messages missing or seen twice in the sequence
    uint64_t flushed = 0;              // error completions with WR_FLUSH_ERR
    bool error_is_completion = false;  // error says only that a WR completed with an error
    bool client_gone = false;          // a receiving side ended because its peer went silent
};

enum class app_role { stream_sender, stream_receiver, ping_client, ping_server };
const char* to_string(app_role r);

// me/peer: rendezvous names of the two ends.
app_result run_app(drv::bus& b, rendezvous& rv, const std::string& me, const std::string& peer,
                   app_role role, const app_options& o);

}  // namespace chio::tb
