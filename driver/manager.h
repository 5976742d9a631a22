// The PF driver's manager API (the deck's mAPI): provisions the adapter's virtual functions.
//
// Contract
// - Runs on the PF's device (device::is_vf() false) in the PF driver's thread; a VF's driver
//   has no manager (the device refuses manager commands from a VF with BAD_OP).
// - Functions are numbered as in the device: fn 0 is the PF, fn n (1..TotalVFs) is VF n-1.
// - enable_vfs() follows the SR-IOV capability's protocol (PCIe Base 4.0 section 9.3.3): size
//   the VF BAR, give the VF BARs one window (TotalVFs BARs, naturally aligned), set NumVFs, then
//   VF Enable and VF MSE. disable_vfs() clears VF Enable: every VF is reset and disappears.
// - Every action is logged through the logger, one line: what, which function, values, status.
// - Each call returns the command's status (ABORTED when the device never answered).
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "driver/device.h"

namespace chio::drv {

struct vf_quota {
    uint32_t qps = 0, cqs = 0, eqs = 0, mrs = 0, pds = 0, srqs = 0, ahs = 0;  // 0: device limit
};

struct vf_stats {
    uint64_t tx_packets = 0, tx_bytes = 0, rx_packets = 0, rx_bytes = 0;
    uint64_t tx_dropped = 0, rx_dropped = 0, errors = 0;
};

class manager {
public:
    using logger = std::function<void(const std::string& line)>;

    explicit manager(device& pf, logger log = {});

    // Makes VFs 1..n (functions 1..n) exist; n at most TotalVFs, else BAD_PARAM and no change.
    cmd_result enable_vfs(unsigned n);
    cmd_result disable_vfs();
    unsigned num_vfs() const { return m_num_vfs; }
    uint16_t total_vfs() const;

    cmd_result set_quota(uint16_t fn, const vf_quota& q);
    // MAC as 48 bits (byte 0 in bits 47:40); GID as two big-endian halves.
    cmd_result set_address(uint16_t fn, uint64_t mac, uint64_t gid_hi, uint64_t gid_lo,
                           bool spoof_check);
    cmd_result set_vf_qos(uint16_t fn, uint32_t weight, uint64_t max_rate_mbps);
    cmd_result set_qp_qos(uint32_t qpn, uint32_t weight, uint64_t rate_limit_mbps);
    cmd_result query_stats(uint16_t fn, vf_stats& out);
    // Function level reset of VF fn; returns once the VF is quiesced and reset.
    cmd_result reset_vf(uint16_t fn);

    // VF migration (docs/migration.md). suspend_vf returns once the VF is quiescent. save_vf
    // writes the VF's state blob into `buf` (a PF DMA buffer); `size` is the blob's bytes (or,
    // with SMALL_BUF, the bytes needed). load_vf reads a blob of `len` bytes from `buf` into VF
    // fn, which stays suspended until resume_vf. read_dirty copies and clears the VF's log of
    // pages the device wrote, as a bitmap of `pages` bits from `first_page` into `buf`; the first
    // call starts the log.
    cmd_result suspend_vf(uint16_t fn);
    cmd_result save_vf(uint16_t fn, const dma_buffer& buf, uint32_t& size);
    cmd_result load_vf(uint16_t fn, const dma_buffer& buf, uint32_t len);
    cmd_result resume_vf(uint16_t fn);
    cmd_result read_dirty(uint16_t fn, const dma_buffer& buf, uint64_t first_page, uint32_t pages,
                          uint32_t& dirty, uint32_t& outside);

private:
    cmd_result log(const std::string& what, const cmd_result& r);

    device& m_pf;
    logger m_log;
    unsigned m_num_vfs = 0;
    uint64_t m_vf_bar = 0;
};

}  // namespace chio::drv
