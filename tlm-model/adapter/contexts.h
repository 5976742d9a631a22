// The adapter's resource contexts: what the device remembers about each EQ, CQ and QP.
//
// Every context records its owning function (fn); every command and doorbell that touches a
// resource is checked against it. Ring addresses are bus addresses in host memory.
#pragma once

#include <cstdint>
#include <vector>

#include "chio/spec/spec.h"

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

// QP attributes settable by MODIFY_QP (names as the spec's qp_attr bits).
struct qp_attrs {
    uint32_t dest_qpn = 0;
    uint32_t rq_psn = 0;
    uint32_t sq_psn = 0;
    uint32_t path_mtu = static_cast<uint32_t>(spec::path_mtu::MTU_4096);
    uint32_t port = 1;
    uint32_t access_flags = 0;
    uint32_t qkey = 0;
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
    qp_attrs attrs;
    // A send-queue work token arrived while the QP could not send (INIT, RTR, SQD): it is held
    // here and handed back to the scheduler when the QP enters RTS.
    bool parked = false;
};

// Work-queue and completion-ring ids in the queue engine (see queue_engine.h).
inline uint16_t sq_wqid(uint32_t qpn) { return static_cast<uint16_t>(qpn * 2); }
inline uint16_t rq_wqid(uint32_t qpn) { return static_cast<uint16_t>(qpn * 2 + 1); }
inline uint16_t cq_crid(uint32_t cqn) { return static_cast<uint16_t>(cqn); }
inline uint16_t eq_crid(uint32_t eqn) { return static_cast<uint16_t>(spec::limits::MAX_CQ + eqn); }

struct device_contexts {
    std::vector<eq_ctx> eqs = std::vector<eq_ctx>(spec::limits::MAX_EQ);
    std::vector<cq_ctx> cqs = std::vector<cq_ctx>(spec::limits::MAX_CQ);
    std::vector<qp_ctx> qps = std::vector<qp_ctx>(spec::limits::MAX_QP);

    qp_ctx* qp(uint32_t qpn) { return qpn < qps.size() && qps[qpn].valid ? &qps[qpn] : nullptr; }
    cq_ctx* cq(uint32_t cqn) { return cqn < cqs.size() && cqs[cqn].valid ? &cqs[cqn] : nullptr; }
    eq_ctx* eq(uint32_t eqn) { return eqn < eqs.size() && eqs[eqn].valid ? &eqs[eqn] : nullptr; }
    void clear() { *this = device_contexts(); }
};

}  // namespace chio::model
