#include "tlm-model/trace/adapter_trace.h"

#include <memory>

#include "tlm-model/trace/probe_chain.h"

namespace chio::model {

namespace {

uint64_t now_ps() {
    return static_cast<uint64_t>(sc_core::sc_time_stamp().value() /
                                 sc_core::sc_time(1, sc_core::SC_PS).value());
}

struct signals {
    tracer::signal db_count, db_fn, db_wqid, db_pi;
    tracer::signal rd_count, rd_addr, rd_len, wr_count, wr_addr, wr_len, dma_fail;
    tracer::signal cqe_count, cqe_cqn, cqe_qpn, cqe_status, cqe_opcode, cqe_wr_id, cqe_len;
    tracer::signal eqe_count, eqe_eqn, eqe_type, eqe_data;
    tracer::signal qp_qpn, qp_state, cmd_count, cmd_opcode, cmd_status;
    uint64_t db = 0, rd = 0, wr = 0, fail = 0, cqe = 0, eqe = 0, cmd = 0;
};

}  // namespace

void attach_adapter_trace(adapter& a, tracer& t, const std::string& prefix) {
    auto s = std::make_shared<signals>();
    const std::string db = prefix + ".pf0.doorbell", dma = prefix + ".dma", cqe = prefix + ".cqe",
                      eqe = prefix + ".eqe", qp = prefix + ".qp", cmd = prefix + ".cmd";
    s->db_count = t.add(db, "count", 32);
    s->db_fn = t.add(db, "fn", 8);
    s->db_wqid = t.add(db, "wqid", 16);
    s->db_pi = t.add(db, "pi", 16);
    s->rd_count = t.add(dma, "rd_count", 32);
    s->rd_addr = t.add(dma, "rd_addr", 64);
    s->rd_len = t.add(dma, "rd_len", 32);
    s->wr_count = t.add(dma, "wr_count", 32);
    s->wr_addr = t.add(dma, "wr_addr", 64);
    s->wr_len = t.add(dma, "wr_len", 32);
    s->dma_fail = t.add(dma, "fail_count", 32);
    s->cqe_count = t.add(cqe, "count", 32);
    s->cqe_cqn = t.add(cqe, "cqn", 24);
    s->cqe_qpn = t.add(cqe, "qpn", 24);
    s->cqe_status = t.add(cqe, "status", 8);
    s->cqe_opcode = t.add(cqe, "opcode", 8);
    s->cqe_wr_id = t.add(cqe, "wr_id", 64);
    s->cqe_len = t.add(cqe, "byte_len", 32);
    s->eqe_count = t.add(eqe, "count", 32);
    s->eqe_eqn = t.add(eqe, "eqn", 8);
    s->eqe_type = t.add(eqe, "type", 8);
    s->eqe_data = t.add(eqe, "data", 32);
    s->qp_qpn = t.add(qp, "qpn", 24);
    s->qp_state = t.add(qp, "state", 4);
    s->cmd_count = t.add(cmd, "count", 32);
    s->cmd_opcode = t.add(cmd, "opcode", 16);
    s->cmd_status = t.add(cmd, "status", 8);

    tracer* tp = &t;
    adapter_probes& p = a.probes();
    chain_probe(p.doorbell, [s, tp](uint16_t fn, uint16_t wqid, uint16_t pi) {
        const uint64_t ts = now_ps();
        tp->set(s->db_fn, fn, ts);
        tp->set(s->db_wqid, wqid, ts);
        tp->set(s->db_pi, pi, ts);
        tp->set(s->db_count, ++s->db, ts);
    });
    chain_probe(p.cqe, [s, tp](uint32_t cqn, const spec::cqe& c) {
        const uint64_t ts = now_ps();
        tp->set(s->cqe_cqn, cqn, ts);
        tp->set(s->cqe_qpn, c.qpn, ts);
        tp->set(s->cqe_status, c.status, ts);
        tp->set(s->cqe_opcode, c.opcode, ts);
        tp->set(s->cqe_wr_id, c.wr_id, ts);
        tp->set(s->cqe_len, c.byte_len, ts);
        tp->set(s->cqe_count, ++s->cqe, ts);
    });
    chain_probe(p.eqe, [s, tp](uint32_t eqn, const spec::eqe& e) {
        const uint64_t ts = now_ps();
        tp->set(s->eqe_eqn, eqn, ts);
        tp->set(s->eqe_type, e.type, ts);
        tp->set(s->eqe_data, e.data, ts);
        tp->set(s->eqe_count, ++s->eqe, ts);
    });
    chain_probe(p.qp_state, [s, tp](uint32_t qpn, spec::qp_state st) {
        const uint64_t ts = now_ps();
        tp->set(s->qp_qpn, qpn, ts);
        tp->set(s->qp_state, static_cast<uint64_t>(st), ts);
    });
    chain_probe(p.command, [s, tp](uint16_t opcode, uint8_t status) {
        const uint64_t ts = now_ps();
        tp->set(s->cmd_opcode, opcode, ts);
        tp->set(s->cmd_status, status, ts);
        tp->set(s->cmd_count, ++s->cmd, ts);
    });
    chain_probe(a.dma_probe_slot(),
                [s, tp](uint16_t, bool write, uint64_t addr, uint64_t len, bool ok) {
                    const uint64_t ts = now_ps();
                    if (!ok) {
                        tp->set(s->dma_fail, ++s->fail, ts);
                        return;
                    }
                    if (write) {
                        tp->set(s->wr_addr, addr, ts);
                        tp->set(s->wr_len, len, ts);
                        tp->set(s->wr_count, ++s->wr, ts);
                    } else {
                        tp->set(s->rd_addr, addr, ts);
                        tp->set(s->rd_len, len, ts);
                        tp->set(s->rd_count, ++s->rd, ts);
                    }
                });
}

}  // namespace chio::model
