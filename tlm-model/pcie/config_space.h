// One PCIe function's 4 KiB configuration space: type-0 header (PCI Local Bus 3.0 section 6.1),
// PCI Express capability (PCIe Base 4.0 section 7.5.3), MSI-X capability (section 7.7.2) and
// the extended capability list at spec::pci::EXT_CAP_OFFSET (section 7.6): the SR-IOV
// capability (section 9.3.3) in the PF, empty in a VF.
//
// A VF's space follows the SR-IOV rules (section 9.3.4): Vendor and Device ID read FFFFh (the
// VF device id lives in the PF's capability), Memory Space Enable is hardwired to 0 (the PF's
// VF MSE governs every VF BAR), and BAR0/BAR1 read 0 (the VF BAR is in the PF's capability).
//
// Contract: the SystemC endpoint hands every configuration read/write of this function to
// read()/write() and answers a status other than ok with an unsupported-request completion.
// Guest input never asserts. Every constant comes from chio::spec; the few PCI encodings the
// spec does not carry yet are named once at the top of config_space.cpp.
//
// Model: each byte has a value, a reset value, a write mask (bits a write changes) and a
// write-1-to-start mask (bits whose 1 starts an action and which read 0). Side effects hang on
// write hooks over a register range. Capabilities are declared through define() and
// add_write_hook(), so an SR-IOV extended capability (section 9.3.3) is added later by
// declaring its header at EXT_CAP_OFFSET, its registers and a hook on its control register,
// with no change to the access path.
// Plain C++ (no SystemC).
#pragma once

#include <chio/spec/spec.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <utility>
#include <vector>

namespace chio::model {

class config_space {
public:
    enum class status : uint8_t {
        ok,
        bad_size,      // not 1, 2 or 4 bytes
        misaligned,    // not naturally aligned
        out_of_range,  // beyond spec::pci::CONFIG_SIZE
    };

    // FLR (section 6.6.2): called after config space has reset itself; the endpoint resets
    // the rest of the function (MSI-X table, BAR0 registers, engines).
    using flr_handler = std::function<void()>;
    // MSG_CTRL.ENABLE or FUNC_MASK changed: the endpoint calls msix_table::release_pending().
    using msix_control_handler = std::function<void(bool enabled, bool function_masked)>;
    // After a guest write that touched [offset, offset + size) of a hook: the register's value
    // before and after, and the write-1-to-start bits written as 1.
    using write_hook =
        std::function<void(uint32_t old_value, uint32_t new_value, uint32_t started)>;

    enum class kind : uint8_t { pf, vf };
    // SR-IOV control changed (VF Enable or VF MSE, or NumVFs while VF Enable is 0).
    using sriov_handler = std::function<void()>;

    explicit config_space(kind k = kind::pf);

    // Guest accesses: size 1, 2 or 4 at a naturally aligned offset. Little endian. A read of
    // an unimplemented register returns 0; a write to it is ignored (section 7.5.1).
    status read(uint32_t offset, uint32_t& value, size_t size) const;
    status write(uint32_t offset, uint32_t value, size_t size);

    // Power-on values (fundamental reset); handlers stay registered.
    void reset();

    void on_flr(flr_handler handler) { m_on_flr = std::move(handler); }
    void on_msix_control_change(msix_control_handler handler) { m_on_msix = std::move(handler); }
    void on_sriov_change(sriov_handler handler) { m_on_sriov = std::move(handler); }

    // State the rest of the endpoint acts on.
    bool mem_enabled() const;    // COMMAND.MEM_SPACE: BAR0 answers memory requests
    bool bus_master() const;     // COMMAND.BUS_MASTER: DMA and MSI-X allowed
    uint64_t bar0_base() const;  // BAR1:BAR0 with the type bits removed
    uint64_t bar0_size() const { return uint64_t{1} << spec::pci::BAR0_SIZE_LOG2; }
    bool msix_enabled() const;
    // SR-IOV capability state (PF only; a VF reports no VFs).
    bool is_vf() const { return m_kind == kind::vf; }
    bool vf_enabled() const;
    bool vf_mse() const;
    uint16_t num_vfs() const;       // NumVFs in force: at most TotalVFs, 0 unless VF Enable
    uint64_t vf_bar0_base() const;  // VF 1's BAR0; VF n's is this + (n - 1) * bar0_size()
    bool msix_function_masked() const;
    uint32_t mps_bytes() const;   // max payload size in force
    uint32_t mrrs_bytes() const;  // max read request size in force

    // Model-side status: DEV_STATUS.TRANSACTIONS_PENDING (software polls it before an FLR).
    void set_transactions_pending(bool pending);

    // Construction of capabilities (used by the constructor and by later capabilities such as
    // SR-IOV). define() declares a register of 1..4 bytes; it returns false if the range is
    // outside config space. Hooks run in registration order; neither hooks nor the handlers
    // above may add hooks (a write walks the hook list while it runs them).
    bool define(uint32_t offset, size_t size, uint32_t reset_value, uint32_t write_mask,
                uint32_t w1s_mask = 0);
    void add_write_hook(uint32_t offset, size_t size, write_hook hook);

private:
    struct hook_entry {
        uint32_t offset;
        uint32_t size;
        write_hook fn;
    };

    void build_header();
    void build_pcie_cap();
    void build_msix_cap();
    void build_ext_caps();
    void build_sriov_cap();  // sriov_cap.cpp
    void build_vf_header();  // sriov_cap.cpp
    void link_capability(uint32_t offset, uint8_t cap_id);
    uint32_t load(uint32_t offset, size_t size) const;
    void store(uint32_t offset, size_t size, uint32_t value);
    void function_level_reset();

    using bytes = std::array<uint8_t, spec::pci::CONFIG_SIZE>;
    bytes m_value{};
    bytes m_reset{};
    bytes m_wmask{};
    bytes m_w1s{};
    std::vector<hook_entry> m_hooks;
    kind m_kind;
    uint32_t m_last_cap = 0;  // offset of the last capability linked, 0 while the list is empty
    flr_handler m_on_flr;
    msix_control_handler m_on_msix;
    sriov_handler m_on_sriov;
};

}  // namespace chio::model
