// The QP state transition table (InfiniBand Architecture 1.4, section 10.3.1; the same table as
// Linux's ib_modify_qp_is_ok): which transitions are legal, and which attributes each requires
// and allows, per QP type.
#pragma once

#include <cstdint>

#include "chio/spec/spec.h"

namespace chio::model {

enum class transition_check { ok, illegal_transition, bad_attrs };

// mask: MODIFY_QP attr_mask (spec::qp_attr bits) including STATE when the state changes.
transition_check check_transition(spec::qp_type type, spec::qp_state cur, spec::qp_state next,
                                  uint32_t mask);

}  // namespace chio::model
