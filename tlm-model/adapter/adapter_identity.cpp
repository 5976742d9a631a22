// Function identity on the wire: the embedded switch's source rewrite, spoof check and ingress
// ownership check (catalogue invariant 17; Linux mlx5 E-Switch vport ACLs for spoofchk).
//
// Rules
// - Egress: a function's packets carry the source its driver set (SET_ADDR), else the manager's
//   assignment (SET_VF_ADDR), else the port's. With spoof check on and an assignment made, a
//   packet whose source MAC or GID differs from the assignment is dropped before the port and
//   counted (tx_dropped, errors): it never leaves the adapter.
// - Ingress: a packet for a function's assigned MAC may reach only that function's QPs; a packet
//   for the port's MAC may not reach a function that has an assigned MAC. Others are dropped and
//   counted (rx_dropped of the addressed function).
#include "tlm-model/adapter/adapter_core.h"

namespace chio::model {

namespace {

bool assigned(const function_ctx& f) { return mac_to_u64(f.mac) != 0; }

}  // namespace

void adapter_core::source_identity(uint32_t qpn, mac_address& mac, gid& g) const {
    const qp_ctx* q = qpn < ctx.qps.size() && ctx.qps[qpn].valid ? &ctx.qps[qpn] : nullptr;
    const uint16_t fn = q != nullptr ? q->fn : 0;
    const function_ctx* f = fn < ctx.fns.size() ? &ctx.fns[fn] : nullptr;
    if (f != nullptr && f->src_override) {
        mac = f->src_mac;
        g = f->src_gid;
    } else if (f != nullptr && assigned(*f)) {
        mac = f->mac;
        g = f->gid_value;
    } else {
        mac = port.mac;
        g = port.gid;
    }
}

bool adapter_core::egress_allowed(uint32_t qpn, const roce_packet& p) {
    const qp_ctx* q = ctx.qp(qpn);
    if (q == nullptr || q->fn >= ctx.fns.size()) return true;
    function_ctx& f = ctx.fns[q->fn];
    if (q->fn != 0 && f.spoof_check && assigned(f) &&
        (p.src_mac != f.mac || p.src_ip != f.gid_value)) {
        ++f.tx_dropped;
        ++f.errors;
        return false;
    }
    ++f.tx_packets;
    f.tx_bytes += wire_size(p);
    return true;
}

bool adapter_core::ingress_allowed(const roce_packet& p) {
    int dest_fn = -1;  // the function whose assigned MAC the packet is for, if any
    for (uint16_t fn = 0; fn < ctx.fns.size(); ++fn) {
        if (ctx.fns[fn].enabled && assigned(ctx.fns[fn]) && ctx.fns[fn].mac == p.dst_mac) {
            dest_fn = fn;
            break;
        }
    }
    const qp_ctx* q = p.dest_qp < ctx.qps.size() ? ctx.qp(p.dest_qp) : nullptr;
    if (q == nullptr) {
        if (dest_fn >= 0) ++ctx.fns[dest_fn].rx_dropped;
        return dest_fn < 0;  // unknown QPs of the port's address: the transport drops them
    }
    const bool ok = dest_fn >= 0 ? q->fn == dest_fn : !assigned(ctx.fns[q->fn]);
    if (!ok) {
        ++ctx.fns[dest_fn >= 0 ? dest_fn : q->fn].rx_dropped;
        return false;
    }
    ++ctx.fns[q->fn].rx_packets;
    ctx.fns[q->fn].rx_bytes += wire_size(p);
    return true;
}

}  // namespace chio::model
