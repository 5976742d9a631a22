// The SR-IOV parts of a function's configuration space (PCIe Base 4.0 chapter 9): the PF's
// SR-IOV extended capability and the fields of a VF's header that differ from a PF's.
#include "tlm-model/pcie/config_space.h"

namespace chio::model {

namespace cfg = spec::pci::cfg;
namespace sr = spec::pci::sriov_cap;
namespace hdr = spec::pci::cap_header;
using spec::field;

namespace {

constexpr size_t B16 = 2;
constexpr size_t B32 = 4;
constexpr uint32_t BASE = spec::pci::EXT_CAP_OFFSET;
constexpr uint64_t VF_BAR_BYTES = uint64_t{1} << spec::pci::BAR0_SIZE_LOG2;
constexpr uint64_t VF_BAR_SIZE_MASK = ~(VF_BAR_BYTES - 1);
// Section 9.3.4.1.1/2: a VF's Vendor ID and Device ID registers read FFFFh.
constexpr uint32_t VF_ID_REGISTER = 0xFFFF;

static_assert(spec::pci::TOTAL_VFS >= 1 && spec::pci::TOTAL_VFS <= 255,
              "function numbers are 8 bits (queue_engine.fn_bits)");
static_assert(spec::pci::FIRST_VF_OFFSET == 1 && spec::pci::VF_STRIDE == 1,
              "the model numbers VF n as function n");

constexpr uint32_t f32(const field& f, uint64_t v) { return static_cast<uint32_t>(f.make(v)); }
constexpr uint32_t mask32(const field& f) { return static_cast<uint32_t>(f.in_place()); }

}  // namespace

void config_space::build_sriov_cap() {
    define(BASE + sr::EXT_CAP_HDR, B32,
           f32(hdr::EXT_CAP_HDR_ID, spec::pci::ext_cap_id::SRIOV) |
               f32(hdr::EXT_CAP_HDR_VERSION, spec::pci::SRIOV_CAP_VERSION),
           0);
    define(BASE + sr::SRIOV_CAP, B32, 0, 0);  // no VF migration
    define(BASE + sr::SRIOV_CTRL, B16, 0,
           mask32(sr::SRIOV_CTRL_VF_ENABLE) | mask32(sr::SRIOV_CTRL_VF_MSE) |
               mask32(sr::SRIOV_CTRL_ARI_HIERARCHY));
    add_write_hook(BASE + sr::SRIOV_CTRL, B16, [this](uint32_t old_v, uint32_t new_v, uint32_t) {
        const uint32_t watched = mask32(sr::SRIOV_CTRL_VF_ENABLE) | mask32(sr::SRIOV_CTRL_VF_MSE);
        if (((old_v ^ new_v) & watched) && m_on_sriov) m_on_sriov();
    });
    define(BASE + sr::SRIOV_STATUS, B16, 0, 0);
    define(BASE + sr::INITIAL_VFS, B16, spec::pci::TOTAL_VFS, 0);
    define(BASE + sr::TOTAL_VFS, B16, spec::pci::TOTAL_VFS, 0);
    // NumVFs may change only while VF Enable is 0 (section 9.3.3.7); a write while VFs exist is
    // undone here, so the set of functions never changes under a running VF.
    define(BASE + sr::NUM_VFS, B16, 0, mask32(sr::NUM_VFS_VALUE));
    add_write_hook(BASE + sr::NUM_VFS, B16, [this](uint32_t old_v, uint32_t new_v, uint32_t) {
        if (old_v != new_v && vf_enabled()) store(BASE + sr::NUM_VFS, B16, old_v);
    });
    define(BASE + sr::FUNC_DEP_LINK, 1, 0, 0);
    define(BASE + sr::FIRST_VF_OFFSET, B16, spec::pci::FIRST_VF_OFFSET, 0);
    define(BASE + sr::VF_STRIDE, B16, spec::pci::VF_STRIDE, 0);
    define(BASE + sr::VF_DEVICE_ID, B16, spec::pci::VF_DEVICE_ID, 0);
    define(BASE + sr::SUPPORTED_PAGE_SIZES, B32, spec::pci::SUPPORTED_PAGE_SIZES, 0);
    // System Page Size: only supported sizes are meaningful; the VF BAR (256 KiB) is a multiple
    // of every supported page size, so the value has no further effect in the model.
    define(BASE + sr::SYSTEM_PAGE_SIZE, B32, spec::pci::SYSTEM_PAGE_SIZE_RESET,
           spec::pci::SUPPORTED_PAGE_SIZES);
    // VF BAR0/1: one 64-bit prefetchable BAR per VF, sized like a normal BAR (write all ones,
    // read back the per-VF size mask; section 9.3.3.14). VF BAR2..5 are unimplemented (read 0).
    define(
        BASE + sr::VF_BAR0, B32,
        f32(sr::VF_BAR0_MEM_TYPE_64, spec::pci::BAR_MEM_TYPE_64) | f32(sr::VF_BAR0_PREFETCHABLE, 1),
        static_cast<uint32_t>(VF_BAR_SIZE_MASK));
    define(BASE + sr::VF_BAR1, B32, 0, static_cast<uint32_t>(VF_BAR_SIZE_MASK >> 32));
    define(BASE + sr::VF_MIGRATION_STATE, B32, 0, 0);
}

void config_space::build_vf_header() {
    define(cfg::VENDOR_ID, B16, VF_ID_REGISTER, 0);
    define(cfg::DEVICE_ID, B16, VF_ID_REGISTER, 0);
    // Section 9.3.4.1.3: Memory Space Enable does not apply to a VF (hardwired 0); Bus Master
    // Enable does, and so do the error-reporting enables.
    define(cfg::COMMAND, B16, 0,
           mask32(cfg::COMMAND_BUS_MASTER) | mask32(cfg::COMMAND_PARITY_ERR_RESP) |
               mask32(cfg::COMMAND_SERR));
    define(cfg::BAR0, B32, 0, 0);
    define(cfg::BAR1, B32, 0, 0);
}

bool config_space::vf_enabled() const {
    return !is_vf() && sr::SRIOV_CTRL_VF_ENABLE.get(load(BASE + sr::SRIOV_CTRL, B16));
}

bool config_space::vf_mse() const {
    return !is_vf() && sr::SRIOV_CTRL_VF_MSE.get(load(BASE + sr::SRIOV_CTRL, B16));
}

uint16_t config_space::num_vfs() const {
    if (!vf_enabled()) return 0;
    const uint32_t n = load(BASE + sr::NUM_VFS, B16);
    return static_cast<uint16_t>(n < spec::pci::TOTAL_VFS ? n : spec::pci::TOTAL_VFS);
}

uint64_t config_space::vf_bar0_base() const {
    const uint64_t raw =
        uint64_t{load(BASE + sr::VF_BAR1, B32)} << 32 | load(BASE + sr::VF_BAR0, B32);
    return raw & VF_BAR_SIZE_MASK;
}

}  // namespace chio::model
