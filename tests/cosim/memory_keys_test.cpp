// Memory-key rules at the edges of registration and of remote access.
//
// E1: a region with REMOTE_WRITE or REMOTE_ATOMIC access must also have LOCAL_WRITE (IBA
// 10.6.3.1, ibv_reg_mr(3)): a remote peer may not get a right the local owner does not have.
// The device refuses REG_MR with BAD_PARAM whatever driver sent it (the verbs layer's own EINVAL
// is tested in tests/driver/verbs_test.cpp), and a refused registration yields no usable key.
//
// C17: an RDMA WRITE or READ of zero bytes touches no memory, so it needs no key: rkey 0 and
// remote address 0 are allowed and complete successfully (IBA 9.7.4.1.5; rxe skips the checks),
// without a byte written on either side and without breaking the connection.
//
// E6: an rkey is honoured only for a QP of the region's PD (IBA 10.6.3.1; the VF case, another
// function's key, is sriov_isolation.another_functions_keys_are_refused_and_no_byte_moves): a
// valid key of another PD on the same device is REM_ACCESS_ERR, and no byte of it is written.
#include <gtest/gtest.h>

#include <cstring>

#include "support/platform_fixture.h"
#include "support/two_sides.h"

namespace chio {
namespace {

namespace af = spec::access_flags;
using spec::cmd::status;
using Q = test::wr_tracker::queue;

TEST(memory_keys, remote_write_or_atomic_without_local_write_is_refused) {
    test::run_driver([](drv::bus& b, cosim::platform&) {
        drv::device dev(b);
        ASSERT_TRUE(dev.probe()) << dev.last_error();
        uint32_t pd = 0;
        ASSERT_TRUE(dev.create_pd(pd).ok());
        drv::dma_buffer buf = b.dma_alloc(8192, 4096);
        for (uint32_t access : {af::REMOTE_WRITE, af::REMOTE_ATOMIC,
                                af::REMOTE_WRITE | af::REMOTE_READ | af::REMOTE_ATOMIC}) {
            SCOPED_TRACE(access);
            uint32_t lkey = 0, rkey = 0;
            EXPECT_EQ(dev.reg_mr(pd, buf.bus, 4096, buf.bus, access, lkey, rkey).status,
                      status::BAD_PARAM);
            EXPECT_EQ(lkey, 0u);  // no key handed out (key 0 is never valid)
            EXPECT_EQ(rkey, 0u);
        }
        // With LOCAL_WRITE the same rights are fine, and REMOTE_READ alone needs no local right.
        uint32_t lkey = 0, rkey = 0;
        EXPECT_TRUE(dev.reg_mr(pd, buf.bus, 4096, buf.bus,
                               af::LOCAL_WRITE | af::REMOTE_WRITE | af::REMOTE_ATOMIC, lkey, rkey)
                        .ok());
        uint32_t rlkey = 0, rrkey = 0;
        EXPECT_TRUE(
            dev.reg_mr(pd, buf.bus + 4096, 4096, buf.bus + 4096, af::REMOTE_READ, rlkey, rrkey)
                .ok());
        EXPECT_TRUE(dev.dereg_mr(lkey).ok());
        EXPECT_TRUE(dev.dereg_mr(rlkey).ok());
    });
}

constexpr uint64_t RX = 64 << 10;

// A zero-length RDMA request: no gather entry, or one of zero bytes with lkey 0.
drv::send_wr zero_length(uint64_t id, spec::wqe_opcode op, bool with_empty_sge) {
    drv::send_wr w;
    w.wr_id = id;
    w.opcode = op;
    w.remote_addr = 0;
    w.rkey = 0;
    if (with_empty_sge) {
        w.sg_list[0] = {0, 0, 0};
        w.num_sge = 1;
    }
    return w;
}

TEST(memory_keys, zero_length_rdma_with_rkey_zero_completes_and_touches_nothing) {
    test::sides_options o = test::pair_options();
    o.timeout = 8;
    test::run_two_sides(o, [](test::two_sides& t) {
        std::memset(t.a.cpu(), 0xA5, t.a.buf.size);
        std::memset(t.b.cpu(), 0x5A, t.b.buf.size);
        const uint64_t b_payload = t.topo->host(1).adapter.counters().payload_bytes;
        const uint64_t a_payload = t.topo->host(0).adapter.counters().payload_bytes;
        uint64_t id = 1;
        for (auto op : {spec::wqe_opcode::RDMA_WRITE, spec::wqe_opcode::RDMA_READ}) {
            for (bool sge : {false, true}) {
                ASSERT_EQ(t.post_send(t.a, zero_length(id, op, sge)), 0);
                const spec::cqe* c = t.wait_wr(t.a, Q::send, id);
                ASSERT_TRUE(c) << "wr_id " << id << " never completed";
                EXPECT_EQ(c->status, static_cast<uint8_t>(spec::cqe_status::SUCCESS))
                    << "wr_id " << id << ": "
                    << spec::to_string(static_cast<spec::cqe_status>(c->status));
                EXPECT_EQ(c->byte_len, 0u);
                ++id;
            }
        }
        EXPECT_EQ(t.topo->host(1).adapter.counters().payload_bytes, b_payload);
        EXPECT_EQ(t.topo->host(0).adapter.counters().payload_bytes, a_payload);
        for (uint64_t i = 0; i < t.b.buf.size; ++i) ASSERT_EQ(t.b.cpu()[i], 0x5A) << "b byte " << i;
        for (uint64_t i = 0; i < t.a.buf.size; ++i) ASSERT_EQ(t.a.cpu()[i], 0xA5) << "a byte " << i;
        // Both QPs are still connected: a real WRITE behind them lands.
        drv::send_wr w;
        w.wr_id = id;
        w.opcode = spec::wqe_opcode::RDMA_WRITE;
        w.sg_list[0] = {t.a.addr(0), 256, t.a.lkey};
        w.num_sge = 1;
        w.remote_addr = t.b.addr(RX);
        w.rkey = t.b.rkey;
        ASSERT_EQ(t.post_send(t.a, w), 0);
        t.expect_exactly_once();
        EXPECT_EQ(t.tracker.find(t.a.qp->qpn(), Q::send, id)->status,
                  static_cast<uint8_t>(spec::cqe_status::SUCCESS));
        EXPECT_EQ(std::memcmp(t.b.cpu() + RX, t.a.cpu(), 256), 0);
        EXPECT_EQ(t.b.cpu()[RX + 256], 0x5A);
    });
}

TEST(memory_keys, rkey_of_another_pd_is_rem_access_err_and_writes_nothing) {
    test::sides_options o = test::pair_options();
    o.timeout = 8;
    test::run_two_sides(o, [](test::two_sides& t) {
        // A region of side b registered with every right, but in a PD b's QP is not in.
        uint32_t other_pd = 0, lkey = 0, rkey = 0;
        ASSERT_TRUE(t.b.dev->create_pd(other_pd).ok());
        drv::dma_buffer other = t.b.dev->io().dma_alloc(8192, 4096);
        std::memset(other.cpu, 0x77, other.size);
        ASSERT_TRUE(t.b.dev
                        ->reg_mr(other_pd, other.bus, other.size, other.bus,
                                 af::LOCAL_WRITE | af::REMOTE_WRITE | af::REMOTE_READ, lkey, rkey)
                        .ok());
        std::memset(t.a.cpu(), 0xEE, 4096);
        drv::send_wr w;
        w.wr_id = 1;
        w.opcode = spec::wqe_opcode::RDMA_WRITE;
        w.sg_list[0] = {t.a.addr(0), 4096, t.a.lkey};
        w.num_sge = 1;
        w.remote_addr = other.bus;
        w.rkey = rkey;
        ASSERT_EQ(t.post_send(t.a, w), 0);
        const spec::cqe* c = t.wait_wr(t.a, Q::send, 1);
        ASSERT_TRUE(c);
        EXPECT_EQ(c->status, static_cast<uint8_t>(spec::cqe_status::REM_ACCESS_ERR))
            << spec::to_string(static_cast<spec::cqe_status>(c->status));
        t.expect_exactly_once();
        const auto* p = static_cast<const uint8_t*>(other.cpu);
        for (uint64_t i = 0; i < other.size; ++i) ASSERT_EQ(p[i], 0x77) << "byte " << i;
    });
}

}  // namespace
}  // namespace chio
