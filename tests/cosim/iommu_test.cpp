// The IOMMU: page-granular translation per function, permissions, the unassigned-function
// policy, the bounded fault log, the last-page cache, and the root complex's DMA path through it
// (split per host-contiguous piece, refused whole with no byte moved, MSI untranslated).
#include "cosim/iommu.h"

#include <gtest/gtest.h>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include <cstring>
#include <map>
#include <random>

#include "cosim/address_map.h"
#include "cosim/host_memory.h"
#include "cosim/root_complex.h"
#include "tlm-model/pcie/pcie_ext.h"

namespace chio {
namespace {

using cosim::iommu;
using cosim::iommu_fault_reason;
using cosim::iommu_perm;
using cosim::iommu_segment;
constexpr uint64_t PG = cosim::IOMMU_PAGE_SIZE;

TEST(iommu, access_across_pages_is_split_at_each_host_discontinuity) {
    iommu m;
    const auto d = m.create_domain();
    // IOVA pages 0x10..0x13: the first two host-contiguous, the others scattered downwards.
    ASSERT_TRUE(m.map(d, 0x10 * PG, 0x200 * PG, 2 * PG, iommu_perm::read_write));
    ASSERT_TRUE(m.map(d, 0x12 * PG, 0x100 * PG, PG, iommu_perm::read_write));
    ASSERT_TRUE(m.map(d, 0x13 * PG, 0x050 * PG, PG, iommu_perm::read_write));
    ASSERT_TRUE(m.attach(3, d));
    std::vector<iommu_segment> s;
    // From 100 bytes before the end of page 0x10 to 50 bytes into page 0x13.
    const uint64_t iova = 0x11 * PG - 100, len = 100 + 2 * PG + 50;
    ASSERT_TRUE(m.translate(3, iova, len, true, s, 0));
    ASSERT_EQ(s.size(), 3u);
    EXPECT_EQ(s[0].hpa, 0x201 * PG - 100);
    EXPECT_EQ(s[0].offset, 0u);
    EXPECT_EQ(s[0].len, 100 + PG);  // pages 0x10 and 0x11 merged: host-contiguous
    EXPECT_EQ(s[1].hpa, 0x100 * PG);
    EXPECT_EQ(s[1].offset, 100 + PG);
    EXPECT_EQ(s[1].len, PG);
    EXPECT_EQ(s[2].hpa, 0x050 * PG);
    EXPECT_EQ(s[2].offset, 100 + 2 * PG);
    EXPECT_EQ(s[2].len, 50u);
    EXPECT_TRUE(m.fault_log().empty());
}

TEST(iommu, miss_and_permission_faults_are_logged_with_function_address_and_direction) {
    iommu m;
    const auto d = m.create_domain();
    ASSERT_TRUE(m.map(d, 0, 0x40 * PG, PG, iommu_perm::read));
    ASSERT_TRUE(m.map(d, PG, 0x41 * PG, PG, iommu_perm::write));
    ASSERT_TRUE(m.attach(5, d));
    std::vector<iommu_segment> s;
    EXPECT_TRUE(m.translate(5, 16, 64, false, s, 0));
    EXPECT_FALSE(m.translate(5, 16, 64, true, s, 100));  // read-only page written
    EXPECT_TRUE(s.empty());
    EXPECT_FALSE(m.translate(5, PG + 8, 8, false, s, 200));  // write-only page read
    // Starts in a good page, runs into an unmapped one: refused whole, the bad page reported.
    EXPECT_FALSE(m.translate(5, PG + 8, PG, true, s, 300));
    ASSERT_EQ(m.fault_log().size(), 3u);
    const auto& f = m.fault_log();
    EXPECT_EQ(f[0].fn, 5);
    EXPECT_EQ(f[0].iova, 0u);
    EXPECT_TRUE(f[0].write);
    EXPECT_EQ(f[0].reason, iommu_fault_reason::write_denied);
    EXPECT_EQ(f[0].time_ns, 100u);
    EXPECT_EQ(f[1].reason, iommu_fault_reason::read_denied);
    EXPECT_FALSE(f[1].write);
    EXPECT_EQ(f[2].iova, 2 * PG);
    EXPECT_EQ(f[2].reason, iommu_fault_reason::not_mapped);
    EXPECT_EQ(m.counters().faults, 3u);
    EXPECT_EQ(m.counters().by_reason.at(iommu_fault_reason::not_mapped), 1u);
    // Wrapping the address space is refused, not translated modulo 2^64.
    EXPECT_FALSE(m.translate(5, UINT64_MAX - 4, 16, false, s, 0));
    EXPECT_EQ(m.fault_log().back().reason, iommu_fault_reason::address_overflow);
}

TEST(iommu, unassigned_functions_pass_through_or_are_blocked_and_identity_always_passes) {
    iommu m;
    std::vector<iommu_segment> s;
    ASSERT_TRUE(m.translate(7, 0x123456, 3 * PG, true, s, 0));
    ASSERT_EQ(s.size(), 1u);
    EXPECT_EQ(s[0].hpa, 0x123456u);
    EXPECT_EQ(s[0].len, 3 * PG);
    m.set_block_unassigned(true);
    EXPECT_FALSE(m.translate(7, 0x123456, 8, false, s, 0));
    EXPECT_EQ(m.fault_log().back().reason, iommu_fault_reason::blocked);
    ASSERT_TRUE(m.attach(0, cosim::IDENTITY_DOMAIN));
    EXPECT_TRUE(m.translate(0, 0x123456, 8, false, s, 0));
    // A destroyed domain leaves its functions unassigned (blocked here), never dangling.
    const auto d = m.create_domain();
    ASSERT_TRUE(m.attach(7, d));
    ASSERT_TRUE(m.destroy_domain(d));
    EXPECT_EQ(m.domain_of(7), 0u);
    EXPECT_FALSE(m.translate(7, 0, 8, false, s, 0));
    EXPECT_FALSE(m.attach(7, d));  // unknown domain
    EXPECT_FALSE(m.map(d, 0, 0, PG, iommu_perm::read));
    EXPECT_FALSE(m.map(m.create_domain(), 8, 0, PG, iommu_perm::read));  // misaligned
}

TEST(iommu, fault_log_keeps_the_newest_entries_and_counts_the_dropped) {
    iommu m;
    m.set_block_unassigned(true);
    std::vector<iommu_segment> s;
    const uint64_t n = iommu::FAULT_LOG_DEPTH + 476;
    for (uint64_t i = 0; i < n; ++i) m.translate(1, i * PG, 8, true, s, i);
    EXPECT_EQ(m.fault_log().size(), iommu::FAULT_LOG_DEPTH);
    EXPECT_EQ(m.counters().faults, n);
    EXPECT_EQ(m.counters().faults_dropped, 476u);
    EXPECT_EQ(m.fault_log().front().iova, 476 * PG);
    EXPECT_EQ(m.fault_log().back().iova, (n - 1) * PG);
}

TEST(iommu, last_page_cache_hits_and_is_invalidated_by_remapping) {
    iommu m;
    const auto d = m.create_domain();
    ASSERT_TRUE(m.map(d, 0, 0x10 * PG, PG, iommu_perm::read_write));
    ASSERT_TRUE(m.attach(2, d));
    std::vector<iommu_segment> s;
    for (int i = 0; i < 10; ++i) ASSERT_TRUE(m.translate(2, 64 * i, 64, false, s, 0));
    EXPECT_EQ(m.counters().page_lookups, 10u);
    EXPECT_EQ(m.counters().cache_hits, 9u);
    ASSERT_TRUE(m.map(d, 0, 0x20 * PG, PG, iommu_perm::read));
    ASSERT_TRUE(m.translate(2, 8, 8, false, s, 0));
    EXPECT_EQ(s[0].hpa, 0x20 * PG + 8);  // a stale cache would say 0x10 pages
    EXPECT_FALSE(m.translate(2, 8, 8, true, s, 0));
    ASSERT_TRUE(m.unmap(d, 0, PG));
    EXPECT_FALSE(m.translate(2, 8, 8, false, s, 0));
}

// Random scattered maps and random accesses against a byte-by-byte reference: every byte of an
// accepted access is at the host address its page's mapping gives; an access touching an
// unmapped page is refused.
TEST(iommu, random_accesses_match_a_per_byte_reference) {
    const uint64_t seed = std::random_device{}();
    std::printf("seed %llu\n", static_cast<unsigned long long>(seed));
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937_64 rng(seed);
    iommu m;
    const auto d = m.create_domain();
    ASSERT_TRUE(m.attach(9, d));
    std::map<uint64_t, uint64_t> ref;  // iova page -> host page
    for (uint64_t p = 0; p < 256; ++p) {
        if (rng() % 8 == 0) continue;  // a hole
        const uint64_t hp = 0x1000 + (rng() % 4 == 0 ? p : rng() % 100000);
        ref[p] = hp;
        ASSERT_TRUE(m.map(d, p * PG, hp * PG, PG, iommu_perm::read_write));
    }
    std::vector<iommu_segment> s;
    for (int i = 0; i < 5000; ++i) {
        const uint64_t iova = rng() % (256 * PG);
        const uint64_t len = 1 + rng() % std::min<uint64_t>(5 * PG, 256 * PG - iova);
        bool mapped = true;
        for (uint64_t p = iova / PG; p <= (iova + len - 1) / PG; ++p) mapped &= ref.count(p) != 0;
        ASSERT_EQ(m.translate(9, iova, len, i % 2 == 0, s, 0), mapped) << "iova " << iova;
        if (!mapped) continue;
        uint64_t covered = 0;
        for (const iommu_segment& g : s) {
            ASSERT_EQ(g.offset, covered);
            for (uint64_t b = 0; b < g.len; b += 97) {  // sample bytes, always the first
                const uint64_t va = iova + g.offset + b;
                ASSERT_EQ(g.hpa + b, ref[va / PG] * PG + va % PG);
            }
            const uint64_t last = iova + g.offset + g.len - 1;
            ASSERT_EQ(g.hpa + g.len - 1, ref[last / PG] * PG + last % PG);
            covered += g.len;
        }
        ASSERT_EQ(covered, len);
    }
}

// A stand-in for the adapter's DMA initiator and BAR/config targets, to drive the root complex.
struct dma_master : sc_core::sc_module {
    tlm_utils::simple_initiator_socket<dma_master> out{"out"};
    tlm_utils::simple_target_socket<dma_master> cfg{"cfg"}, mmio{"mmio"};
    explicit dma_master(sc_core::sc_module_name n) : sc_module(n) {}
    bool access(uint16_t fn, bool write, uint64_t addr, void* data, unsigned len) {
        tlm::tlm_generic_payload p;
        model::pcie_ext ext;
        ext.fn = fn;
        p.set_extension(&ext);
        p.set_command(write ? tlm::TLM_WRITE_COMMAND : tlm::TLM_READ_COMMAND);
        p.set_address(addr);
        p.set_data_ptr(static_cast<unsigned char*>(data));
        p.set_data_length(len);
        p.set_streaming_width(len);
        sc_core::sc_time t = sc_core::SC_ZERO_TIME;
        out->b_transport(p, t);
        p.clear_extension(&ext);
        return p.is_response_ok();
    }
};

TEST(iommu, root_complex_translates_splits_refuses_and_leaves_msi_alone) {
    cosim::host_memory mem("mem", 16 << 20);
    cosim::interrupt_controller irq("irq");
    cosim::root_complex rc("rc", irq);
    dma_master dev("dev");
    rc.cfg_out.bind(dev.cfg);
    rc.mmio_out.bind(dev.mmio);
    dev.out.bind(rc.dma_in);
    rc.mem_out.bind(mem.socket);
    iommu m;
    rc.set_iommu(&m);
    m.set_block_unassigned(true);
    const auto d = m.create_domain();
    // IOVA 0x10000.. : page 0 at host 0x300000, page 1 at host 0x100000 (below it).
    ASSERT_TRUE(m.map(d, 0x10000, 0x300000, PG, iommu_perm::read_write));
    ASSERT_TRUE(m.map(d, 0x11000, 0x100000, PG, iommu_perm::read_write));
    ASSERT_TRUE(m.attach(4, d));
    std::memset(mem.cpu_ptr(0x200000, PG), 0x5A, PG);  // a host page nobody mapped
    bool wrote = false, read_back = false, refused = false, msi = false;
    std::vector<uint8_t> out(3000), in(3000);
    for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<uint8_t>(i * 7 + 1);
    sc_core::sc_spawn([&] {
        wrote = dev.access(4, true, 0x11000 - 1000, out.data(), 3000);
        read_back = dev.access(4, false, 0x11000 - 1000, in.data(), 3000);
        // Host page 0x200000 is not in the domain: by IOVA it is unmapped.
        uint8_t junk[16] = {};
        refused = !dev.access(4, true, 0x200000, junk, 16) &&
                  !dev.access(4, false, 0x200000, junk, 16) &&
                  !dev.access(6, true, 0x10000, junk, 16);  // fn 6 has no domain: blocked
        uint32_t vec = (4u << 16) | 1;
        msi = dev.access(4, true, cosim::address_map::MSI_BASE, &vec, 4);
    });
    sc_core::sc_start();
    EXPECT_TRUE(wrote);
    EXPECT_TRUE(read_back);
    EXPECT_EQ(in, out);
    EXPECT_EQ(std::memcmp(mem.cpu_ptr(0x300000 + PG - 1000, 1000), out.data(), 1000), 0);
    EXPECT_EQ(std::memcmp(mem.cpu_ptr(0x100000, 2000), out.data() + 1000, 2000), 0);
    EXPECT_TRUE(refused);
    for (uint64_t i = 0; i < PG; ++i) ASSERT_EQ(mem.cpu_ptr(0x200000 + i, 1)[0], 0x5A);
    EXPECT_TRUE(msi);
    EXPECT_EQ(irq.delivered(), 1u);
    EXPECT_EQ(rc.unsupported_requests(), 3u);
    ASSERT_EQ(m.fault_log().size(), 3u);
    EXPECT_EQ(m.fault_log()[0].fn, 4);
    EXPECT_EQ(m.fault_log()[0].iova, 0x200000u);
    EXPECT_TRUE(m.fault_log()[0].write);
    EXPECT_FALSE(m.fault_log()[1].write);
    EXPECT_EQ(m.fault_log()[2].reason, iommu_fault_reason::blocked);
}

}  // namespace
}  // namespace chio
