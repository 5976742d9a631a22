// The completion invariants of catalogue section (b), checked over everything one work queue
// produced during a fuzz input: call add_posted() for each WQE the device was told about (in
// ring order), then check() once the queue was moved to ERR and drained.
//
// 1 exactly once: every signaled send WQE and every receive WQE has exactly one CQE; an
//   unsignaled send has at most one (an error or a flush); no CQE names a WQE never posted.
// 2 order: CQEs come in WQE order.
// 3 status legality: the status is one of spec::cqe_status; the CQE names this QP.
// 4 error implies state: after an error CQE (other than a flush) every later CQE of the queue is
//   WR_FLUSH_ERR, and after a flush no CQE is a success. A flush may come before the error that
//   caused it: a request already in flight when a later WQE fails completes first, flushed, and
//   the failing WQE then reports its own error in posting order (IBA 10.8.3; the model's rule,
//   tested by transport_status.local_error_behind_in_flight_request_completes_in_order).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "chio/spec/spec.h"
#include "fuzz/fuzz_check.h"

namespace chio::fuzz {

inline bool is_defined_cqe_status(uint8_t s) {
    switch (static_cast<spec::cqe_status>(s)) {
        case spec::cqe_status::SUCCESS:
        case spec::cqe_status::LOC_LEN_ERR:
        case spec::cqe_status::LOC_QP_OP_ERR:
        case spec::cqe_status::LOC_EEC_OP_ERR:
        case spec::cqe_status::LOC_PROT_ERR:
        case spec::cqe_status::WR_FLUSH_ERR:
        case spec::cqe_status::MW_BIND_ERR:
        case spec::cqe_status::BAD_RESP_ERR:
        case spec::cqe_status::LOC_ACCESS_ERR:
        case spec::cqe_status::REM_INV_REQ_ERR:
        case spec::cqe_status::REM_ACCESS_ERR:
        case spec::cqe_status::REM_OP_ERR:
        case spec::cqe_status::RETRY_EXC_ERR:
        case spec::cqe_status::RNR_RETRY_EXC_ERR:
        case spec::cqe_status::GENERAL_ERR:
            return true;
    }
    return false;
}

class completion_check {
public:
    completion_check(std::string name, uint32_t qpn) : m_name(std::move(name)), m_qpn(qpn) {}

    // WQE at ring index posted.size(); `must` when it has to complete (signaled or receive).
    void add_posted(bool must) { m_must.push_back(must); }
    size_t posted() const { return m_must.size(); }

    // True when every WQE that must complete has a CQE (for waiting loops).
    bool complete(const std::vector<spec::cqe>& cqes) const {
        size_t need = 0;
        for (bool m : m_must) need += m ? 1 : 0;
        size_t have = 0;
        for (const spec::cqe& c : cqes) {
            if (c.wqe_index < m_must.size() && m_must[c.wqe_index]) ++have;
        }
        return have >= need;
    }

    // "index:status:opcode" of every CQE, for failure messages.
    static std::string summary(const std::vector<spec::cqe>& cqes) {
        std::string s = "CQEs";
        for (const spec::cqe& c : cqes) {
            s += " " + std::to_string(c.wqe_index) + ":" + std::to_string(c.status) + ":" +
                 std::to_string(c.opcode);
        }
        return s;
    }

    void check(const std::vector<spec::cqe>& cqes) const {
        std::vector<int> seen(m_must.size(), 0);
        bool errored = false, flushed = false;
        int last = -1;
        for (size_t i = 0; i < cqes.size(); ++i) {
            const spec::cqe& c = cqes[i];
            const std::string obj = m_name + " CQE #" + std::to_string(i) + " (wqe_index " +
                                    std::to_string(c.wqe_index) + ", status " +
                                    std::to_string(c.status) + ")";
            CHIO_FUZZ_CHECK(is_defined_cqe_status(c.status), "3 status legality", obj,
                            "status is not a spec::cqe_status");
            CHIO_FUZZ_CHECK(c.qpn == m_qpn, "3 status legality", obj,
                            "names QP " + std::to_string(c.qpn) + ", not " + std::to_string(m_qpn));
            CHIO_FUZZ_CHECK(
                c.wqe_index < m_must.size(), "1 exactly-once completion", obj,
                "completes a WQE never posted (" + std::to_string(m_must.size()) + " posted)");
            CHIO_FUZZ_CHECK(++seen[c.wqe_index] == 1, "1 exactly-once completion", obj,
                            "second CQE for this WQE; " + summary(cqes));
            CHIO_FUZZ_CHECK(
                static_cast<int>(c.wqe_index) > last, "2 per-QP order", obj,
                "after a CQE for wqe_index " + std::to_string(last) + "; " + summary(cqes));
            last = c.wqe_index;
            const auto st = static_cast<spec::cqe_status>(c.status);
            if (errored) {
                CHIO_FUZZ_CHECK(st == spec::cqe_status::WR_FLUSH_ERR, "4 error implies state", obj,
                                "an earlier CQE of this queue was an error; " + summary(cqes));
            }
            if (flushed) {
                CHIO_FUZZ_CHECK(st != spec::cqe_status::SUCCESS, "4 error implies state", obj,
                                "a success after a flush; " + summary(cqes));
            }
            errored = errored ||
                      (st != spec::cqe_status::SUCCESS && st != spec::cqe_status::WR_FLUSH_ERR);
            flushed = flushed || st == spec::cqe_status::WR_FLUSH_ERR;
        }
        for (size_t i = 0; i < m_must.size(); ++i) {
            CHIO_FUZZ_CHECK(!m_must[i] || seen[i] == 1, "1 exactly-once completion",
                            m_name + " WQE " + std::to_string(i),
                            "no CQE after the QP was moved to ERR and drained (" +
                                std::to_string(cqes.size()) + " CQEs in all)");
        }
    }

private:
    std::string m_name;
    uint32_t m_qpn;
    std::vector<bool> m_must;
};

}  // namespace chio::fuzz
