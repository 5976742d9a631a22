#include "driver/device.h"

#include <algorithm>
#include <cstdio>
#include <vector>

#include "driver/observer.h"

namespace chio::drv {

namespace cfg = spec::pci::cfg;
namespace msixc = spec::pci::msix_cap;
namespace reg = spec::bar0::reg;
namespace cmd = spec::cmd;

namespace {

std::string hex(uint64_t v) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "0x%llx", static_cast<unsigned long long>(v));
    return buf;
}

}  // namespace

device_caps clamp_caps(const cmd::query_caps_out& c) {
    namespace lim = spec::limits;
    device_caps d;
    d.max_qp = std::min(c.max_qp, lim::MAX_QP);
    d.max_cq = std::min(c.max_cq, lim::MAX_CQ);
    d.max_eq = std::min(c.max_eq, lim::MAX_EQ);
    d.max_sge = std::min(c.max_sge, lim::MAX_SGE);
    d.max_recv_sge = std::min(c.max_recv_sge, lim::MAX_RECV_SGE);
    d.max_inline = std::min(c.max_inline, lim::MAX_INLINE);
    d.max_wq_log_size = std::min(c.max_wq_log_size, lim::MAX_WQ_LOG_SIZE);
    d.num_msix = std::min(c.num_msix, spec::pci::MSIX_VECTORS);
    return d;
}

device::device(bus& b, const device_options& o) : m_bus(b), m_opt(o) {}

device::~device() = default;

bool device::fail(const std::string& why) {
    m_error = why;
    return false;
}

uint64_t device::db_page(unsigned n) const {
    return m_bar0 + spec::bar0::DB_OFFSET + uint64_t{n} * spec::bar0::DB_PAGE_SIZE;
}

bool device::enumerate() {
    const uint32_t vendor = m_bus.cfg_read(cfg::VENDOR_ID, 2);
    const uint32_t dev = m_bus.cfg_read(cfg::DEVICE_ID, 2);
    // The same driver runs on the PF and on a VF (each on its own bus); the manager API
    // (driver/manager.h) is the PF's alone.
    m_is_vf = dev == spec::pci::VF_DEVICE_ID;
    if (vendor != spec::pci::VENDOR_ID || (dev != spec::pci::DEVICE_ID && !m_is_vf)) {
        return fail("no chio device: vendor " + hex(vendor) + " device " + hex(dev));
    }
    // BAR sizing (PCI 3.0 section 6.2.5.1): write all ones to both halves of the 64-bit BAR,
    // read back the size mask, then assign a naturally aligned address.
    const uint32_t type = m_bus.cfg_read(cfg::BAR0, 4) & 0xF;
    if (cfg::BAR0_MEM_TYPE_64.get(type) != 2) return fail("BAR0 is not a 64-bit BAR");
    m_bus.cfg_write(cfg::BAR0, 0xFFFFFFFFu, 4);
    m_bus.cfg_write(cfg::BAR1, 0xFFFFFFFFu, 4);
    const uint64_t mask =
        (uint64_t{m_bus.cfg_read(cfg::BAR1, 4)} << 32) | (m_bus.cfg_read(cfg::BAR0, 4) & ~0xFull);
    const uint64_t size = ~mask + 1;
    if (mask == 0 || (size & (size - 1)) != 0) return fail("BAR0 size mask invalid: " + hex(mask));
    m_bar0 = m_bus.bar_window(0, size);
    m_bus.cfg_write(cfg::BAR0, static_cast<uint32_t>(m_bar0), 4);
    m_bus.cfg_write(cfg::BAR1, static_cast<uint32_t>(m_bar0 >> 32), 4);
    const uint32_t command = m_bus.cfg_read(cfg::COMMAND, 2);
    m_bus.cfg_write(cfg::COMMAND,
                    command | static_cast<uint32_t>(cfg::COMMAND_MEM_SPACE.make(1) |
                                                    cfg::COMMAND_BUS_MASTER.make(1)),
                    2);
    // Find MSI-X by walking the capability list (bounded: at most 48 capabilities fit).
    uint32_t ptr = m_bus.cfg_read(cfg::CAP_PTR, 1) & ~3u;
    for (int guard = 0; ptr != 0 && guard < 48; ++guard) {
        const uint32_t hdr = m_bus.cfg_read(ptr, 2);
        if ((hdr & 0xFF) == spec::pci::cap_id::MSIX) {
            m_msix_cap = ptr;
            break;
        }
        ptr = (hdr >> 8) & ~3u;
    }
    if (m_msix_cap == 0) return fail("no MSI-X capability");
    return true;
}

bool device::reset() {
    m_bus.mmio_write32(m_bar0 + reg::DEV_CTRL, static_cast<uint32_t>(reg::DEV_CTRL_RESET.make(1)));
    const uint64_t deadline = m_bus.now_ns() + uint64_t{spec::limits::RESET_TIMEOUT_US} * 1000;
    for (;;) {
        const uint32_t st = m_bus.mmio_read32(m_bar0 + reg::DEV_STATUS);
        if (st == 0xFFFFFFFFu) return fail("device removed (all-ones status)");
        if (reg::DEV_STATUS_READY.get(st)) break;
        if (m_bus.now_ns() >= deadline) return fail("timeout waiting for READY after reset");
        m_bus.relax();
    }
    const uint32_t ifrev = m_bus.mmio_read32(m_bar0 + reg::IF_REV);
    if (ifrev != spec::SPEC_VERSION) {
        return fail("interface revision " + std::to_string(ifrev) + ", driver speaks " +
                    std::to_string(spec::SPEC_VERSION));
    }
    m_caps.fw_rev = m_bus.mmio_read32(m_bar0 + reg::FW_REV);
    return true;
}

bool device::setup_msix() {
    // Program vector 0 (the async EQ), unmask it, then enable MSI-X.
    const msi_message m = m_bus.msi(0);
    const uint64_t entry = m_bar0 + spec::pci::MSIX_TABLE_OFFSET;
    namespace me = spec::pci::msix_entry;
    m_bus.mmio_write32(entry + me::ADDR_LO, static_cast<uint32_t>(m.addr));
    m_bus.mmio_write32(entry + me::ADDR_HI, static_cast<uint32_t>(m.addr >> 32));
    m_bus.mmio_write32(entry + me::DATA, m.data);
    m_bus.mmio_write32(entry + me::VECTOR_CTRL, 0);
    const uint32_t ctrl = m_bus.cfg_read(m_msix_cap + msixc::MSG_CTRL, 2);
    m_bus.cfg_write(m_msix_cap + msixc::MSG_CTRL,
                    static_cast<uint32_t>(msixc::MSG_CTRL_ENABLE.set(ctrl, 1)), 2);
    return true;
}

bool device::probe() {
    if (!enumerate() || !reset()) return false;
    m_cmd = std::make_unique<command_channel>(m_bus, m_bar0);
    // A VF's DEV_CTRL has no heartbeat: a VF driver watches status and removal only.
    m_health = std::make_unique<health_monitor>(m_bus, m_bar0, m_opt.health_monitor && !m_is_vf);
    return bring_up_control();
}

bool device::bring_up_control() {
    if (!m_cmd->init()) return fail("no DMA memory for the command mailbox");
    cmd::query_caps_out caps{};
    const cmd_result r =
        m_cmd->exec(cmd::opcode::QUERY_CAPS, nullptr, 0, &caps, cmd::QUERY_CAPS_OUT_SIZE);
    if (!r.ok()) return fail(std::string("QUERY_CAPS failed: ") + cmd::to_string(r.status));
    const uint32_t fw_rev = m_caps.fw_rev;
    m_caps = clamp_caps(caps);
    m_caps.fw_rev = fw_rev;
    if (!setup_msix()) return false;
    m_async_eq = std::make_unique<event_queue>(m_bus, db_page(0));
    const cmd_result e = m_async_eq->create(*m_cmd, m_opt.async_eq_log_size, 0);
    if (!e.ok()) return fail(std::string("CREATE_EQ failed: ") + cmd::to_string(e.status));
    m_async_eq->arm();
    if (m_opt.command_events) {
        m_cmd->set_event_wait([this](uint32_t token, uint64_t timeout_ns) {
            const uint64_t deadline = m_bus.now_ns() + timeout_ns;
            while (!m_cmd_done.erase(token)) {
                const uint64_t now = m_bus.now_ns();
                // A loss declared meanwhile (by the OS's error_detected, too) aborts the wait
                // within a health period: the command channel returns ABORTED.
                if (now >= deadline || m_lost) return false;
                const uint64_t slice = uint64_t{spec::limits::HEALTH_PERIOD_US} * 1000;
                wait_event(std::min(deadline - now, slice));
            }
            return true;
        });
    }
    if (m_health) m_health->enable();
    return true;
}

health device::check_health() {
    if (m_lost) return m_lost_reason;
    if (!m_health) return health::ok;
    health h = m_health->poll();
    if (h == health::ok && m_cq_error) h = health::queue_error;
    if (h != health::ok) declare_lost(h);
    return h;
}

void device::declare_lost(health why) {
    if (m_lost) return;
    m_lost = true;
    if (observer* o = m_bus.watcher()) o->device_lost();
    m_lost_reason = why;
    // A lost device that is still there (fatal, hung, a queue it cannot write) may go on with
    // DMA into the queues and buffers the driver and its applications now give back: take
    // away its bus mastering first, as Linux drivers do (pci_clear_master() in their error
    // paths). The config write is non-posted and reaches the device behind every doorbell
    // still on its way, so once it has completed the device issues no DMA and no MSI-X;
    // recover() gives mastering back after the reset. A removed, frozen or reset function
    // (or one never enumerated) has nothing to stop.
    if (why != health::removed && why != health::channel_frozen && why != health::function_reset &&
        m_bar0 != 0) {
        const uint32_t command = m_bus.cfg_read(cfg::COMMAND, 2);
        m_bus.cfg_write(cfg::COMMAND,
                        command & ~static_cast<uint32_t>(cfg::COMMAND_BUS_MASTER.make(1)), 2);
    }
    if (m_cmd) m_cmd->abort_all();
    // First stop reading the device's CQs, then flush: a CQE the device wrote but the
    // application has not polled is never delivered, so its WQE completes once, flushed.
    for (auto& [n, cq] : m_cqs) cq->enter_error();
    std::vector<spec::cqe> sends, recvs;
    for (auto& [n, qp] : m_qps) {
        sends.clear();
        recvs.clear();
        qp->flush(sends, recvs);
        auto scq = m_cqs.find(qp->send_cqn());
        auto rcq = m_cqs.find(qp->recv_cqn());
        for (const auto& c : sends) {
            if (scq != m_cqs.end()) scq->second->add_soft(c);
        }
        for (const auto& c : recvs) {
            if (rcq != m_cqs.end()) rcq->second->add_soft(c);
        }
    }
}

bool device::recover() {
    if (!m_lost) return true;
    if (m_lost_reason == health::removed) return fail("device removed: nothing to recover");
    // The old resources die with the reset; their driver objects stay in the error state
    // (they return their flushed completions and refuse posts) until the application drops them.
    m_qps.clear();
    m_srqs.clear();
    m_cqs.clear();
    m_cq_events.clear();
    m_cmd_done.clear();
    m_async.clear();
    if (m_lost_reason == health::function_reset || m_lost_reason == health::channel_frozen) {
        // A function reset (or the slot reset after a frozen channel) also returned config
        // space to its reset state (BAR, COMMAND, MSI-X enable): bring the function up from
        // enumeration, as a new driver would, with a new mailbox and monitor at the BAR it gets.
        if (!enumerate()) return false;
        m_cmd = std::make_unique<command_channel>(m_bus, m_bar0);
        m_health =
            std::make_unique<health_monitor>(m_bus, m_bar0, m_opt.health_monitor && !m_is_vf);
        if (!reset()) return false;
    } else {
        if (!reset()) return false;
        // declare_lost() took bus mastering away; the reset has emptied the device.
        const uint32_t command = m_bus.cfg_read(cfg::COMMAND, 2);
        m_bus.cfg_write(cfg::COMMAND,
                        command | static_cast<uint32_t>(cfg::COMMAND_BUS_MASTER.make(1)), 2);
        m_cmd->revive();
        if (m_health) m_health->reset();
    }
    if (!bring_up_control()) return false;
    m_lost = false;
    m_lost_reason = health::ok;
    m_cq_error = false;
    return true;
}

void device::handle(const spec::eqe& e) {
    switch (static_cast<spec::eqe_type>(e.type)) {
        case spec::eqe_type::COMPLETION:
            m_cq_events.insert(e.data);
            break;
        case spec::eqe_type::CMD_DONE:
            m_cmd_done.insert(e.data);
            break;
        case spec::eqe_type::CQ_ERROR:
            // A CQ the device can no longer write loses completions: recover by reset
            // (catalogue G5, the NVMe controller-fatal analog). check_health() acts on it.
            m_cq_error = true;
            m_async.push_back(e);
            break;
        default:
            m_async.push_back(e);
            break;
    }
}

void device::poll_events() {
    if (m_lost || !m_async_eq) return;
    spec::eqe e;
    bool any = false;
    // At most one ring's worth per call: a device that keeps writing valid EQEs cannot hold
    // the driver here for ever (catalogue I3, I4).
    for (uint32_t n = 0; n < m_async_eq->size() && m_async_eq->poll(e); ++n) {
        handle(e);
        any = true;
    }
    if (any) m_async_eq->arm();
}

bool device::wait_event(uint64_t timeout_ns) {
    if (!m_async_eq) return false;
    if (m_bus.wait_interrupt(m_async_eq->vector(), timeout_ns)) ++m_interrupts;
    // A lost device has no events to give; the wait above still lets the caller's time pass,
    // so its deadline loop ends.
    if (m_lost) return false;
    // Poll even after a timeout: a lost interrupt must not lose an event (catalogue H3).
    spec::eqe e;
    bool any = false;
    for (uint32_t n = 0; n < m_async_eq->size() && m_async_eq->poll(e); ++n) {
        handle(e);
        any = true;
    }
    m_async_eq->arm();
    return any;
}

bool device::retire(spec::cqe& c) {
    // Every field the device wrote is checked before it indexes anything (catalogue I1, I2).
    auto it = m_qps.find(c.qpn);
    if (it == m_qps.end()) {
        ++m_rejected_cqes;
        return false;
    }
    queue_pair& qp = *it->second;
    const bool recv = c.opcode >= static_cast<uint8_t>(spec::cqe_opcode::RECV);
    if (!recv) {
        if (static_cast<uint16_t>(c.wqe_index - qp.send_ci()) < qp.send_outstanding() &&
            qp.send_gap(c.wqe_index)) {
            // A lost completion: nothing is retired; the device is reset and every WQE from
            // the gap on completes once, flushed (exactly once beats a silent skip).
            m_cq_error = true;
            ++m_rejected_cqes;
            return false;
        }
        if (!qp.retire_send(c.wqe_index)) {
            ++m_rejected_cqes;
            return false;
        }
        // The wr_id is the driver's own record of what it posted at that index.
        c.wr_id = qp.send_wr_id(c.wqe_index);
        return true;
    }
    uint64_t capacity = 0;
    if (qp.srqn() != cmd::NO_SRQ) {
        auto s = m_srqs.find(qp.srqn());
        if (s == m_srqs.end() || !s->second->retire(c.wqe_index, c.wr_id, capacity)) {
            ++m_rejected_cqes;
            return false;
        }
    } else {
        if (static_cast<uint16_t>(c.wqe_index - qp.recv_ci()) < qp.recv_outstanding() &&
            qp.recv_gap(c.wqe_index)) {
            m_cq_error = true;  // a lost receive completion, as above
            ++m_rejected_cqes;
            return false;
        }
        if (!qp.retire_recv(c.wqe_index)) {
            ++m_rejected_cqes;
            return false;
        }
        c.wr_id = qp.recv_wr_id(c.wqe_index);
        capacity = qp.recv_capacity(c.wqe_index);
    }
    // Only a SEND lands in the receive buffer; RECV_RDMA_WITH_IMM's byte_len is the length of
    // the RDMA write into the remote MR, not of the (possibly empty) receive buffer.
    if (c.opcode == static_cast<uint8_t>(spec::cqe_opcode::RECV) &&
        c.status == static_cast<uint8_t>(spec::cqe_status::SUCCESS) && c.byte_len > capacity) {
        // More bytes than the posted buffer holds: the WQE still completes (once), as a local
        // length error, and the bogus length is not passed on.
        ++m_rejected_cqes;
        c.status = static_cast<uint8_t>(spec::cqe_status::LOC_LEN_ERR);
        c.byte_len = 0;
    }
    return true;
}

std::unique_ptr<completion_queue> device::create_cq(unsigned log_size, cmd_result& r) {
    auto cq = std::make_unique<completion_queue>(m_bus, db_page(0),
                                                 [this](spec::cqe& c) { return retire(c); });
    r = cq->create(*m_cmd, log_size, m_async_eq->eqn());
    if (!r.ok()) return nullptr;
    m_cqs[cq->cqn()] = cq.get();
    std::weak_ptr<bool> alive = m_alive;
    completion_queue* raw = cq.get();
    cq->on_destroy = [this, alive, raw] {
        if (alive.expired()) return;
        auto i = m_cqs.find(raw->cqn());
        if (i != m_cqs.end() && i->second == raw) m_cqs.erase(i);
    };
    return cq;
}

std::unique_ptr<queue_pair> device::create_qp(spec::qp_type type, completion_queue& send_cq,
                                              completion_queue& recv_cq, unsigned sq_log_size,
                                              unsigned rq_log_size, cmd_result& r, uint32_t pd,
                                              shared_receive_queue* srq) {
    auto qp = std::make_unique<queue_pair>(m_bus, db_page(0));
    r = qp->create(*m_cmd, type, send_cq.cqn(), recv_cq.cqn(), sq_log_size, rq_log_size, pd,
                   srq != nullptr ? srq->srqn() : cmd::NO_SRQ);
    if (!r.ok()) return nullptr;
    m_qps[qp->qpn()] = qp.get();
    std::weak_ptr<bool> alive = m_alive;
    queue_pair* raw = qp.get();
    qp->on_destroy = [this, alive, raw] {
        if (alive.expired()) return;
        auto i = m_qps.find(raw->qpn());
        if (i != m_qps.end() && i->second == raw) m_qps.erase(i);
    };
    return qp;
}

cmd_result device::destroy_qp(queue_pair& qp) {
    const cmd_result r = qp.destroy(*m_cmd);
    if (r.ok()) m_qps.erase(qp.qpn());
    return r;
}

}  // namespace chio::drv

namespace chio::drv {

std::unique_ptr<shared_receive_queue> device::create_srq(uint32_t pd, unsigned log_size,
                                                         cmd_result& r) {
    auto srq = std::make_unique<shared_receive_queue>(m_bus, db_page(0));
    r = srq->create(*m_cmd, pd, log_size);
    if (!r.ok()) return nullptr;
    m_srqs[srq->srqn()] = srq.get();
    return srq;
}

cmd_result device::destroy_srq(shared_receive_queue& srq) {
    const cmd_result r = srq.destroy(*m_cmd);
    if (r.ok()) m_srqs.erase(srq.srqn());
    return r;
}

cmd_result device::create_pd(uint32_t& pdn) {
    cmd::create_pd_out out{};
    const cmd_result r =
        m_cmd->exec(cmd::opcode::CREATE_PD, nullptr, 0, &out, cmd::CREATE_PD_OUT_SIZE);
    pdn = out.pdn;
    return r;
}

cmd_result device::destroy_pd(uint32_t pdn) {
    cmd::destroy_pd_in in{};
    in.pdn = pdn;
    return m_cmd->exec(cmd::opcode::DESTROY_PD, &in, cmd::DESTROY_PD_IN_SIZE, nullptr, 0);
}

cmd_result device::reg_mr(uint32_t pdn, uint64_t iova, uint64_t length, uint64_t pa,
                          uint32_t access, uint32_t& lkey, uint32_t& rkey) {
    cmd::reg_mr_in in{};
    in.pdn = pdn;
    in.access = access;
    in.iova = iova;
    in.length = length;
    in.pa = pa;
    cmd::reg_mr_out out{};
    const cmd_result r =
        m_cmd->exec(cmd::opcode::REG_MR, &in, cmd::REG_MR_IN_SIZE, &out, cmd::REG_MR_OUT_SIZE);
    lkey = out.lkey;
    rkey = out.rkey;
    if (r.ok()) {
        if (observer* o = m_bus.watcher()) o->mr_registered(lkey, pa, length);
    }
    return r;
}

cmd_result device::dereg_mr(uint32_t lkey) {
    cmd::dereg_mr_in in{};
    in.lkey = lkey;
    const cmd_result r = m_cmd->exec(cmd::opcode::DEREG_MR, &in, cmd::DEREG_MR_IN_SIZE, nullptr, 0);
    if (r.ok()) {
        if (observer* o = m_bus.watcher()) o->mr_deregistered(lkey);
    }
    return r;
}

cmd_result device::create_ah(uint32_t pdn, uint64_t dest_mac, uint64_t gid_hi, uint64_t gid_lo,
                             uint32_t& ahn) {
    cmd::create_ah_in in{};
    in.pdn = pdn;
    in.port = 1;
    in.dest_mac = dest_mac;
    in.dest_gid_hi = gid_hi;
    in.dest_gid_lo = gid_lo;
    cmd::create_ah_out out{};
    const cmd_result r = m_cmd->exec(cmd::opcode::CREATE_AH, &in, cmd::CREATE_AH_IN_SIZE, &out,
                                     cmd::CREATE_AH_OUT_SIZE);
    ahn = out.ahn;
    return r;
}

cmd_result device::destroy_ah(uint32_t ahn) {
    cmd::destroy_ah_in in{};
    in.ahn = ahn;
    return m_cmd->exec(cmd::opcode::DESTROY_AH, &in, cmd::DESTROY_AH_IN_SIZE, nullptr, 0);
}

cmd_result device::query_port(cmd::query_port_out& out) {
    cmd::query_port_in in{};
    in.port = 1;
    return m_cmd->exec(cmd::opcode::QUERY_PORT, &in, cmd::QUERY_PORT_IN_SIZE, &out,
                       cmd::QUERY_PORT_OUT_SIZE);
}

cmd_result device::set_addr(uint64_t mac, uint64_t gid_hi, uint64_t gid_lo) {
    cmd::set_addr_in in{};
    in.mac = mac;
    in.gid_hi = gid_hi;
    in.gid_lo = gid_lo;
    return m_cmd->exec(cmd::opcode::SET_ADDR, &in, cmd::SET_ADDR_IN_SIZE, nullptr, 0);
}

}  // namespace chio::drv
