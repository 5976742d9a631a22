#include "cosim/root_complex.h"

#include <algorithm>
#include <cstring>

#include "cosim/address_map.h"
#include "cosim/scoreboard.h"
#include "tlm-model/pcie/pcie_ext.h"
#include "tlm-model/sim_time.h"

namespace chio::cosim {

root_complex::root_complex(sc_core::sc_module_name name, interrupt_controller& irq,
                           const pcie_link_params& link)
    : sc_module(name),
      cfg_out("cfg_out"),
      mmio_out("mmio_out"),
      dma_in("dma_in"),
      mem_out("mem_out"),
      m_irq(irq),
      m_link(link) {
    dma_in.register_b_transport(this, &root_complex::b_transport);
    SC_METHOD(deliver_msi_due);
    sensitive << m_msi_ev;
    dont_initialize();
}

void root_complex::deliver_msi_due() {
    const sc_core::sc_time now = sc_core::sc_time_stamp();
    while (!m_msi.empty() && m_msi.front().at <= now) {
        m_irq.deliver(m_msi.front().addr, m_msi.front().data);
        m_msi.pop_front();
    }
    if (!m_msi.empty()) m_msi_ev.notify(m_msi.front().at - now);
}

namespace {

// A device that is gone (catalogue H6) or behind a frozen channel (H8): reads complete with all
// ones, writes vanish.
void answer_removed(tlm::tlm_generic_payload& p) {
    if (p.is_read()) std::memset(p.get_data_ptr(), 0xFF, p.get_data_length());
    p.set_response_status(tlm::TLM_OK_RESPONSE);
}

}  // namespace

void root_complex::cfg_access(tlm::tlm_generic_payload& p, sc_core::sc_time& delay) {
    if (m_faults.cut_off()) return answer_removed(p);
    const sc_core::sc_time at = sc_core::sc_time_stamp() + delay;
    delay += p.is_read() ? m_link.downstream_read(at, p.get_address(), p.get_data_length())
                         : m_link.downstream_write(at, p.get_data_length());
    cfg_out->b_transport(p, delay);
}

void root_complex::mmio_access(tlm::tlm_generic_payload& p, sc_core::sc_time& delay) {
    if (m_faults.cut_off()) return answer_removed(p);
    const sc_core::sc_time at = sc_core::sc_time_stamp() + delay;
    const unsigned len = p.get_data_length();
    if (p.is_read()) {
        delay += m_link.downstream_read(at, p.get_address(), len);
    } else {
        delay += write_time(at, len);
    }
    mmio_out->b_transport(p, delay);
}

sc_core::sc_time root_complex::write_time(sc_core::sc_time at, unsigned len) {
    // One TLP per write-combining line; the write is whole when its last line has landed.
    sc_core::sc_time last = sc_core::SC_ZERO_TIME;
    for (unsigned off = 0; off < len || off == 0; off += WC_LINE_BYTES) {
        last = std::max(last, m_link.downstream_write(at, std::min(WC_LINE_BYTES, len - off)));
    }
    return last;
}

sc_core::sc_time root_complex::mmio_write_time(unsigned len) {
    if (m_faults.cut_off()) return sc_core::SC_ZERO_TIME;
    return write_time(sc_core::sc_time_stamp(), len);
}

void root_complex::mmio_deliver(tlm::tlm_generic_payload& p) {
    if (m_faults.cut_off()) return answer_removed(p);
    sc_core::sc_time none = sc_core::SC_ZERO_TIME;
    mmio_out->b_transport(p, none);
}

void root_complex::b_transport(tlm::tlm_generic_payload& p, sc_core::sc_time& delay) {
    auto* ext = p.get_extension<model::pcie_ext>();
    if (ext == nullptr) {
        p.set_response_status(tlm::TLM_GENERIC_ERROR_RESPONSE);
        return;
    }
    const uint64_t addr = p.get_address();
    const uint64_t len = p.get_data_length();
    const sc_core::sc_time at = sc_core::sc_time_stamp() + delay;
    // The first request of a read run carries the run's bytes; the link times the request only.
    const uint64_t timed =
        ext->request_bytes != 0 ? std::min<uint64_t>(ext->request_bytes, len) : len;
    delay += p.is_read() ? m_link.upstream_read(at, addr, timed) : m_link.upstream_write(at, len);

    if (addr >= address_map::MSI_BASE && addr - address_map::MSI_BASE < address_map::MSI_SIZE) {
        if (!p.is_write() || len != 4) {
            ++m_ur;
            p.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
            return;
        }
        uint32_t data = 0;
        std::memcpy(&data, p.get_data_ptr(), 4);
        if (m_faults.on_msix()) {
            const sc_core::sc_time arrival = sc_core::sc_time_stamp() + delay;
            m_msi.push_back(msi_write{std::max(arrival, m_msi.empty() ? arrival : m_msi.back().at),
                                      addr, data});
            m_msi_ev.notify(m_msi.front().at - sc_core::sc_time_stamp());
        }
        p.set_response_status(tlm::TLM_OK_RESPONSE);
        return;
    }
    if (m_faults.on_dma(p) != fault_injector::dma_verdict::pass) {
        ++m_ur;
    } else if (ext->timing_only) {
        // A later request of a read run: its bytes moved, checked, with the run's first one.
        p.set_response_status(tlm::TLM_OK_RESPONSE);
        return;
    } else {
        if (m_iommu != nullptr) {
            translated_access(p, delay, ext->fn);
        } else {
            mem_out->b_transport(p, delay);
        }
        if (!p.is_response_ok()) ++m_ur;
    }
    if (m_board != nullptr && m_board->enabled()) {
        m_board->on_dma(ext->fn, addr, static_cast<uint32_t>(len), p.is_write(), p.get_data_ptr(),
                        p.is_response_ok());
    }
}

void root_complex::translated_access(tlm::tlm_generic_payload& p, sc_core::sc_time& delay,
                                     uint16_t fn) {
    const uint64_t addr = p.get_address();
    const uint64_t len = p.get_data_length();
    const auto now_ns = static_cast<uint64_t>(time_ns(sc_core::sc_time_stamp() + delay) + 0.5);
    if (!m_iommu->translate(fn, addr, len, p.is_write(), m_segs, now_ns)) {
        p.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
        return;
    }
    // The common case (passthrough, or an access inside one host-contiguous run) is the payload
    // itself with its address replaced.
    if (m_segs.size() == 1) {
        p.set_address(m_segs[0].hpa);
        mem_out->b_transport(p, delay);
        p.set_address(addr);
        return;
    }
    unsigned char* data = p.get_data_ptr();
    for (const iommu_segment& s : m_segs) {
        p.set_address(s.hpa);
        p.set_data_ptr(data + s.offset);
        p.set_data_length(static_cast<unsigned>(s.len));
        p.set_streaming_width(static_cast<unsigned>(s.len));
        mem_out->b_transport(p, delay);
        if (!p.is_response_ok()) break;
    }
    p.set_address(addr);
    p.set_data_ptr(data);
    p.set_data_length(static_cast<unsigned>(len));
    p.set_streaming_width(static_cast<unsigned>(len));
}

}  // namespace chio::cosim
