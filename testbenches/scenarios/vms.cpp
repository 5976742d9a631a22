#include "testbenches/scenarios/vms.h"

#include <algorithm>
#include <cstdio>

#include "cosim/virt_setup.h"
#include "testbenches/scenarios/vf_provision.h"

namespace chio::tb {

namespace {

const cosim::vf_config* find_vf(const cosim::host_config& h, unsigned vf) {
    for (const auto& v : h.vfs) {
        if (v.vf == vf) return &v;
    }
    return nullptr;
}

}  // namespace

bool vms_scenario::setup(cosim::topology& topo, const cosim::virt_config& cfg, const sim_options& o,
                         std::string& err) {
    m_topo = &topo;
    m_cfg = cfg;
    if (cfg.hosts.size() != 2 || topo.size() != 2) {
        err = "hosts: " + std::to_string(cfg.hosts.size()) +
              " entries; the vms scenario runs a pair of hosts (2)";
        return false;
    }
    m_traffic.seed = o.seed;
    // Each VM's buffer is 64 KiB (it must fit the smallest backing chunk a file may ask for), so
    // --count and --size are clamped: at most 8 SENDs, and count * size <= 16 KiB.
    m_traffic.count = static_cast<uint32_t>(std::clamp<uint64_t>(o.count, 1, 8));
    m_traffic.size = std::clamp<uint32_t>(o.size, 1, (16u << 10) / m_traffic.count);
    std::vector<std::vector<const cosim::vm_config*>> with_vf(2);
    for (unsigned h = 0; h < 2; ++h) {
        for (const auto& v : cfg.hosts[h].vms) {
            if (v.vf) with_vf[h].push_back(&v);
        }
    }
    if (with_vf[0].size() != with_vf[1].size()) {
        err = "hosts[1].vms: " + std::to_string(with_vf[1].size()) + " VMs with a VF, host 0 has " +
              std::to_string(with_vf[0].size()) +
              " (the vms scenario pairs VM k of host 0 with VM k of host 1)";
        return false;
    }
    for (unsigned h = 0; h < 2; ++h) {
        const cosim::host_config& hc = m_cfg.hosts[h];
        m_hv.push_back(std::make_unique<cosim::hypervisor>(topo.host(h)));
        const std::string name = hc.name;
        m_hv.back()->set_log_sink(
            [this, name](const std::string& l) { m_log.push_back(name + " hypervisor: " + l); });
        m_vms.push_back(cosim::setup_vms(hc, *m_hv.back(), err));
        if (m_vms.back().empty() && !hc.vms.empty()) {
            err = name + ": " + err;
            return false;
        }
        size_t k = 0;
        for (size_t i = 0; i < hc.vms.size(); ++i) {
            if (!hc.vms[i].vf) continue;
            vm_row r;
            r.host = h;
            r.vm = hc.vms[i].name;
            r.peer = with_vf[1 - h][k++]->name;
            r.fn = static_cast<uint16_t>(*hc.vms[i].vf + 1);
            r.vf = find_vf(hc, *hc.vms[i].vf);
            m_rows.push_back(r);
        }
    }
    // Rendezvous names are per host, so VMs on the two hosts may share a name.
    return true;
}

void vms_scenario::start() {
    for (unsigned h = 0; h < 2; ++h) {
        m_topo->host(h).run_driver([this, h](drv::bus& b) { pf_thread(h, b); });
    }
    for (size_t i = 0; i < m_rows.size(); ++i) {
        const vm_row& r = m_rows[i];
        cosim::vm* g = m_hv[r.host]->find_vm(r.vm);
        m_hv[r.host]->run_guest(*g, r.fn, [this, i](drv::bus& b) { vm_thread(i, b); });
    }
}

void vms_scenario::pf_thread(unsigned h, drv::bus& b) {
    const cosim::host_config& hc = m_cfg.hosts[h];
    const std::string host = hc.name;
    drv::device pf(b);
    std::string err;
    bool ok = pf.probe();
    if (!ok) err = host + " PF probe: " + pf.last_error();
    drv::manager mgr(pf, [this, host](const std::string& l) {
        m_log.push_back(host + " " + l);  // the manager's lines start "manager: "
    });
    ok = ok && provision_vfs(mgr, hc, err);
    m_rv.put(host + ".provisioned", {ok ? 1u : 0u});
    if (!ok) {
        m_errors.push_back(err);
        return;
    }
    // Per-QP limits name the VF's QPs in creation order: each VM reports its QP once created.
    for (vm_row& r : m_rows) {
        if (r.host != h) continue;
        const uint32_t qpn = static_cast<uint32_t>(m_rv.get(host + "." + r.vm + ".qpn")[0]);
        if (r.vf != nullptr && !apply_qp_limit(mgr, hc, *r.vf, 0, qpn, err)) {
            m_errors.push_back(err);
        }
        m_rv.put(host + "." + r.vm + ".limits", {1});
    }
    for (vm_row& r : m_rows) {
        if (r.host != h) continue;
        m_rv.get(host + "." + r.vm + ".done");
        r.have_stats = mgr.query_stats(r.fn, r.stats).ok();
    }
}

void vms_scenario::vm_thread(size_t row, drv::bus& b) {
    vm_row& r = m_rows[row];
    const std::string host = m_cfg.hosts[r.host].name;
    const std::string peer_host = m_cfg.hosts[1 - r.host].name;
    if (m_rv.get(host + ".provisioned")[0] == 0) {
        r.traffic.error = host + "/" + r.vm + ": not started, provisioning failed";
        m_rv.put(host + "." + r.vm + ".done", {0});
        return;
    }
    const std::string me = host + "." + r.vm, peer = peer_host + "." + r.peer;
    r.traffic = run_vm_peer(b, m_rv, me, peer, r.host, m_traffic, [&](uint32_t qpn) {
        m_rv.put(me + ".qpn", {qpn});
        m_rv.get(me + ".limits");
    });
    m_rv.put(me + ".done", {1});
}

void vms_scenario::finish(scenario_result& res) const {
    for (const std::string& e : m_errors) res.fail(e);
    for (const vm_row& r : m_rows) {
        const vm_peer_result& t = r.traffic;
        if (!t.error.empty()) res.fail(t.error);
        res.sends += t.sends;
        res.expected += t.expected;
        res.seen += t.seen;
        res.error_completions += t.error_completions;
        res.bytes_verified += t.bytes_verified;
        res.data_mismatches += t.data_mismatches;
        res.per_opcode["RDMA_WRITE"] += t.sends > 0 ? 1 : 0;
        res.per_opcode["SEND"] += t.sends > 0 ? t.sends - 1 : 0;
    }
    if (m_rows.empty()) res.fail("no VM has a VF: nothing to run");
    res.finish();
}

void vms_scenario::print() const {
    std::printf("  per VM pair          1 RDMA WRITE of %u B + %u SENDs of %u B each way\n",
                m_traffic.count * m_traffic.size, m_traffic.count, m_traffic.size);
    std::printf("  manager and hypervisor log\n");
    for (const std::string& l : m_log) std::printf("    %s\n", l.c_str());
    std::printf("  %-7s %-12s %-3s %-6s %-8s %-20s %9s %9s %9s %9s %6s %6s\n", "host", "vm", "fn",
                "weight", "cap Gb/s", "peer", "tx pkts", "tx bytes", "rx pkts", "rx bytes", "drops",
                "verif");
    for (const vm_row& r : m_rows) {
        const drv::vf_stats& s = r.stats;
        const std::string cap =
            r.vf && r.vf->cap_gbps > 0 ? std::to_string(r.vf->cap_gbps).substr(0, 5) : "-";
        std::printf("  %-7s %-12s %-3u %-6u %-8s %-20s %9llu %9llu %9llu %9llu %6llu %6s\n",
                    m_cfg.hosts[r.host].name.c_str(), r.vm.c_str(), r.fn, r.vf ? r.vf->weight : 1u,
                    cap.c_str(), (m_cfg.hosts[1 - r.host].name + "/" + r.peer).c_str(),
                    static_cast<unsigned long long>(s.tx_packets),
                    static_cast<unsigned long long>(s.tx_bytes),
                    static_cast<unsigned long long>(s.rx_packets),
                    static_cast<unsigned long long>(s.rx_bytes),
                    static_cast<unsigned long long>(s.tx_dropped + s.rx_dropped),
                    r.traffic.ok ? "ok" : "FAIL");
    }
}

nlohmann::json vms_scenario::to_json() const {
    nlohmann::json vms = nlohmann::json::array();
    for (const vm_row& r : m_rows) {
        const drv::vf_stats& s = r.stats;
        vms.push_back({{"host", m_cfg.hosts[r.host].name},
                       {"vm", r.vm},
                       {"fn", r.fn},
                       {"peer", m_cfg.hosts[1 - r.host].name + "/" + r.peer},
                       {"weight", r.vf ? r.vf->weight : 1u},
                       {"cap_gbps", r.vf && r.vf->cap_gbps > 0 ? nlohmann::json(r.vf->cap_gbps)
                                                               : nlohmann::json(nullptr)},
                       {"qpn", r.traffic.qpn},
                       {"sends", r.traffic.sends},
                       {"completions", r.traffic.seen},
                       {"bytes_verified", r.traffic.bytes_verified},
                       {"data_mismatches", r.traffic.data_mismatches},
                       {"ok", r.traffic.ok},
                       {"stats",
                        {{"tx_packets", s.tx_packets},
                         {"tx_bytes", s.tx_bytes},
                         {"rx_packets", s.rx_packets},
                         {"rx_bytes", s.rx_bytes},
                         {"tx_dropped", s.tx_dropped},
                         {"rx_dropped", s.rx_dropped},
                         {"errors", s.errors}}}});
    }
    return {{"vms", vms}, {"log", m_log}};
}

}  // namespace chio::tb
