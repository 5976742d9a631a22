// One side of an RC connection, as scenarios and tests set it up: a probed device, a PD, send and
// receive CQs, one RC QP and one registered buffer (local write, remote read/write/atomic).
// connect() takes the QP from RESET to RTS towards the peer described by a rendezvous record.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "driver/device.h"
#include "testbenches/scenarios/rendezvous.h"

namespace chio::tb {

struct rc_endpoint_options {
    unsigned cq_log = 10;
    unsigned sq_log = 8;
    unsigned rq_log = 8;
    uint64_t buffer_bytes = 1 << 20;
    uint32_t timeout = 10;  // ACK timeout code: 4.096 us << 10 = 4.2 ms
    uint32_t retry_cnt = 7;
    uint32_t rnr_retry = 7;
    uint32_t min_rnr_timer = 1;  // 10 us
    spec::path_mtu mtu = spec::path_mtu::MTU_4096;
    drv::device_options device;  // the driver's (async EQ size, command events, heartbeat)
};

struct rc_endpoint {
    std::unique_ptr<drv::device> dev;
    uint32_t pd = 0;
    std::unique_ptr<drv::completion_queue> scq, rcq;
    std::unique_ptr<drv::queue_pair> qp;
    drv::dma_buffer buf;
    uint32_t lkey = 0, rkey = 0;
    spec::cmd::query_port_out port{};
    std::string error;

    // Brings the device up and creates everything; false with `error` set on failure.
    bool open(drv::bus& b, const rc_endpoint_options& o = {});
    // Publishes {qpn, psn, mac, gid_hi, gid_lo, buffer address, rkey} as `name`.
    void publish(rendezvous& rv, const std::string& name, uint32_t psn) const;
    // Connects to the peer published as `peer` (waits for it).
    bool connect(rendezvous& rv, const std::string& peer, uint32_t my_psn,
                 const rc_endpoint_options& o = {});
    // open(), then connects the QP to itself (its packets loop back through the port): the
    // one-function set-up of tests that abuse a single QP. False with `error` set on failure.
    bool open_self_connected(drv::bus& b, const rc_endpoint_options& o = {});
    uint64_t peer_addr = 0;  // the peer's buffer (bus address = iova)
    uint32_t peer_rkey = 0;
    uint8_t* cpu() const { return static_cast<uint8_t*>(buf.cpu); }

    // Polls both CQs until one completion arrives or timeout_ns passes; false on timeout.
    bool wait_completion(spec::cqe& out, uint64_t timeout_ns);
    void close();
};

}  // namespace chio::tb
