// The event unit: writes completion and event queue entries and raises MSI-X messages.
//
// Flow: the QP engine writes a CQE (write_cqe) -> the queue engine, if the CQ is armed, outputs
// an event -> this unit's thread writes an EQE to the CQ's EQ -> the queue engine, if that EQ is
// armed, outputs an event -> this unit sends the EQ's MSI-X vector. Asynchronous events
// (command done, CQ error, QP fatal) take the same EQE path to the function's async EQ.
// A full CQ puts the CQ in error (CQ_ERROR event, catalogue C14); a full EQ is an EQ overrun,
// which is fatal to the device (syndrome EQ_OVERRUN, catalogue H4).
#pragma once

#include <functional>

#include "tlm-model/adapter/adapter_core.h"

namespace chio::model {

class event_unit {
public:
    event_unit(adapter_core& core, std::function<void(spec::syndrome)> fatal);

    // Writes one CQE (its owner bit is filled here) and commits it. Returns false, writing
    // nothing, when the CQ does not exist, is in error, or overflows. QP engine thread only.
    bool write_cqe(uint32_t cqn, spec::cqe cqe, bool solicited);

    // Body of the adapter's event thread: never returns.
    void run();

private:
    bool write_eqe(uint32_t eqn, spec::eqe eqe);
    void handle(const qe_event& e);

    adapter_core& m_core;
    std::function<void(spec::syndrome)> m_fatal;
};

}  // namespace chio::model
