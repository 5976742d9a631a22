// A shared receive queue: one ring of receive WQEs that several RC QPs consume.
//
// QPs consume SRQ entries in ring order but may complete them out of order, so the driver keeps
// a busy bit per slot and posts only into a free slot: a WQE the device may still use is never
// overwritten. The driver's private record of each posted slot (wr_id, buffer bytes) is what a
// completion reports, never the ring in host memory (catalogue C16) nor the device's word (I1,
// I2). Ownership: one thread posts to an SRQ.
#pragma once

#include <cstdint>
#include <vector>

#include "chio/spec/spec.h"
#include "driver/bus.h"
#include "driver/command_channel.h"
#include "driver/queue_pair.h"

namespace chio::drv {

class shared_receive_queue {
public:
    shared_receive_queue(bus& b, uint64_t db_page);
    ~shared_receive_queue();
    shared_receive_queue(const shared_receive_queue&) = delete;
    shared_receive_queue& operator=(const shared_receive_queue&) = delete;

    cmd_result create(command_channel& cmd, uint32_t pd, unsigned log_size);
    cmd_result destroy(command_channel& cmd);

    // 0, EINVAL (bad request) or ENOMEM (next slot still in use).
    int post_recv(const recv_wr& wr);
    // A completion for slot index wqe_index arrived: frees the slot and gives what was posted
    // there (wr_id, and the bytes its buffers hold). False when it was not outstanding.
    bool retire(uint16_t wqe_index, uint64_t& wr_id, uint64_t& capacity);

    uint32_t srqn() const { return m_srqn; }

private:
    bus& m_bus;
    uint64_t m_db_page;
    dma_buffer m_ring, m_dbrec;
    struct slot_record {
        bool busy = false;
        uint64_t wr_id = 0;
        uint64_t capacity = 0;  // sum of the gather lengths
    };
    std::vector<slot_record> m_slots;
    uint32_t m_srqn = 0;
    unsigned m_log = 0;
    uint16_t m_pi = 0;
    bool m_valid = false;
};

}  // namespace chio::drv
