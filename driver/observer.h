// What the driver tells a watching platform: the thin observer seam a scoreboard
// (cosim/scoreboard.h) uses to learn what software asked for, so it can check what the device
// did from outside (docs/scoreboard.md).
//
// Contract
// - The bus backend owns the observer (bus::watcher()); nullptr means nobody watches and the
//   driver pays one virtual call per hook site. The driver never depends on what an observer
//   does: it neither reads state back nor changes behaviour when watched.
// - Every hook is called after the action succeeded (a rejected post or a failed command calls
//   nothing), from the driver's own thread, with the driver's own copy of what it wrote (never
//   re-read from memory the device can write).
// - Hooks are per function: the backend knows which function its bus speaks for; the driver
//   does not pass it.
// - Plain C++17, no SystemC (the driver runs on every backend).
#pragma once

#include <cstdint>

#include "chio/spec/spec.h"

namespace chio::drv {

struct qp_attr_values;

class observer {
public:
    virtual ~observer() = default;

    // Completion queues: ring at bus address `ring` with 2^log_size entries.
    virtual void cq_created(uint32_t /*cqn*/, uint64_t /*ring*/, unsigned /*log_size*/) {}
    virtual void cq_destroyed(uint32_t /*cqn*/) {}
    // Queue pairs (srqn: spec::cmd::NO_SRQ for a QP with its own receive queue).
    virtual void qp_created(uint32_t /*qpn*/, spec::qp_type /*type*/, uint32_t /*send_cqn*/,
                            uint32_t /*recv_cqn*/, uint32_t /*srqn*/, unsigned /*sq_log*/,
                            unsigned /*rq_log*/) {}
    // A successful MODIFY_QP; the state only when attr_mask has qp_attr::STATE.
    virtual void qp_modified(uint32_t /*qpn*/, spec::qp_state /*state*/, uint32_t /*attr_mask*/,
                             const qp_attr_values& /*v*/) {}
    virtual void qp_destroyed(uint32_t /*qpn*/) {}
    virtual void srq_created(uint32_t /*srqn*/, unsigned /*log_size*/) {}

    // A work request written into ring slot `index` (free-running 16-bit index).
    virtual void posted_send(uint32_t /*qpn*/, uint16_t /*index*/, const spec::send_wqe& /*w*/) {}
    virtual void posted_recv(uint32_t /*qpn*/, uint16_t /*index*/, const spec::recv_wqe& /*w*/) {}
    virtual void posted_srq_recv(uint32_t /*srqn*/, uint16_t /*index*/,
                                 const spec::recv_wqe& /*w*/) {}

    // A completion handed to the application: read from the device's ring (soft = false) or
    // made by the driver for a lost device (soft = true, WR_FLUSH_ERR).
    virtual void polled(const spec::cqe& /*c*/, bool /*soft*/) {}

    // Memory registration: the device may touch [pa, pa + length) through this key.
    virtual void mr_registered(uint32_t /*lkey*/, uint64_t /*pa*/, uint64_t /*length*/) {}
    virtual void mr_deregistered(uint32_t /*lkey*/) {}

    // A command finished: status as the driver reports it; timed_out when the driver gave up
    // waiting (ABORTED made by the driver on a live device).
    virtual void command_done(spec::cmd::opcode /*op*/, spec::cmd::status /*st*/,
                              bool /*timed_out*/) {}
    // The driver declared the device lost (fatal, removed, heartbeat) and flushed every queue.
    virtual void device_lost() {}
};

}  // namespace chio::drv
