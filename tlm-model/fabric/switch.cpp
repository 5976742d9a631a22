#include "tlm-model/fabric/switch.h"

namespace chio::model {

eth_switch::eth_switch(sc_core::sc_module_name name, unsigned num_ports, uint64_t seed)
    : sc_module(name), m_ports(num_ports), m_seed(seed) {
    for (unsigned p = 0; p < num_ports; ++p) {
        m_ports[p].sw = this;
        m_ports[p].index = p;
    }
}

eth_switch::~eth_switch() = default;

eth_attachment eth_switch::connect(unsigned port_index, eth_port_if& endpoint,
                                   const mac_address& mac, const link_direction_config& cfg,
                                   std::string* why) {
    auto refuse = [&](const std::string& reason) {
        if (why) *why = std::string(name()) + ": " + reason;
        return eth_attachment{};
    };
    if (port_index >= m_ports.size())
        return refuse("port " + std::to_string(port_index) + " out of range");
    port& p = m_ports[port_index];
    if (p.wire) return refuse("port " + std::to_string(port_index) + " already connected");
    if (m_table.count(mac)) return refuse("MAC already on port " + std::to_string(m_table[mac]));
    const std::string fault = check(cfg);
    if (!fault.empty()) return refuse(fault);

    // The link is a module of its own; its name carries the switch's and the port's so that
    // several switches can coexist.
    const std::string link_name = std::string(basename()) + "_port" + std::to_string(port_index);
    p.wire = std::make_unique<link>(link_name.c_str(), m_seed + port_index);
    p.wire->configure(cfg);
    p.wire->attach(link::side::a, p);
    p.wire->attach(link::side::b, endpoint);
    p.wire->set_pcap(link::side::b, m_pcap);
    m_table[mac] = port_index;
    return eth_attachment{p.wire.get(), link::side::b};
}

link* eth_switch::port_link(unsigned port_index) const {
    return port_index < m_ports.size() ? m_ports[port_index].wire.get() : nullptr;
}

void eth_switch::set_pcap(pcap_writer* w) {
    m_pcap = w;
    for (port& p : m_ports)
        if (p.wire) p.wire->set_pcap(link::side::b, w);
}

void eth_switch::port::receive(std::shared_ptr<const roce_packet> pkt) {
    sw->forward(index, std::move(pkt));
}

bool eth_switch::learn(const mac_address& mac, unsigned port) {
    if (port >= m_ports.size() || !m_ports[port].wire) return false;
    m_table[mac] = port;
    return true;
}

void eth_switch::forward(unsigned in_port, std::shared_ptr<const roce_packet> pkt) {
    const auto hit = m_table.find(pkt->dst_mac);
    if (hit == m_table.end()) {
        ++m_dropped_unknown;
        return;
    }
    // IEEE 802.1Q forwarding: a frame is never sent back out of the port it came in on.
    if (hit->second == in_port) {
        ++m_dropped_hairpin;
        return;
    }
    ++m_forwarded;
    m_ports[hit->second].wire->send(link::side::a, std::move(pkt));
}

}  // namespace chio::model
