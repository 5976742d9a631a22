// State and services shared by the adapter's engines (command unit, QP engine, event unit).
//
// The engines run as SystemC threads of the adapter and call one another only through the
// queues here: the QoS scheduler's active send queues, events and asynchronous EQEs for the event
// unit, QP flush requests for the QP engine. Queue-engine outputs are collected into those queues
// after every queue-engine call (collect()), so no engine consumes another's outputs.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <systemc>

#include "tlm-model/adapter/contexts.h"
#include "tlm-model/adapter/dma_port.h"
#include "tlm-model/adapter/posted_window.h"
#include "tlm-model/adapter/qos_scheduler.h"
#include "tlm-model/adapter/vf_migration_port.h"
#include "tlm-model/queue_engine/queue_engine.h"

namespace chio::model {

struct async_eqe {
    uint16_t fn = 0;
    spec::eqe eqe{};
};

struct adapter_counters {
    uint64_t commands = 0;
    uint64_t command_errors = 0;
    uint64_t doorbells = 0;
    uint64_t doorbell_errors = 0;
    uint64_t wqes = 0;
    uint64_t wqes_from_doorbell = 0;  // of wqes: written into the doorbell page, not fetched
    uint64_t wqe_reads = 0;           // descriptor DMA reads (one per batched fetch)
    uint64_t recv_wqe_reads = 0;      // receive descriptor DMA reads (one per read-ahead)
    uint64_t cqes = 0;
    uint64_t eqes = 0;
    uint64_t msix = 0;
    uint64_t dma_errors = 0;
    uint64_t cq_overflows = 0;
    uint64_t payload_bytes = 0;
};

// Observers for tracing and statistics; empty functions cost one test each.
struct adapter_probes {
    std::function<void(uint16_t fn, uint16_t wqid, uint16_t pi)> doorbell;
    std::function<void(uint32_t cqn, const spec::cqe&)> cqe;
    std::function<void(uint32_t eqn, const spec::eqe&)> eqe;
    std::function<void(uint32_t qpn, spec::qp_state)> qp_state;
    std::function<void(uint16_t opcode, uint8_t status)> command;
    // A frame a send queue put on the port, serialized over [begin, end) (wire occupancy bytes,
    // preamble and gap included): what the QoS scheduler charged, as the wire saw it.
    std::function<void(uint16_t fn, uint32_t qpn, uint64_t wire_bytes, sc_core::sc_time begin,
                       sc_core::sc_time end)>
        tx;
};

// The network port's identity and state (one port per adapter).
struct port_config {
    mac_address mac = mac_from_u64(0x02C410000001ull);  // locally administered unicast
    model::gid gid = ipv4_gid(0x0A000001);              // ::ffff:10.0.0.1
    spec::path_mtu max_mtu = spec::path_mtu::MTU_4096;
    double gbps = 100.0;
    bool up = true;
};

struct adapter_core {
    device_contexts ctx;
    port_config port;
    queue_engine* qe = nullptr;
    dma_port* dma = nullptr;
    adapter_counters counters;
    adapter_probes probes;

    // Send queues with work: the queue engine's work tokens mark them active here; the QP
    // engine's send thread asks it which to serve next (docs/virtualization.md, "QoS").
    qos_scheduler sched{ctx};
    // The device's posted writes on their way (payload writes, CQEs), bounded by the link's
    // posted-header credits.
    posted_window posted;
    std::deque<qe_event> events;         // queue-engine events for the event unit
    std::deque<async_eqe> async_events;  // asynchronous EQEs for the event unit
    std::deque<uint32_t> flushes;        // QPs whose queues must be flushed
    sc_core::sc_event work_ev;
    sc_core::sc_event event_ev;

    // Per function: the EQ that receives asynchronous events and command completions (the first
    // EQ the function created), or -1.
    std::vector<int32_t> async_eqn = std::vector<int32_t>(256, -1);

    // The producer index of a work queue's last accepted doorbell (the QP context's copy, as
    // the firmware's queue_mirror holds it): the fetch stage reads ahead only WQEs below it,
    // which the driver has handed over. Unset: one WQE per descriptor read.
    std::function<uint16_t(uint16_t wqid)> posted_pi;
    // Called with every queue-engine error output.
    std::function<void(const qe_err&)> on_qe_error;
    // Called when a CQ goes to error (overflow or a failed CQE write): its QPs go to ERR.
    std::function<void(uint32_t cqn)> on_cq_error;
    // Function level reset of a VF (the manager's RESET_VF); returns when the VF is quiesced
    // and reset. Must be called from a thread process.
    std::function<void(uint16_t fn)> reset_function;
    // The VF migration engine (the adapter) and the fatal state, for the command unit.
    vf_migration_port* migration = nullptr;
    bool fatal = false;

    // Moves the queue engine's outputs into the queues above and wakes their consumers.
    void collect();
    void post_async(uint16_t fn, spec::eqe_type type, uint32_t data, uint32_t data2 = 0);
    void request_flush(uint32_t qpn);

    // Function identity on the wire (adapter_identity.cpp, docs/virtualization.md): the source
    // MAC/GID the packets of qpn's function carry; the egress spoof check; the ingress check that
    // a packet for a function's MAC reaches only that function's QPs. The checks count into the
    // function's statistics (tx/rx packets and bytes, drops, errors).
    void source_identity(uint32_t qpn, mac_address& mac, gid& g) const;
    bool egress_allowed(uint32_t qpn, const roce_packet& p);
    bool ingress_allowed(const roce_packet& p);
};

}  // namespace chio::model
