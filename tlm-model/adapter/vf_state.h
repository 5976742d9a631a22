// A VF's state as the device saves and loads it (SAVE_VF / LOAD_VF, docs/migration.md): the
// plain data (vf_state) and its blob encoding.
//
// Blob format (version spec::limits::VF_STATE_VERSION, little endian):
//   header  (24 bytes): magic u32 = VF_STATE_MAGIC, version u16, header_bytes u16 (24),
//                       total_bytes u32, sections u32, checksum u32 (FNV-1a over the whole blob
//                       with this field zero), source fn u16, reserved u16
//   section (8-byte head + payload): type u16, record_bytes u16, payload_bytes u32; the payload
//                       holds payload_bytes / record_bytes records of the type.
// A reader checks magic, then version (another version: BAD_VERSION, the blob is not read
// further), then length and checksum, then every section head; it skips sections of a type it
// does not know (a later minor addition), and refuses a known type whose record size differs.
// Every failure names the byte offset where reading stopped.
//
// Addresses in the records are the function's device addresses (for a VF in a VM: guest-physical
// addresses, translated by the IOMMU), so they stay valid when the VM moves to another host.
// Resource numbers (QPN, CQN, EQN, SRQN, PDN, MR index and key variant, AHN) are kept: the guest
// and its peers hold them.
// Plain C++ (no SystemC).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "chio/spec/spec.h"

namespace chio::model {

enum class vf_section : uint16_t {
    function = 1,  // quota, QoS, driver's source address, async EQ
    regs = 2,      // BAR0 registers the driver programs (mailbox address, scratch)
    config = 3,    // config space the driver programs (command, device control, MSI-X control)
    msix = 4,      // MSI-X table entries and pending bits
    pd = 5,
    mr = 6,
    ah = 7,
    eq = 8,
    cq = 9,
    srq = 10,
    qp = 11,
    qp_atomic = 12,  // saved atomic results of the QPs' responders, oldest first per QP
};

struct vf_ring_idx {
    uint16_t pi = 0, fetch_or_cpi = 0, ci = 0;  // work queue: pi, fetch, ci; ring: pi, cpi, ci
    uint8_t armed = 0, armed_solicited = 0;
};

struct vf_function_rec {
    uint32_t quota[7] = {};  // qps, cqs, eqs, mrs, pds, srqs, ahs
    uint32_t qos_weight = 1;
    uint64_t max_rate_mbps = 0;
    uint32_t src_override = 0;
    uint64_t src_mac = 0, src_gid_hi = 0, src_gid_lo = 0;
    int32_t async_eqn = -1;
};

struct vf_regs_rec {
    uint32_t cmd_addr_lo = 0, cmd_addr_hi = 0, scratch = 0, dev_ctrl = 0;
};

struct vf_config_rec {
    uint32_t command = 0, dev_ctrl = 0, msix_ctrl = 0;
};

struct vf_msix_rec {
    uint32_t vector = 0;
    uint64_t addr = 0;
    uint32_t data = 0, ctrl = 0, pending = 0;
};

struct vf_pd_rec {
    uint32_t index = 0, refs = 0;
};

struct vf_mr_rec {
    uint32_t index = 0, pd = 0, access = 0, variant = 0;
    uint64_t iova = 0, length = 0, pa = 0;
};

struct vf_ah_rec {
    uint32_t index = 0, pd = 0;
    uint64_t mac = 0, gid_hi = 0, gid_lo = 0;
};

struct vf_eq_rec {
    uint32_t index = 0, log_size = 0, vector = 0, cq_refs = 0;
    uint64_t ring = 0;
    vf_ring_idx idx;
};

struct vf_cq_rec {
    uint32_t index = 0, log_size = 0, eqn = 0, qp_refs = 0, error = 0;
    uint64_t ring = 0;
    vf_ring_idx idx;
};

struct vf_srq_rec {
    uint32_t index = 0, pd = 0, log_size = 0, qp_refs = 0;
    uint64_t ring = 0;
    vf_ring_idx idx;
};

// A QP: its context, its rings' indices and its transport state. The requester is saved at a
// WQE boundary (docs/migration.md, "Partially executed requests"): WQEs taken from the ring but
// not completed are given back (the send queue's fetch index is its consumer index) and the next
// PSN is the first PSN of the oldest of them, so the new device sends them again with the same
// PSNs and the peer treats what it already has as duplicates. The responder is saved as it is,
// including a message in progress.
struct vf_qp_rec {
    uint32_t index = 0, type = 0, state = 0, send_cqn = 0, recv_cqn = 0;
    uint32_t sq_log_size = 0, rq_log_size = 0, pd = 0;
    int32_t srqn = -1;
    uint32_t parked = 0, qos_weight = 1;
    uint64_t rate_limit_mbps = 0;
    uint64_t sq_addr = 0, rq_addr = 0, db_rec_addr = 0;
    // attributes
    uint32_t dest_qpn = 0, rq_psn = 0, sq_psn = 0, path_mtu = 0, port = 0, access_flags = 0;
    uint32_t qkey = 0, timers = 0, rd_atomic = 0;
    uint64_t av_mac = 0, av_gid_hi = 0, av_gid_lo = 0;
    vf_ring_idx sq, rq;
    // requester
    uint32_t next_psn = 0, retry_left = 0, rnr_left = 0;
    // responder
    uint32_t epsn = 0, msn = 0, nak_sent = 0;
    uint32_t in_send = 0, rwqe_index = 0, rwqe_wqid = 0, offset = 0;
    uint32_t in_write = 0, write_len = 0, write_off = 0;
    uint64_t write_pa = 0;
    spec::recv_wqe rwqe{};
};

// One atomic result the responder keeps for a duplicate request (IBA 9.7.5.1.3): a
// retransmitted atomic that reaches the new adapter is answered from it, never executed twice.
struct vf_atomic_rec {
    uint32_t qp = 0, psn = 0;
    uint64_t orig = 0;
};

struct vf_state {
    uint16_t source_fn = 0;
    vf_function_rec function;
    vf_regs_rec regs;
    vf_config_rec config;
    std::vector<vf_msix_rec> msix;
    std::vector<vf_pd_rec> pds;
    std::vector<vf_mr_rec> mrs;
    std::vector<vf_ah_rec> ahs;
    std::vector<vf_eq_rec> eqs;
    std::vector<vf_cq_rec> cqs;
    std::vector<vf_srq_rec> srqs;
    std::vector<vf_qp_rec> qps;
    std::vector<vf_atomic_rec> atomics;
};

// Result of reading a blob. bad_version: `at` holds the blob's version.
struct vf_decode_result {
    enum class code : uint8_t { ok, bad_blob, bad_version } status = code::ok;
    uint32_t at = 0;  // bad_blob: byte offset where reading stopped
    std::string why;  // one line: which field and value
};

std::vector<uint8_t> encode_vf_state(const vf_state& s);
vf_decode_result decode_vf_state(const uint8_t* data, size_t len, vf_state& out);

// Header layout (byte offsets), for tests that build bad blobs.
namespace vf_blob {
inline constexpr size_t MAGIC = 0, VERSION = 4, HEADER_BYTES = 6, TOTAL = 8, SECTIONS = 12,
                        CHECKSUM = 16, SOURCE_FN = 20, HEADER_SIZE = 24, SECTION_HEAD = 8;
uint32_t checksum(const uint8_t* data, size_t len);  // FNV-1a, checksum field taken as zero
}  // namespace vf_blob

}  // namespace chio::model
