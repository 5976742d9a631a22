#include "cosim/topology.h"

#include <stdexcept>

#include "tlm-model/fabric/wire.h"

namespace chio::cosim {

model::mac_address host_mac(unsigned i) { return model::mac_from_u64(0x02C410000000ull + i + 1); }

model::gid host_gid(unsigned i) { return model::ipv4_gid(0x0A000000u + i + 1); }

topology::topology(const topology_params& p) { build(p, nullptr); }

topology::topology(const topology_params& p, const model::queue_engine_options& host0_qe) {
    build(p, &host0_qe);
}

void topology::build(const topology_params& p, const model::queue_engine_options* host0_qe) {
    unsigned n = p.kind == topology_kind::loopback ? 1
                 : p.kind == topology_kind::pair   ? 2
                                                   : p.hosts;
    if (n == 0) throw std::invalid_argument("topology: a star needs at least one host");
    if (!p.pcap.empty()) {
        m_pcap = std::make_unique<model::pcap_writer>();
        if (!m_pcap->open(p.pcap)) throw std::runtime_error("cannot write pcap '" + p.pcap + "'");
    }
    for (unsigned i = 0; i < n; ++i) {
        platform_params hp = p.host;
        hp.adapter.port.mac = host_mac(i);
        hp.adapter.port.gid = host_gid(i);
        if (i == 0 && host0_qe != nullptr) hp.adapter.qe_options = *host0_qe;
        m_hosts.push_back(std::make_unique<platform>(("host" + std::to_string(i)).c_str(), hp));
    }
    std::string why;
    if (p.kind == topology_kind::loopback) {
        if (m_pcap) {
            model::pcap_writer* w = m_pcap.get();
            m_hosts[0]->adapter.net().set_tap([w](const model::roce_packet& pkt) {
                const auto bytes = model::encode(pkt);
                w->write(static_cast<uint64_t>(sc_core::sc_time_stamp().to_seconds() * 1e9),
                         bytes.data(), bytes.size());
            });
        }
    } else if (p.kind == topology_kind::pair) {
        m_link = std::make_unique<model::link>("wire", p.seed);
        if (!m_link->configure(p.link, &why)) throw std::invalid_argument("link: " + why);
        const model::link_pair lp =
            model::connect(*m_link, m_hosts[0]->adapter.net(), m_hosts[1]->adapter.net());
        m_hosts[0]->adapter.net().set_wire(
            [a = lp.a](model::packet_ptr pkt) { a.send(std::move(pkt)); });
        m_hosts[1]->adapter.net().set_wire(
            [b = lp.b](model::packet_ptr pkt) { b.send(std::move(pkt)); });
        if (m_pcap) m_link->set_pcap(m_pcap.get());
    } else {
        m_switch = std::make_unique<model::eth_switch>("switch", n, p.seed);
        for (unsigned i = 0; i < n; ++i) {
            const model::eth_attachment at =
                m_switch->connect(i, m_hosts[i]->adapter.net(), host_mac(i), p.link, &why);
            if (!at.attached()) throw std::invalid_argument("switch: " + why);
            m_hosts[i]->adapter.net().set_wire(
                [at](model::packet_ptr pkt) { at.send(std::move(pkt)); });
        }
        if (m_pcap) m_switch->set_pcap(m_pcap.get());
    }
}

topology::~topology() { close(); }

bool topology::close() {
    if (!m_pcap) return true;
    const bool ok = m_pcap->close();
    m_pcap.reset();
    return ok;
}

}  // namespace chio::cosim
