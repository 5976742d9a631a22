#include "tlm-model/adapter/adapter.h"

#include <cstring>

#include "tlm-model/pcie/pcie_ext.h"

namespace chio::model {

using sc_core::SC_NS;
using sc_core::sc_time;
namespace reg = spec::bar0::reg;

namespace {
constexpr size_t MAX_PENDING_COMMANDS = 4;
}  // namespace

adapter::adapter(sc_core::sc_module_name name, const adapter_params& p)
    : sc_module(name),
      cfg_socket("cfg_socket"),
      mmio_socket("mmio_socket"),
      dma_socket("dma_socket"),
      m_p(p),
      m_qe(std::make_unique<queue_mirror>(make_queue_engine(p.qe_kind, p.qe_options))),
      m_events(m_core, [this](spec::syndrome s) { enter_fatal(s); }),
      m_port(m_core.port),
      m_qp(m_core, m_events, m_port, p.timing),
      m_cmd(m_core, [this](uint32_t qpn, spec::qp_state from, spec::qp_state to) {
          m_qp.on_transition(qpn, from, to);
      }) {
    m_core.qe = m_qe.get();
    m_mirror = static_cast<queue_mirror*>(m_qe.get());
    m_core.posted_pi = [this](uint16_t wqid) { return m_mirror->wq(wqid).pi; };
    m_core.migration = this;
    m_core.port = p.port;
    m_core.dma = this;
    m_core.on_qe_error = [this](const qe_err& e) { m_qp.on_qe_error(e); };
    m_core.on_cq_error = [this](uint32_t cqn) { m_qp.on_cq_error(cqn); };
    cfg_socket.register_b_transport(this, &adapter::cfg_b_transport);
    mmio_socket.register_b_transport(this, &adapter::mmio_b_transport);
    // A port state change is an asynchronous event to every function (catalogue H5).
    m_port.on_state_change([this](bool up) {
        for (uint16_t fn = 0; fn < m_fns.size(); ++fn) {
            m_core.post_async(
                fn, spec::eqe_type::PORT_CHANGE,
                static_cast<uint32_t>(up ? spec::port_state::ACTIVE : spec::port_state::DOWN));
        }
    });
    // Every function the device can have is built up front; VFs exist only while the PF's SR-IOV
    // capability enables them (present()).
    const uint16_t nfns = 1 + spec::pci::TOTAL_VFS;
    m_core.ctx.fns.assign(nfns, function_ctx{});
    m_core.ctx.fns[0].enabled = true;
    m_fstate.assign(nfns, function_state{});
    m_fstate[0].present = true;
    for (uint16_t fn = 0; fn < nfns; ++fn) {
        m_fns.push_back(
            std::make_unique<function>(fn == 0 ? config_space::kind::pf : config_space::kind::vf));
        wire_function(fn);
    }
    m_fns[0]->cfg.on_sriov_change([this] { sriov_changed(); });
    m_port.set_local_macs([this](const mac_address& m) {
        for (const function_ctx& f : m_core.ctx.fns) {
            if (f.enabled && f.mac == m && mac_to_u64(m) != 0) return true;
        }
        return false;
    });
    m_core.reset_function = [this](uint16_t fn) { reset_function_and_wait(fn); };
    SC_THREAD(command_thread);
    SC_THREAD(qp_thread);
    SC_THREAD(rx_thread);
    SC_THREAD(response_thread);
    SC_THREAD(timer_thread);
    SC_THREAD(event_thread);
    SC_THREAD(msix_thread);
    SC_THREAD(reset_thread);
    SC_THREAD(function_reset_thread);
    SC_THREAD(health_thread);
}

adapter::~adapter() = default;

void adapter::wire_function(uint16_t fn) {
    function& f = *m_fns[fn];
    // DEV_CTRL.RESET of the PF resets the device; of a VF, only that VF (its driver's reset
    // must not reach other functions).
    f.regs.on_w1sc(reg::DEV_CTRL, [this, fn](uint32_t bits) {
        if (!reg::DEV_CTRL_RESET.get(bits)) return;
        if (fn == 0) {
            // READY falls when the write arrives, not when the reset thread next runs: a read
            // the driver sends behind the write (its fence) reaches the device right after it
            // and must already see the reset, or the driver talks to a device about to forget
            // everything (as begin_function_reset() does for a VF).
            set_status_bit(reg::DEV_STATUS_READY, false);
            m_reset_ev.notify(sc_core::SC_ZERO_TIME);
        } else {
            begin_function_reset(fn);
        }
    });
    f.regs.on_w1sc(reg::CMD_DB, [this, fn](uint32_t bits) {
        function& g = *m_fns[fn];
        const uint32_t st = g.regs.get(reg::DEV_STATUS);
        // Commands are accepted only when READY and not fatal. A GO that arrives while the
        // previous command finishes (the driver saw its owner byte before the device retired it)
        // waits its turn; a storm of GOs is bounded.
        // After a fatal error the PF's mailbox is still read, for its crash-dump commands only
        // (command_unit::crash_dump_op); a VF's is not.
        if (!reg::CMD_DB_GO.get(bits) || !reg::DEV_STATUS_READY.get(st) || (m_fatal && fn != 0) ||
            m_fstate[fn].resetting || m_hot_resetting) {
            return;
        }
        if (m_cmds.size() >= MAX_PENDING_COMMANDS) {
            ++m_core.counters.command_errors;
            return;
        }
        const uint64_t addr =
            (uint64_t{g.regs.get(reg::CMD_ADDR_HI)} << 32) | g.regs.get(reg::CMD_ADDR_LO);
        set_status_bit(reg::DEV_STATUS_CMD_BUSY, true);
        m_cmds.emplace_back(fn, addr);
        m_cmd_ev.notify(sc_core::SC_ZERO_TIME);
    });
    // A VF's Initiate FLR: its config space has reset itself; the rest of the VF follows.
    if (fn != 0) f.cfg.on_flr([this, fn] { begin_function_reset(fn); });
    f.cfg.on_msix_control_change([this, fn](bool enabled, bool masked) {
        for (const auto& m : m_fns[fn]->msix.release_pending(enabled, masked)) {
            m_msix_out.emplace_back(fn, m);
        }
        m_msix_ev.notify(sc_core::SC_ZERO_TIME);
    });
}

void adapter::set_status_bit(const spec::field& f, bool v) {
    bar0_regs& r = m_fns[0]->regs;
    r.set(reg::DEV_STATUS, static_cast<uint32_t>(f.set(r.get(reg::DEV_STATUS), v ? 1 : 0)));
}

void adapter::enter_fatal(spec::syndrome s) {
    m_fatal = true;
    m_core.fatal = true;
    m_fns[0]->regs.set(reg::SYNDROME, static_cast<uint32_t>(s));
    set_status_bit(reg::DEV_STATUS_FATAL, true);
}

// ---- transport -------------------------------------------------------------------------------

void adapter::cfg_b_transport(tlm::tlm_generic_payload& p, sc_time&) {
    auto* ext = p.get_extension<pcie_ext>();
    const unsigned len = p.get_data_length();
    // A configuration access moves 1 to 4 bytes; a zero-length one has no data to move (and may
    // carry no data pointer at all): refused like any other bad size.
    if (ext == nullptr || len == 0 || len > 4 || p.get_byte_enable_ptr()) {
        p.set_response_status(tlm::TLM_GENERIC_ERROR_RESPONSE);
        return;
    }
    // A function that does not exist (VF not enabled, or beyond NumVFs) answers UR.
    if (!present(ext->fn)) {
        p.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
        return;
    }
    config_space& cfg = m_fns[ext->fn]->cfg;
    const auto off = static_cast<uint32_t>(p.get_address());
    config_space::status st;
    if (p.is_read()) {
        uint32_t v = 0;
        st = cfg.read(off, v, len);
        std::memcpy(p.get_data_ptr(), &v, len);
    } else {
        uint32_t v = 0;
        std::memcpy(&v, p.get_data_ptr(), len);
        st = cfg.write(off, v, len);
    }
    p.set_response_status(st == config_space::status::ok ? tlm::TLM_OK_RESPONSE
                                                         : tlm::TLM_ADDRESS_ERROR_RESPONSE);
}

void adapter::mmio_b_transport(tlm::tlm_generic_payload& p, sc_time&) {
    const uint64_t addr = p.get_address();
    const unsigned len = p.get_data_length();
    uint8_t* data = p.get_data_ptr();
    p.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
    if (p.get_byte_enable_ptr() != nullptr) {
        p.set_response_status(tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE);
        return;
    }
    // Route by address to the function whose BAR0 holds it (PCIe address routing); the
    // requester's own function plays no part, so ownership is checked further in.
    uint16_t fn = 0;
    uint32_t off = 0;
    if (decode(addr, fn, off)) {
        function& f = *m_fns[fn];
        if (off < spec::bar0::REGS_SIZE) {
            const auto st =
                p.is_read() ? f.regs.read(off, data, len) : f.regs.write(off, data, len);
            // The heartbeat sleeps until the PF's DEV_CTRL changes (so an idle model has no
            // periodic event and a run without a driver still ends by event starvation).
            if (fn == 0 && p.is_write() && off <= reg::DEV_CTRL && off + len > reg::DEV_CTRL) {
                m_health_ev.notify(sc_core::SC_ZERO_TIME);
            }
            if (st == bar0_regs::status::ok)
                p.set_response_status(tlm::TLM_OK_RESPONSE);
            else if (st == bar0_regs::status::bad_size || st == bar0_regs::status::misaligned)
                p.set_response_status(tlm::TLM_BURST_ERROR_RESPONSE);
            return;
        }
        if (off >= msix_table::TABLE_OFFSET &&
            off < msix_table::PBA_OFFSET + msix_table::PBA_BYTES) {
            const auto st =
                p.is_read() ? f.msix.read(off, data, len) : f.msix.write(off, data, len);
            if (st == msix_table::status::ok) {
                p.set_response_status(tlm::TLM_OK_RESPONSE);
                if (p.is_write()) {
                    // Unmasking a vector releases its pending message (PCIe 4.0 section 6.1.4.5).
                    for (const auto& m : f.msix.release_pending(f.cfg.msix_enabled(),
                                                                f.cfg.msix_function_masked())) {
                        m_msix_out.emplace_back(fn, m);
                        m_msix_ev.notify(sc_core::SC_ZERO_TIME);
                    }
                }
            } else if (st == msix_table::status::bad_size || st == msix_table::status::misaligned) {
                p.set_response_status(tlm::TLM_BURST_ERROR_RESPONSE);
            }
            return;
        }
        const uint64_t db_end = uint64_t{spec::bar0::DB_OFFSET} +
                                uint64_t{spec::bar0::DB_PAGES} * spec::bar0::DB_PAGE_SIZE;
        if (off >= spec::bar0::DB_OFFSET && off < db_end) {
            const uint32_t in_page = (off - spec::bar0::DB_OFFSET) % spec::bar0::DB_PAGE_SIZE;
            if (p.is_write() && wqe_window::holds(in_page, len)) {
                const uint32_t page = (off - spec::bar0::DB_OFFSET) / spec::bar0::DB_PAGE_SIZE;
                return wqe_window_write(p, fn, page, in_page);
            }
            if (len != 8 || in_page % 8 != 0) {
                p.set_response_status(tlm::TLM_BURST_ERROR_RESPONSE);
                return;
            }
            if (p.is_read()) {
                std::memset(data, 0, len);  // doorbells are write-only
            } else {
                uint64_t v = 0;
                std::memcpy(&v, data, 8);
                doorbell(fn, in_page, v);
            }
            p.set_response_status(tlm::TLM_OK_RESPONSE);
        }
        return;
    }
}

bool adapter::decode(uint64_t addr, uint16_t& fn, uint32_t& off) const {
    const uint64_t size = m_fns[0]->cfg.bar0_size();
    const config_space& pf = m_fns[0]->cfg;
    if (pf.mem_enabled() && addr >= pf.bar0_base() && addr - pf.bar0_base() < size) {
        fn = 0;
        off = static_cast<uint32_t>(addr - pf.bar0_base());
        return true;
    }
    // VF BARs: VF n at VF BAR0 + (n - 1) * size, while VF Enable and VF MSE are set.
    const uint64_t vf_base = pf.vf_bar0_base();
    if (!pf.vf_mse() || addr < vf_base) return false;
    const uint64_t n = (addr - vf_base) / size;
    if (n >= pf.num_vfs()) return false;
    fn = static_cast<uint16_t>(n + 1);
    off = static_cast<uint32_t>((addr - vf_base) % size);
    return true;
}

void adapter::wqe_window_write(tlm::tlm_generic_payload& p, uint16_t fn, uint32_t page,
                               uint32_t in_page) {
    // Whole aligned 64-bit words inside the window, like every doorbell; anything else is
    // refused as a doorbell of a wrong size is.
    wqe_window::result r;
    if (!m_wqe_window.write(fn, page, in_page, p.get_data_ptr(), p.get_data_length(), r)) {
        p.set_response_status(tlm::TLM_BURST_ERROR_RESPONSE);
        return;
    }
    if (r.rang) doorbell(fn, spec::bar0::db::SQ_WQE_DB, r.db, r.complete ? &r.wqe : nullptr);
    p.set_response_status(tlm::TLM_OK_RESPONSE);
}

void adapter::doorbell(uint16_t fn, uint32_t reg_off, uint64_t v, const spec::send_wqe* wqe) {
    namespace db = spec::bar0::db;
    ++m_core.counters.doorbells;
    auto refuse = [&] {
        ++m_core.counters.doorbell_errors;
        ++m_core.ctx.fns[fn].errors;
        bar0_regs& r = m_fns[fn]->regs;
        r.set(reg::DB_ERR_COUNT, r.get(reg::DB_ERR_COUNT) + 1);
    };
    // A function being reset rings nothing (catalogue A6): its registers stay readable, so its
    // driver can poll DEV_STATUS.READY, but its doorbells are dropped and counted.
    if (m_fstate[fn].resetting || m_hot_resetting) return refuse();
    const auto f8 = static_cast<uint8_t>(fn);
    if (reg_off == db::SQ_DB || reg_off == db::RQ_DB || reg_off == db::SQ_WQE_DB) {
        static_assert(db::SQ_WQE_DB_QPN.in_place() == db::SQ_DB_QPN.in_place() &&
                          db::SQ_WQE_DB_PI.in_place() == db::SQ_DB_PI.in_place(),
                      "SQ_WQE_DB has SQ_DB's layout");
        const auto qpn = static_cast<uint32_t>(db::SQ_DB_QPN.get(v));
        const auto pi = static_cast<uint16_t>(db::SQ_DB_PI.get(v));
        if (qpn >= spec::limits::MAX_QP) return refuse();
        const uint16_t wqid = reg_off == db::RQ_DB ? rq_wqid(qpn) : sq_wqid(qpn);
        const uint64_t errs = m_core.counters.doorbell_errors;
        m_qe->db({f8, wqid, pi});
        m_core.collect();
        if (m_core.counters.doorbell_errors != errs) {
            bar0_regs& r = m_fns[fn]->regs;
            r.set(reg::DB_ERR_COUNT, r.get(reg::DB_ERR_COUNT) + 1);
            ++m_core.ctx.fns[fn].errors;
            return;
        }
        if (m_core.probes.doorbell) m_core.probes.doorbell(fn, wqid, pi);
        // Only after the engine accepted the doorbell (owner, range): the copy is the WQE at
        // PI - 1, the last one this doorbell announces.
        if (wqe != nullptr) m_qp.offer_wqe(qpn, static_cast<uint16_t>(pi - 1), *wqe);
        m_qp.on_doorbell(wqid);
    } else if (reg_off == db::SRQ_DB) {
        const auto srqn = static_cast<uint32_t>(db::SRQ_DB_SRQN.get(v));
        if (srqn >= spec::limits::MAX_SRQ) return refuse();
        const uint64_t errs = m_core.counters.doorbell_errors;
        m_qe->db({f8, srq_wqid(srqn), static_cast<uint16_t>(db::SRQ_DB_PI.get(v))});
        m_core.collect();
        if (m_core.counters.doorbell_errors != errs) {
            bar0_regs& r = m_fns[fn]->regs;
            r.set(reg::DB_ERR_COUNT, r.get(reg::DB_ERR_COUNT) + 1);
            ++m_core.ctx.fns[fn].errors;
        }
    } else if (reg_off == db::CQ_DB || reg_off == db::EQ_DB) {
        const bool cq = reg_off == db::CQ_DB;
        const auto n = static_cast<uint32_t>(db::CQ_DB_CQN.get(v));
        if (n >= (cq ? spec::limits::MAX_CQ : spec::limits::MAX_EQ)) return refuse();
        qe_arm a;
        a.fn = f8;
        a.crid = cq ? cq_crid(n) : eq_crid(n);
        a.ci = static_cast<uint16_t>(db::CQ_DB_CI.get(v));
        a.arm = db::CQ_DB_ARM.get(v) != 0;
        a.solicited = cq && db::CQ_DB_SOLICITED.get(v) != 0;
        const uint64_t errs = m_core.counters.doorbell_errors;
        m_qe->arm(a);
        m_core.collect();
        if (m_core.counters.doorbell_errors != errs) {
            bar0_regs& r = m_fns[fn]->regs;
            r.set(reg::DB_ERR_COUNT, r.get(reg::DB_ERR_COUNT) + 1);
            ++m_core.ctx.fns[fn].errors;
        }
    } else {
        refuse();  // reserved doorbell offset: ignored and counted
    }
}

}  // namespace chio::model
