// payload_pool: TLM-2.0 generic payloads reused from one transaction to the next.
//
// Constructing a tlm_generic_payload allocates its extension array on the heap, and freeing it
// frees the array: on the DMA and MMIO paths that was five heap allocations per work request.
// An initiator takes a payload for one transaction and gives it back when the transaction is
// over. b_transport may wait (fault injection delays a completion), so other processes may take
// payloads meanwhile: the pool hands out distinct objects and grows to the largest number out at
// once.
//
// Contract: take() returns a payload in the state of a newly constructed one as far as the
// generic payload attributes go (command, address, data, lengths, byte enables, streaming width,
// DMI hint, response status, option); extensions are the caller's: it clears what it set before
// give(). Single-threaded, as the SystemC kernel is.
//
// The pool owns every payload it made, including those out when it is destroyed: a simulation
// may end with an initiator suspended inside b_transport, and SystemC frees that thread's stack
// without unwinding it, so the payload would never come back.
#pragma once

#include <memory>
#include <tlm>
#include <vector>

namespace chio::model {

class payload_pool {
public:
    tlm::tlm_generic_payload& take() {
        if (m_free.empty()) {
            m_all.push_back(std::make_unique<tlm::tlm_generic_payload>());
            m_free.push_back(m_all.back().get());
        }
        tlm::tlm_generic_payload* p = m_free.back();
        m_free.pop_back();
        p->set_command(tlm::TLM_IGNORE_COMMAND);
        p->set_address(0);
        p->set_data_ptr(nullptr);
        p->set_data_length(0);
        p->set_byte_enable_ptr(nullptr);
        p->set_byte_enable_length(0);
        p->set_streaming_width(0);
        p->set_dmi_allowed(false);
        p->set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
        p->set_gp_option(tlm::TLM_MIN_PAYLOAD);
        return *p;
    }
    void give(tlm::tlm_generic_payload& p) { m_free.push_back(&p); }

private:
    std::vector<std::unique_ptr<tlm::tlm_generic_payload>> m_all;
    std::vector<tlm::tlm_generic_payload*> m_free;
};

}  // namespace chio::model
