#include "tlm-model/adapter/qp_state_machine.h"

namespace chio::model {

namespace {

using spec::qp_state;
namespace a = spec::qp_attr;

struct rule {
    bool legal = false;
    uint32_t rc_req = 0, rc_opt = 0;
    uint32_t ud_req = 0, ud_opt = 0;
};

constexpr uint32_t N = 7;  // RESET .. ERR

rule make_rule(qp_state cur, qp_state next) {
    rule r;
    const auto c = cur, n = next;
    // Any state may go to RESET or ERR with no attributes.
    if (n == qp_state::RESET || n == qp_state::ERR) {
        r.legal = true;
        return r;
    }
    switch (c) {
        case qp_state::RESET:
            if (n == qp_state::INIT) {
                r.legal = true;
                r.rc_req = a::PORT | a::ACCESS_FLAGS;
                r.rc_opt = a::PKEY_INDEX;
                r.ud_req = a::PORT | a::QKEY;
                r.ud_opt = a::PKEY_INDEX;
            }
            break;
        case qp_state::INIT:
            if (n == qp_state::INIT) {
                r.legal = true;
                r.rc_opt = a::PKEY_INDEX | a::PORT | a::ACCESS_FLAGS;
                r.ud_opt = a::PKEY_INDEX | a::PORT | a::QKEY;
            } else if (n == qp_state::RTR) {
                r.legal = true;
                r.rc_req = a::AV | a::PATH_MTU | a::DEST_QPN | a::RQ_PSN | a::MAX_DEST_RD_ATOMIC |
                           a::MIN_RNR_TIMER;
                r.rc_opt = a::ACCESS_FLAGS | a::PKEY_INDEX;
                r.ud_opt = a::PKEY_INDEX | a::QKEY;
            }
            break;
        case qp_state::RTR:
            if (n == qp_state::RTS) {
                r.legal = true;
                r.rc_req =
                    a::SQ_PSN | a::TIMEOUT | a::RETRY_CNT | a::RNR_RETRY | a::MAX_QP_RD_ATOMIC;
                r.rc_opt = a::ACCESS_FLAGS | a::MIN_RNR_TIMER;
                r.ud_req = a::SQ_PSN;
                r.ud_opt = a::QKEY;
            }
            break;
        case qp_state::RTS:
            if (n == qp_state::RTS) {
                r.legal = true;
                r.rc_opt = a::ACCESS_FLAGS | a::MIN_RNR_TIMER;
                r.ud_opt = a::QKEY;
            } else if (n == qp_state::SQD) {
                r.legal = true;
            }
            break;
        case qp_state::SQD:
            if (n == qp_state::RTS || n == qp_state::SQD) {
                r.legal = true;
                r.rc_opt = a::ACCESS_FLAGS | a::MIN_RNR_TIMER;
                r.ud_opt = a::QKEY;
                if (n == qp_state::SQD) {
                    // While drained the path may change: SQD->SQD also takes the port and the
                    // P_Key index (IBA 10.3.1; Linux's qp_state_table allows PORT and
                    // PKEY_INDEX for RC, PKEY_INDEX for UD).
                    r.rc_opt |= a::AV | a::TIMEOUT | a::RETRY_CNT | a::RNR_RETRY |
                                a::MAX_QP_RD_ATOMIC | a::MAX_DEST_RD_ATOMIC | a::PORT |
                                a::PKEY_INDEX;
                    r.ud_opt |= a::PKEY_INDEX;
                }
            }
            break;
        case qp_state::SQE:
            if (n == qp_state::RTS) {
                r.legal = true;
                r.rc_opt = a::ACCESS_FLAGS | a::MIN_RNR_TIMER;
                r.ud_opt = a::QKEY;
            }
            break;
        case qp_state::ERR:
            break;
    }
    return r;
}

}  // namespace

transition_check check_transition(spec::qp_type type, qp_state cur, qp_state next, uint32_t mask) {
    const auto ci = static_cast<uint32_t>(cur), ni = static_cast<uint32_t>(next);
    if (ci >= N || ni >= N) return transition_check::illegal_transition;
    const rule r = make_rule(cur, next);
    if (!r.legal) return transition_check::illegal_transition;
    const bool rc = type == spec::qp_type::RC;
    const uint32_t req = rc ? r.rc_req : r.ud_req;
    const uint32_t opt = rc ? r.rc_opt : r.ud_opt;
    // The QoS attributes may come with any transition that keeps the QP usable (as Linux
    // allows IBV_QP_RATE_LIMIT on RTR->RTS and RTS->RTS), never with RESET or ERR.
    const uint32_t qos = a::RATE_LIMIT | a::QOS_WEIGHT;
    const bool qos_ok = next != qp_state::RESET && next != qp_state::ERR;
    const uint32_t attrs = mask & ~a::STATE & ~(qos_ok ? qos : 0u);
    if ((attrs & req) != req) return transition_check::bad_attrs;
    if ((attrs & ~(req | opt)) != 0) return transition_check::bad_attrs;
    return transition_check::ok;
}

}  // namespace chio::model
