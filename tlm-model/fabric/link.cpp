#include "tlm-model/fabric/link.h"

#include <cmath>
#include <cstdio>

#include "tlm-model/fabric/pcap_writer.h"
#include "tlm-model/fabric/wire.h"
#include "tlm-model/sim_time.h"

namespace chio::model {

using sc_core::SC_NS;
using sc_core::sc_time;

namespace {

constexpr double BITS_IN_BYTE = 8.0;

bool probability(double p) { return p >= 0.0 && p <= 1.0; }  // false for NaN too

uint64_t now_ns() { return sc_core::sc_time_stamp().value() / sc_time(1, SC_NS).value(); }

}  // namespace

std::string check(const link_direction_config& c) {
    char buf[120];
    auto bad = [&](const char* field, double v) {
        std::snprintf(buf, sizeof buf, "link %s %g is out of range", field, v);
        return std::string(buf);
    };
    if (!(c.rate_gbps > 0.0) || !std::isfinite(c.rate_gbps)) return bad("rate_gbps", c.rate_gbps);
    if (!(c.latency_ns >= 0.0) || !std::isfinite(c.latency_ns))
        return bad("latency_ns", c.latency_ns);
    if (c.mtu == 0) return bad("mtu", c.mtu);
    if (!probability(c.loss)) return bad("loss", c.loss);
    if (!probability(c.corrupt)) return bad("corrupt", c.corrupt);
    if (!probability(c.reorder)) return bad("reorder", c.reorder);
    if (!(c.reorder_delay_ns >= 0.0) || !std::isfinite(c.reorder_delay_ns))
        return bad("reorder_delay_ns", c.reorder_delay_ns);
    return {};
}

link::link(sc_core::sc_module_name name, uint64_t seed) : sc_module(name) {
    // One generator per direction, so that what one direction draws does not depend on how its
    // sends interleave with the other's.
    for (size_t d = 0; d < m_dir.size(); ++d) {
        std::seed_seq seq{static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32),
                          static_cast<uint32_t>(d)};
        m_dir[d].rng.seed(seq);
    }
    SC_METHOD(deliver_from_a);
    sensitive << m_dir[0].arrival;
    dont_initialize();
    SC_METHOD(deliver_from_b);
    sensitive << m_dir[1].arrival;
    dont_initialize();
}

void link::attach(side s, eth_port_if& endpoint) { m_endpoint[idx(s)] = &endpoint; }

bool link::configure(side from, const link_direction_config& cfg, std::string* why) {
    const std::string fault = check(cfg);
    if (!fault.empty()) {
        if (why) *why = fault;
        return false;
    }
    m_dir[idx(from)].cfg = cfg;
    return true;
}

bool link::configure(const link_direction_config& cfg, std::string* why) {
    return configure(side::a, cfg, why) && configure(side::b, cfg, why);
}

sc_time link::busy_until(side from) const {
    const sc_time now = sc_core::sc_time_stamp();
    const sc_time& b = m_dir[idx(from)].busy_until;
    return b > now ? b : now;
}

// A uniform draw in [0, 1) from the top 53 bits, the same on every standard library (the std
// distributions are not specified bit for bit). A zero probability draws nothing, so a run with
// one impairment switched on sees the same draws whether the others exist or not.
bool link::draw(direction& d, double p) {
    if (p <= 0.0) return false;
    constexpr double TWO_TO_MINUS_53 = 1.0 / 9007199254740992.0;
    return static_cast<double>(d.rng() >> 11) * TWO_TO_MINUS_53 < p;
}

void link::send(side from, std::shared_ptr<const roce_packet> pkt) {
    if (!pkt) return;
    direction& d = m_dir[idx(from)];
    const sc_time now = sc_core::sc_time_stamp();
    ++d.stats.frames;
    d.stats.bytes += wire_size(*pkt);
    if (pcap_writer* w = m_pcap[idx(from)]) w->write(now_ns(), encode(*pkt));

    if (!m_up) {
        ++d.stats.dropped_down;
        return;
    }
    if (ip_size(*pkt) > d.cfg.mtu) {
        ++d.stats.dropped_mtu;
        return;
    }
    // Serialization: the frame starts when the previous one has left (IEEE 802.3 sends one
    // frame at a time per direction) and occupies the wire for its bits at the line rate.
    const sc_time start = d.busy_until > now ? d.busy_until : now;
    const double bits = static_cast<double>(wire_occupancy(*pkt)) * BITS_IN_BYTE;
    d.busy_until = start + ns_time(bits / d.cfg.rate_gbps);

    if (draw(d, d.cfg.loss)) {
        ++d.stats.dropped_loss;
        return;
    }
    if (draw(d, d.cfg.corrupt)) {
        auto damaged = std::make_shared<roce_packet>(*pkt);
        damaged->corrupt = true;
        pkt = std::move(damaged);
        ++d.stats.corrupted;
    }
    sc_time arrival = d.busy_until + ns_time(d.cfg.latency_ns);
    if (draw(d, d.cfg.reorder)) {
        arrival += ns_time(d.cfg.reorder_delay_ns);
        ++d.stats.reordered;
    }
    d.queue.push(in_flight{arrival, d.seq++, m_down_count, std::move(pkt)});
    // An earlier pending notification wins over a later one (IEEE 1666 section 5.10.8), so the
    // event always fires for the earliest arrival.
    d.arrival.notify(arrival - now);
}

void link::deliver(side from) {
    direction& d = m_dir[idx(from)];
    const sc_time now = sc_core::sc_time_stamp();
    while (!d.queue.empty() && d.queue.top().arrival <= now) {
        // Pop before the callback: receive() may send on this link again.
        std::shared_ptr<const roce_packet> pkt = d.queue.top().pkt;
        const bool survived = d.queue.top().epoch == m_down_count;
        d.queue.pop();
        eth_port_if* to = m_endpoint[idx(other(from))];
        if (!m_up || !survived || to == nullptr) {
            ++d.stats.dropped_down;
            continue;
        }
        ++d.stats.delivered;
        to->receive(std::move(pkt));
    }
    if (!d.queue.empty()) d.arrival.notify(d.queue.top().arrival - now);
}

void link::set_up(bool up) {
    if (up == m_up) return;
    m_up = up;
    if (!up) ++m_down_count;
    for (eth_port_if* e : m_endpoint)
        if (e) e->link_state_changed(up);
}

link_pair connect(link& l, eth_port_if& a, eth_port_if& b) {
    l.attach(link::side::a, a);
    l.attach(link::side::b, b);
    return {eth_attachment{&l, link::side::a}, eth_attachment{&l, link::side::b}};
}

}  // namespace chio::model
