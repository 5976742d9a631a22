// Hypervisor-side VF migration (docs/migration.md): moves a VM with its VF from one host and
// adapter to another while its RDMA traffic runs, and restores a failed adapter's VF on a standby
// one.
//
// Protocol (run() from a SystemC thread that may use both hosts' PF managers):
//   1. the destination's hypervisor creates the VM's memory (same size) and its IOMMU domain;
//   2. pre-copy (planned moves): every page is copied while the VM runs, then, round after round,
//      the pages dirtied since: the device's log (READ_DIRTY, pages its DMA wrote: payload, CQEs,
//      EQEs) and the CPU's (pages whose content changed since they were sent — the model's vCPU
//      is a C++ thread writing through pointers, so content comparison stands in for the
//      write-protect or PML log a hypervisor keeps for its vCPUs); until a round leaves at most
//      stop_pages or max_rounds have run;
//   3. stop-and-copy: the VM is paused (guest_bus::pause), the VF suspended (SUSPEND_VF) and
//      saved (SAVE_VF; after a fatal error, the PF's crash-dump path), the last dirty pages and
//      the blob are copied; the copy is compared with the source page by page (a difference is
//      a page dirty tracking missed, reported in mismatched_pages);
//   4. on the destination: the VF gets the VM's MAC/GID (SET_VF_ADDR), is assigned to the VM's
//      domain, loads the blob (LOAD_VF); the guest bus is moved (BAR and interrupts); the fabric
//      learns the MAC's new port (switch_fabric); RESUME_VF, and the VM runs again;
//   5. the source VF is reset (RESET_VF; skipped when the source adapter has failed: it no
//      longer executes commands) and unassigned.
// A planned move that fails leaves the VM running where it was (its VF resumed). A replacement
// (source_failed) that fails — the failed adapter's state cannot be read (surprise removal: the
// crash-dump commands go unanswered), or the destination refuses the blob — cannot leave the
// VM on a dead function, and must not complete the guest's work silently: the hypervisor
// surprise-removes the VF from the VM (guest_bus::remove, and the function leaves the VM's IOMMU
// domain on both hosts), so the guest's unchanged driver takes its removal path and completes
// every outstanding work request once, with a flush error. The report says so (hot_removed).
// Copy time: bytes * 8 / copy_gbps of simulated time, charged where the bytes move.
//
// Guest memory in the model: the VM's store is the memory its vCPU's pointers address (on the
// source host). The guest's CPU cannot move with its pages (it is a C++ thread), so after the
// switch the destination's IOMMU maps the VM's GPAs to a host-memory window onto that store; the
// copy made in steps 2-3 is what a real migration would have used, and is checked byte for byte
// against it. The VF keeps its function number on the destination (its MSI-X data words and
// the guest's view of its BAR stay valid).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "cosim/guest_bus.h"
#include "cosim/hypervisor.h"
#include "cosim/platform.h"
#include "driver/device.h"
#include "driver/manager.h"

namespace chio::cosim {

struct migration_host {
    platform* host = nullptr;
    hypervisor* hv = nullptr;
    drv::manager* mgr = nullptr;
    drv::device* pf = nullptr;  // the PF driver: DMA buffers for blobs and bitmaps
};

struct vf_address {
    uint64_t mac = 0, gid_hi = 0, gid_lo = 0;
    bool spoof_check = true;
};

struct migration_options {
    double copy_gbps = 100.0;  // the migration network between the hosts
    bool precopy = true;       // false: stop-and-copy only (an unplanned move)
    bool source_failed = false;
    uint32_t max_rounds = 8;
    uint32_t stop_pages = 16;
    uint64_t chunk_bytes = 2ull << 20;  // the destination VM's backing chunks
    // Fault injection on the migration network: one bit of the device blob flips on its way to
    // the destination, whose LOAD_VF refuses it (BAD_BLOB: the checksum). The scenario's
    // `--unrecoverable refused` uses it; nothing else does.
    bool corrupt_blob = false;
};

struct migration_report {
    bool ok = false;
    std::string error;
    uint32_t rounds = 0;        // pre-copy rounds (the first copies everything)
    uint64_t bytes_copied = 0;  // guest memory and the device blob
    uint64_t blob_bytes = 0;
    uint64_t downtime_ns = 0;         // VM paused -> VM running on the destination
    uint64_t total_ns = 0;            // start -> VM running on the destination
    uint64_t final_pages = 0;         // pages copied while paused
    uint64_t device_dirty_pages = 0;  // pages READ_DIRTY reported, all rounds
    uint64_t cpu_dirty_pages = 0;     // pages found changed by content, all rounds
    uint64_t mismatched_pages = 0;    // copy != source after stop-and-copy (must be 0)
    // A replacement that failed: the VF was hot-removed from the VM (ok is false, error says
    // why the VF could not be restored).
    bool hot_removed = false;
    std::vector<std::string> log;
};

class vm_migration {
public:
    vm_migration(vm& guest, guest_bus& bus, uint16_t fn, migration_host src, migration_host dst,
                 vf_address addr, std::function<void()> switch_fabric, migration_options o = {});
    migration_report run();

private:
    bool fail(const std::string& why);
    void note(const std::string& line);
    void charge(uint64_t bytes);  // copy time
    // Copies the listed pages of the guest to the copy; returns the bytes.
    uint64_t copy_pages(const std::vector<uint64_t>& pages);
    // Pages dirtied since the last call: device log plus content changes.
    bool dirty_pages(std::vector<uint64_t>& out);
    bool stop_and_copy(std::vector<uint8_t>& blob);
    bool switch_over(const std::vector<uint8_t>& blob);
    // Surprise-removes the VF from the VM (a replacement that failed; see the header).
    void hot_remove();
    uint64_t vf_bar(platform& host);

    vm& m_guest;
    guest_bus& m_bus;
    uint16_t m_fn;
    migration_host m_src, m_dst;
    vf_address m_addr;
    std::function<void()> m_switch;
    migration_options m_o;
    vm* m_copy = nullptr;
    drv::dma_buffer m_bitmap;
    uint64_t m_pages = 0;
    migration_report m_r;
};

}  // namespace chio::cosim
