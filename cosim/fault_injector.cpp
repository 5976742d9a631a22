#include "cosim/fault_injector.h"

#include <cstring>

#include "tlm-model/pcie/pcie_ext.h"

namespace chio::cosim {

bool fault_injector::arm(const fault_spec& f) {
    switch (f.kind) {
        case fault_kind::pcie_ur_read:
        case fault_kind::pcie_ur_write:
        case fault_kind::pcie_ca_read:
        case fault_kind::pcie_ca_write:
        case fault_kind::pcie_poison:
        case fault_kind::pcie_timeout:
        case fault_kind::msix_lost:
        case fault_kind::msix_delay:
            m_armed.push_back({f, 0, 0});
            return true;
        default:
            return false;
    }
}

bool fault_injector::hit(armed& a) {
    const uint64_t n = a.seen++;
    if (n < a.spec.after) return false;
    if (a.spec.count != 0 && a.hits >= a.spec.count) return false;
    ++a.hits;
    ++m_injected[a.spec.kind];
    return true;
}

fault_injector::dma_verdict fault_injector::on_dma(tlm::tlm_generic_payload& p) {
    if (cut_off()) return dma_verdict::ur;
    const bool rd = p.is_read();
    for (armed& a : m_armed) {
        const fault_kind k = a.spec.kind;
        const bool match =
            (rd && (k == fault_kind::pcie_ur_read || k == fault_kind::pcie_ca_read ||
                    k == fault_kind::pcie_poison || k == fault_kind::pcie_timeout)) ||
            (!rd && (k == fault_kind::pcie_ur_write || k == fault_kind::pcie_ca_write));
        if (!match || !hit(a)) continue;
        switch (k) {
            case fault_kind::pcie_ur_read:
            case fault_kind::pcie_ur_write:
                p.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
                return dma_verdict::ur;
            case fault_kind::pcie_ca_read:
            case fault_kind::pcie_ca_write:
                p.set_response_status(tlm::TLM_GENERIC_ERROR_RESPONSE);
                return dma_verdict::ca;
            case fault_kind::pcie_poison:
                // The completion arrives with EP set; its data must not be used (PCIe 4.0
                // section 2.7.2): the requester sees an error, never the bytes.
                if (auto* ext = p.get_extension<model::pcie_ext>()) ext->poisoned = true;
                p.set_response_status(tlm::TLM_GENERIC_ERROR_RESPONSE);
                return dma_verdict::poison;
            case fault_kind::pcie_timeout:
                // No completion: the requester's completion timer expires (50 us - 50 ms).
                sc_core::wait(sc_core::sc_time(a.spec.delay_us, sc_core::SC_US));
                p.set_response_status(tlm::TLM_GENERIC_ERROR_RESPONSE);
                return dma_verdict::timeout;
            default:
                break;
        }
    }
    return dma_verdict::pass;
}

bool fault_injector::on_msix() {
    if (cut_off()) return false;
    for (armed& a : m_armed) {
        if (a.spec.kind == fault_kind::msix_lost && hit(a)) return false;
        if (a.spec.kind == fault_kind::msix_delay && hit(a)) {
            sc_core::wait(sc_core::sc_time(a.spec.delay_us, sc_core::SC_US));
        }
    }
    return true;
}

uint64_t fault_injector::injected(fault_kind k) const {
    auto it = m_injected.find(k);
    return it == m_injected.end() ? 0 : it->second;
}

uint64_t fault_injector::injected_total() const {
    uint64_t n = 0;
    for (const auto& [k, v] : m_injected) n += v;
    return n;
}

}  // namespace chio::cosim
