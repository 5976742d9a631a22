// link: a full-duplex Ethernet link joining two ports (sides a and b), carrying roce_packets.
//
// Contract, per direction (frames sent from one side to the other):
//  - send() is non-blocking and may be called from any SystemC process (thread or method), and
//    from a receive() callback. It takes ownership of a shared, immutable packet.
//  - A frame whose IP packet exceeds the MTU, or sent while the link is down, is dropped on entry
//    and counted. Every other frame occupies the direction's serializer for
//    wire_occupancy() * 8 / rate (preamble, FCS and inter-packet gap included): a frame sent while
//    the previous one is still serializing waits its turn (queueing delay, no queue limit). It
//    arrives `latency` after its last bit left, unless lost (it still used the wire), corrupted
//    (delivered as a copy with `corrupt` set: the receiver's ICRC check fails) or held back by
//    `reorder_delay` so that later frames overtake it. Frames in flight when the link goes down
//    are dropped at arrival, even if it is up again by then.
//  - Impairments come from a std::mt19937_64 per direction seeded from the link's seed and the
//    direction: the same seed and the same sends give the same losses, corruptions and reorders.
//  - The receiving endpoint's receive() runs in this link's SC_METHOD at the arrival time, so it
//    must not call wait(): it queues the packet and notifies its own process.
//  - With a pcap attached, every frame given to send() is encoded and written at the time of the
//    send (the tap sits where the frame enters the link); without one nothing is encoded.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <queue>
#include <random>
#include <string>
#include <systemc>
#include <vector>

#include "tlm-model/fabric/packet.h"

namespace chio::model {

class pcap_writer;

// What a network port implements to receive from a link.
class eth_port_if {
public:
    virtual ~eth_port_if() = default;
    // A frame arrived (called at its arrival time from the link's SC_METHOD: must not wait()).
    virtual void receive(std::shared_ptr<const roce_packet> pkt) = 0;
    // The link went down or came up (for the port state change event). Default: ignored.
    virtual void link_state_changed(bool up) { (void)up; }
};

// One direction's parameters. Plain values, so that scenario files can carry them.
struct link_direction_config {
    double rate_gbps = 100.0;        // line rate
    double latency_ns = 100.0;       // propagation delay (about 20 m of fibre at 5 ns/m)
    uint32_t mtu = 9000;             // largest IP packet (IP header to ICRC), as `ip link` counts
    double loss = 0.0;               // probability a frame is lost
    double corrupt = 0.0;            // probability a frame arrives corrupted
    double reorder = 0.0;            // probability a frame is held back
    double reorder_delay_ns = 1000;  // how long a held-back frame is held
};

// A one-line reason when `cfg` is unusable (rate <= 0, a probability outside [0, 1], negative
// times, MTU 0); empty when it is fine.
std::string check(const link_direction_config& cfg);

class link : public sc_core::sc_module {
public:
    enum class side : uint8_t { a = 0, b = 1 };
    static side other(side s) { return s == side::a ? side::b : side::a; }

    // Per direction, named by the sending side.
    struct counters {
        uint64_t frames = 0;        // given to send()
        uint64_t bytes = 0;         // wire_size() of those
        uint64_t delivered = 0;     // handed to the receiving endpoint (corrupted ones included)
        uint64_t dropped_mtu = 0;   // IP packet larger than the MTU
        uint64_t dropped_down = 0;  // link down at send or at arrival, or no endpoint attached
        uint64_t dropped_loss = 0;  // injected loss
        uint64_t corrupted = 0;     // injected corruption
        uint64_t reordered = 0;     // held back by reorder_delay
        uint64_t dropped() const { return dropped_mtu + dropped_down + dropped_loss; }
    };

    SC_HAS_PROCESS(link);
    // Both directions start with the defaults of link_direction_config; configure() changes them.
    explicit link(sc_core::sc_module_name name, uint64_t seed = 1);

    void attach(side s, eth_port_if& endpoint);

    // Changes the direction sending from `from` for frames sent afterwards. False (and nothing
    // changed) when check(cfg) finds a fault; `why` gets it.
    bool configure(side from, const link_direction_config& cfg, std::string* why = nullptr);
    bool configure(const link_direction_config& cfg, std::string* why = nullptr);  // both
    const link_direction_config& config(side from) const { return m_dir[idx(from)].cfg; }

    void send(side from, std::shared_ptr<const roce_packet> pkt);

    // Down drops everything, in flight included. Endpoints hear of a change.
    void set_up(bool up);
    bool is_up() const { return m_up; }

    // When the serializer of `from` is next free (the current time or later).
    sc_core::sc_time busy_until(side from) const;

    const counters& stats(side from) const { return m_dir[idx(from)].stats; }

    // Tap every frame entering the link into `w` (nullptr: none), both directions or the one
    // sending from `from`. Not owned.
    void set_pcap(pcap_writer* w) { m_pcap = {w, w}; }
    void set_pcap(side from, pcap_writer* w) { m_pcap[idx(from)] = w; }

private:
    struct in_flight {
        sc_core::sc_time arrival;
        uint64_t seq;    // send order: ties at one arrival time keep it
        uint64_t epoch;  // m_down_count at send: a down since then lost the frame
        std::shared_ptr<const roce_packet> pkt;
        bool operator>(const in_flight& o) const {
            return arrival != o.arrival ? arrival > o.arrival : seq > o.seq;
        }
    };
    struct direction {
        link_direction_config cfg;
        std::mt19937_64 rng;
        sc_core::sc_time busy_until;
        std::priority_queue<in_flight, std::vector<in_flight>, std::greater<in_flight>> queue;
        sc_core::sc_event arrival;
        counters stats;
        uint64_t seq = 0;
    };

    static size_t idx(side s) { return static_cast<size_t>(s); }
    bool draw(direction& d, double probability);
    void deliver(side from);
    void deliver_from_a() { deliver(side::a); }
    void deliver_from_b() { deliver(side::b); }

    std::array<direction, 2> m_dir;
    std::array<eth_port_if*, 2> m_endpoint{};
    std::array<pcap_writer*, 2> m_pcap{};
    bool m_up = true;
    uint64_t m_down_count = 0;
};

// What an endpoint holds to transmit: its link and its side of it. A detached one (the default)
// has nowhere to send and drops the frame.
struct eth_attachment {
    link* via = nullptr;
    link::side from = link::side::a;
    bool attached() const { return via != nullptr; }
    void send(std::shared_ptr<const roce_packet> pkt) const {
        if (via) via->send(from, std::move(pkt));
    }
};

// Two endpoints joined by `l`: `a` on side a, `b` on side b. Returns what each transmits with.
struct link_pair {
    eth_attachment a;
    eth_attachment b;
};
link_pair connect(link& l, eth_port_if& a, eth_port_if& b);

}  // namespace chio::model
