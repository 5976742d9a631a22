// Inside the service's session: reading request bodies and writing response bodies
// (verbs-shim/protocol.h), shared by session.cpp and session_queues.cpp.
#pragma once

#include <cstdint>
#include <cstring>
#include <systemc>
#include <vector>

#include "driver/verbs.h"
#include "verbs-shim/protocol.h"

namespace chio::service::wire {

namespace proto = shim::proto;
using bytes = std::vector<uint8_t>;

// Reads a fixed-size request body; false when the body has another size (the request is then
// refused with EINVAL: a truncated or padded message is never half-read).
template <typename T>
bool read(const bytes& body, T& out) {
    if (body.size() != sizeof(T)) return false;
    std::memcpy(&out, body.data(), sizeof(T));
    return true;
}

template <typename T>
void write(bytes& out, const T& v) {
    out.resize(sizeof(T));
    std::memcpy(out.data(), &v, sizeof(T));
}

inline proto::qp_cap to_wire(const verbs::qp_cap& c) {
    return {c.max_send_wr, c.max_recv_wr, c.max_send_sge, c.max_recv_sge, c.max_inline_data};
}

inline verbs::qp_cap from_wire(const proto::qp_cap& c) {
    verbs::qp_cap v;
    v.max_send_wr = c.max_send_wr;
    v.max_recv_wr = c.max_recv_wr;
    v.max_send_sge = c.max_send_sge;
    v.max_recv_sge = c.max_recv_sge;
    v.max_inline_data = c.max_inline_data;
    return v;
}

inline double now_us() { return sc_core::sc_time_stamp().to_seconds() * 1e6; }

}  // namespace chio::service::wire
