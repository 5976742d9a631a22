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
    virtual void msix(uint16_t fn, unsigned vector) = 0;
};

}  // namespace chio::model
