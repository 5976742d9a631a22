#include "tlm-model/pcie/config_space.h"

#include <algorithm>
#include <utility>

namespace chio::model {

namespace cfg = spec::pci::cfg;
namespace pcie = spec::pci::pcie_cap;
namespace msix = spec::pci::msix_cap;
using spec::field;

namespace {

// Access widths in bytes.
constexpr size_t B8 = 1;
constexpr size_t B16 = 2;
constexpr size_t B32 = 4;
constexpr uint32_t ALL_BITS = ~0u;  // write mask of a fully writable register (define() clips it)
// PCI encodings, all from spec/chio.toml ([pci] and pci.cap_header).
constexpr field CAP_HDR_ID = spec::pci::cap_header::CAP_HDR_ID;
constexpr field CAP_HDR_NEXT = spec::pci::cap_header::CAP_HDR_NEXT;
constexpr uint32_t HEADER_TYPE_0 = spec::pci::HEADER_TYPE_VALUE;
constexpr uint32_t NO_INTX_PIN = spec::pci::INTERRUPT_PIN_VALUE;
constexpr uint32_t BAR_MEM_TYPE_64BIT = spec::pci::BAR_MEM_TYPE_64;
constexpr uint32_t PCIE_CAP_VERSION = spec::pci::PCIE_CAP_VERSION;
constexpr uint32_t PCIE_DEV_TYPE_ENDPOINT = spec::pci::PCIE_DEV_TYPE_ENDPOINT;
constexpr uint32_t SIZE_ENCODING_BASE = spec::pci::SIZE_ENCODING_BASE;
constexpr uint32_t SIZE_ENCODING_MAX = spec::pci::SIZE_ENCODING_MAX;
constexpr uint32_t MPS_RESET = spec::pci::MPS_RESET;
constexpr uint32_t MRRS_RESET = spec::pci::MRRS_RESET;
constexpr uint32_t MSIX_BIR = spec::pci::MSIX_BIR;

constexpr uint64_t BAR0_BYTES = uint64_t{1} << spec::pci::BAR0_SIZE_LOG2;
constexpr uint64_t BAR0_SIZE_MASK = ~(BAR0_BYTES - 1);
// A memory BAR is at least 16 bytes (its low 4 bits are type bits) and must hold every BAR0
// region the spec places in it.
static_assert(spec::pci::BAR0_SIZE_LOG2 >= 4 && spec::pci::BAR0_SIZE_LOG2 < 64);
static_assert(spec::bar0::DB_OFFSET + uint64_t{spec::bar0::DB_PAGES} * spec::bar0::DB_PAGE_SIZE <=
              BAR0_BYTES);
static_assert(spec::pci::CONFIG_SIZE > spec::pci::EXT_CAP_OFFSET);

constexpr uint32_t f32(const field& f, uint64_t v) { return static_cast<uint32_t>(f.make(v)); }
constexpr uint32_t mask32(const field& f) { return static_cast<uint32_t>(f.in_place()); }

}  // namespace

config_space::config_space(kind k) : m_kind(k) {
    build_header();
    build_pcie_cap();
    build_msix_cap();
    build_ext_caps();
    if (k == kind::vf) build_vf_header();
    reset();
}

void config_space::reset() { m_value = m_reset; }

bool config_space::define(uint32_t offset, size_t size, uint32_t reset_value, uint32_t write_mask,
                          uint32_t w1s_mask) {
    if (size < 1 || size > B32 || offset >= m_value.size() || size > m_value.size() - offset) {
        return false;
    }
    for (size_t i = 0; i < size; ++i) {
        m_reset[offset + i] = static_cast<uint8_t>(reset_value >> (8 * i));
        m_wmask[offset + i] = static_cast<uint8_t>(write_mask >> (8 * i));
        m_w1s[offset + i] = static_cast<uint8_t>(w1s_mask >> (8 * i));
        m_value[offset + i] = m_reset[offset + i];
    }
    return true;
}

void config_space::add_write_hook(uint32_t offset, size_t size, write_hook hook) {
    m_hooks.push_back({offset, static_cast<uint32_t>(std::min(size, B32)), std::move(hook)});
}

uint32_t config_space::load(uint32_t offset, size_t size) const {
    uint32_t v = 0;
    for (size_t i = 0; i < size && offset + i < m_value.size(); ++i) {
        v |= uint32_t{m_value[offset + i]} << (8 * i);
    }
    return v;
}

void config_space::store(uint32_t offset, size_t size, uint32_t value) {
    for (size_t i = 0; i < size && offset + i < m_value.size(); ++i) {
        m_value[offset + i] = static_cast<uint8_t>(value >> (8 * i));
    }
}

// Capabilities are linked in the order they are added: CAP_PTR names the first, each header's
// next pointer the following one, and the last one's next pointer stays 0 (end of list).
void config_space::link_capability(uint32_t offset, uint8_t cap_id) {
    define(offset, B16, f32(CAP_HDR_ID, cap_id), 0);
    if (m_last_cap == 0) {
        define(cfg::CAP_PTR, B8, offset, 0);
    } else {
        const uint32_t hdr = load(m_last_cap, B16);
        define(m_last_cap, B16, static_cast<uint32_t>(CAP_HDR_NEXT.set(hdr, offset)), 0);
    }
    m_last_cap = offset;
}

void config_space::build_header() {
    define(cfg::VENDOR_ID, B16, spec::pci::VENDOR_ID, 0);
    define(cfg::DEVICE_ID, B16, spec::pci::DEVICE_ID, 0);
    // COMMAND: only the enables this function implements are writable; the rest are hardwired
    // to 0 (PCIe 4.0 section 7.5.1.1.3: I/O space, memory-write-invalidate etc. do not apply).
    define(cfg::COMMAND, B16, 0,
           mask32(cfg::COMMAND_MEM_SPACE) | mask32(cfg::COMMAND_BUS_MASTER) |
               mask32(cfg::COMMAND_PARITY_ERR_RESP) | mask32(cfg::COMMAND_SERR) |
               mask32(cfg::COMMAND_INTX_DISABLE));
    // STATUS: Capabilities List is hardwired to 1 because the PCIe capability is mandatory.
    define(cfg::STATUS, B16, f32(cfg::STATUS_CAP_LIST, 1), 0);
    define(cfg::REVISION_ID, B8, spec::pci::REVISION_ID, 0);
    define(cfg::CLASS_CODE, 3 * B8, spec::pci::CLASS_CODE, 0);
    // Cache Line Size: read-write for legacy software, no effect on a PCIe function (7.5.1.1.7).
    define(cfg::CACHE_LINE_SIZE, B8, 0, ALL_BITS);
    define(cfg::HEADER_TYPE, B8, HEADER_TYPE_0, 0);
    // BAR0/BAR1: one 64-bit prefetchable memory BAR. The bits below the size are hardwired to
    // 0, so writing all ones and reading back yields the size mask with the RO type bits
    // (PCI 3.0 section 6.2.5.1).
    define(cfg::BAR0, B32,
           f32(cfg::BAR0_MEM_TYPE_64, BAR_MEM_TYPE_64BIT) | f32(cfg::BAR0_PREFETCHABLE, 1),
           static_cast<uint32_t>(BAR0_SIZE_MASK));
    define(cfg::BAR1, B32, 0, static_cast<uint32_t>(BAR0_SIZE_MASK >> 32));
    define(cfg::SUBSYS_VENDOR_ID, B16, spec::pci::SUBSYS_VENDOR_ID, 0);
    define(cfg::SUBSYS_ID, B16, spec::pci::SUBSYS_ID, 0);
    define(cfg::INTERRUPT_PIN, B8, NO_INTX_PIN, 0);
}

void config_space::build_pcie_cap() {
    const uint32_t base = spec::pci::PCIE_CAP_OFFSET;
    link_capability(base, spec::pci::cap_id::PCIE);
    define(base + pcie::PCIE_CAPS, B16,
           f32(pcie::PCIE_CAPS_VERSION, PCIE_CAP_VERSION) |
               f32(pcie::PCIE_CAPS_DEV_TYPE, PCIE_DEV_TYPE_ENDPOINT),
           0);
    define(base + pcie::DEV_CAP, B32,
           f32(pcie::DEV_CAP_MPS_SUPPORTED, spec::pci::MAX_PAYLOAD_SUPPORTED) |
               f32(pcie::DEV_CAP_FLR, 1),
           0);
    // DEV_CTRL: MPS and MRRS are RW; Initiate FLR is write-1-to-start and always reads 0
    // (section 7.5.3.4). Other control bits (error reporting, relaxed ordering, no snoop) are
    // not modelled and read 0.
    define(base + pcie::DEV_CTRL, B16,
           f32(pcie::DEV_CTRL_MPS, MPS_RESET) | f32(pcie::DEV_CTRL_MRRS, MRRS_RESET),
           mask32(pcie::DEV_CTRL_MPS) | mask32(pcie::DEV_CTRL_MRRS),
           mask32(pcie::DEV_CTRL_INITIATE_FLR));
    add_write_hook(base + pcie::DEV_CTRL, B16, [this](uint32_t, uint32_t, uint32_t started) {
        if (pcie::DEV_CTRL_INITIATE_FLR.get(started)) function_level_reset();
    });
    define(base + pcie::DEV_STATUS, B16, 0, 0);
    define(base + pcie::LINK_CAP, B32,
           f32(pcie::LINK_CAP_MAX_SPEED, spec::pci::MAX_LINK_SPEED) |
               f32(pcie::LINK_CAP_MAX_WIDTH, spec::pci::MAX_LINK_WIDTH),
           0);
    // The modelled link always trains at its maximum speed and width.
    define(base + pcie::LINK_STATUS, B16,
           f32(pcie::LINK_STATUS_SPEED, spec::pci::MAX_LINK_SPEED) |
               f32(pcie::LINK_STATUS_WIDTH, spec::pci::MAX_LINK_WIDTH),
           0);
}

void config_space::build_msix_cap() {
    const uint32_t base = spec::pci::MSIX_CAP_OFFSET;
    link_capability(base, spec::pci::cap_id::MSIX);
    // MSG_CTRL: Table Size (N - 1) is RO; Function Mask and MSI-X Enable are RW (7.7.2.2).
    define(base + msix::MSG_CTRL, B16, f32(msix::MSG_CTRL_TABLE_SIZE, spec::pci::MSIX_VECTORS - 1),
           mask32(msix::MSG_CTRL_FUNC_MASK) | mask32(msix::MSG_CTRL_ENABLE));
    add_write_hook(base + msix::MSG_CTRL, B16, [this](uint32_t old_v, uint32_t new_v, uint32_t) {
        const uint32_t watched = mask32(msix::MSG_CTRL_FUNC_MASK) | mask32(msix::MSG_CTRL_ENABLE);
        if (((old_v ^ new_v) & watched) && m_on_msix) {
            m_on_msix(msix_enabled(), msix_function_masked());
        }
    });
    // Table and PBA locations are RO; the offset field holds the BAR offset in 8-byte units.
    static_assert(spec::pci::MSIX_TABLE_OFFSET % (1u << msix::TABLE_OFFSET.shift) == 0 &&
                  spec::pci::MSIX_PBA_OFFSET % (1u << msix::PBA_OFFSET.shift) == 0);
    define(base + msix::TABLE, B32,
           f32(msix::TABLE_BIR, MSIX_BIR) |
               f32(msix::TABLE_OFFSET, spec::pci::MSIX_TABLE_OFFSET >> msix::TABLE_OFFSET.shift),
           0);
    define(base + msix::PBA, B32,
           f32(msix::PBA_BIR, MSIX_BIR) |
               f32(msix::PBA_OFFSET, spec::pci::MSIX_PBA_OFFSET >> msix::PBA_OFFSET.shift),
           0);
}

// Section 7.6.3: an empty extended capability list is a header of all zeros at offset 100h; the
// PF puts its SR-IOV capability there (sriov_cap.cpp).
void config_space::build_ext_caps() {
    define(spec::pci::EXT_CAP_OFFSET, B32, 0, 0);
    if (m_kind == kind::pf) build_sriov_cap();
}

// Section 6.6.2: an FLR returns the function to its reset state, except for sticky bits and
// link-wide settings; of what chio models, Max_Payload_Size is the one kept (it must match
// the link partner's setting). The endpoint's on_flr then resets the function's other state.
void config_space::function_level_reset() {
    const uint32_t dev_ctrl = spec::pci::PCIE_CAP_OFFSET + pcie::DEV_CTRL;
    const uint64_t mps = pcie::DEV_CTRL_MPS.get(load(dev_ctrl, B16));
    reset();
    store(dev_ctrl, B16, static_cast<uint32_t>(pcie::DEV_CTRL_MPS.set(load(dev_ctrl, B16), mps)));
    if (m_on_flr) m_on_flr();
}

config_space::status config_space::read(uint32_t offset, uint32_t& value, size_t size) const {
    if (size != B8 && size != B16 && size != B32) return status::bad_size;
    if (offset >= m_value.size() || size > m_value.size() - offset) return status::out_of_range;
    if (offset % size) return status::misaligned;
    value = load(offset, size);
    return status::ok;
}

config_space::status config_space::write(uint32_t offset, uint32_t value, size_t size) {
    if (size != B8 && size != B16 && size != B32) return status::bad_size;
    if (offset >= m_value.size() || size > m_value.size() - offset) return status::out_of_range;
    if (offset % size) return status::misaligned;

    // Hooks see the register's value before and after the whole access, so a DWORD write
    // that covers several registers is one event per register.
    struct fired {
        const hook_entry* hook;
        uint32_t old_value;
        uint32_t started;
    };
    std::vector<fired> touched;
    for (const hook_entry& h : m_hooks) {
        if (h.offset < offset + size && offset < h.offset + h.size) {
            touched.push_back({&h, load(h.offset, h.size), 0});
        }
    }
    for (uint32_t i = 0; i < size; ++i) {
        const uint32_t a = offset + i;
        const auto b = static_cast<uint8_t>(value >> (8 * i));
        m_value[a] = static_cast<uint8_t>((m_value[a] & ~m_wmask[a]) | (b & m_wmask[a]));
        const uint32_t started = b & m_w1s[a];
        for (fired& t : touched) {
            if (a >= t.hook->offset && a < t.hook->offset + t.hook->size) {
                t.started |= started << (8 * (a - t.hook->offset));
            }
        }
    }
    for (const fired& t : touched) {
        t.hook->fn(t.old_value, load(t.hook->offset, t.hook->size), t.started);
    }
    return status::ok;
}

bool config_space::mem_enabled() const {
    return cfg::COMMAND_MEM_SPACE.get(load(cfg::COMMAND, B16));
}

bool config_space::bus_master() const {
    return cfg::COMMAND_BUS_MASTER.get(load(cfg::COMMAND, B16));
}

uint64_t config_space::bar0_base() const {
    const uint64_t raw = uint64_t{load(cfg::BAR1, B32)} << 32 | load(cfg::BAR0, B32);
    return raw & BAR0_SIZE_MASK;
}

bool config_space::msix_enabled() const {
    return msix::MSG_CTRL_ENABLE.get(load(spec::pci::MSIX_CAP_OFFSET + msix::MSG_CTRL, B16));
}

bool config_space::msix_function_masked() const {
    return msix::MSG_CTRL_FUNC_MASK.get(load(spec::pci::MSIX_CAP_OFFSET + msix::MSG_CTRL, B16));
}

// Software must not program more than the function supports (section 7.5.3.4); if it does,
// the function still never exceeds its own capability, so the value in force is clamped.
uint32_t config_space::mps_bytes() const {
    const uint64_t v =
        pcie::DEV_CTRL_MPS.get(load(spec::pci::PCIE_CAP_OFFSET + pcie::DEV_CTRL, B16));
    return SIZE_ENCODING_BASE << std::min<uint64_t>(v, spec::pci::MAX_PAYLOAD_SUPPORTED);
}

// Values 6 and 7 are reserved; they are treated as the largest defined request size.
uint32_t config_space::mrrs_bytes() const {
    const uint64_t v =
        pcie::DEV_CTRL_MRRS.get(load(spec::pci::PCIE_CAP_OFFSET + pcie::DEV_CTRL, B16));
    return SIZE_ENCODING_BASE << std::min<uint64_t>(v, SIZE_ENCODING_MAX);
}

void config_space::set_transactions_pending(bool pending) {
    const uint32_t off = spec::pci::PCIE_CAP_OFFSET + pcie::DEV_STATUS;
    store(
        off, B16,
        static_cast<uint32_t>(pcie::DEV_STATUS_TRANSACTIONS_PENDING.set(load(off, B16), pending)));
}

}  // namespace chio::model
