// Constrained-random queue engine inputs for the differential tests (ref vs RTL). Ids come from
// small pools so that the same queues are hit again and again (back-to-back hazards, full rings,
// wrap), plus out-of-range ids; indices mostly move forward by less than a ring, with some wild
// values to hit every DB_RANGE case; log sizes are mostly small, sometimes the maximum or invalid.
#pragma once

#include <array>
#include <cstdint>
#include <cstdlib>
#include <random>
#include <string>

#include "chio/spec/spec.h"
#include "tlm-model/queue_engine/queue_engine.h"
#include "tlm-model/queue_engine/queue_engine_lockstep.h"

namespace chio::test {

enum class qe_op_kind : uint8_t { wq_cfg, cr_cfg, db, deq, deq_commit, cq, cq_commit, arm };
constexpr int QE_OP_KINDS = 8;

// One input of any stream: the fields of the seam structs, used as the kind needs.
struct qe_op {
    qe_op_kind kind = qe_op_kind::db;
    uint16_t id = 0;
    uint8_t fn = 0;
    uint16_t idx = 0;
    bool enable = false, sched = false, arm = false, solicited = false;
    uint8_t log_size = 0;
    uint16_t target = 0;
    // Generator bookkeeping: id pool slot, and the slot's index before this op.
    uint8_t slot = 0;
    uint16_t prev_idx = 0;

    model::qe_wq_cfg wq_cfg() const { return {id, enable, sched, fn, log_size}; }
    model::qe_cr_cfg cr_cfg() const { return {id, enable, fn, log_size, target}; }
    model::qe_db db() const { return {fn, id, idx}; }
    model::qe_arm arm_in() const { return {fn, id, idx, arm, solicited}; }
};

inline std::string to_string(const qe_op& o) {
    switch (o.kind) {
        case qe_op_kind::wq_cfg:
            return model::to_string(o.wq_cfg());
        case qe_op_kind::cr_cfg:
            return model::to_string(o.cr_cfg());
        case qe_op_kind::db:
            return model::to_string(o.db());
        case qe_op_kind::deq:
            return model::to_string(model::qe_deq_req{o.id});
        case qe_op_kind::deq_commit:
            return model::to_string(model::qe_deq_commit{o.id});
        case qe_op_kind::cq:
            return model::to_string(model::qe_cq_req{o.id});
        case qe_op_kind::cq_commit:
            return model::to_string(model::qe_cq_commit{o.id, o.solicited});
        case qe_op_kind::arm:
            return model::to_string(o.arm_in());
    }
    return "?";
}

// Seed from CHIO_SEED (decimal) or a fresh random one; op count from CHIO_DIFF_OPS.
inline uint64_t env_u64(const char* name, uint64_t fallback) {
    const char* v = std::getenv(name);
    if (v == nullptr || *v == '\0') return fallback;
    char* end = nullptr;
    const unsigned long long x = std::strtoull(v, &end, 10);
    return (end != nullptr && *end == '\0') ? x : fallback;
}
inline uint64_t test_seed() { return env_u64("CHIO_SEED", std::random_device{}()); }

class qe_op_gen {
public:
    explicit qe_op_gen(uint64_t seed) : m_rng(seed) {}

    qe_op next() { return make(static_cast<qe_op_kind>(pick_kind())); }

    // An op of a given kind (the streaming test keeps one pending op per stream).
    qe_op make(qe_op_kind k) {
        qe_op o;
        o.kind = k;
        o.fn = static_cast<uint8_t>(below(10) == 0 ? below(256) : below(3));
        o.solicited = below(3) == 0;
        o.arm = below(2) == 0;
        o.enable = below(8) != 0;
        o.sched = below(3) != 0;
        o.target = static_cast<uint16_t>(below(1u << 16));
        o.log_size = pick_log_size(k == qe_op_kind::wq_cfg ? spec::limits::MAX_WQ_LOG_SIZE
                                                           : spec::limits::MAX_CQ_LOG_SIZE);
        const bool wq = k == qe_op_kind::wq_cfg || k == qe_op_kind::db || k == qe_op_kind::deq ||
                        k == qe_op_kind::deq_commit;
        const unsigned slot = below(POOL);
        o.slot = static_cast<uint8_t>(slot);
        o.id = wq ? WQ_IDS[slot] : CR_IDS[slot];
        // Doorbells mostly come from the owner the slot was last configured with.
        const bool wq_slot_owner = k == qe_op_kind::db && below(5) != 0;
        const bool cr_slot_owner = k == qe_op_kind::arm && below(5) != 0;
        if (wq_slot_owner) o.fn = m_wq_owner[slot];
        if (cr_slot_owner) o.fn = m_cr_owner[slot];
        if (k == qe_op_kind::db) {
            o.prev_idx = m_pi[slot];
            o.idx = next_index(m_pi[slot]);
        }
        if (k == qe_op_kind::arm) {
            o.prev_idx = m_ci[slot];
            o.idx = next_index(m_ci[slot]);
        }
        return o;
    }

    // Feedback from the reference, so that indices stay near the queue's real ones: a refused
    // doorbell does not move the slot's index; a configuration sets it back to 0.
    void refused(const qe_op& o) {
        if (o.kind == qe_op_kind::db) m_pi[o.slot] = o.prev_idx;
        if (o.kind == qe_op_kind::arm) m_ci[o.slot] = o.prev_idx;
    }
    void configured(const qe_op& o) {
        if (o.kind == qe_op_kind::wq_cfg) {
            m_pi[o.slot] = 0;
            m_wq_owner[o.slot] = o.fn;
        }
        if (o.kind == qe_op_kind::cr_cfg) {
            m_ci[o.slot] = 0;
            m_cr_owner[o.slot] = o.fn;
        }
    }

    unsigned below(unsigned n) { return std::uniform_int_distribution<unsigned>(0, n - 1)(m_rng); }

private:
    static constexpr unsigned POOL = 8;
    // Mostly a few live queues (hazards), then the last valid id and out-of-range ids.
    static constexpr std::array<uint16_t, POOL> WQ_IDS = {
        0, 1, 2, 3, spec::qe::NUM_WQ - 1, spec::qe::NUM_WQ, 0xFFFF, 5};
    static constexpr std::array<uint16_t, POOL> CR_IDS = {
        0, 1, spec::limits::MAX_CQ, 2, spec::qe::NUM_CR - 1, spec::qe::NUM_CR, 0xFFFF, 3};

    int pick_kind() {
        // Weights: configuration is rare so that queues live long enough to fill and wrap.
        static constexpr std::array<unsigned, QE_OP_KINDS> W = {2, 2, 20, 20, 14, 20, 16, 10};
        unsigned total = 0;
        for (unsigned w : W) total += w;
        unsigned r = below(total);
        for (int k = 0; k < QE_OP_KINDS; ++k) {
            if (r < W[static_cast<size_t>(k)]) return k;
            r -= W[static_cast<size_t>(k)];
        }
        return 0;
    }

    uint8_t pick_log_size(uint32_t max) {
        const unsigned r = below(40);
        if (r == 0) return static_cast<uint8_t>(max);
        if (r == 1) return static_cast<uint8_t>(max + 1 + below(256 - max - 1));
        return static_cast<uint8_t>(below(4));
    }

    // Usually a small step forward from the last index sent for this slot (often valid, past the
    // ring when the queue is small), sometimes backwards or anywhere.
    uint16_t next_index(uint16_t& last) {
        const unsigned r = below(20);
        uint16_t v;
        if (r == 0) {
            v = static_cast<uint16_t>(below(1u << 16));
        } else if (r == 1) {
            v = static_cast<uint16_t>(last - 1 - below(3));
        } else {
            v = static_cast<uint16_t>(last + below(4));
        }
        last = v;
        return v;
    }

    std::mt19937_64 m_rng;
    std::array<uint16_t, POOL> m_pi{};
    std::array<uint16_t, POOL> m_ci{};
    std::array<uint8_t, POOL> m_wq_owner{};
    std::array<uint8_t, POOL> m_cr_owner{};
};

}  // namespace chio::test
