// Behavior of the queue engine seam, run against every implementation: the C++ reference
// (model), the Verilated RTL (rtl) and both in lockstep (lockstep, which also throws at the
// first difference between them). Each test states the rule it checks.
#include "tlm-model/queue_engine/queue_engine.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

namespace chio::model {
namespace {

using spec::qe::error;
using spec::qe::status;

struct model_kind {
    static constexpr queue_engine_kind kind = queue_engine_kind::model;
};
struct rtl_kind {
    static constexpr queue_engine_kind kind = queue_engine_kind::rtl;
};
struct lockstep_kind {
    static constexpr queue_engine_kind kind = queue_engine_kind::lockstep;
};

constexpr uint8_t FN = 3;                           // owner function of the queues under test
constexpr uint8_t OTHER_FN = 4;                     // a function that owns nothing
constexpr uint16_t EQ_BASE = spec::limits::MAX_CQ;  // crid of EQ 0

template <typename K>
class queue_engine_test : public ::testing::Test {
protected:
    void SetUp() override { m_e = make_queue_engine(K::kind); }
    void TearDown() override {
        EXPECT_EQ(m_e->mismatches(), 0u);
        if (K::kind == queue_engine_kind::lockstep) {
            EXPECT_GT(m_e->compared(), 0u);
        }
    }

    queue_engine& e() { return *m_e; }

    std::vector<uint16_t> works() {
        std::vector<uint16_t> v;
        qe_work w;
        while (m_e->pop_work(w)) v.push_back(w.wqid);
        return v;
    }
    std::vector<qe_event> events() {
        std::vector<qe_event> v;
        qe_event x;
        while (m_e->pop_event(x)) v.push_back(x);
        return v;
    }
    std::vector<qe_err> errs() {
        std::vector<qe_err> v;
        qe_err x;
        while (m_e->pop_err(x)) v.push_back(x);
        return v;
    }
    // A send queue (sched) or receive queue owned by FN.
    void make_wq(uint16_t wqid, uint8_t log_size, bool sched = true) {
        e().wq_cfg({wqid, true, sched, FN, log_size});
    }
    void make_cr(uint16_t crid, uint8_t log_size, uint16_t target) {
        e().cr_cfg({crid, true, FN, log_size, target});
    }
    // Allocates and commits one completion; returns the allocation.
    qe_cq_resp complete(uint16_t crid, bool solicited = false) {
        const qe_cq_resp r = e().cq({crid});
        e().cq_commit({crid, solicited});
        return r;
    }

    std::unique_ptr<queue_engine> m_e;
};

using kinds = ::testing::Types<model_kind, rtl_kind, lockstep_kind>;
// Test names end in the engine kind: queue_engine_test/model.ring_wrap, .../rtl.ring_wrap, ...
struct kind_names {
    template <typename K>
    static std::string GetName(int) {
        return to_string(K::kind);
    }
};
TYPED_TEST_SUITE(queue_engine_test, kinds, kind_names);

std::vector<qe_event> ev(uint16_t crid, uint16_t target) { return {qe_event{crid, target}}; }
std::vector<qe_err> er(error code, bool is_cr, uint16_t id, uint8_t fn) {
    return {qe_err{code, is_cr, id, fn}};
}

// Doorbell -> one work token -> dequeue in order -> commit; commit with nothing dequeued fails.
TYPED_TEST(queue_engine_test, doorbell_work_dequeue_commit) {
    this->make_wq(7, 3);
    this->e().db({FN, 7, 2});
    EXPECT_EQ(this->works(), std::vector<uint16_t>{7});
    EXPECT_EQ(this->e().deq({7}), (qe_deq_resp{status::OK, 7, 0}));
    EXPECT_EQ(this->works(), std::vector<uint16_t>{7});  // still work: token re-issued
    EXPECT_EQ(this->e().deq({7}), (qe_deq_resp{status::OK, 7, 1}));
    EXPECT_TRUE(this->works().empty());
    EXPECT_EQ(this->e().deq({7}), (qe_deq_resp{status::EMPTY, 7, 0}));
    this->e().deq_commit({7});
    this->e().deq_commit({7});
    EXPECT_TRUE(this->errs().empty());
    this->e().deq_commit({7});
    EXPECT_EQ(this->errs(), er(error::BAD_COMMIT, false, 7, 0));
}

// A receive queue (not sched) never raises work tokens but dequeues the same way.
TYPED_TEST(queue_engine_test, receive_queue_has_no_tokens) {
    this->make_wq(9, 2, false);
    this->e().db({FN, 9, 3});
    EXPECT_TRUE(this->works().empty());
    EXPECT_EQ(this->e().deq({9}), (qe_deq_resp{status::OK, 9, 0}));
    EXPECT_TRUE(this->works().empty());
}

// One token per queue: further doorbells while a token is outstanding raise none.
TYPED_TEST(queue_engine_test, one_token_outstanding) {
    this->make_wq(2, 3);
    this->e().db({FN, 2, 1});
    this->e().db({FN, 2, 2});
    this->e().db({FN, 2, 3});
    EXPECT_EQ(this->works(), std::vector<uint16_t>{2});
}

// Slots wrap every `size` entries; indices are free running over many passes.
TYPED_TEST(queue_engine_test, ring_wrap) {
    this->make_wq(4, 1, false);  // 2 slots
    uint16_t pi = 0;
    for (int pass = 0; pass < 10; ++pass) {
        pi = static_cast<uint16_t>(pi + 2);
        this->e().db({FN, 4, pi});
        for (int i = 0; i < 2; ++i) {
            const qe_deq_resp r = this->e().deq({4});
            EXPECT_EQ(r.status, status::OK);
            EXPECT_EQ(r.index, static_cast<uint16_t>(pass * 2 + i));
            EXPECT_EQ(r.index & 1, i);  // slot = index & (size - 1)
        }
        // The ring is full until the consumer commits: one more entry is out of range.
        this->e().db({FN, 4, static_cast<uint16_t>(pi + 1)});
        EXPECT_EQ(this->errs(), er(error::DB_RANGE, false, 4, FN));
        this->e().deq_commit({4});
        this->e().deq_commit({4});
    }
    EXPECT_TRUE(this->errs().empty());
}

// 16-bit indices wrap through 0xFFFF -> 0 without losing entries.
TYPED_TEST(queue_engine_test, index_wraps_at_16_bits) {
    const uint8_t log_size = spec::limits::MAX_WQ_LOG_SIZE;
    const uint32_t size = 1u << log_size;
    this->make_wq(11, log_size, false);
    uint32_t produced = 0;
    for (int step = 0; step < 3; ++step) {  // 3 * 2^15 entries: past 2^16
        produced += size;
        this->e().db({FN, 11, static_cast<uint16_t>(produced)});
        for (uint32_t i = 0; i < size; ++i) {
            const uint32_t n = produced - size + i;
            ASSERT_EQ(this->e().deq({11}), (qe_deq_resp{status::OK, 11, static_cast<uint16_t>(n)}));
            this->e().deq_commit({11});
        }
    }
    EXPECT_EQ(this->e().deq({11}).status, status::EMPTY);
    EXPECT_TRUE(this->errs().empty());
}

// A full completion ring answers FULL, raises CQ_OVERFLOW and goes to error (DISABLED) until
// it is configured again.
TYPED_TEST(queue_engine_test, full_cq_overflows_into_error) {
    this->make_cr(3, 2, 0);
    for (uint16_t i = 0; i < 4; ++i) EXPECT_EQ(this->e().cq({3}).status, status::OK);
    EXPECT_EQ(this->e().cq({3}), (qe_cq_resp{status::FULL, 3, 0, false}));
    EXPECT_EQ(this->errs(), er(error::CQ_OVERFLOW, true, 3, 0));
    EXPECT_EQ(this->e().cq({3}).status, status::DISABLED);
    this->make_cr(3, 2, 0);
    EXPECT_EQ(this->e().cq({3}), (qe_cq_resp{status::OK, 3, 0, true}));
}

// The phase bit is 1 on the first pass over the ring and alternates every pass.
TYPED_TEST(queue_engine_test, phase_flips_per_pass) {
    this->make_cr(5, 2, 0);
    uint16_t ci = 0;
    for (int pass = 0; pass < 6; ++pass) {
        for (int i = 0; i < 4; ++i) {
            const qe_cq_resp r = this->complete(5);
            EXPECT_EQ(r.status, status::OK);
            EXPECT_EQ(r.phase, pass % 2 == 0) << "pass " << pass;
        }
        ci = static_cast<uint16_t>(ci + 4);
        this->e().arm({FN, 5, ci, false, false});
    }
    EXPECT_TRUE(this->errs().empty());
}

// An armed CQ fires one event to its EQ on the next completion, then is disarmed.
TYPED_TEST(queue_engine_test, arm_then_completion_fires_once) {
    this->make_cr(6, 3, 2);
    this->e().arm({FN, 6, 0, true, false});
    EXPECT_TRUE(this->events().empty());
    this->complete(6);
    EXPECT_EQ(this->events(), ev(6, 2));
    this->complete(6);
    EXPECT_TRUE(this->events().empty());
}

// Arming while entries already wait (the completion raced the consumer) fires at once, and the
// ring stays disarmed.
TYPED_TEST(queue_engine_test, arm_with_entries_waiting_fires_immediately) {
    this->make_cr(EQ_BASE + 1, 3, 17);  // an EQ: target is an MSI-X vector
    this->complete(EQ_BASE + 1);
    this->e().arm({FN, EQ_BASE + 1, 0, true, false});
    EXPECT_EQ(this->events(), ev(EQ_BASE + 1, 17));
    this->complete(EQ_BASE + 1);
    EXPECT_TRUE(this->events().empty());
    // Consuming everything first and then arming waits for the next completion.
    this->e().arm({FN, EQ_BASE + 1, 2, true, false});
    EXPECT_TRUE(this->events().empty());
    this->complete(EQ_BASE + 1);
    EXPECT_EQ(this->events(), ev(EQ_BASE + 1, 17));
}

// A solicited-only arm ignores unsolicited completions, also those already waiting.
TYPED_TEST(queue_engine_test, solicited_arming) {
    this->make_cr(8, 3, 1);
    this->complete(8);
    this->e().arm({FN, 8, 0, true, true});
    EXPECT_TRUE(this->events().empty());
    this->complete(8, false);
    EXPECT_TRUE(this->events().empty());
    this->complete(8, true);
    EXPECT_EQ(this->events(), ev(8, 1));
}

// Doorbells for unknown, disabled or foreign queues are dropped with an error naming the sender.
TYPED_TEST(queue_engine_test, doorbell_disabled_and_owner_errors) {
    this->e().db({FN, 12, 1});
    EXPECT_EQ(this->errs(), er(error::DB_DISABLED, false, 12, FN));
    this->e().db({FN, spec::qe::NUM_WQ, 1});
    EXPECT_EQ(this->errs(), er(error::DB_DISABLED, false, spec::qe::NUM_WQ, FN));
    this->e().db({FN, 0xFFFF, 1});
    EXPECT_EQ(this->errs(), er(error::DB_DISABLED, false, 0xFFFF, FN));
    this->make_wq(12, 2);
    this->e().db({OTHER_FN, 12, 1});
    EXPECT_EQ(this->errs(), er(error::DB_OWNER, false, 12, OTHER_FN));
    this->e().wq_cfg({12, false, true, FN, 2});
    this->e().db({FN, 12, 1});
    EXPECT_EQ(this->errs(), er(error::DB_DISABLED, false, 12, FN));
    EXPECT_EQ(this->e().deq({12}).status, status::DISABLED);
    EXPECT_EQ(this->e().deq({0xFFFF}), (qe_deq_resp{status::DISABLED, 0xFFFF, 0}));
    EXPECT_TRUE(this->works().empty());
}

// A doorbell moving backwards or past the ring is dropped and leaves the queue as it was.
TYPED_TEST(queue_engine_test, doorbell_range_errors) {
    this->make_wq(13, 2);  // 4 slots
    this->e().db({FN, 13, 3});
    EXPECT_EQ(this->works(), std::vector<uint16_t>{13});
    this->e().db({FN, 13, 2});  // backwards
    EXPECT_EQ(this->errs(), er(error::DB_RANGE, false, 13, FN));
    this->e().db({FN, 13, 5});  // pi - ci = 5 > 4: past the ring
    EXPECT_EQ(this->errs(), er(error::DB_RANGE, false, 13, FN));
    for (uint16_t i = 0; i < 3; ++i) EXPECT_EQ(this->e().deq({13}).index, i);
    EXPECT_EQ(this->e().deq({13}).status, status::EMPTY);
    this->e().db({FN, 13, 4});  // exactly full: accepted
    EXPECT_TRUE(this->errs().empty());
}

// Ring consumer doorbells: disabled, foreign, and ci beyond the committed entries or backwards.
TYPED_TEST(queue_engine_test, arm_errors) {
    this->e().arm({FN, 20, 0, true, false});
    EXPECT_EQ(this->errs(), er(error::DB_DISABLED, true, 20, FN));
    this->e().arm({FN, spec::qe::NUM_CR, 0, true, false});
    EXPECT_EQ(this->errs(), er(error::DB_DISABLED, true, spec::qe::NUM_CR, FN));
    this->make_cr(20, 2, 0);
    this->e().arm({OTHER_FN, 20, 0, true, false});
    EXPECT_EQ(this->errs(), er(error::DB_OWNER, true, 20, OTHER_FN));
    this->e().cq({20});  // allocated but not committed: not consumable yet
    this->e().arm({FN, 20, 1, false, false});
    EXPECT_EQ(this->errs(), er(error::DB_RANGE, true, 20, FN));
    this->e().cq_commit({20, false});
    this->e().arm({FN, 20, 1, false, false});
    EXPECT_TRUE(this->errs().empty());
    this->e().arm({FN, 20, 0, false, false});  // backwards
    EXPECT_EQ(this->errs(), er(error::DB_RANGE, true, 20, FN));
    EXPECT_TRUE(this->events().empty());
}

// Completion commits with nothing allocated, or on an unknown ring, are refused.
TYPED_TEST(queue_engine_test, bad_commits) {
    this->e().cq_commit({21, false});
    EXPECT_EQ(this->errs(), er(error::BAD_COMMIT, true, 21, 0));
    this->make_cr(21, 2, 0);
    this->e().cq_commit({21, false});
    EXPECT_EQ(this->errs(), er(error::BAD_COMMIT, true, 21, 0));
    this->e().deq_commit({spec::qe::NUM_WQ});
    EXPECT_EQ(this->errs(), er(error::BAD_COMMIT, false, spec::qe::NUM_WQ, 0));
    EXPECT_EQ(this->e().cq({0xFFFF}), (qe_cq_resp{status::DISABLED, 0xFFFF, 0, false}));
}

// Configuration with an out-of-range id or log size is ignored.
TYPED_TEST(queue_engine_test, bad_configuration_ignored) {
    this->e().wq_cfg({14, true, true, FN, spec::limits::MAX_WQ_LOG_SIZE + 1});
    this->e().db({FN, 14, 1});
    EXPECT_EQ(this->errs(), er(error::DB_DISABLED, false, 14, FN));
    this->e().cr_cfg({22, true, FN, 200, 0});
    EXPECT_EQ(this->e().cq({22}).status, status::DISABLED);
    this->e().wq_cfg({0xFFFF, true, true, FN, 1});
    EXPECT_TRUE(this->errs().empty());
}

// Work tokens go round robin: a queue that still has work after a dequeue re-queues its token
// behind the other queues' tokens.
TYPED_TEST(queue_engine_test, work_tokens_round_robin) {
    for (uint16_t q : {30, 31, 32}) {
        this->make_wq(q, 2);
        this->e().db({FN, q, 2});
    }
    std::vector<uint16_t> fifo = this->works();
    ASSERT_EQ(fifo, (std::vector<uint16_t>{30, 31, 32}));
    std::vector<uint16_t> served;
    while (!fifo.empty()) {  // the scheduler: serve the oldest token, queue the new ones
        const uint16_t q = fifo.front();
        fifo.erase(fifo.begin());
        EXPECT_EQ(this->e().deq({q}).status, status::OK);
        served.push_back(q);
        for (uint16_t w : this->works()) fifo.push_back(w);
    }
    EXPECT_EQ(served, (std::vector<uint16_t>{30, 31, 32, 30, 31, 32}));
}

// After an EMPTY dequeue the token is gone, so the next doorbell raises a new one.
TYPED_TEST(queue_engine_test, empty_dequeue_clears_token) {
    this->make_wq(15, 2);
    this->e().db({FN, 15, 1});
    EXPECT_EQ(this->works(), std::vector<uint16_t>{15});
    EXPECT_EQ(this->e().deq({15}).status, status::OK);
    EXPECT_EQ(this->e().deq({15}).status, status::EMPTY);
    this->e().db({FN, 15, 2});
    EXPECT_EQ(this->works(), std::vector<uint16_t>{15});
}

TEST(queue_engine_kind, parse_and_name) {
    queue_engine_kind k = queue_engine_kind::model;
    for (queue_engine_kind x :
         {queue_engine_kind::model, queue_engine_kind::rtl, queue_engine_kind::lockstep}) {
        EXPECT_TRUE(parse_queue_engine_kind(to_string(x), k));
        EXPECT_EQ(k, x);
    }
    EXPECT_FALSE(parse_queue_engine_kind("RTL", k));
    EXPECT_FALSE(parse_queue_engine_kind("", k));
}

}  // namespace
}  // namespace chio::model
