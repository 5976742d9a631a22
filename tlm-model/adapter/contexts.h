// The adapter's resource contexts: what the device remembers about each EQ, CQ and QP.
//
// Every context records its owning function (fn); every command and doorbell that touches a
// resource is checked against it. Ring addresses are bus addresses in host memory.
#pragma once

#include <cstdint>
#include <vector>

#include "chio/spec/spec.h"
#include "tlm-model/fabric/packet.h"

namespace chio::model {

struct eq_ctx {
    bool valid = false;
    uint16_t fn = 0;
    uint8_t log_size = 0;
    uint32_t vector = 0;  // MSI-X vector of the owning function
    uint64_t ring = 0;
    uint32_t cq_refs = 0;  // CQs bound to this EQ
};

struct cq_ctx {
    bool valid = false;
    uint16_t fn = 0;
    uint8_t log_size = 0;
    uint32_t eqn = 0;
    uint64_t ring = 0;
    uint32_t qp_refs = 0;  // QPs using this CQ (send or receive)
    bool error = false;    // overflowed: no more completions
};

struct pd_ctx {
    bool valid = false;
    uint16_t fn = 0;
    uint32_t refs = 0;  // MRs, QPs, AHs and SRQs in this PD
};

// A memory region: [iova, iova + length) maps to bus addresses pa + (va - iova).
struct mr_ctx {
    bool valid = false;
    uint16_t fn = 0;
    uint32_t pd = 0;
    uint32_t access = 0;  // spec::access_flags bits
    uint64_t iova = 0;
    uint64_t length = 0;
    uint64_t pa = 0;
    uint8_t variant = 0;  // key bits 7:0; bumped at every registration so stale keys miss
};

// Where a packet goes: next-hop MAC and destination GID (IPv6, or ::ffff:a.b.c.d).
struct address_vector {
    mac_address dest_mac{};
    gid dest_gid{};
};

// The command interface carries a MAC in the low 48 bits of a 64-bit field (byte 0 of the MAC
// in bits 47:40) and a GID as two 64-bit halves, each the big-endian value of 8 GID bytes.
inline mac_address mac_from_u64(uint64_t v) {
    mac_address m{};
    for (int i = 0; i < 6; ++i) m[i] = static_cast<uint8_t>(v >> (8 * (5 - i)));
    return m;
}
inline uint64_t mac_to_u64(const mac_address& m) {
    uint64_t v = 0;
    for (int i = 0; i < 6; ++i) v = v << 8 | m[i];
    return v;
}
inline gid gid_from_u64(uint64_t hi, uint64_t lo) {
    gid g{};
    for (int i = 0; i < 8; ++i) {
        g[i] = static_cast<uint8_t>(hi >> (8 * (7 - i)));
        g[8 + i] = static_cast<uint8_t>(lo >> (8 * (7 - i)));
    }
    return g;
}
inline uint64_t gid_hi(const gid& g) {
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = v << 8 | g[i];
    return v;
}
inline uint64_t gid_lo(const gid& g) {
    uint64_t v = 0;
    for (int i = 8; i < 16; ++i) v = v << 8 | g[i];
    return v;
}

struct ah_ctx {
    bool valid = false;
    uint16_t fn = 0;
    uint32_t pd = 0;
    address_vector av;
};

struct srq_ctx {
    bool valid = false;
    uint16_t fn = 0;
    uint32_t pd = 0;
    uint8_t log_size = 0;
    uint64_t ring = 0;
    uint32_t qp_refs = 0;
    // Which SRQ this is: a number no earlier SRQ of the adapter had (device_contexts::
    // srq_incarnations), so receive WQEs read ahead for another SRQ in this slot are never taken
    // for its own.
    uint64_t incarnation = 0;
};

// QP attributes settable by MODIFY_QP (names as the spec's qp_attr bits).
struct qp_attrs {
    uint32_t dest_qpn = 0;
    uint32_t rq_psn = 0;
    uint32_t sq_psn = 0;
    uint32_t path_mtu = static_cast<uint32_t>(spec::path_mtu::MTU_4096);
    uint32_t port = 1;
    uint32_t access_flags = 0;
    uint32_t qkey = 0;
    uint32_t timers = 0;     // spec::packed::QP_TIMERS_*
    uint32_t rd_atomic = 0;  // spec::packed::QP_RD_ATOMIC_*
    address_vector av;
};

struct qp_ctx {
    bool valid = false;
    uint16_t fn = 0;
    spec::qp_type type = spec::qp_type::RC;
    spec::qp_state state = spec::qp_state::RESET;
    uint32_t send_cqn = 0;
    uint32_t recv_cqn = 0;
    uint8_t sq_log_size = 0;
    uint8_t rq_log_size = 0;
    uint32_t pd = 0;
    uint64_t sq_addr = 0;
    uint64_t rq_addr = 0;
    uint64_t db_rec_addr = 0;
    int32_t srqn = -1;  // shared receive queue, or -1
    qp_attrs attrs;
    // A send-queue work token arrived while the QP could not send (INIT, RTR, SQD): it is held
    // here and handed back to the scheduler when the QP enters RTS.
    bool parked = false;
    // QoS within the owning function (docs/virtualization.md): the QP's weight among the
    // function's QPs, and its rate limit in Mb/s (0: unlimited).
    uint32_t qos_weight = 1;
    uint64_t rate_limit_mbps = 0;
};

// Limits the PF's manager sets on a function (0 in a field: no limit beyond the device's).
struct function_quota {
    uint32_t qps = 0, cqs = 0, eqs = 0, mrs = 0, pds = 0, srqs = 0, ahs = 0;
};

// What the PF's manager assigns to each function, and what the device counts for it. Function 0
// is the PF; function n (1..TotalVFs) is VF n-1 (routing id = PF's + First VF Offset + (n-1) *
// VF Stride, with offset = stride = 1).
struct function_ctx {
    bool enabled = false;  // the PF always; a VF while VF Enable is set and NumVFs > its index
    function_quota quota;
    // Egress identity: packets this function sends must carry this source MAC and GID (spoof
    // check); incoming packets for this MAC are delivered to it.
    mac_address mac{};
    gid gid_value{};
    bool spoof_check = true;
    // The source the function's own driver chose (SET_ADDR), used instead of the assignment.
    bool src_override = false;
    mac_address src_mac{};
    gid src_gid{};
    // QoS among functions: minimum share as a weight, and a cap in Mb/s (0: uncapped).
    uint32_t qos_weight = 1;
    uint64_t max_rate_mbps = 0;
    // Statistics (per VF, as the manager reads them).
    uint64_t tx_packets = 0, tx_bytes = 0, rx_packets = 0, rx_bytes = 0;
    uint64_t tx_dropped = 0, rx_dropped = 0, errors = 0;
    // SUSPEND_VF / LOAD_VF until RESUME_VF (docs/migration.md): its send queues are not served,
    // its packets are dropped on arrival and its transport timers hold.
    bool suspended = false;
};

// Work-queue and completion-ring ids in the queue engine (see queue_engine.h).
inline uint16_t sq_wqid(uint32_t qpn) { return static_cast<uint16_t>(qpn * 2); }
inline uint16_t rq_wqid(uint32_t qpn) { return static_cast<uint16_t>(qpn * 2 + 1); }
inline uint16_t srq_wqid(uint32_t srqn) {
    return static_cast<uint16_t>(2 * spec::limits::MAX_QP + srqn);
}
// The receive work queue a QP consumes: its own RQ, or its SRQ.
inline uint16_t recv_wqid(uint32_t qpn, int32_t srqn) {
    return srqn >= 0 ? srq_wqid(static_cast<uint32_t>(srqn)) : rq_wqid(qpn);
}
inline uint16_t cq_crid(uint32_t cqn) { return static_cast<uint16_t>(cqn); }

// Memory keys: bits 31:8 index the MR table, bits 7:0 are the registration's variant.
inline uint32_t mr_key(uint32_t index, uint8_t variant) { return index << 8 | variant; }
inline uint32_t mr_key_index(uint32_t key) { return key >> 8; }
inline uint16_t eq_crid(uint32_t eqn) { return static_cast<uint16_t>(spec::limits::MAX_CQ + eqn); }

struct device_contexts {
    std::vector<eq_ctx> eqs = std::vector<eq_ctx>(spec::limits::MAX_EQ);
    std::vector<cq_ctx> cqs = std::vector<cq_ctx>(spec::limits::MAX_CQ);
    std::vector<qp_ctx> qps = std::vector<qp_ctx>(spec::limits::MAX_QP);
    std::vector<pd_ctx> pds = std::vector<pd_ctx>(spec::limits::MAX_PD);
    std::vector<mr_ctx> mrs = std::vector<mr_ctx>(spec::limits::MAX_MR);
    std::vector<ah_ctx> ahs = std::vector<ah_ctx>(spec::limits::MAX_AH);
    std::vector<srq_ctx> srqs = std::vector<srq_ctx>(spec::limits::MAX_SRQ);
    // Indexed by function number (0 = PF); sized by the adapter to 1 + TotalVFs.
    std::vector<function_ctx> fns = std::vector<function_ctx>(1);
    // SRQs created so far (srq_ctx::incarnation); clear() keeps it, so numbers are never reused.
    uint64_t srq_incarnations = 0;

    qp_ctx* qp(uint32_t qpn) { return qpn < qps.size() && qps[qpn].valid ? &qps[qpn] : nullptr; }
    cq_ctx* cq(uint32_t cqn) { return cqn < cqs.size() && cqs[cqn].valid ? &cqs[cqn] : nullptr; }
    eq_ctx* eq(uint32_t eqn) { return eqn < eqs.size() && eqs[eqn].valid ? &eqs[eqn] : nullptr; }
    pd_ctx* pd(uint32_t n) { return n < pds.size() && pds[n].valid ? &pds[n] : nullptr; }
    ah_ctx* ah(uint32_t n) { return n < ahs.size() && ahs[n].valid ? &ahs[n] : nullptr; }
    srq_ctx* srq(uint32_t n) { return n < srqs.size() && srqs[n].valid ? &srqs[n] : nullptr; }
    function_ctx* function(uint16_t fn) { return fn < fns.size() ? &fns[fn] : nullptr; }
    // The MR a key names, when the key's index and variant both match a valid registration.
    mr_ctx* mr(uint32_t key) {
        const uint32_t i = mr_key_index(key);
        if (i >= mrs.size() || !mrs[i].valid || mrs[i].variant != (key & 0xFF)) return nullptr;
        return &mrs[i];
    }
    // MR variants survive a reset of the contexts, so a key from before a reset never matches
    // a registration after it (catalogue E5, invariant 16). A device reset also resets every
    // function's assignment (a PF reset disables its VFs); the number of functions stays.
    // The tables are reset in place (assign() within the capacity they have): together they
    // are about a megabyte, and rebuilding them on every reset made each device reset allocate
    // and page-fault that much afresh (the fuzz targets reset the device once per input).
    void clear() {
        eqs.assign(spec::limits::MAX_EQ, eq_ctx{});
        cqs.assign(spec::limits::MAX_CQ, cq_ctx{});
        qps.assign(spec::limits::MAX_QP, qp_ctx{});
        pds.assign(spec::limits::MAX_PD, pd_ctx{});
        mrs.resize(spec::limits::MAX_MR);
        for (mr_ctx& m : mrs) {
            const uint8_t variant = m.variant;
            m = mr_ctx{};
            m.variant = variant;
        }
        ahs.assign(spec::limits::MAX_AH, ah_ctx{});
        srqs.assign(spec::limits::MAX_SRQ, srq_ctx{});
        fns.assign(fns.size(), function_ctx{});
    }
};

}  // namespace chio::model
