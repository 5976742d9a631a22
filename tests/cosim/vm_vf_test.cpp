// VFs inside VMs: the host's PF manager enables two VFs, the hypervisor gives one to each of two
// VMs, and the unchanged driver with the consumer API (verbs) runs in each VM on its VF. The
// guest bus finds each VF's BAR where the PF programmed the SR-IOV capability (not at a slot of
// the hypervisor's choosing), RDMA traffic between the VMs is verified byte for byte through the
// IOMMU, and a DMA the VM points outside its memory is refused by the IOMMU with a fault logged.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "chio/spec/spec.h"
#include "cosim/hypervisor.h"
#include "driver/device.h"
#include "driver/manager.h"
#include "testbenches/scenarios/rendezvous.h"
#include "testbenches/scenarios/vm_peer.h"

namespace chio {
namespace {

namespace v = chio::verbs;
constexpr uint64_t MiB = 1ull << 20;
constexpr uint64_t VF_BAR_BYTES = uint64_t{1} << spec::pci::BAR0_SIZE_LOG2;

struct vf_vms {
    cosim::platform host{"host0"};
    cosim::hypervisor hv{host};
    tb::rendezvous rv;
    cosim::vm* a = nullptr;
    cosim::vm* b = nullptr;
    uint64_t vf_bar0 = 0;     // what the PF's manager programmed
    uint64_t guest_bar[2]{};  // where each VM's driver found its VF's BAR0
    std::string pf_error;

    // The PF driver on the host enables two VFs with MAC/GID (spoof check on).
    void start_pf() {
        host.run_driver([this](drv::bus& bus) {
            drv::device pf(bus);
            bool ok = pf.probe();
            drv::manager mgr(pf);
            ok = ok && mgr.enable_vfs(2).ok();
            for (uint16_t fn = 1; ok && fn <= 2; ++fn) {
                ok =
                    mgr.set_address(fn, 0x02C420000000ull | fn, 0, 0x0000FFFF0A000100ull | fn, true)
                        .ok();
            }
            const uint32_t cap = spec::pci::EXT_CAP_OFFSET;
            vf_bar0 = (uint64_t{bus.cfg_read(cap + spec::pci::sriov_cap::VF_BAR1, 4)} << 32 |
                       bus.cfg_read(cap + spec::pci::sriov_cap::VF_BAR0, 4)) &
                      ~(VF_BAR_BYTES - 1);
            if (!ok) pf_error = "PF bring-up or manager failed: " + pf.last_error();
            rv.put("provisioned", {ok ? 1u : 0u});
        });
    }
    bool make_vms(std::string& err) {
        a = hv.create_vm({"a", 16 * MiB, 2 * MiB}, err);
        b = a ? hv.create_vm({"b", 16 * MiB, 64 << 10}, err) : nullptr;
        hv.block_unassigned(true);
        return b && hv.assign(*a, 1, err) && hv.assign(*b, 2, err);
    }
};

TEST(vm_vf, two_vms_each_with_a_vf_exchange_verified_rdma_and_a_stray_dma_is_refused) {
    vf_vms t;
    std::string err;
    ASSERT_TRUE(t.make_vms(err)) << err;
    t.start_pf();
    tb::vm_peer_options o;
    o.count = 8;
    o.size = 2000;  // messages straddle pages
    tb::vm_peer_result ra, rb;
    const uint64_t outside = t.a->memory_size() + 8 * 4096;  // a GPA past VM a's memory
    int stray_status = -1;
    ASSERT_TRUE(t.hv.run_guest(*t.a, 1, [&](drv::bus& bus) {
        if (t.rv.get("provisioned")[0] == 0) return;
        t.guest_bar[0] = bus.bar_window(0, VF_BAR_BYTES);
        ra = tb::run_vm_peer(bus, t.rv, "a", "b", 0, o, {}, [&](v::context*, v::pd* pd, v::qp* qp) {
            // A SEND whose source the driver maps to a GPA outside the VM.
            v::mr* m = v::reg_mr_iova(pd, 0x1000, 4096, outside, v::ACCESS_LOCAL_WRITE);
            if (m == nullptr) return;
            v::sge s{0x1000, 256, m->lkey};
            v::send_wr w;
            w.wr_id = 99;
            w.sg_list = &s;
            w.num_sge = 1;
            w.send_flags = v::SEND_SIGNALED;
            v::send_wr* bad = nullptr;
            if (v::post_send(qp, &w, &bad) != 0) return;
            const uint64_t end = bus.now_ns() + 2'000'000;
            v::wc wc;
            while (bus.now_ns() < end) {
                if (v::poll_cq(qp->send_cq, 1, &wc) == 1) {
                    stray_status = static_cast<int>(wc.status);
                    break;
                }
                bus.relax();
            }
        });
    }));
    ASSERT_TRUE(t.hv.run_guest(*t.b, 2, [&](drv::bus& bus) {
        if (t.rv.get("provisioned")[0] == 0) return;
        t.guest_bar[1] = bus.bar_window(0, VF_BAR_BYTES);
        rb = tb::run_vm_peer(bus, t.rv, "b", "a", 1, o);
    }));
    sc_core::sc_start();
    ASSERT_TRUE(t.pf_error.empty()) << t.pf_error;

    // Each VM's driver found its VF's BAR where the PF's SR-IOV capability puts it.
    EXPECT_NE(t.vf_bar0, 0u);
    EXPECT_EQ(t.guest_bar[0], t.vf_bar0);
    EXPECT_EQ(t.guest_bar[1], t.vf_bar0 + VF_BAR_BYTES);

    // Traffic both ways, every byte checked, every completion seen once and successful.
    for (const tb::vm_peer_result* r : {&ra, &rb}) {
        EXPECT_TRUE(r->ok) << r->error;
        EXPECT_EQ(r->sends, o.count + 1u);
        EXPECT_EQ(r->seen, r->expected);
        EXPECT_EQ(r->error_completions, 0u);
        EXPECT_EQ(r->data_mismatches, 0u);
        EXPECT_EQ(r->bytes_verified, 2ull * o.count * o.size);
    }

    // The stray DMA: refused by the IOMMU for VF 0 (function 1), reported to the driver as an
    // error completion, and logged with the function and address.
    EXPECT_NE(stray_status, -1) << "no completion for the stray SEND";
    EXPECT_NE(stray_status, static_cast<int>(v::wc_status::SUCCESS));
    const auto& c = t.host.iommu.counters();
    EXPECT_GE(c.faults, 1u);
    bool logged = false;
    for (const cosim::iommu_fault& f : t.host.iommu.fault_log()) {
        EXPECT_EQ(f.fn, 1u) << "only VM a's stray access may fault";
        logged = logged || (f.iova <= outside && outside < f.iova + 4096 && !f.write);
    }
    EXPECT_TRUE(logged);
    EXPECT_GT(c.translations, 4u * o.count);  // the VFs' DMA went through their domains
    EXPECT_GE(t.host.adapter.counters().dma_errors, 1u);
}

// Without the PF manager having enabled VFs, a VM's VF driver finds no device: the probe fails
// with a reason instead of touching some other function's BAR.
TEST(vm_vf, a_vf_driver_in_a_vm_before_the_vfs_are_enabled_fails_its_probe) {
    vf_vms t;
    std::string err;
    ASSERT_TRUE(t.make_vms(err)) << err;
    bool probed = true;
    std::string why;
    ASSERT_TRUE(t.hv.run_guest(*t.a, 1, [&](drv::bus& bus) {
        drv::device dev(bus);
        probed = dev.probe();
        why = dev.last_error();
    }));
    sc_core::sc_start();
    EXPECT_FALSE(probed);
    EXPECT_FALSE(why.empty());
    EXPECT_EQ(t.host.iommu.counters().translations, 0u);
}

}  // namespace
}  // namespace chio
