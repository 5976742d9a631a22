// VF migration on the device (docs/migration.md): SUSPEND_VF freezes a VF mid-traffic, SAVE_VF /
// LOAD_VF / RESUME_VF bring it back from its blob with every work request completed exactly once
// and byte-exact; bad blobs and bad commands get their statuses; READ_DIRTY reports the pages the
// device wrote and clears them.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "support/sriov_host.h"
#include "tlm-model/adapter/transport_state.h"
#include "tlm-model/adapter/vf_state.h"

namespace chio {
namespace {

using spec::cmd::status;

template <typename T>
uint32_t owned_by(const std::vector<T>& v, uint16_t fn) {
    uint32_t n = 0;
    for (const T& x : v) n += x.valid && x.fn == fn ? 1 : 0;
    return n;
}

// Runs the flow until `sends` of its SENDs have completed (traffic part-way).
void run_until(drv::bus& io, test::flow& f, uint32_t sends) {
    const uint64_t t0 = io.now_ns();
    while (f.send_ok < sends && io.now_ns() < t0 + 5'000'000) {
        f.poll();
        io.relax();
    }
}

TEST(migration_device, suspend_save_reset_load_resume_mid_traffic_completes_exactly_once) {
    const uint64_t seed = 0x316;
    std::printf("seed %llu\n", static_cast<unsigned long long>(seed));
    auto plat = test::run_sriov([&](test::sriov_host& h) {
        std::string err;
        ASSERT_TRUE(h.bring_up(2, 2, err)) << err;
        test::flow f;
        ASSERT_TRUE(f.setup(h.vf(1), h.vf(2), err)) << err;
        drv::bus& io = h.pf_bus;
        uint64_t fn1_dma = 0;
        h.plat.adapter.set_dma_probe([&](uint16_t fn, bool, uint64_t, uint64_t, bool ok) {
            if (fn == 1 && ok) ++fn1_dma;
        });
        f.start(24, 4096, seed);
        run_until(io, f, 4);
        ASSERT_GE(f.send_ok, 4u);
        ASSERT_LT(f.send_ok, 24u) << "traffic finished before the suspend";
        ASSERT_TRUE(h.mgr->suspend_vf(1).ok());
        EXPECT_TRUE(h.plat.adapter.suspended(1));
        // Suspended: VF 1 issues no DMA at all, whatever the peer sends.
        const uint64_t dma_at_suspend = fn1_dma;
        for (int i = 0; i < 2000; ++i) io.relax();  // 100 us
        EXPECT_EQ(fn1_dma, dma_at_suspend);
        drv::dma_buffer buf = io.dma_alloc(64 << 10, 4096);
        uint32_t size = 0;
        ASSERT_TRUE(h.mgr->save_vf(1, buf, size).ok());
        EXPECT_GT(size, model::vf_blob::HEADER_SIZE);
        // The VF is reset (everything it owned destroyed), then its state comes back.
        ASSERT_TRUE(h.mgr->reset_vf(1).ok());
        const auto& c = h.plat.adapter.contexts();
        EXPECT_EQ(owned_by(c.qps, 1) + owned_by(c.cqs, 1) + owned_by(c.eqs, 1), 0u);
        ASSERT_TRUE(h.mgr->load_vf(1, buf, size).ok());
        EXPECT_GT(owned_by(c.qps, 1), 0u);
        EXPECT_TRUE(h.plat.adapter.suspended(1));
        ASSERT_TRUE(h.mgr->resume_vf(1).ok());
        ASSERT_TRUE(test::run_flows(io, {&f}));
        for (int i = 0; i < 4000; ++i) io.relax();  // 200 us more: nothing may complete twice
        f.poll();
        EXPECT_EQ(f.errors, 0u);
        EXPECT_EQ(f.send_ok, 24u);
        EXPECT_EQ(f.recv_ok, 24u);
        EXPECT_EQ(f.mismatches(), 0u);
        h.plat.adapter.set_dma_probe({});
        io.dma_free(buf);
    });
}

TEST(migration_device, bad_commands_and_bad_blobs_get_their_status) {
    auto plat = test::run_sriov([&](test::sriov_host& h) {
        std::string err;
        ASSERT_TRUE(h.bring_up(3, 2, err)) << err;
        drv::bus& io = h.pf_bus;
        drv::manager& m = *h.mgr;
        drv::dma_buffer big = io.dma_alloc(64 << 10, 4096);
        drv::dma_buffer tiny = io.dma_alloc(64, 64);
        uint32_t size = 0;
        // Range and state checks.
        EXPECT_EQ(m.suspend_vf(0).status, status::BAD_PARAM);
        EXPECT_EQ(m.suspend_vf(spec::pci::TOTAL_VFS + 1).status, status::BAD_PARAM);
        EXPECT_EQ(m.suspend_vf(4).status, status::BAD_RES_STATE);          // not enabled
        EXPECT_EQ(m.save_vf(1, big, size).status, status::BAD_RES_STATE);  // not suspended
        EXPECT_EQ(m.resume_vf(1).status, status::BAD_RES_STATE);
        // Migration commands are the PF's: a VF's manager gets BAD_OP.
        drv::manager from_vf(h.vf(2));
        EXPECT_EQ(from_vf.suspend_vf(1).status, status::BAD_OP);
        EXPECT_FALSE(h.plat.adapter.suspended(1));
        ASSERT_TRUE(m.suspend_vf(1).ok());
        // Too small a buffer names the size needed.
        EXPECT_EQ(m.save_vf(1, tiny, size).status, status::SMALL_BUF);
        const uint32_t needed = size;
        EXPECT_GT(needed, 64u);
        ASSERT_TRUE(m.save_vf(1, big, size).ok());
        EXPECT_EQ(size, needed);
        std::vector<uint8_t> blob(static_cast<uint8_t*>(big.cpu),
                                  static_cast<uint8_t*>(big.cpu) + size);
        // Into a VF that owns resources: refused.
        EXPECT_EQ(m.load_vf(2, big, size).status, status::BAD_RES_STATE);
        // Into an empty VF while VF 1 still holds every number: refused, nothing changes.
        EXPECT_EQ(m.load_vf(3, big, size).status, status::NO_RES);
        EXPECT_EQ(m.load_vf(3, big, 0).status, status::BAD_PARAM);
        // A corrupted byte: checksum.
        auto* p = static_cast<uint8_t*>(big.cpu);
        p[size / 2] ^= 0x40;
        EXPECT_EQ(m.load_vf(3, big, size).status, status::BAD_BLOB);
        // Another version (checksum made right): BAD_VERSION.
        std::memcpy(p, blob.data(), size);
        p[model::vf_blob::VERSION] = 2;
        const uint32_t sum = model::vf_blob::checksum(p, size);
        std::memcpy(p + model::vf_blob::CHECKSUM, &sum, 4);
        EXPECT_EQ(m.load_vf(3, big, size).status, status::BAD_VERSION);
        // Truncated: BAD_BLOB.
        std::memcpy(p, blob.data(), size);
        EXPECT_EQ(m.load_vf(3, big, size - 8).status, status::BAD_BLOB);
        // Saved atomic results (section 12), in a blob of VF 1's function state and one QP of
        // its own (numbers VF 1 and 2 do not hold, so the load can succeed into VF 3).
        model::vf_state st;
        ASSERT_EQ(model::decode_vf_state(blob.data(), blob.size(), st).status,
                  model::vf_decode_result::code::ok);
        model::vf_state one;
        one.source_fn = st.source_fn;
        one.function = st.function;
        one.function.async_eqn = -1;
        one.config = st.config;
        one.pds.push_back({1000, 1});
        one.eqs.push_back({63, 4, 0, 1, 0x10000, {}});
        one.cqs.push_back({1000, 4, 63, 1, 0, 0x20000, {}});
        model::vf_qp_rec q;
        q.index = 2000;
        q.type = static_cast<uint32_t>(spec::qp_type::RC);
        q.state = static_cast<uint32_t>(spec::qp_state::RESET);
        q.send_cqn = q.recv_cqn = q.pd = 1000;
        q.sq_log_size = q.rq_log_size = 4;
        one.qps.push_back(q);
        auto load_with = [&](const std::vector<model::vf_atomic_rec>& atomics) {
            model::vf_state t = one;
            t.atomics = atomics;
            const std::vector<uint8_t> b = model::encode_vf_state(t);
            std::memcpy(p, b.data(), b.size());
            return m.load_vf(3, big, static_cast<uint32_t>(b.size())).status;
        };
        // Of a QP the blob does not hold, or more than a responder keeps: BAD_BLOB.
        EXPECT_EQ(load_with({{1999, 1, 7}}), status::BAD_BLOB);
        const size_t keep = model::responder_state::MAX_SAVED_ATOMICS;
        std::vector<model::vf_atomic_rec> many(keep + 1);
        for (uint32_t i = 0; i < many.size(); ++i) many[i] = {2000, i, 0x1000u + i};
        EXPECT_EQ(load_with(many), status::BAD_BLOB);
        // As many as a responder keeps: loaded, and VF 3 saves them again, in order.
        many.pop_back();
        ASSERT_EQ(load_with(many), status::OK);
        ASSERT_TRUE(m.save_vf(3, big, size).ok());
        model::vf_state back;
        ASSERT_EQ(model::decode_vf_state(p, size, back).status, model::vf_decode_result::code::ok);
        ASSERT_EQ(back.atomics.size(), keep);
        for (size_t i = 0; i < keep; ++i) {
            EXPECT_EQ(back.atomics[i].qp, 2000u);
            EXPECT_EQ(back.atomics[i].psn, many[i].psn);
            EXPECT_EQ(back.atomics[i].orig, many[i].orig);
        }
        ASSERT_TRUE(m.reset_vf(3).ok());
        const auto& c = h.plat.adapter.contexts();
        EXPECT_EQ(owned_by(c.qps, 3) + owned_by(c.cqs, 3) + owned_by(c.eqs, 3), 0u);
        EXPECT_TRUE(m.resume_vf(1).ok());
        EXPECT_FALSE(h.plat.adapter.suspended(1));
        io.dma_free(big);
        io.dma_free(tiny);
    });
}

TEST(migration_device, read_dirty_reports_the_pages_the_device_wrote_and_clears_them) {
    auto plat = test::run_sriov([&](test::sriov_host& h) {
        std::string err;
        ASSERT_TRUE(h.bring_up(2, 2, err)) << err;
        test::flow f;
        ASSERT_TRUE(f.setup(h.vf(1), h.vf(2), err)) << err;
        drv::bus& io = h.pf_bus;
        drv::manager& m = *h.mgr;
        constexpr uint32_t PAGES = 1u << 16;  // the host's 256 MiB
        drv::dma_buffer bm = io.dma_alloc(PAGES / 8, 4096);
        uint32_t dirty = 0, outside = 0;
        ASSERT_TRUE(m.read_dirty(2, bm, 0, PAGES, dirty, outside).ok());  // starts the log
        f.start(8, 4096, 0xD1);
        ASSERT_TRUE(test::run_flows(io, {&f}));
        ASSERT_TRUE(m.read_dirty(2, bm, 0, PAGES, dirty, outside).ok());
        EXPECT_EQ(outside, 0u);
        const auto* bits = static_cast<const uint8_t*>(bm.cpu);
        auto is_set = [bits](uint64_t addr) {
            const uint64_t p = addr >> spec::limits::DIRTY_PAGE_LOG2;
            return (bits[p / 8] >> (p % 8) & 1) != 0;
        };
        // Every page the SENDs landed in (VF 2's receive buffer) is dirty ...
        uint32_t payload_pages = 0;
        for (uint64_t off = 0; off < 8 * 4096; off += 4096) {
            EXPECT_TRUE(is_set(f.b.addr(off))) << "offset " << off;
            ++payload_pages;
        }
        // ... and more (CQEs), while VF 1's send buffer, which the device only read, is not.
        EXPECT_GT(dirty, payload_pages);
        for (uint64_t off = 0; off < 8 * 4096; off += 4096) EXPECT_FALSE(is_set(f.a.addr(off)));
        // Read and cleared: nothing since.
        ASSERT_TRUE(m.read_dirty(2, bm, 0, PAGES, dirty, outside).ok());
        EXPECT_EQ(dirty, 0u);
        // A window smaller than the pages written: the rest is counted outside.
        f.send_ok = f.recv_ok = 0;
        f.start(8, 4096, 0xD2);
        ASSERT_TRUE(test::run_flows(io, {&f}));
        ASSERT_TRUE(m.read_dirty(2, bm, 0, 1, dirty, outside).ok());
        EXPECT_GT(outside, 0u);
        io.dma_free(bm);
    });
}

}  // namespace
}  // namespace chio
