// config_space conformance: read-only versus writable bits of the header and the capabilities,
// BAR sizing, the capability walk, FLR, bad accesses, and MSI-X masking with msix_table wired
// the way the endpoint wires them. Expected values are built from chio::spec fields.
#include "tlm-model/pcie/config_space.h"

#include <chio/spec/spec.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <set>
#include <vector>

#include "tlm-model/pcie/msix.h"

namespace chio::model {
namespace {

namespace cfg = spec::pci::cfg;
namespace pcie = spec::pci::pcie_cap;
namespace msix = spec::pci::msix_cap;
using st = config_space::status;

constexpr uint32_t PCIE = spec::pci::PCIE_CAP_OFFSET;
constexpr uint32_t MSIX = spec::pci::MSIX_CAP_OFFSET;
constexpr uint32_t SRIOV = spec::pci::EXT_CAP_OFFSET;
namespace sr = spec::pci::sriov_cap;
// Standard encodings the spec does not carry (see config_space.cpp).
constexpr uint32_t CAP_HDR_NEXT_SHIFT = 8;
constexpr uint32_t PCIE_CAP_VERSION = 2;

uint32_t m32(const spec::field& f) { return static_cast<uint32_t>(f.in_place()); }
uint32_t v32(const spec::field& f, uint64_t v) { return static_cast<uint32_t>(f.make(v)); }
uint32_t ones(size_t size) { return size == 4 ? ~0u : (1u << (8 * size)) - 1; }

uint32_t rd(const config_space& c, uint32_t off, size_t size) {
    uint32_t v = 0xDEADBEEF;
    EXPECT_EQ(c.read(off, v, size), st::ok) << "offset 0x" << std::hex << off;
    return v;
}

void wr(config_space& c, uint32_t off, uint32_t v, size_t size) {
    EXPECT_EQ(c.write(off, v, size), st::ok) << "offset 0x" << std::hex << off;
}

// One register and which of its bits software may change.
struct reg_rule {
    const char* name;
    uint32_t offset;
    size_t size;
    uint32_t reset;
    uint32_t writable;
};

// Registers whose writes have no side effect beyond the stored bits. BARs and DEV_CTRL (FLR)
// have their own tests.
std::vector<reg_rule> plain_registers() {
    return {
        {"VENDOR_ID", cfg::VENDOR_ID, 2, spec::pci::VENDOR_ID, 0},
        {"DEVICE_ID", cfg::DEVICE_ID, 2, spec::pci::DEVICE_ID, 0},
        {"COMMAND", cfg::COMMAND, 2, 0,
         m32(cfg::COMMAND_MEM_SPACE) | m32(cfg::COMMAND_BUS_MASTER) |
             m32(cfg::COMMAND_PARITY_ERR_RESP) | m32(cfg::COMMAND_SERR) |
             m32(cfg::COMMAND_INTX_DISABLE)},
        {"STATUS", cfg::STATUS, 2, v32(cfg::STATUS_CAP_LIST, 1), 0},
        {"REVISION_ID", cfg::REVISION_ID, 1, spec::pci::REVISION_ID, 0},
        {"CLASS_CODE_LO", cfg::CLASS_CODE, 1, spec::pci::CLASS_CODE & 0xFF, 0},
        {"CLASS_CODE_HI", cfg::CLASS_CODE + 1, 2, spec::pci::CLASS_CODE >> 8, 0},
        {"CACHE_LINE_SIZE", cfg::CACHE_LINE_SIZE, 1, 0, 0xFF},
        {"HEADER_TYPE", cfg::HEADER_TYPE, 1, 0, 0},
        {"SUBSYS_VENDOR_ID", cfg::SUBSYS_VENDOR_ID, 2, spec::pci::SUBSYS_VENDOR_ID, 0},
        {"SUBSYS_ID", cfg::SUBSYS_ID, 2, spec::pci::SUBSYS_ID, 0},
        {"CAP_PTR", cfg::CAP_PTR, 1, PCIE, 0},
        {"INTERRUPT_PIN", cfg::INTERRUPT_PIN, 1, 0, 0},
        {"PCIE.CAP_HDR", PCIE + pcie::CAP_HDR, 2,
         spec::pci::cap_id::PCIE | MSIX << CAP_HDR_NEXT_SHIFT, 0},
        {"PCIE.PCIE_CAPS", PCIE + pcie::PCIE_CAPS, 2,
         v32(pcie::PCIE_CAPS_VERSION, PCIE_CAP_VERSION) | v32(pcie::PCIE_CAPS_DEV_TYPE, 0), 0},
        {"PCIE.DEV_CAP", PCIE + pcie::DEV_CAP, 4,
         v32(pcie::DEV_CAP_MPS_SUPPORTED, spec::pci::MAX_PAYLOAD_SUPPORTED) |
             v32(pcie::DEV_CAP_FLR, 1),
         0},
        {"PCIE.DEV_STATUS", PCIE + pcie::DEV_STATUS, 2, 0, 0},
        {"PCIE.LINK_CAP", PCIE + pcie::LINK_CAP, 4,
         v32(pcie::LINK_CAP_MAX_SPEED, spec::pci::MAX_LINK_SPEED) |
             v32(pcie::LINK_CAP_MAX_WIDTH, spec::pci::MAX_LINK_WIDTH),
         0},
        {"PCIE.LINK_STATUS", PCIE + pcie::LINK_STATUS, 2,
         v32(pcie::LINK_STATUS_SPEED, spec::pci::MAX_LINK_SPEED) |
             v32(pcie::LINK_STATUS_WIDTH, spec::pci::MAX_LINK_WIDTH),
         0},
        {"MSIX.CAP_HDR", MSIX + msix::CAP_HDR, 2, spec::pci::cap_id::MSIX, 0},
        {"MSIX.MSG_CTRL", MSIX + msix::MSG_CTRL, 2,
         v32(msix::MSG_CTRL_TABLE_SIZE, spec::pci::MSIX_VECTORS - 1),
         m32(msix::MSG_CTRL_FUNC_MASK) | m32(msix::MSG_CTRL_ENABLE)},
        {"MSIX.TABLE", MSIX + msix::TABLE, 4, spec::pci::MSIX_TABLE_OFFSET, 0},  // BIR 0,
        {"MSIX.PBA", MSIX + msix::PBA, 4, spec::pci::MSIX_PBA_OFFSET, 0},        // BIR 0,
        // The PF's SR-IOV extended capability (VF BARs: sriov_config_test.cpp).
        {"SRIOV.EXT_CAP_HDR", SRIOV + sr::EXT_CAP_HDR, 4,
         v32(spec::pci::cap_header::EXT_CAP_HDR_ID, spec::pci::ext_cap_id::SRIOV) |
             v32(spec::pci::cap_header::EXT_CAP_HDR_VERSION, spec::pci::SRIOV_CAP_VERSION),
         0},
        {"SRIOV.CAP", SRIOV + sr::SRIOV_CAP, 4, 0, 0},
        {"SRIOV.CTRL", SRIOV + sr::SRIOV_CTRL, 2, 0,
         m32(sr::SRIOV_CTRL_VF_ENABLE) | m32(sr::SRIOV_CTRL_VF_MSE) |
             m32(sr::SRIOV_CTRL_ARI_HIERARCHY)},
        {"SRIOV.STATUS", SRIOV + sr::SRIOV_STATUS, 2, 0, 0},
        {"SRIOV.INITIAL_VFS", SRIOV + sr::INITIAL_VFS, 2, spec::pci::TOTAL_VFS, 0},
        {"SRIOV.TOTAL_VFS", SRIOV + sr::TOTAL_VFS, 2, spec::pci::TOTAL_VFS, 0},
        {"SRIOV.NUM_VFS", SRIOV + sr::NUM_VFS, 2, 0, 0xFFFF},
        {"SRIOV.FUNC_DEP_LINK", SRIOV + sr::FUNC_DEP_LINK, 1, 0, 0},
        {"SRIOV.FIRST_VF_OFFSET", SRIOV + sr::FIRST_VF_OFFSET, 2, spec::pci::FIRST_VF_OFFSET, 0},
        {"SRIOV.VF_STRIDE", SRIOV + sr::VF_STRIDE, 2, spec::pci::VF_STRIDE, 0},
        {"SRIOV.VF_DEVICE_ID", SRIOV + sr::VF_DEVICE_ID, 2, spec::pci::VF_DEVICE_ID, 0},
        {"SRIOV.SUPPORTED_PAGE_SIZES", SRIOV + sr::SUPPORTED_PAGE_SIZES, 4,
         spec::pci::SUPPORTED_PAGE_SIZES, 0},
        {"SRIOV.SYSTEM_PAGE_SIZE", SRIOV + sr::SYSTEM_PAGE_SIZE, 4,
         spec::pci::SYSTEM_PAGE_SIZE_RESET, spec::pci::SUPPORTED_PAGE_SIZES},
        {"SRIOV.VF_MIGRATION_STATE", SRIOV + sr::VF_MIGRATION_STATE, 4, 0, 0},
    };
}

TEST(config_space, every_register_keeps_read_only_bits_and_takes_writable_bits) {
    config_space c;
    for (const reg_rule& r : plain_registers()) {
        SCOPED_TRACE(r.name);
        EXPECT_EQ(rd(c, r.offset, r.size), r.reset);
        wr(c, r.offset, ones(r.size), r.size);
        EXPECT_EQ(rd(c, r.offset, r.size), (r.reset & ~r.writable) | r.writable);
        wr(c, r.offset, 0, r.size);
        EXPECT_EQ(rd(c, r.offset, r.size), r.reset & ~r.writable);
        c.reset();
        EXPECT_EQ(rd(c, r.offset, r.size), r.reset);
    }
}

TEST(config_space, unimplemented_bytes_read_zero_and_ignore_writes) {
    std::set<uint32_t> implemented;
    auto claim = [&](uint32_t off, size_t size) {
        for (size_t i = 0; i < size; ++i) implemented.insert(off + static_cast<uint32_t>(i));
    };
    for (const reg_rule& r : plain_registers()) claim(r.offset, r.size);
    claim(cfg::BAR0, 4);
    claim(cfg::BAR1, 4);
    claim(PCIE + pcie::DEV_CTRL, 2);
    claim(SRIOV + sr::VF_BAR0, 4);
    claim(SRIOV + sr::VF_BAR1, 4);
    config_space c;
    int checked = 0;
    for (uint32_t off = 0; off < spec::pci::CONFIG_SIZE; ++off) {
        if (implemented.count(off)) continue;
        wr(c, off, 0xFF, 1);
        EXPECT_EQ(rd(c, off, 1), 0u) << "offset 0x" << std::hex << off;
        ++checked;
    }
    EXPECT_GT(checked, 0);
}

TEST(config_space, bar0_sizing_and_assignment) {
    config_space c;
    const uint32_t type_bits =
        v32(cfg::BAR0_MEM_TYPE_64, 2) | v32(cfg::BAR0_PREFETCHABLE, 1);  // 64-bit, prefetchable
    const uint64_t size = uint64_t{1} << spec::pci::BAR0_SIZE_LOG2;
    const uint64_t size_mask = ~(size - 1);
    EXPECT_EQ(rd(c, cfg::BAR0, 4), type_bits);
    EXPECT_EQ(rd(c, cfg::BAR1, 4), 0u);

    // Sizing (PCI 3.0 section 6.2.5.1): all ones in, size mask and RO type bits out.
    wr(c, cfg::BAR0, ~0u, 4);
    wr(c, cfg::BAR1, ~0u, 4);
    EXPECT_EQ(rd(c, cfg::BAR0, 4), static_cast<uint32_t>(size_mask) | type_bits);
    EXPECT_EQ(rd(c, cfg::BAR1, 4), static_cast<uint32_t>(size_mask >> 32));
    EXPECT_EQ(~(uint64_t{rd(c, cfg::BAR1, 4)} << 32 | (rd(c, cfg::BAR0, 4) & ~0xFu)) + 1, size);

    // Assignment: an address aligned to the size reads back; bits below the size read 0.
    const uint64_t base = 0x0000'0040'8000'0000ull;
    ASSERT_EQ(base % size, 0u);
    wr(c, cfg::BAR0, static_cast<uint32_t>(base) | (static_cast<uint32_t>(size) - 1), 4);
    wr(c, cfg::BAR1, static_cast<uint32_t>(base >> 32), 4);
    EXPECT_EQ(rd(c, cfg::BAR0, 4), static_cast<uint32_t>(base) | type_bits);
    EXPECT_EQ(rd(c, cfg::BAR1, 4), static_cast<uint32_t>(base >> 32));
    EXPECT_EQ(c.bar0_base(), base);
    EXPECT_EQ(c.bar0_size(), size);

    c.reset();
    EXPECT_EQ(c.bar0_base(), 0u);
    EXPECT_EQ(rd(c, cfg::BAR0, 4), type_bits);
}

TEST(config_space, capability_walk_finds_pcie_then_msix_and_ends) {
    config_space c;
    ASSERT_TRUE(cfg::STATUS_CAP_LIST.get(rd(c, cfg::STATUS, 2)));
    std::vector<uint32_t> ids;
    uint32_t ptr = rd(c, cfg::CAP_PTR, 1);
    // A guest walk is bounded: at most one capability per DWORD of the device-specific area.
    for (int hops = 0; ptr != 0 && hops < int{spec::pci::EXT_CAP_OFFSET / 4}; ++hops) {
        ASSERT_EQ(ptr % 4, 0u);
        ASSERT_LT(ptr, spec::pci::EXT_CAP_OFFSET);
        const uint32_t hdr = rd(c, ptr, 2);
        ids.push_back(hdr & 0xFF);
        ptr = hdr >> CAP_HDR_NEXT_SHIFT;
    }
    EXPECT_EQ(ptr, 0u) << "capability list does not terminate";
    EXPECT_EQ(ids, (std::vector<uint32_t>{spec::pci::cap_id::PCIE, spec::pci::cap_id::MSIX}));
    // The extended list holds SR-IOV alone: its next pointer ends the list.
    const uint32_t ext = rd(c, spec::pci::EXT_CAP_OFFSET, 4);
    EXPECT_EQ(spec::pci::cap_header::EXT_CAP_HDR_ID.get(ext), spec::pci::ext_cap_id::SRIOV);
    EXPECT_EQ(spec::pci::cap_header::EXT_CAP_HDR_NEXT.get(ext), 0u);
}

TEST(config_space, command_bits_drive_accessors) {
    config_space c;
    EXPECT_FALSE(c.mem_enabled());
    EXPECT_FALSE(c.bus_master());
    wr(c, cfg::COMMAND, m32(cfg::COMMAND_MEM_SPACE), 2);
    EXPECT_TRUE(c.mem_enabled());
    EXPECT_FALSE(c.bus_master());
    wr(c, cfg::COMMAND, m32(cfg::COMMAND_BUS_MASTER), 2);
    EXPECT_FALSE(c.mem_enabled());
    EXPECT_TRUE(c.bus_master());
}

TEST(config_space, dev_ctrl_payload_sizes) {
    config_space c;
    const uint32_t dev_ctrl = PCIE + pcie::DEV_CTRL;
    EXPECT_EQ(c.mps_bytes(), 128u);
    EXPECT_EQ(c.mrrs_bytes(), 512u);
    const uint32_t rw = m32(pcie::DEV_CTRL_MPS) | m32(pcie::DEV_CTRL_MRRS);
    wr(c, dev_ctrl, rw, 2);
    EXPECT_EQ(rd(c, dev_ctrl, 2), rw);
    wr(c, dev_ctrl, v32(pcie::DEV_CTRL_MPS, 1) | v32(pcie::DEV_CTRL_MRRS, 5), 2);
    EXPECT_EQ(c.mps_bytes(), 256u);
    EXPECT_EQ(c.mrrs_bytes(), 4096u);
    // More than DEV_CAP advertises is never used.
    wr(c, dev_ctrl, v32(pcie::DEV_CTRL_MPS, 5), 2);
    EXPECT_EQ(c.mps_bytes(), 128u << spec::pci::MAX_PAYLOAD_SUPPORTED);
}

TEST(config_space, initiate_flr_calls_back_reads_zero_and_resets_function) {
    config_space c;
    int flrs = 0;
    bool mem_at_flr = true;
    c.on_flr([&] {
        ++flrs;
        mem_at_flr = c.mem_enabled();
    });
    const uint32_t dev_ctrl = PCIE + pcie::DEV_CTRL;
    wr(c, cfg::COMMAND, m32(cfg::COMMAND_MEM_SPACE) | m32(cfg::COMMAND_BUS_MASTER), 2);
    wr(c, cfg::BAR1, 0x12, 4);
    wr(c, dev_ctrl, v32(pcie::DEV_CTRL_MPS, 1) | v32(pcie::DEV_CTRL_MRRS, 3), 2);
    EXPECT_EQ(flrs, 0);

    wr(c, dev_ctrl, rd(c, dev_ctrl, 2) | m32(pcie::DEV_CTRL_INITIATE_FLR), 2);
    EXPECT_EQ(flrs, 1);
    EXPECT_FALSE(mem_at_flr) << "config space resets before the endpoint is told";
    const uint32_t after = rd(c, dev_ctrl, 2);
    EXPECT_EQ(pcie::DEV_CTRL_INITIATE_FLR.get(after), 0u);
    EXPECT_EQ(pcie::DEV_CTRL_MPS.get(after), 1u) << "FLR keeps Max_Payload_Size (6.6.2)";
    EXPECT_EQ(pcie::DEV_CTRL_MRRS.get(after), 2u) << "MRRS back to 512 B";
    EXPECT_EQ(rd(c, cfg::COMMAND, 2), 0u);
    EXPECT_EQ(c.bar0_base(), 0u);

    // A write of 0 to the bit starts nothing; a byte write to the upper byte does.
    wr(c, dev_ctrl, 0, 2);
    EXPECT_EQ(flrs, 1);
    wr(c, dev_ctrl + 1, m32(pcie::DEV_CTRL_INITIATE_FLR) >> 8, 1);
    EXPECT_EQ(flrs, 2);
}

TEST(config_space, transactions_pending_is_model_controlled) {
    config_space c;
    const uint32_t dev_status = PCIE + pcie::DEV_STATUS;
    c.set_transactions_pending(true);
    EXPECT_EQ(rd(c, dev_status, 2), m32(pcie::DEV_STATUS_TRANSACTIONS_PENDING));
    wr(c, dev_status, 0, 2);
    EXPECT_EQ(rd(c, dev_status, 2), m32(pcie::DEV_STATUS_TRANSACTIONS_PENDING));
    c.set_transactions_pending(false);
    EXPECT_EQ(rd(c, dev_status, 2), 0u);
}

TEST(config_space, bad_accesses_get_a_status) {
    config_space c;
    uint32_t v = 0;
    for (size_t size : {0u, 3u, 8u}) {
        EXPECT_EQ(c.read(0, v, size), st::bad_size) << size;
        EXPECT_EQ(c.write(0, 0, size), st::bad_size) << size;
    }
    EXPECT_EQ(c.read(cfg::COMMAND + 1, v, 2), st::misaligned);
    EXPECT_EQ(c.write(cfg::BAR0 + 2, ~0u, 4), st::misaligned);
    EXPECT_EQ(c.read(spec::pci::CONFIG_SIZE, v, 4), st::out_of_range);
    EXPECT_EQ(c.write(spec::pci::CONFIG_SIZE - 1, 0, 2), st::out_of_range);
    EXPECT_EQ(c.read(~0u, v, 1), st::out_of_range);
    EXPECT_EQ(rd(c, cfg::BAR0 + 2, 2), 0u) << "refused write changed state";
}

// The PCIe capability version 2 of an endpoint with a link runs to Link Status 2 and the slot
// registers (PCIe 4.0 Figure 7-10: 3Ch bytes). Disabled until spec/chio.toml moves
// msix_cap_offset past it (reported to the spec owner).
TEST(config_space, pcie_capability_does_not_overlap_msix) {
    constexpr uint32_t PCIE_CAP_V2_BYTES = 0x3C;
    EXPECT_GE(MSIX, PCIE + PCIE_CAP_V2_BYTES);
}

// ---- MSI-X: config_space control bits plus msix_table, wired as the endpoint wires them. ----

struct msix_rig {
    config_space cfg;
    msix_table table;
    std::vector<msix_message> sent;

    msix_rig() {
        cfg.on_msix_control_change([this](bool enabled, bool masked) {
            for (const msix_message& m : table.release_pending(enabled, masked)) sent.push_back(m);
        });
    }
    void set_ctrl(bool enable, bool fmask) {
        wr(cfg, MSIX + msix::MSG_CTRL,
           v32(msix::MSG_CTRL_ENABLE, enable) | v32(msix::MSG_CTRL_FUNC_MASK, fmask), 2);
    }
    void table_write32(uint32_t vector, uint32_t field, uint32_t v) {
        const uint32_t off =
            msix_table::TABLE_OFFSET + vector * spec::pci::msix_entry::SIZE + field;
        uint8_t b[4] = {static_cast<uint8_t>(v), static_cast<uint8_t>(v >> 8),
                        static_cast<uint8_t>(v >> 16), static_cast<uint8_t>(v >> 24)};
        ASSERT_EQ(table.write(off, b, 4), msix_table::status::ok);
        for (const msix_message& m :
             table.release_pending(cfg.msix_enabled(), cfg.msix_function_masked())) {
            sent.push_back(m);
        }
    }
    uint64_t pba() const {
        uint8_t b[8] = {};
        EXPECT_EQ(table.read(msix_table::PBA_OFFSET, b, 8), msix_table::status::ok);
        uint64_t v = 0;
        for (int i = 7; i >= 0; --i) v = v << 8 | b[i];
        return v;
    }
    msix_table::fire_result fire(uint32_t vector) {
        return table.fire(vector, cfg.msix_enabled(), cfg.msix_function_masked());
    }
};

TEST(config_space_msix, vectors_reset_masked_and_table_reads_back) {
    msix_rig r;
    namespace entry = spec::pci::msix_entry;
    for (uint32_t v = 0; v < spec::pci::MSIX_VECTORS; ++v) EXPECT_TRUE(r.table.vector_masked(v));
    r.table_write32(3, entry::ADDR_LO, 0xFEE0'0000);
    r.table_write32(3, entry::ADDR_HI, 0x1);
    r.table_write32(3, entry::DATA, 0x4321);
    r.table_write32(3, entry::VECTOR_CTRL, ~0u);  // reserved bits stay 0
    uint8_t b[8] = {};
    const uint32_t e3 = msix_table::TABLE_OFFSET + 3 * entry::SIZE;
    ASSERT_EQ(r.table.read(e3 + entry::DATA, b, 8), msix_table::status::ok);
    EXPECT_EQ(b[0], 0x21);
    EXPECT_EQ(b[1], 0x43);
    EXPECT_EQ(b[4], entry::VECTOR_CTRL_MASKED);
    EXPECT_EQ(b[5] | b[6] | b[7], 0);
}

TEST(config_space_msix, per_vector_mask_sets_pending_and_unmask_releases_one_message) {
    msix_rig r;
    namespace entry = spec::pci::msix_entry;
    const uint32_t vec = 5;
    r.table_write32(vec, entry::ADDR_LO, 0xFEE0'1000);
    r.table_write32(vec, entry::DATA, 0x55);
    r.set_ctrl(true, false);
    EXPECT_TRUE(r.sent.empty());

    auto res = r.fire(vec);  // masked since reset
    EXPECT_EQ(res.st, msix_table::fire_status::pending);
    EXPECT_EQ(r.pba(), uint64_t{1} << vec);
    res = r.fire(vec);  // a second event while pending is the same pending message
    EXPECT_EQ(res.st, msix_table::fire_status::pending);

    r.table_write32(vec, entry::VECTOR_CTRL, 0);  // unmask: the pending vector fires once
    ASSERT_EQ(r.sent.size(), 1u);
    EXPECT_EQ(r.sent[0].addr, 0xFEE0'1000u);
    EXPECT_EQ(r.sent[0].data, 0x55u);
    EXPECT_EQ(r.pba(), 0u);
    EXPECT_FALSE(r.table.pending(vec));

    res = r.fire(vec);  // unmasked now: delivered directly
    EXPECT_EQ(res.st, msix_table::fire_status::sent);
    EXPECT_EQ(res.msg.data, 0x55u);
    EXPECT_EQ(r.sent.size(), 1u);
}

TEST(config_space_msix, function_mask_holds_every_vector_until_cleared) {
    msix_rig r;
    namespace entry = spec::pci::msix_entry;
    for (uint32_t v : {0u, 7u}) {
        r.table_write32(v, entry::DATA, 0x100 + v);
        r.table_write32(v, entry::VECTOR_CTRL, 0);
    }
    r.set_ctrl(true, true);
    EXPECT_TRUE(r.cfg.msix_enabled());
    EXPECT_TRUE(r.cfg.msix_function_masked());
    EXPECT_EQ(r.fire(7).st, msix_table::fire_status::pending);
    EXPECT_EQ(r.pba(), uint64_t{1} << 7);
    EXPECT_TRUE(r.sent.empty());

    r.set_ctrl(true, false);  // clearing the function mask releases exactly the pending vector
    ASSERT_EQ(r.sent.size(), 1u);
    EXPECT_EQ(r.sent[0].data, 0x107u);
    EXPECT_EQ(r.pba(), 0u);
}

TEST(config_space_msix, disabled_drops_and_bad_vector_is_refused) {
    msix_rig r;
    EXPECT_EQ(r.fire(0).st, msix_table::fire_status::disabled);
    EXPECT_EQ(r.table.dropped_count(), 1u);
    EXPECT_EQ(r.pba(), 0u);
    r.set_ctrl(true, false);
    EXPECT_EQ(r.fire(spec::pci::MSIX_VECTORS).st, msix_table::fire_status::bad_vector);
    EXPECT_EQ(r.fire(~0u).st, msix_table::fire_status::bad_vector);
    EXPECT_EQ(r.table.refused_count(), 2u);
    EXPECT_EQ(r.pba(), 0u);
}

TEST(config_space_msix, table_and_pba_bad_accesses_get_a_status) {
    msix_table t;
    using ms = msix_table::status;
    uint8_t b[16] = {};
    const uint32_t tab = msix_table::TABLE_OFFSET;
    const uint32_t pba = msix_table::PBA_OFFSET;
    for (size_t len : {0u, 1u, 2u, 3u, 16u}) EXPECT_EQ(t.read(tab, b, len), ms::bad_size) << len;
    EXPECT_EQ(t.write(tab + 2, b, 4), ms::misaligned);
    EXPECT_EQ(t.write(tab + 4, b, 8), ms::misaligned);
    EXPECT_EQ(t.read(tab - 4, b, 4), ms::out_of_range);
    EXPECT_EQ(t.read(tab + msix_table::TABLE_BYTES, b, 4), ms::out_of_range);
    EXPECT_EQ(t.read(pba + msix_table::PBA_BYTES, b, 4), ms::out_of_range);
    EXPECT_EQ(t.read(~0u - 3, b, 4), ms::out_of_range);
    EXPECT_EQ(t.read(pba + 4, b, 4), ms::ok);
    b[0] = 0xFF;
    EXPECT_EQ(t.write(pba, b, 8), ms::read_only);
    EXPECT_EQ(t.read(pba, b, 8), ms::ok);
    for (int i = 0; i < 8; ++i) EXPECT_EQ(b[i], 0) << "PBA changed by a write";
}

TEST(config_space_msix, reset_masks_vectors_and_clears_pending) {
    msix_rig r;
    r.set_ctrl(true, false);
    EXPECT_EQ(r.fire(1).st, msix_table::fire_status::pending);
    r.table.reset();
    EXPECT_EQ(r.pba(), 0u);
    EXPECT_TRUE(r.table.vector_masked(1));
    EXPECT_TRUE(r.table.release_pending(true, false).empty());
}

}  // namespace
}  // namespace chio::model
