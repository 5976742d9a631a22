// How the adapter's engines reach host memory and raise interrupts: through the PCIe endpoint.
//
// Contract: read() and write() must be called from a SystemC thread; they block for the
// simulated time the transfer takes and return false when the access failed (unsupported
// request, completer abort, bus mastering disabled); on failure no data is used. msix() sends
// vector n of function fn, or sets its pending bit when masked. Every call carries the function
// whose resource is being served, so the host side can check and translate it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <systemc>

namespace chio::model {

class dma_port {
public:
    virtual ~dma_port() = default;
    virtual bool read(uint16_t fn, uint64_t addr, void* dst, size_t len) = 0;
    virtual bool write(uint16_t fn, uint64_t addr, const void* src, size_t len) = 0;
    // A posted write whose completion the caller waits for itself: returns at once with the
    // time the write takes in `delay`. The data is visible to the host from the call on, so a
    // caller that must update its own state "when the write is issued" (a ring's committed
    // index) does so before waiting; otherwise the host could act on the entry first.
    virtual bool post_write(uint16_t fn, uint64_t addr, const void* src, size_t len,
                            sc_core::sc_time& delay) = 0;
    // A read whose completion the caller waits for itself, so that one stage can keep several
    // reads in flight (the send path's fetch stage): on entry `delay` is when, from now, the
    // request is issued; on return it is when, from now, the completion has arrived. The data is
    // copied at the call: it is sampled at issue, which is exact for the buffers of a posted WQE
    // (the host must not change them until the WQE completes).
    virtual bool read_at(uint16_t fn, uint64_t addr, void* dst, size_t len,
                         sc_core::sc_time& delay) = 0;
    // A buffer read as several requests that the caller issues one by one, each when a read
    // tag allows (read_at() timing): read_run_at() copies all `run_len` bytes at addr into dst,
    // checked and translated once, and is timed as the run's first request, `first_len`
    // bytes; each later request goes with request_at(), timed and answered as read_at() would
    // (an injected fault may still refuse it) with no data moved again. A failure of either
    // means the run's data must not be used. Same timing as a read_at() per request, without
    // a translation and a copy per request.
    virtual bool read_run_at(uint16_t fn, uint64_t addr, void* dst, size_t run_len,
                             size_t first_len, sc_core::sc_time& delay) = 0;
    virtual bool request_at(uint16_t fn, uint64_t addr, size_t len, sc_core::sc_time& delay) = 0;
    virtual void msix(uint16_t fn, unsigned vector) = 0;
};

}  // namespace chio::model
