#include "testbenches/scenarios/vf_provision.h"

#include <cmath>

#include "tlm-model/adapter/contexts.h"

namespace chio::tb {

namespace {

uint64_t mbps(double gbps) { return static_cast<uint64_t>(std::llround(gbps * 1000.0)); }

bool check(const drv::cmd_result& r, const std::string& what, std::string& err) {
    if (r.ok()) return true;
    err = what + ": " + spec::cmd::to_string(r.status);
    return false;
}

std::string where(const cosim::host_config& h, const cosim::vf_config& v) {
    return h.name + " vfs[" + std::to_string(v.vf) + "]";
}

}  // namespace

bool provision_vfs(drv::manager& mgr, const cosim::host_config& h, std::string& err) {
    // NumVFs first: the per-VF commands name functions that must exist.
    if (h.num_vfs > 0 && !check(mgr.enable_vfs(h.num_vfs),
                                h.name + " enable_vfs " + std::to_string(h.num_vfs), err)) {
        return false;
    }
    for (const cosim::vf_config& v : h.vfs) {
        const std::string w = where(h, v);
        const cosim::vf_quota_config& q = v.quota;
        if (q.qps || q.cqs || q.eqs || q.mrs || q.pds || q.srqs || q.ahs) {
            const drv::vf_quota dq{q.qps, q.cqs, q.eqs, q.mrs, q.pds, q.srqs, q.ahs};
            if (!check(mgr.set_quota(v.fn(), dq), w + " set_quota", err)) return false;
        }
        if (v.mac || v.gid) {
            const uint64_t mac = v.mac ? model::mac_to_u64(*v.mac) : 0;
            const model::gid g = v.gid ? *v.gid : model::gid{};
            if (!check(
                    mgr.set_address(v.fn(), mac, model::gid_hi(g), model::gid_lo(g), v.spoof_check),
                    w + " set_address", err)) {
                return false;
            }
        }
        if (!check(mgr.set_vf_qos(v.fn(), v.weight, mbps(v.cap_gbps)),
                   w + " set_vf_qos weight=" + std::to_string(v.weight), err)) {
            return false;
        }
    }
    return true;
}

bool apply_qp_limit(drv::manager& mgr, const cosim::host_config& h, const cosim::vf_config& vf,
                    uint32_t index, uint32_t qpn, std::string& err) {
    for (const cosim::qp_rate_limit_config& l : vf.qp_rate_limits) {
        if (l.qp != index) continue;
        // Weight 1: the file sets a QP's limit only; its share among the VF's QPs stays equal.
        if (!check(mgr.set_qp_qos(qpn, 1, mbps(l.gbps)),
                   where(h, vf) + " qp_rate_limits qp " + std::to_string(index) + " (qpn " +
                       std::to_string(qpn) + ")",
                   err)) {
            return false;
        }
    }
    return true;
}

}  // namespace chio::tb
