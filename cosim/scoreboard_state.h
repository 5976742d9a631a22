// The scoreboard's bookkeeping (cosim/scoreboard.h): what each function's driver posted and
// registered, and what the device did with it. Internal to cosim/scoreboard*.cpp.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "chio/spec/spec.h"
#include "cosim/scoreboard.h"
#include "driver/observer.h"

namespace chio::cosim {

// One posted work request, from its post until the application received its completion.
struct sb_wqe {
    uint16_t index = 0;
    uint64_t wr_id = 0;
    uint8_t opcode = 0;      // send: spec::wqe_opcode; receive: unused
    bool signaled = true;    // receives always are
    uint64_t length = 0;     // send: bytes it moves; receive: bytes its buffers take
    uint64_t posted_ns = 0;  // sim time of the post
    bool dev_done = false;   // the device wrote its CQE (or covered it with a later one)
    bool app_done = false;   // the application received its completion
};

// A send or receive queue (or an SRQ): WRs in post order.
struct sb_queue {
    std::deque<sb_wqe> q;
    bool ordered = true;  // false for an SRQ: QPs finish its entries in their own order
    uint16_t next = 0;    // index the next post must carry
    // Indices of the latest WRs the application received (bounded): a completion for one of
    // them is a duplicate, not a stray index.
    std::deque<uint16_t> retired;
    static constexpr size_t RETIRED_KEPT = 64;
    void retire(uint16_t index) {
        retired.push_back(index);
        if (retired.size() > RETIRED_KEPT) retired.pop_front();
    }
    bool was_retired(uint16_t index) const {
        for (uint16_t i : retired) {
            if (i == index) return true;
        }
        return false;
    }
};

struct sb_qp {
    spec::qp_type type = spec::qp_type::RC;
    uint32_t send_cqn = 0, recv_cqn = 0, srqn = spec::cmd::NO_SRQ;
    unsigned sq_log = 0, rq_log = 0;
    spec::qp_state state = spec::qp_state::RESET;
    sb_queue sq, rq;
    bool err = false;     // RC error CQE or modify to ERR: no success may follow until RESET
    bool sq_err = false;  // the send queue reported its error: only flushes may follow
    bool rq_err = false;  // the receive queue reported its error (RC): only flushes may follow
    uint64_t err_ns = 0;
    bool err_by_modify = false;  // software moved it to ERR (not an error the device reported)
    bool void_ = false;          // device lost or function reset: this generation owes nothing
    uint32_t timeout = 14, retry_cnt = 7, rnr_retry = 7;
};

struct sb_cq {
    uint32_t cqn = 0;
    uint64_t ring = 0;
    unsigned log_size = 0;
    uint32_t pi = 0;  // CQEs the device wrote (free-running)
};

struct sb_srq {
    unsigned log_size = 0;
    sb_queue q;
};

class sb_view;

struct sb_function {
    uint16_t fn = 0;
    std::map<uint64_t, uint64_t> buffers;                   // DMA buffer start -> end
    std::map<uint32_t, std::pair<uint64_t, uint64_t>> mrs;  // lkey -> [start, end)
    uint64_t hit_lo = 1, hit_hi = 0;                        // last region hit (cache)
    std::map<uint32_t, sb_cq> cqs;                          // by cqn
    std::map<uint64_t, uint32_t> cq_rings;                  // ring start -> cqn
    std::map<uint32_t, sb_qp> qps;
    std::map<uint32_t, sb_srq> srqs;
    bool lost = false;
    std::unique_ptr<sb_view> view;
};

struct scoreboard::state {
    std::string name;
    uint64_t seed = 0;
    uint64_t checks = 0;
    uint64_t violations = 0;
    uint64_t reported = 0;  // violations already handed to the sink or acknowledged
    bool finished = false;
    std::map<std::string, uint64_t> by_invariant;
    std::vector<scoreboard_violation> kept;
    std::map<uint16_t, sb_function> fns;
    // fn()'s last answer: a DMA stream asks for the same function again and again, and a
    // std::map node never moves (functions are never erased).
    sb_function* last_fn = nullptr;
    std::function<bool()> faults_injected;
    std::function<bool(uint16_t, uint32_t)> qp_alive;
    uint64_t refused_dma = 0;  // outside any region but refused by the IOMMU or a fault

    sb_function& fn(uint16_t f);
    void fail(const char* invariant, const std::string& object, const std::string& detail);
    bool in_own_regions(sb_function& f, uint64_t addr, uint64_t len);
    // CQE checks (scoreboard_view.cpp).
    void device_cqe(sb_function& f, sb_cq& cq, uint32_t slot, const spec::cqe& c);
    void liveness(uint64_t now_ns);
};

// The driver's observer for one function (driver/observer.h).
class sb_view final : public drv::observer {
public:
    sb_view(scoreboard::state& s, uint16_t fn) : m_s(s), m_fn(fn) {}

    void cq_created(uint32_t cqn, uint64_t ring, unsigned log_size) override;
    void cq_destroyed(uint32_t cqn) override;
    void qp_created(uint32_t qpn, spec::qp_type type, uint32_t send_cqn, uint32_t recv_cqn,
                    uint32_t srqn, unsigned sq_log, unsigned rq_log) override;
    void qp_modified(uint32_t qpn, spec::qp_state state, uint32_t attr_mask,
                     const drv::qp_attr_values& v) override;
    void qp_destroyed(uint32_t qpn) override;
    void srq_created(uint32_t srqn, unsigned log_size) override;
    void posted_send(uint32_t qpn, uint16_t index, const spec::send_wqe& w) override;
    void posted_recv(uint32_t qpn, uint16_t index, const spec::recv_wqe& w) override;
    void posted_srq_recv(uint32_t srqn, uint16_t index, const spec::recv_wqe& w) override;
    void polled(const spec::cqe& c, bool soft) override;
    void mr_registered(uint32_t lkey, uint64_t pa, uint64_t length) override;
    void mr_deregistered(uint32_t lkey) override;
    void command_done(spec::cmd::opcode op, spec::cmd::status st, bool timed_out) override;
    void device_lost() override;

private:
    sb_function& f() { return m_s.fn(m_fn); }
    scoreboard::state& m_s;
    uint16_t m_fn;
};

uint64_t sb_now_ns();
std::string sb_object(uint16_t fn, uint32_t qpn, const char* queue, uint16_t index, uint64_t wr_id);

}  // namespace chio::cosim
