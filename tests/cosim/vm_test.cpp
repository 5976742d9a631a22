// VMs and the hypervisor: guest memory scattered over host chunks, the guest allocator, function
// assignment, and the PF driver running unchanged inside a VM, its DMA translated by the IOMMU
// (RDMA traffic across chunk boundaries verified byte for byte) and confined to the VM (a DMA
// outside it is refused, reported as a DMA error, logged, and host memory is untouched).
#include "cosim/vm.h"

#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "cosim/hypervisor.h"
#include "driver/device.h"
#include "testbenches/scenarios/loopback.h"

namespace chio {
namespace {

constexpr uint64_t MiB = 1ull << 20;
constexpr uint64_t PG = cosim::IOMMU_PAGE_SIZE;

TEST(vm, guest_memory_is_scattered_over_host_chunks_and_mapped_in_its_domain) {
    cosim::platform host("host0");
    cosim::hypervisor hv(host);
    std::string err;
    cosim::vm* g = hv.create_vm({"g", 8 * MiB, 2 * MiB}, err);
    ASSERT_NE(g, nullptr) << err;
    ASSERT_EQ(g->chunks().size(), 4u);
    for (size_t i = 0; i < 4; ++i) {
        EXPECT_EQ(g->chunks()[i].gpa, i * 2 * MiB);
        EXPECT_EQ(g->chunks()[i].hpa % (2 * MiB), 0u);
        // No GPA neighbours are host neighbours.
        if (i > 0) {
            EXPECT_NE(g->chunks()[i - 1].hpa + 2 * MiB, g->chunks()[i].hpa);
        }
    }
    EXPECT_EQ(host.iommu.mapped_pages(g->domain()), 8 * MiB / PG);
    // The CPU view across a chunk boundary lands in two different host chunks.
    std::vector<uint8_t> pat(3 * PG);
    for (size_t i = 0; i < pat.size(); ++i) pat[i] = static_cast<uint8_t>(i * 13 + 5);
    const uint64_t gpa = 2 * MiB - PG;
    ASSERT_TRUE(g->write(gpa, pat.data(), pat.size()));
    EXPECT_EQ(std::memcmp(host.mem.cpu_ptr(g->chunks()[0].hpa + 2 * MiB - PG, PG), pat.data(), PG),
              0);
    EXPECT_EQ(std::memcmp(host.mem.cpu_ptr(g->chunks()[1].hpa, 2 * PG), pat.data() + PG, 2 * PG),
              0);
    std::vector<uint8_t> back(pat.size());
    ASSERT_TRUE(g->read(gpa, back.data(), back.size()));
    EXPECT_EQ(back, pat);
    EXPECT_FALSE(g->read(8 * MiB - 8, back.data(), 16));  // runs past guest memory
    EXPECT_EQ(g->cpu_ptr(gpa, 2 * PG), nullptr);          // straddles a chunk: no single pointer
}

TEST(vm, guest_allocator_never_returns_page_zero_or_straddles_a_chunk) {
    cosim::platform host("host0");
    cosim::hypervisor hv(host);
    std::string err;
    cosim::vm* g = hv.create_vm({"g", 1 * MiB, 64 << 10}, err);
    ASSERT_NE(g, nullptr) << err;
    std::vector<uint64_t> got;
    uint64_t gpa = 0;
    while (g->alloc(32 << 10, 4096, gpa)) {
        got.push_back(gpa);
        EXPECT_NE(gpa / PG, 0u);
        EXPECT_EQ(gpa / (64 << 10), (gpa + (32 << 10) - 1) / (64 << 10)) << "gpa " << gpa;
        ASSERT_NE(g->cpu_ptr(gpa, 32 << 10), nullptr);
    }
    EXPECT_EQ(got.size(), 16u * 2 - 1);           // two per 64 KiB chunk; the first loses page 0
    EXPECT_FALSE(g->alloc(65 << 10, 4096, gpa));  // larger than a chunk
    g->free(got[3]);
    ASSERT_TRUE(g->alloc(32 << 10, 4096, gpa));
    EXPECT_EQ(gpa, got[3]);
}

TEST(vm, bad_parameters_and_exhausted_host_memory_are_refused_with_a_reason) {
    cosim::platform_params pp;
    pp.dram_size = 64 * MiB;
    cosim::platform host("host0", pp);
    cosim::hypervisor hv(host);
    std::string err;
    EXPECT_EQ(hv.create_vm({"g", 100 * MiB, 2 * MiB}, err), nullptr);
    EXPECT_NE(err.find("memory_bytes: 104857600"), std::string::npos) << err;
    EXPECT_EQ(hv.create_vm({"g", 5000, 2 * MiB}, err), nullptr);
    EXPECT_NE(err.find("memory_bytes: 5000"), std::string::npos) << err;
    EXPECT_EQ(hv.create_vm({"g", 4 * MiB, 1000}, err), nullptr);
    EXPECT_NE(err.find("chunk_bytes: 1000"), std::string::npos) << err;
    EXPECT_EQ(hv.create_vm({"", 4 * MiB, PG}, err), nullptr);
    ASSERT_NE(hv.create_vm({"a", 40 * MiB, 2 * MiB}, err), nullptr) << err;
    EXPECT_EQ(hv.create_vm({"a", 4 * MiB, PG}, err), nullptr);  // duplicate name
    EXPECT_EQ(hv.create_vm({"b", 40 * MiB, 2 * MiB}, err), nullptr);
    EXPECT_NE(err.find("exceeds free host memory"), std::string::npos) << err;
    // Destroying a VM returns its host memory.
    ASSERT_TRUE(hv.destroy_vm("a", err)) << err;
    EXPECT_NE(hv.create_vm({"b", 40 * MiB, 4 * PG}, err), nullptr) << err;
}

TEST(vm, assignment_is_by_function_one_vm_each_and_every_action_is_logged) {
    cosim::platform host("host0");
    cosim::hypervisor hv(host);
    std::string err;
    cosim::vm* a = hv.create_vm({"a", 4 * MiB, 2 * MiB}, err);
    cosim::vm* b = hv.create_vm({"b", 4 * MiB, 2 * MiB}, err);
    ASSERT_TRUE(a && b);
    hv.block_unassigned(true);
    EXPECT_EQ(host.iommu.domain_of(0), cosim::IDENTITY_DOMAIN);  // the PF stays the host's
    ASSERT_TRUE(hv.assign(*a, 3, err)) << err;
    EXPECT_EQ(host.iommu.domain_of(3), a->domain());
    EXPECT_FALSE(hv.assign(*b, 3, err));
    EXPECT_NE(err.find("already assigned to vm a"), std::string::npos) << err;
    ASSERT_TRUE(hv.assign(*b, 4, err));
    EXPECT_EQ(hv.owner_of(4), b);
    EXPECT_EQ(hv.make_guest_bus(*a, 4), nullptr);  // not a's function
    ASSERT_TRUE(hv.unassign(3, err));
    EXPECT_EQ(host.iommu.domain_of(3), 0u);
    EXPECT_FALSE(hv.unassign(3, err));
    ASSERT_TRUE(hv.destroy_vm("b", err));
    EXPECT_EQ(hv.owner_of(4), nullptr);
    EXPECT_EQ(host.iommu.domain_of(4), 0u);
    const auto& log = hv.log();
    ASSERT_GE(log.size(), 9u);
    EXPECT_NE(log[0].find("created vm a"), std::string::npos);
    size_t assigned = 0, refused = 0;
    for (const auto& l : log) {
        assigned += l.rfind("assigned function", 0) == 0;
        refused += l.rfind("refused", 0) == 0;
    }
    EXPECT_EQ(assigned, 2u);
    EXPECT_EQ(refused, 2u);
}

// The PF driver and the unmodified loopback scenario inside a VM: every buffer address the
// driver hands the device is a GPA, translated by the IOMMU.
TEST(vm, pf_driver_in_a_vm_runs_verified_loopback_through_the_iommu) {
    cosim::platform host("host0");
    cosim::hypervisor hv(host);
    std::string err;
    cosim::vm* g = hv.create_vm({"guest", 16 * MiB, 256 << 10}, err);
    ASSERT_NE(g, nullptr) << err;
    hv.block_unassigned(true);
    ASSERT_TRUE(hv.assign(*g, 0, err)) << err;
    tb::sim_options o;
    o.count = 40;
    o.size = 3 * 4096 + 100;  // payloads span four pages
    o.depth = 4;
    tb::loopback_result r;
    ASSERT_TRUE(hv.run_guest(*g, 0, [&](drv::bus& b) { r = tb::run_loopback(b, o); }));
    sc_core::sc_start();
    EXPECT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.seen, 2 * o.count);
    EXPECT_EQ(r.bytes_verified, o.count * o.size);
    const auto& c = host.iommu.counters();
    EXPECT_EQ(c.faults, 0u);
    EXPECT_EQ(c.passthrough, 0u);  // the PF is the VM's now: nothing bypassed translation
    EXPECT_GT(c.translations, 4 * o.count);
    EXPECT_GT(c.page_lookups, c.translations);  // multi-page payloads looked up per page
    EXPECT_GT(c.cache_hits, 0u);
    EXPECT_EQ(host.adapter.counters().dma_errors, 0u);
}

// Commands completed by event: the EQE is a translated DMA write into guest memory and the
// MSI-X message reaches the guest's vector untranslated (no interrupt remapping).
TEST(vm, commands_complete_by_interrupt_inside_a_vm) {
    cosim::platform host("host0");
    cosim::hypervisor hv(host);
    std::string err;
    cosim::vm* g = hv.create_vm({"guest", 8 * MiB, 2 * MiB}, err);
    ASSERT_NE(g, nullptr) << err;
    hv.block_unassigned(true);
    ASSERT_TRUE(hv.assign(*g, 0, err)) << err;
    bool probed = false;
    int pds = 0;
    uint64_t interrupts = 0;
    hv.run_guest(*g, 0, [&](drv::bus& b) {
        drv::device_options o;
        o.command_events = true;
        drv::device dev(b, o);
        probed = dev.probe();
        for (int i = 0; probed && i < 5; ++i) {
            uint32_t pd = 0;
            pds += dev.create_pd(pd).ok();
        }
        interrupts = dev.interrupts();
    });
    sc_core::sc_start();
    EXPECT_TRUE(probed);
    EXPECT_EQ(pds, 5);
    EXPECT_GE(interrupts, 5u);
    EXPECT_GE(host.irq.delivered(), 5u);
    EXPECT_EQ(host.iommu.counters().faults, 0u);
    EXPECT_EQ(host.iommu.counters().passthrough, 0u);
}

// A small RC pair on one device, for the tests that need their own memory regions.
struct rc_pair {
    std::unique_ptr<drv::device> dev;
    uint32_t pd = 0;
    std::unique_ptr<drv::completion_queue> cq;
    std::unique_ptr<drv::queue_pair> a, b, c, d;  // two connected pairs: a-b and c-d
    std::string error;

    bool connect(drv::queue_pair& qp, uint32_t dest, const spec::cmd::query_port_out& port) {
        namespace at = spec::qp_attr;
        drv::qp_attr_values v;
        v.dest_qpn = dest;
        v.port = 1;
        v.access_flags = spec::access_flags::LOCAL_WRITE;
        v.dest_mac = port.mac;
        v.dest_gid_hi = port.gid_hi;
        v.dest_gid_lo = port.gid_lo;
        return qp.modify(dev->cmd(), spec::qp_state::INIT,
                         at::STATE | at::PKEY_INDEX | at::PORT | at::ACCESS_FLAGS, v)
                   .ok() &&
               qp.modify(dev->cmd(), spec::qp_state::RTR,
                         at::STATE | at::AV | at::PATH_MTU | at::DEST_QPN | at::RQ_PSN |
                             at::MAX_DEST_RD_ATOMIC | at::MIN_RNR_TIMER,
                         v)
                   .ok() &&
               qp.modify(dev->cmd(), spec::qp_state::RTS,
                         at::STATE | at::SQ_PSN | at::TIMEOUT | at::RETRY_CNT | at::RNR_RETRY |
                             at::MAX_QP_RD_ATOMIC,
                         v)
                   .ok();
    }
    bool up(drv::bus& bus) {
        dev = std::make_unique<drv::device>(bus);
        drv::cmd_result r;
        spec::cmd::query_port_out port{};
        if (!dev->probe()) return error = dev->last_error(), false;
        if (!dev->create_pd(pd).ok() || !dev->query_port(port).ok()) return false;
        cq = dev->create_cq(8, r);
        if (!cq) return false;
        for (auto* q : {&a, &b, &c, &d}) {
            *q = dev->create_qp(spec::qp_type::RC, *cq, *cq, 6, 6, r, pd);
            if (!*q) return false;
        }
        return connect(*a, b->qpn(), port) && connect(*b, a->qpn(), port) &&
               connect(*c, d->qpn(), port) && connect(*d, c->qpn(), port);
    }
    uint32_t mr(uint64_t addr, uint64_t len) {
        uint32_t lkey = 0, rkey = 0;
        dev->reg_mr(pd, addr, len, addr, spec::access_flags::LOCAL_WRITE, lkey, rkey);
        return lkey;
    }
    // One SEND from [tx, tx + len) on a (or c) into [rx, rx + len) on b (or d); returns the send
    // and receive statuses (-1: none within 200 us).
    std::pair<int, int> send(drv::bus& bus, uint64_t tx, uint64_t rx, uint32_t len,
                             bool second = false) {
        drv::queue_pair& s = second ? *c : *a;
        drv::queue_pair& r = second ? *d : *b;
        const uint32_t tk = mr(tx, len), rk = mr(rx, len);
        drv::recv_wr rw;
        rw.wr_id = second ? 4 : 2;
        rw.sg_list[0] = {rx, len, rk};
        rw.num_sge = 1;
        drv::send_wr sw;
        sw.wr_id = second ? 3 : 1;
        sw.sg_list[0] = {tx, len, tk};
        sw.num_sge = 1;
        int st_send = -1, st_recv = -1;
        if (r.post_recv(rw) != 0 || s.post_send(sw) != 0) return {-2, -2};
        const uint64_t until = bus.now_ns() + 200000;
        spec::cqe wc[4];
        while ((st_send < 0 || st_recv < 0) && bus.now_ns() < until) {
            const int n = cq->poll(wc, 4);
            for (int k = 0; k < n; ++k) {
                if (wc[k].wr_id == sw.wr_id) st_send = wc[k].status;
                if (wc[k].wr_id == rw.wr_id) st_recv = wc[k].status;
            }
            if (n == 0) bus.relax();
        }
        return {st_send, st_recv};
    }
};

constexpr int OK = static_cast<int>(spec::cqe_status::SUCCESS);
constexpr int PROT = static_cast<int>(spec::cqe_status::LOC_PROT_ERR);

// Memory regions that run across GPA chunk boundaries: correct only when every page is
// translated on its own (GPA neighbours are not host neighbours).
TEST(vm, rdma_across_guest_chunk_boundaries_moves_every_byte_to_the_right_host_page) {
    cosim::platform host("host0");
    cosim::hypervisor hv(host);
    std::string err;
    cosim::vm* g = hv.create_vm({"guest", 16 * MiB, 2 * MiB}, err);
    ASSERT_NE(g, nullptr) << err;
    ASSERT_TRUE(hv.assign(*g, 0, err)) << err;
    // The driver's own allocations stay in the first chunk; these ranges are far above them.
    const uint64_t tx = 8 * MiB - 6000, rx = 12 * MiB - 5000;
    const uint32_t len = 12000;
    std::vector<uint8_t> pat(len), got(len);
    for (uint32_t i = 0; i < len; ++i) pat[i] = static_cast<uint8_t>(i * 31 + 7);
    std::pair<int, int> st{-1, -1};
    std::string up_err;
    hv.run_guest(*g, 0, [&](drv::bus& b) {
        rc_pair q;
        if (!q.up(b)) {
            up_err = "bring-up failed " + q.error;
            return;
        }
        g->write(tx, pat.data(), len);
        st = q.send(b, tx, rx, len);
    });
    sc_core::sc_start();
    ASSERT_TRUE(up_err.empty()) << up_err;
    EXPECT_EQ(st.first, OK);
    EXPECT_EQ(st.second, OK);
    ASSERT_TRUE(g->read(rx, got.data(), len));
    EXPECT_EQ(got, pat);
    EXPECT_EQ(host.iommu.counters().faults, 0u);
}

// An MR over an address the VM does not have: the receive (DMA write) and the send (DMA read)
// both fail with the adapter's DMA-error status, the IOMMU logs fn and address, and the host
// page there (a host buffer with known bytes) is neither written nor leaked.
TEST(vm, dma_outside_the_vm_is_refused_logged_and_host_memory_is_untouched) {
    cosim::platform host("host0");
    cosim::hypervisor hv(host);
    std::string err;
    cosim::vm* g = hv.create_vm({"guest", 8 * MiB, 2 * MiB}, err);
    ASSERT_NE(g, nullptr) << err;
    hv.block_unassigned(true);
    ASSERT_TRUE(hv.assign(*g, 0, err)) << err;
    uint64_t secret = 0;
    ASSERT_TRUE(host.mem.alloc(2 * PG, 32 * MiB, secret));
    ASSERT_GE(secret, g->memory_size());  // as a GPA, outside the VM
    uint8_t* sp = host.mem.cpu_ptr(secret, 2 * PG);
    for (uint64_t i = 0; i < 2 * PG; ++i) sp[i] = static_cast<uint8_t>(0xA5 ^ i);
    const std::vector<uint8_t> before(sp, sp + 2 * PG);
    std::pair<int, int> into{-1, -1}, from{-1, -1};
    std::vector<uint8_t> landed(PG, 0xEE);
    std::string up_err;
    hv.run_guest(*g, 0, [&](drv::bus& b) {
        rc_pair q;
        if (!q.up(b)) {
            up_err = "bring-up failed " + q.error;
            return;
        }
        drv::dma_buffer good = b.dma_alloc(PG, PG);
        std::memset(good.cpu, 0x11, PG);
        into = q.send(b, good.bus, secret, PG);  // payload into the host's page
        std::memset(good.cpu, 0xEE, PG);
        from = q.send(b, secret + PG, good.bus, PG, true);  // the host's page as a payload
        std::memcpy(landed.data(), good.cpu, PG);
    });
    sc_core::sc_start();
    ASSERT_TRUE(up_err.empty()) << up_err;
    EXPECT_EQ(into.second, PROT);  // the receive could not place its data
    EXPECT_EQ(from.first, PROT);   // the send could not read its payload
    EXPECT_EQ(std::vector<uint8_t>(sp, sp + 2 * PG), before);
    EXPECT_EQ(landed, std::vector<uint8_t>(PG, 0xEE));  // nothing of the host page leaked
    EXPECT_GE(host.adapter.counters().dma_errors, 2u);
    bool saw_write = false, saw_read = false;
    for (const auto& f : host.iommu.fault_log()) {
        EXPECT_EQ(f.fn, 0);
        EXPECT_EQ(f.reason, cosim::iommu_fault_reason::not_mapped);
        saw_write |= f.write && f.iova == secret;
        saw_read |= !f.write && f.iova == secret + PG;
    }
    EXPECT_TRUE(saw_write);
    EXPECT_TRUE(saw_read);
}

}  // namespace
}  // namespace chio
