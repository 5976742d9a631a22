#include "driver/manager.h"

#include <cstdio>

namespace chio::drv {

namespace cmd = spec::cmd;
namespace sr = spec::pci::sriov_cap;

namespace {

constexpr uint32_t SRIOV = spec::pci::EXT_CAP_OFFSET;

std::string hex(uint64_t v) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "0x%llx", static_cast<unsigned long long>(v));
    return buf;
}

}  // namespace

manager::manager(device& pf, logger log) : m_pf(pf), m_log(std::move(log)) {}

cmd_result manager::log(const std::string& what, const cmd_result& r) {
    if (m_log) m_log("manager: " + what + " -> " + cmd::to_string(r.status));
    return r;
}

uint16_t manager::total_vfs() const {
    return static_cast<uint16_t>(m_pf.io().cfg_read(SRIOV + sr::TOTAL_VFS, 2));
}

cmd_result manager::enable_vfs(unsigned n) {
    bus& b = m_pf.io();
    const std::string what = "enable_vfs n=" + std::to_string(n);
    const uint32_t hdr = b.cfg_read(SRIOV, 4);
    if ((hdr & 0xFFFF) != spec::pci::ext_cap_id::SRIOV) {
        return log(what + " (no SR-IOV capability)", {cmd::status::BAD_SYS_STATE, 0});
    }
    const uint16_t total = total_vfs();
    if (n == 0 || n > total)
        return log(what + " total=" + std::to_string(total), {cmd::status::BAD_PARAM, 0});
    if (m_num_vfs != 0) disable_vfs();
    if (m_vf_bar == 0) {
        // VF BAR sizing as for any 64-bit BAR; the window holds TotalVFs BARs so that it is a
        // naturally aligned power of two and NumVFs can change without moving it.
        b.cfg_write(SRIOV + sr::VF_BAR0, 0xFFFFFFFFu, 4);
        b.cfg_write(SRIOV + sr::VF_BAR1, 0xFFFFFFFFu, 4);
        const uint64_t mask = (uint64_t{b.cfg_read(SRIOV + sr::VF_BAR1, 4)} << 32) |
                              (b.cfg_read(SRIOV + sr::VF_BAR0, 4) & ~0xFull);
        const uint64_t size = ~mask + 1;
        // The VF BAR size and TotalVFs are device-written: a window past 2^48 bytes is refused
        // before the doubling below could overflow and never end (catalogue I1).
        constexpr uint64_t MAX_WINDOW = 1ull << 48;
        if (mask == 0 || (size & (size - 1)) != 0 || size > MAX_WINDOW / total) {
            return log(what + " VF BAR mask " + hex(mask), {cmd::status::BAD_SYS_STATE, 0});
        }
        uint64_t window = size;
        while (window < size * total) window <<= 1;
        m_vf_bar = b.bar_window(1, window);
        b.cfg_write(SRIOV + sr::VF_BAR0, static_cast<uint32_t>(m_vf_bar), 4);
        b.cfg_write(SRIOV + sr::VF_BAR1, static_cast<uint32_t>(m_vf_bar >> 32), 4);
    }
    b.cfg_write(SRIOV + sr::NUM_VFS, n, 2);
    const uint32_t ctrl = b.cfg_read(SRIOV + sr::SRIOV_CTRL, 2);
    b.cfg_write(SRIOV + sr::SRIOV_CTRL,
                ctrl | static_cast<uint32_t>(sr::SRIOV_CTRL_VF_ENABLE.make(1) |
                                             sr::SRIOV_CTRL_VF_MSE.make(1)),
                2);
    m_num_vfs = n;
    return log(what + " vf_bar=" + hex(m_vf_bar), {});
}

cmd_result manager::disable_vfs() {
    bus& b = m_pf.io();
    const uint32_t ctrl = b.cfg_read(SRIOV + sr::SRIOV_CTRL, 2);
    b.cfg_write(SRIOV + sr::SRIOV_CTRL,
                ctrl & ~static_cast<uint32_t>(sr::SRIOV_CTRL_VF_ENABLE.in_place() |
                                              sr::SRIOV_CTRL_VF_MSE.in_place()),
                2);
    const unsigned was = m_num_vfs;
    m_num_vfs = 0;
    return log("disable_vfs n=" + std::to_string(was), {});
}

cmd_result manager::set_quota(uint16_t fn, const vf_quota& q) {
    cmd::set_vf_quota_in in{};
    in.fn = fn;
    in.qps = q.qps;
    in.cqs = q.cqs;
    in.eqs = q.eqs;
    in.mrs = q.mrs;
    in.pds = q.pds;
    in.srqs = q.srqs;
    in.ahs = q.ahs;
    const cmd_result r =
        m_pf.cmd().exec(cmd::opcode::SET_VF_QUOTA, &in, cmd::SET_VF_QUOTA_IN_SIZE, nullptr, 0);
    return log("set_quota fn=" + std::to_string(fn) + " qps=" + std::to_string(q.qps) +
                   " cqs=" + std::to_string(q.cqs) + " eqs=" + std::to_string(q.eqs) +
                   " mrs=" + std::to_string(q.mrs) + " pds=" + std::to_string(q.pds) +
                   " srqs=" + std::to_string(q.srqs) + " ahs=" + std::to_string(q.ahs),
               r);
}

cmd_result manager::set_address(uint16_t fn, uint64_t mac, uint64_t gid_hi, uint64_t gid_lo,
                                bool spoof_check) {
    cmd::set_vf_addr_in in{};
    in.fn = fn;
    in.spoof_check = spoof_check ? 1 : 0;
    in.mac = mac;
    in.gid_hi = gid_hi;
    in.gid_lo = gid_lo;
    const cmd_result r =
        m_pf.cmd().exec(cmd::opcode::SET_VF_ADDR, &in, cmd::SET_VF_ADDR_IN_SIZE, nullptr, 0);
    return log("set_address fn=" + std::to_string(fn) + " mac=" + hex(mac) + " gid=" + hex(gid_hi) +
                   ":" + hex(gid_lo) + " spoof_check=" + (spoof_check ? "on" : "off"),
               r);
}

cmd_result manager::set_vf_qos(uint16_t fn, uint32_t weight, uint64_t max_rate_mbps) {
    cmd::set_vf_qos_in in{};
    in.fn = fn;
    in.weight = weight;
    in.max_rate_mbps = max_rate_mbps;
    const cmd_result r =
        m_pf.cmd().exec(cmd::opcode::SET_VF_QOS, &in, cmd::SET_VF_QOS_IN_SIZE, nullptr, 0);
    return log("set_vf_qos fn=" + std::to_string(fn) + " weight=" + std::to_string(weight) +
                   " max_rate_mbps=" + std::to_string(max_rate_mbps),
               r);
}

cmd_result manager::set_qp_qos(uint32_t qpn, uint32_t weight, uint64_t rate_limit_mbps) {
    cmd::set_qp_qos_in in{};
    in.qpn = qpn;
    in.weight = weight;
    in.rate_limit_mbps = rate_limit_mbps;
    const cmd_result r =
        m_pf.cmd().exec(cmd::opcode::SET_QP_QOS, &in, cmd::SET_QP_QOS_IN_SIZE, nullptr, 0);
    return log("set_qp_qos qpn=" + std::to_string(qpn) + " weight=" + std::to_string(weight) +
                   " rate_limit_mbps=" + std::to_string(rate_limit_mbps),
               r);
}

cmd_result manager::query_stats(uint16_t fn, vf_stats& out) {
    cmd::query_vf_stats_in in{};
    in.fn = fn;
    cmd::query_vf_stats_out o{};
    const cmd_result r =
        m_pf.cmd().exec(cmd::opcode::QUERY_VF_STATS, &in, cmd::QUERY_VF_STATS_IN_SIZE, &o,
                        cmd::QUERY_VF_STATS_OUT_SIZE);
    out = {o.tx_packets, o.tx_bytes,   o.rx_packets, o.rx_bytes,
           o.tx_dropped, o.rx_dropped, o.errors};
    return log("query_stats fn=" + std::to_string(fn) + " tx=" + std::to_string(o.tx_packets) +
                   "/" + std::to_string(o.tx_bytes) + "B rx=" + std::to_string(o.rx_packets) + "/" +
                   std::to_string(o.rx_bytes) +
                   "B drops=" + std::to_string(o.tx_dropped + o.rx_dropped) +
                   " errors=" + std::to_string(o.errors),
               r);
}

cmd_result manager::reset_vf(uint16_t fn) {
    cmd::reset_vf_in in{};
    in.fn = fn;
    const cmd_result r =
        m_pf.cmd().exec(cmd::opcode::RESET_VF, &in, cmd::RESET_VF_IN_SIZE, nullptr, 0);
    return log("reset_vf fn=" + std::to_string(fn), r);
}

cmd_result manager::suspend_vf(uint16_t fn) {
    cmd::suspend_vf_in in{};
    in.fn = fn;
    const cmd_result r =
        m_pf.cmd().exec(cmd::opcode::SUSPEND_VF, &in, cmd::SUSPEND_VF_IN_SIZE, nullptr, 0);
    return log("suspend_vf fn=" + std::to_string(fn), r);
}

cmd_result manager::save_vf(uint16_t fn, const dma_buffer& buf, uint32_t& size) {
    cmd::save_vf_in in{};
    in.fn = fn;
    in.len = static_cast<uint32_t>(buf.size);
    in.addr = buf.bus;
    cmd::save_vf_out o{};
    const cmd_result r =
        m_pf.cmd().exec(cmd::opcode::SAVE_VF, &in, cmd::SAVE_VF_IN_SIZE, &o, cmd::SAVE_VF_OUT_SIZE);
    size = o.size;
    return log("save_vf fn=" + std::to_string(fn) + " size=" + std::to_string(o.size) +
                   " qps=" + std::to_string(o.qps),
               r);
}

cmd_result manager::load_vf(uint16_t fn, const dma_buffer& buf, uint32_t len) {
    cmd::load_vf_in in{};
    in.fn = fn;
    in.len = len;
    in.addr = buf.bus;
    cmd::load_vf_out o{};
    const cmd_result r =
        m_pf.cmd().exec(cmd::opcode::LOAD_VF, &in, cmd::LOAD_VF_IN_SIZE, &o, cmd::LOAD_VF_OUT_SIZE);
    return log("load_vf fn=" + std::to_string(fn) + " len=" + std::to_string(len) +
                   " qps=" + std::to_string(o.qps) + " detail=" + std::to_string(o.size),
               r);
}

cmd_result manager::resume_vf(uint16_t fn) {
    cmd::resume_vf_in in{};
    in.fn = fn;
    const cmd_result r =
        m_pf.cmd().exec(cmd::opcode::RESUME_VF, &in, cmd::RESUME_VF_IN_SIZE, nullptr, 0);
    return log("resume_vf fn=" + std::to_string(fn), r);
}

cmd_result manager::read_dirty(uint16_t fn, const dma_buffer& buf, uint64_t first_page,
                               uint32_t pages, uint32_t& dirty, uint32_t& outside) {
    cmd::read_dirty_in in{};
    in.fn = fn;
    in.pages = pages;
    in.addr = buf.bus;
    in.first_page = first_page;
    cmd::read_dirty_out o{};
    const cmd_result r = m_pf.cmd().exec(cmd::opcode::READ_DIRTY, &in, cmd::READ_DIRTY_IN_SIZE, &o,
                                         cmd::READ_DIRTY_OUT_SIZE);
    dirty = o.dirty;
    outside = o.outside;
    return log("read_dirty fn=" + std::to_string(fn) + " pages=" + std::to_string(pages) +
                   " dirty=" + std::to_string(o.dirty) + " outside=" + std::to_string(o.outside),
               r);
}

}  // namespace chio::drv
