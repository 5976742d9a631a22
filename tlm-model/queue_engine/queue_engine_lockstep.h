// Lockstep queue engine: runs the C++ reference and the Verilated RTL on every call and compares
// each response and each output stream element (work, event, err, in order). The reference's
// results are returned. At the first difference it prints a report (call number, input, both
// outputs) to stderr and throws std::runtime_error, so a scenario stops at the divergence with
// the evidence instead of running on with two different device states.
#pragma once

#include <deque>
#include <memory>
#include <string>

#include "tlm-model/queue_engine/queue_engine.h"

namespace chio::model {

// Text forms of the seam's inputs and outputs, for reports (lockstep, differential tests).
std::string to_string(const qe_wq_cfg& c);
std::string to_string(const qe_cr_cfg& c);
std::string to_string(const qe_db& d);
std::string to_string(const qe_deq_req& r);
std::string to_string(const qe_deq_resp& r);
std::string to_string(const qe_deq_commit& c);
std::string to_string(const qe_cq_req& r);
std::string to_string(const qe_cq_resp& r);
std::string to_string(const qe_cq_commit& c);
std::string to_string(const qe_arm& a);
std::string to_string(const qe_work& w);
std::string to_string(const qe_event& e);
std::string to_string(const qe_err& e);

class queue_engine_lockstep : public queue_engine {
public:
    explicit queue_engine_lockstep(const queue_engine_options& opt = {});

    void wq_cfg(const qe_wq_cfg& c) override;
    void cr_cfg(const qe_cr_cfg& c) override;
    void db(const qe_db& d) override;
    qe_deq_resp deq(const qe_deq_req& r) override;
    void deq_commit(const qe_deq_commit& c) override;
    qe_cq_resp cq(const qe_cq_req& r) override;
    void cq_commit(const qe_cq_commit& c) override;
    void arm(const qe_arm& a) override;

    bool pop_work(qe_work& w) override;
    bool pop_event(qe_event& e) override;
    bool pop_err(qe_err& e) override;

    uint64_t cycles() const override { return m_rtl->cycles(); }
    uint64_t compared() const override { return m_compared; }
    uint64_t mismatches() const override { return m_mismatches; }
    const char* kind() const override { return "lockstep"; }

private:
    // Compares both engines' output streams after a call and keeps the reference's elements.
    void compare_outputs(const std::string& input);
    template <typename T>
    void compare_response(const std::string& input, const T& ref, const T& rtl);
    [[noreturn]] void fail(const std::string& input, const std::string& what,
                           const std::string& ref, const std::string& rtl);

    std::unique_ptr<queue_engine> m_ref;
    std::unique_ptr<queue_engine> m_rtl;
    uint64_t m_calls = 0;
    uint64_t m_compared = 0;
    uint64_t m_mismatches = 0;
    std::deque<qe_work> m_work;
    std::deque<qe_event> m_event;
    std::deque<qe_err> m_err;
};

}  // namespace chio::model
