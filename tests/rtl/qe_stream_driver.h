// Pin-level access to the Verilated chio_queue_engine for the streaming test: drive an input
// stream from a qe_op, read the output streams as the seam's structs (as text), and the
// reference's outputs for one op in the same form.
#pragma once

#include <array>
#include <string>
#include <utility>
#include <vector>

#include "Vchio_queue_engine.h"
#include "rtl/qe_random_ops.h"
#include "tlm-model/queue_engine/queue_engine.h"
#include "tlm-model/queue_engine/queue_engine_lockstep.h"

namespace chio::test {

enum : int { OUT_WORK, OUT_EVENT, OUT_ERR, OUT_DEQ_RESP, OUT_CQ_RESP, NUM_OUT };
inline constexpr std::array<const char*, NUM_OUT> OUT_NAMES = {"work", "event", "err", "deq_resp",
                                                               "cq_resp"};

inline std::array<unsigned char*, NUM_OUT> output_readies(Vchio_queue_engine& t) {
    return {&t.work_ready_i, &t.event_ready_i, &t.err_ready_i, &t.deq_resp_ready_i,
            &t.cq_resp_ready_i};
}

inline void set_output_ready(Vchio_queue_engine& t, bool ready) {
    for (unsigned char* r : output_readies(t)) *r = ready;
}

inline std::pair<unsigned char*, const unsigned char*> input_handshake(Vchio_queue_engine& t,
                                                                       qe_op_kind k) {
    switch (k) {
        case qe_op_kind::wq_cfg:
            return {&t.wq_cfg_valid_i, &t.wq_cfg_ready_o};
        case qe_op_kind::cr_cfg:
            return {&t.cr_cfg_valid_i, &t.cr_cfg_ready_o};
        case qe_op_kind::db:
            return {&t.db_valid_i, &t.db_ready_o};
        case qe_op_kind::deq:
            return {&t.deq_req_valid_i, &t.deq_req_ready_o};
        case qe_op_kind::deq_commit:
            return {&t.deq_commit_valid_i, &t.deq_commit_ready_o};
        case qe_op_kind::cq:
            return {&t.cq_req_valid_i, &t.cq_req_ready_o};
        case qe_op_kind::cq_commit:
            return {&t.cq_commit_valid_i, &t.cq_commit_ready_o};
        case qe_op_kind::arm:
            return {&t.arm_valid_i, &t.arm_ready_o};
    }
    return {&t.db_valid_i, &t.db_ready_o};
}

inline bool input_taken(Vchio_queue_engine& t, qe_op_kind k) {
    const auto [valid, ready] = input_handshake(t, k);
    return *valid && *ready;
}

inline void clear_input(Vchio_queue_engine& t, qe_op_kind k) { *input_handshake(t, k).first = 0; }

// Sets the payload of o's stream and raises its valid.
inline void drive_input(Vchio_queue_engine& t, const qe_op& o) {
    switch (o.kind) {
        case qe_op_kind::wq_cfg:
            t.wq_cfg_wqid_i = o.id;
            t.wq_cfg_enable_i = o.enable;
            t.wq_cfg_sched_i = o.sched;
            t.wq_cfg_owner_fn_i = o.fn;
            t.wq_cfg_log_size_i = o.log_size;
            break;
        case qe_op_kind::cr_cfg:
            t.cr_cfg_crid_i = o.id;
            t.cr_cfg_enable_i = o.enable;
            t.cr_cfg_owner_fn_i = o.fn;
            t.cr_cfg_log_size_i = o.log_size;
            t.cr_cfg_target_i = o.target;
            break;
        case qe_op_kind::db:
            t.db_fn_i = o.fn;
            t.db_wqid_i = o.id;
            t.db_pi_i = o.idx;
            break;
        case qe_op_kind::deq:
            t.deq_req_wqid_i = o.id;
            break;
        case qe_op_kind::deq_commit:
            t.deq_commit_wqid_i = o.id;
            break;
        case qe_op_kind::cq:
            t.cq_req_crid_i = o.id;
            break;
        case qe_op_kind::cq_commit:
            t.cq_commit_crid_i = o.id;
            t.cq_commit_solicited_i = o.solicited;
            break;
        case qe_op_kind::arm:
            t.arm_fn_i = o.fn;
            t.arm_crid_i = o.id;
            t.arm_ci_i = o.idx;
            t.arm_arm_i = o.arm;
            t.arm_solicited_i = o.solicited;
            break;
    }
    *input_handshake(t, o.kind).first = 1;
}

// The output elements handed over at the coming edge (valid and ready), as text.
inline std::array<bool, NUM_OUT> take_outputs(Vchio_queue_engine& t,
                                              std::array<std::string, NUM_OUT>& got) {
    std::array<bool, NUM_OUT> v{};
    v[OUT_WORK] = t.work_valid_o && t.work_ready_i;
    v[OUT_EVENT] = t.event_valid_o && t.event_ready_i;
    v[OUT_ERR] = t.err_valid_o && t.err_ready_i;
    v[OUT_DEQ_RESP] = t.deq_resp_valid_o && t.deq_resp_ready_i;
    v[OUT_CQ_RESP] = t.cq_resp_valid_o && t.cq_resp_ready_i;
    got[OUT_WORK] = model::to_string(model::qe_work{t.work_wqid_o});
    got[OUT_EVENT] = model::to_string(model::qe_event{t.event_crid_o, t.event_target_o});
    got[OUT_ERR] = model::to_string(model::qe_err{static_cast<spec::qe::error>(t.err_code_o),
                                                  t.err_is_cr_o != 0, t.err_id_o, t.err_fn_o});
    got[OUT_DEQ_RESP] = model::to_string(model::qe_deq_resp{
        static_cast<spec::qe::status>(t.deq_resp_status_o), t.deq_resp_wqid_o, t.deq_resp_index_o});
    got[OUT_CQ_RESP] = model::to_string(
        model::qe_cq_resp{static_cast<spec::qe::status>(t.cq_resp_status_o), t.cq_resp_crid_o,
                          t.cq_resp_index_o, t.cq_resp_phase_o != 0});
    return v;
}

// Applies o to the reference; returns (stream, element text) for everything it produced.
inline std::vector<std::pair<int, std::string>> apply_ref(model::queue_engine& e, const qe_op& o) {
    std::vector<std::pair<int, std::string>> out;
    switch (o.kind) {
        case qe_op_kind::wq_cfg:
            e.wq_cfg(o.wq_cfg());
            break;
        case qe_op_kind::cr_cfg:
            e.cr_cfg(o.cr_cfg());
            break;
        case qe_op_kind::db:
            e.db(o.db());
            break;
        case qe_op_kind::deq:
            out.emplace_back(OUT_DEQ_RESP, model::to_string(e.deq({o.id})));
            break;
        case qe_op_kind::deq_commit:
            e.deq_commit({o.id});
            break;
        case qe_op_kind::cq:
            out.emplace_back(OUT_CQ_RESP, model::to_string(e.cq({o.id})));
            break;
        case qe_op_kind::cq_commit:
            e.cq_commit({o.id, o.solicited});
            break;
        case qe_op_kind::arm:
            e.arm(o.arm_in());
            break;
    }
    model::qe_work w;
    while (e.pop_work(w)) out.emplace_back(OUT_WORK, model::to_string(w));
    model::qe_event ev;
    while (e.pop_event(ev)) out.emplace_back(OUT_EVENT, model::to_string(ev));
    model::qe_err er;
    while (e.pop_err(er)) out.emplace_back(OUT_ERR, model::to_string(er));
    return out;
}

}  // namespace chio::test
