#include "cosim/migration.h"

#include <algorithm>
#include <cstring>
#include <set>

namespace chio::cosim {

namespace {

constexpr uint64_t PAGE = uint64_t{1} << spec::limits::DIRTY_PAGE_LOG2;
constexpr uint64_t VF_BAR_BYTES = uint64_t{1} << spec::pci::BAR0_SIZE_LOG2;
constexpr size_t BLOB_BUF = 64 << 10;

uint64_t now_ns() { return static_cast<uint64_t>(sc_core::sc_time_stamp().to_seconds() * 1e9); }

}  // namespace

vm_migration::vm_migration(vm& guest, guest_bus& bus, uint16_t fn, migration_host src,
                           migration_host dst, vf_address addr, std::function<void()> switch_fabric,
                           migration_options o)
    : m_guest(guest),
      m_bus(bus),
      m_fn(fn),
      m_src(src),
      m_dst(dst),
      m_addr(addr),
      m_switch(std::move(switch_fabric)),
      m_o(o),
      m_pages(guest.memory_size() / PAGE) {}

bool vm_migration::fail(const std::string& why) {
    m_r.ok = false;
    m_r.error = m_guest.name() + ": " + why;
    note("failed: " + why);
    // The VM never stays paused. A planned move that failed leaves it running on its VF where it
    // was; a replacement that failed leaves it nothing to run on, so its VF is removed.
    if (m_o.source_failed) {
        hot_remove();
    } else if (m_src.host->adapter.suspended(m_fn)) {
        m_src.mgr->resume_vf(m_fn);
    }
    m_bus.resume();
    return false;
}

void vm_migration::hot_remove() {
    std::string err;
    // Removed before the VM runs again: its first access after the pause already finds the
    // function gone (all ones), never a half-moved one.
    m_bus.remove();
    // The dead function's DMA must not reach the VM: out of the VM's IOMMU domain on the
    // source, and on the destination if it got that far (there its VF is reset too, so
    // whatever it loaded stops).
    if (m_src.hv->owner_of(m_fn) == &m_guest) m_src.hv->unassign(m_fn, err);
    if (m_copy != nullptr) {
        if (m_dst.hv->owner_of(m_fn) == m_copy) {
            m_dst.hv->unassign(m_fn, err);
            m_dst.mgr->reset_vf(m_fn);
        }
        m_dst.hv->destroy_vm(m_copy->name(), err);
        m_copy = nullptr;
    }
    m_r.hot_removed = true;
    note("VF " + std::to_string(m_fn) +
         " hot-removed from the VM: the guest's driver completes its outstanding work with an "
         "error");
}

void vm_migration::note(const std::string& line) { m_r.log.push_back(line); }

void vm_migration::charge(uint64_t bytes) {
    m_r.bytes_copied += bytes;
    sc_core::wait(
        sc_core::sc_time(static_cast<double>(bytes) * 8.0 / m_o.copy_gbps, sc_core::SC_NS));
}

uint64_t vm_migration::copy_pages(const std::vector<uint64_t>& pages) {
    std::vector<uint8_t> buf(PAGE);
    for (const uint64_t p : pages) {
        m_guest.read(p * PAGE, buf.data(), PAGE);
        m_copy->write(p * PAGE, buf.data(), PAGE);
    }
    return pages.size() * PAGE;
}

bool vm_migration::dirty_pages(std::vector<uint64_t>& out) {
    std::set<uint64_t> pages;
    uint32_t dirty = 0, outside = 0;
    const drv::cmd_result r =
        m_src.mgr->read_dirty(m_fn, m_bitmap, 0, static_cast<uint32_t>(m_pages), dirty, outside);
    if (!r.ok()) return fail("read_dirty: " + std::string(spec::cmd::to_string(r.status)));
    if (outside != 0)
        return fail("the device wrote " + std::to_string(outside) +
                    " pages outside the VM's memory");
    const auto* bits = static_cast<const uint8_t*>(m_bitmap.cpu);
    for (uint64_t p = 0; p < m_pages; ++p) {
        if (bits[p / 8] & (1u << (p % 8))) pages.insert(p);
    }
    m_r.device_dirty_pages += pages.size();
    std::vector<uint8_t> a(PAGE), b(PAGE);
    for (uint64_t p = 0; p < m_pages; ++p) {
        if (pages.count(p)) continue;
        m_guest.read(p * PAGE, a.data(), PAGE);
        m_copy->read(p * PAGE, b.data(), PAGE);
        if (a != b) {
            pages.insert(p);
            ++m_r.cpu_dirty_pages;
        }
    }
    out.assign(pages.begin(), pages.end());
    return true;
}

uint64_t vm_migration::vf_bar(platform& host) {
    // Where that host's PF manager placed VF fn's BAR0 (sc_bus does what the host OS does).
    sc_bus probe(host.rc, host.mem, host.irq, sc_bus_params{m_fn});
    return probe.bar_window(0, VF_BAR_BYTES);
}

bool vm_migration::stop_and_copy(std::vector<uint8_t>& blob) {
    m_bus.pause();
    const uint64_t t0 = now_ns();
    note("vm paused");
    drv::manager& src = *m_src.mgr;
    const drv::cmd_result su = src.suspend_vf(m_fn);
    if (!su.ok()) return fail("suspend_vf: " + std::string(spec::cmd::to_string(su.status)));
    drv::dma_buffer buf = m_src.pf->io().dma_alloc(BLOB_BUF, 4096);
    uint32_t size = 0;
    const drv::cmd_result s = src.save_vf(m_fn, buf, size);
    if (!s.ok()) {
        m_src.pf->io().dma_free(buf);
        return fail("save_vf: " + std::string(spec::cmd::to_string(s.status)) +
                    " size=" + std::to_string(size));
    }
    blob.assign(static_cast<uint8_t*>(buf.cpu), static_cast<uint8_t*>(buf.cpu) + size);
    m_src.pf->io().dma_free(buf);
    std::vector<uint64_t> last;
    if (m_o.precopy) {
        if (!dirty_pages(last)) return false;
    } else {
        for (uint64_t p = 0; p < m_pages; ++p) last.push_back(p);
    }
    m_r.final_pages = last.size();
    charge(copy_pages(last) + blob.size());
    m_r.blob_bytes = blob.size();
    // The copy must now equal the source: every page the VM or its device wrote was sent.
    std::vector<uint8_t> a(PAGE), b(PAGE);
    for (uint64_t p = 0; p < m_pages; ++p) {
        m_guest.read(p * PAGE, a.data(), PAGE);
        m_copy->read(p * PAGE, b.data(), PAGE);
        if (a != b) ++m_r.mismatched_pages;
    }
    note("stop-and-copy: " + std::to_string(last.size()) + " pages + " +
         std::to_string(blob.size()) + " B of device state in " + std::to_string(now_ns() - t0) +
         " ns");
    return true;
}

bool vm_migration::switch_over(const std::vector<uint8_t>& blob) {
    std::string err;
    platform& dst = *m_dst.host;
    // The VM's store, seen from the destination host (see the header).
    const uint64_t window = (dst.mem.size() + (1ull << 30)) & ~((1ull << 30) - 1);
    vm& store = m_guest;
    const bool mapped = dst.mem.map_window(
        window, store.memory_size(), [&store](uint64_t off, uint8_t* data, unsigned len, bool w) {
            return w ? store.write(off, data, len) : store.read(off, data, len);
        });
    if (!mapped) return fail("no host-memory window for the VM on the destination");
    dst.iommu.unmap(m_copy->domain(), 0, store.memory_size());
    dst.iommu.map(m_copy->domain(), 0, window, store.memory_size(), iommu_perm::read_write);
    if (!m_dst.hv->assign(*m_copy, m_fn, err)) return fail(err);
    drv::manager& mgr = *m_dst.mgr;
    if (!mgr.set_address(m_fn, m_addr.mac, m_addr.gid_hi, m_addr.gid_lo, m_addr.spoof_check).ok()) {
        return fail("set_address on the destination refused");
    }
    drv::dma_buffer buf = m_dst.pf->io().dma_alloc(std::max(blob.size(), size_t{4096}), 4096);
    std::memcpy(buf.cpu, blob.data(), blob.size());
    if (m_o.corrupt_blob && !blob.empty()) {
        static_cast<uint8_t*>(buf.cpu)[blob.size() / 2] ^= 1;
        note("fault: one bit of the blob flipped in transit (byte " +
             std::to_string(blob.size() / 2) + ")");
    }
    const drv::cmd_result l = mgr.load_vf(m_fn, buf, static_cast<uint32_t>(blob.size()));
    m_dst.pf->io().dma_free(buf);
    if (!l.ok()) return fail("load_vf: " + std::string(spec::cmd::to_string(l.status)));
    m_bus.move_to(dst.rc, dst.mem, dst.irq, vf_bar(*m_src.host), vf_bar(dst));
    m_src.host->board.hand_over(m_fn, dst.board);
    if (m_switch) m_switch();
    if (!mgr.resume_vf(m_fn).ok()) return fail("resume_vf refused");
    return true;
}

migration_report vm_migration::run() {
    const uint64_t start = now_ns();
    std::string err;
    m_copy = m_dst.hv->create_vm(
        {m_guest.name() + "-moved", m_guest.memory_size(), m_o.chunk_bytes}, err);
    if (m_copy == nullptr) {
        fail("destination VM: " + err);
        return m_r;
    }
    m_bitmap = m_src.pf->io().dma_alloc((m_pages + 7) / 8, 4096);
    std::vector<uint64_t> pages;
    if (m_o.precopy) {
        // Start the device's log, then copy everything while the VM runs.
        uint32_t dirty = 0, outside = 0;
        if (!m_src.mgr
                 ->read_dirty(m_fn, m_bitmap, 0, static_cast<uint32_t>(m_pages), dirty, outside)
                 .ok()) {
            fail("read_dirty refused");
            return m_r;
        }
        for (uint64_t p = 0; p < m_pages; ++p) pages.push_back(p);
        for (m_r.rounds = 1;; ++m_r.rounds) {
            charge(copy_pages(pages));
            if (!dirty_pages(pages)) return m_r;
            note("pre-copy round " + std::to_string(m_r.rounds) + ": " +
                 std::to_string(pages.size()) + " pages dirty");
            if (pages.size() <= m_o.stop_pages || m_r.rounds >= m_o.max_rounds) break;
        }
        // The pages found in the last round are sent with the device state, paused.
    }
    std::vector<uint8_t> blob;
    const uint64_t paused_at = now_ns();
    if (!stop_and_copy(blob) || !switch_over(blob)) return m_r;
    m_bus.resume();
    m_r.downtime_ns = now_ns() - paused_at;
    m_r.total_ns = now_ns() - start;
    note("vm running on the destination after " + std::to_string(m_r.downtime_ns) +
         " ns of downtime");
    // The source VF: reset and unassigned (its adapter may have failed: then only unassigned).
    if (!m_o.source_failed) m_src.mgr->reset_vf(m_fn);
    m_src.hv->unassign(m_fn, err);
    m_src.pf->io().dma_free(m_bitmap);
    m_r.ok = m_r.mismatched_pages == 0;
    if (!m_r.ok)
        m_r.error = m_guest.name() + ": " + std::to_string(m_r.mismatched_pages) +
                    " pages differ after stop-and-copy";
    return m_r;
}

}  // namespace chio::cosim
