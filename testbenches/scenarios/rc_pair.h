// Two connected RC QPs for the virtualization scenarios: side a on one device (a function), side
// b on another or the same, each with its own PD, send and receive CQs and one registered buffer
// (local write, remote read/write). Both devices are driven from the calling driver thread
// (SystemC threads are cooperative, so one thread may drive several functions' devices).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "driver/device.h"

namespace chio::tb {

struct rc_side {
    drv::device* dev = nullptr;
    uint32_t pd = 0;
    std::unique_ptr<drv::completion_queue> scq, rcq;
    std::unique_ptr<drv::queue_pair> qp;
    drv::dma_buffer buf;
    uint32_t lkey = 0, rkey = 0;
    spec::cmd::query_port_out port{};
    uint8_t* cpu() const { return static_cast<uint8_t*>(buf.cpu); }
    uint64_t addr(uint64_t off) const { return buf.bus + off; }
};

struct rc_pair_options {
    unsigned cq_log = 8;
    unsigned sq_log = 6, rq_log = 6;
    uint64_t buffer_bytes = 256 << 10;
    uint32_t timeout = 8;  // ACK timeout code: 4.096 us << 8 = 1 ms
    uint32_t retry_cnt = 7;
};

struct rc_pair {
    rc_side a, b;
    // Creates both sides and connects them (RESET -> INIT -> RTR -> RTS each way); false with a
    // one-line error naming the step that failed.
    bool open(drv::device& da, drv::device& db, const rc_pair_options& o, std::string& err);
    // Destroys both QPs (their CQs, MRs and PDs go with the devices).
    void close();
};

}  // namespace chio::tb
