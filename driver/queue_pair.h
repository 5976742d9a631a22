// A queue pair: a send ring and a receive ring in host memory, a doorbell record, and the
// device's QP context behind a QP number.
//
// Posting (rdma-core's providers/mlx5/qp.c pattern): validate the request (synchronous rejects
// consume nothing), write the WQE into the next slot, update the doorbell record, issue a
// to_device barrier, then ring the SQ/RQ doorbell with the new producer index. The rings'
// consumer indices advance when completions are polled (retire_send / retire_recv); an
// unsignaled WQE is retired by the next signaled completion after it.
// Ownership: one thread posts to a QP.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "chio/spec/spec.h"
#include "driver/bus.h"
#include "driver/command_channel.h"

namespace chio::drv {

struct sge {
    uint64_t addr = 0;
    uint32_t length = 0;
    uint32_t lkey = 0;
};

struct send_wr {
    uint64_t wr_id = 0;
    spec::wqe_opcode opcode = spec::wqe_opcode::SEND;
    uint32_t flags = spec::wqe_flags::SIGNALED;  // spec::wqe_flags bits
    sge sg_list[spec::limits::MAX_SGE];
    uint32_t num_sge = 0;
    uint32_t imm = 0;
    const void* inline_data = nullptr;  // with wqe_flags::INLINE
    uint32_t inline_len = 0;
    uint64_t remote_addr = 0;
    uint32_t rkey = 0;
    uint64_t compare_add = 0;  // atomics: compare value, or the value to add
    uint64_t swap = 0;         // compare-and-swap: the new value
    uint32_t ah = 0;           // UD: address handle
    uint32_t remote_qpn = 0;   // UD: destination QP
    uint32_t remote_qkey = 0;  // UD: destination Q_Key
};

struct recv_wr {
    uint64_t wr_id = 0;
    sge sg_list[spec::limits::MAX_RECV_SGE];
    uint32_t num_sge = 0;
};

// Attribute values for modify(); which ones apply is the attr_mask's business.
struct qp_attr_values {
    uint32_t dest_qpn = 0;
    uint32_t rq_psn = 0;
    uint32_t sq_psn = 0;
    spec::path_mtu path_mtu = spec::path_mtu::MTU_4096;
    uint32_t port = 1;
    uint32_t access_flags = 0;
    uint32_t qkey = 0;
    uint32_t timeout = 14;  // 4.096 us << 14 = 67 ms
    uint32_t retry_cnt = 7;
    uint32_t rnr_retry = 7;       // 7: retry for ever
    uint32_t min_rnr_timer = 12;  // 0.64 ms (IBA table 45)
    uint32_t max_rd_atomic = 16;
    uint32_t max_dest_rd_atomic = 16;
    uint64_t dest_mac = 0;
    uint64_t dest_gid_hi = 0;
    uint64_t dest_gid_lo = 0;
    uint32_t rate_limit_mbps = 0;  // qp_attr::RATE_LIMIT: 0 = unlimited
    uint32_t qos_weight = 1;       // qp_attr::QOS_WEIGHT: 1..65535
};

class queue_pair {
public:
    queue_pair(bus& b, uint64_t db_page);
    ~queue_pair();
    queue_pair(const queue_pair&) = delete;
    queue_pair& operator=(const queue_pair&) = delete;

    cmd_result create(command_channel& cmd, spec::qp_type type, uint32_t send_cqn,
                      uint32_t recv_cqn, unsigned sq_log_size, unsigned rq_log_size, uint32_t pd,
                      uint32_t srqn = spec::cmd::NO_SRQ);
    cmd_result modify(command_channel& cmd, spec::qp_state state, uint32_t attr_mask,
                      const qp_attr_values& v = {});
    cmd_result query(command_channel& cmd, spec::cmd::query_qp_out& out);
    cmd_result destroy(command_channel& cmd);

    // 0 on success, or an errno value: EINVAL (bad request or QP state), ENOMEM (ring full).
    // With ring_doorbell false the WQE is written but the device is not told (doorbell
    // batching): a later ring_send_doorbell() announces every WQE written since with one MMIO
    // write, because the SQ doorbell carries the producer index, not a count.
    int post_send(const send_wr& wr, bool ring_doorbell = true);
    void ring_send_doorbell() { ring_sq(); }
    // WQE in the doorbell page: a doorbell that announces exactly one WQE carries that WQE,
    // written into the doorbell page (write-combined) with SQ_WQE_DB, so the device skips its
    // DMA fetch (one read round trip less per message); a doorbell for a batch stays SQ_DB.
    // The WQE is in the ring as well, for a device that had to fall back to fetching it.
    void set_wqe_in_doorbell(bool on) { m_wqe_in_db = on; }
    bool wqe_in_doorbell() const { return m_wqe_in_db; }
    int post_recv(const recv_wr& wr);

    // Completion bookkeeping, called by the CQ poller. False when the index was never posted.
    bool retire_send(uint16_t wqe_index);
    bool retire_recv(uint16_t wqe_index);
    // What the driver itself posted at a ring index, from its private record (never the ring in
    // host memory, which the application or a device can rewrite after posting, catalogue C16,
    // nor the device's word, I1): the wr_id of a send or receive WQE, and the bytes a receive
    // WQE can take (catalogue I2).
    uint64_t send_wr_id(uint16_t wqe_index) const;
    // A completion at this index would skip a WQE that owes its own completion: a signaled send
    // WQE before it, or any receive WQE before it (the device completes each queue in order, so
    // a gap means a completion was lost on the way, e.g. a CQE write that failed).
    bool send_gap(uint16_t wqe_index) const;
    bool recv_gap(uint16_t wqe_index) const { return wqe_index != m_rq_ci; }
    uint64_t recv_wr_id(uint16_t wqe_index) const;
    uint64_t recv_capacity(uint16_t wqe_index) const;

    // Device lost (fatal, removed, heartbeat gone): every posted and not yet retired WQE gets a
    // WR_FLUSH_ERR completion made by the driver, exactly once (the rings are then empty and the
    // QP is in ERR); the device's CQ is no longer read. Receive WQEs of an SRQ are not the QP's.
    void flush(std::vector<spec::cqe>& send, std::vector<spec::cqe>& recv);

    uint32_t send_cqn() const { return m_send_cqn; }
    uint32_t recv_cqn() const { return m_recv_cqn; }
    // Called by the destructor (the device forgets a QP the application deletes).
    std::function<void()> on_destroy;

    // The send ring itself, for a tool that plays a driver writing raw WQEs past post_send's
    // checks (fuzz/wqe_fuzz.cpp); it then rings the SQ doorbell itself.
    const dma_buffer& sq_ring() const { return m_sq; }
    unsigned sq_log_size() const { return m_sq_log; }
    // The receive ring, likewise (tests that leave a slot the driver has not posted yet).
    const dma_buffer& rq_ring() const { return m_rq; }
    // The QP's doorbell page in BAR0, for the same kind of tool ringing by hand.
    uint64_t doorbell_page() const { return m_db_page; }

    uint32_t qpn() const { return m_qpn; }
    spec::qp_type type() const { return m_type; }
    uint32_t srqn() const { return m_srqn; }
    spec::qp_state state() const { return m_state; }
    uint32_t send_outstanding() const { return static_cast<uint16_t>(m_sq_pi - m_sq_ci); }
    uint32_t recv_outstanding() const { return static_cast<uint16_t>(m_rq_pi - m_rq_ci); }
    uint16_t send_ci() const { return m_sq_ci; }
    uint16_t recv_ci() const { return m_rq_ci; }

private:
    void ring_sq();
    void ring_rq();

    // The driver's private record of each ring slot as posted (mlx5's wrid arrays): what a
    // completion reports and what the gap and length checks use.
    struct send_record {
        uint64_t wr_id = 0;
        bool signaled = false;
    };
    struct recv_record {
        uint64_t wr_id = 0;
        uint64_t capacity = 0;  // sum of the gather lengths
    };

    bus& m_bus;
    uint64_t m_db_page;
    dma_buffer m_sq, m_rq, m_dbrec;
    std::vector<send_record> m_sq_posted;
    std::vector<recv_record> m_rq_posted;
    uint32_t m_qpn = 0;
    spec::qp_type m_type = spec::qp_type::RC;
    spec::qp_state m_state = spec::qp_state::RESET;
    unsigned m_sq_log = 0, m_rq_log = 0;
    uint16_t m_sq_pi = 0, m_sq_ci = 0, m_rq_pi = 0, m_rq_ci = 0;
    uint16_t m_sq_rung = 0;  // producer index the last SQ doorbell announced
    bool m_wqe_in_db = false;
    uint32_t m_srqn = spec::cmd::NO_SRQ;
    uint32_t m_send_cqn = 0, m_recv_cqn = 0;
    bool m_valid = false;
};

}  // namespace chio::drv
