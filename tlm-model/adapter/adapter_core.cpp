#include "tlm-model/adapter/adapter_core.h"

namespace chio::model {

void adapter_core::collect() {
    bool work_added = false, events_added = false;
    qe_work w;
    while (qe->pop_work(w)) {
        // Only send queues are scheduled (wqid = 2 * qpn); a token marks the queue active.
        sched.activate(w.wqid / 2u);
        work_added = true;
    }
    qe_event e;
    while (qe->pop_event(e)) {
        events.push_back(e);
        events_added = true;
    }
    qe_err err;
    while (qe->pop_err(err)) {
        if (on_qe_error) on_qe_error(err);
    }
    if (work_added) work_ev.notify(sc_core::SC_ZERO_TIME);
    if (events_added) event_ev.notify(sc_core::SC_ZERO_TIME);
}

void adapter_core::post_async(uint16_t fn, spec::eqe_type type, uint32_t data, uint32_t data2) {
    async_eqe a;
    a.fn = fn;
    a.eqe.type = static_cast<uint8_t>(type);
    a.eqe.data = data;
    a.eqe.data2 = data2;
    async_events.push_back(a);
    event_ev.notify(sc_core::SC_ZERO_TIME);
}

void adapter_core::request_flush(uint32_t qpn) {
    flushes.push_back(qpn);
    work_ev.notify(sc_core::SC_ZERO_TIME);
}

}  // namespace chio::model
