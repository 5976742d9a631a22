// Isolation between functions: every command on another function's resource is refused with the
// status of a resource that does not exist (BAD_RES), doorbells for another function's queue are
// dropped and counted, another function's keys are refused locally and remotely with no byte
// touched, manager commands from a VF are BAD_OP with no effect, and quotas give LIM_ERR.
#include <gtest/gtest.h>

#include "support/sriov_host.h"

namespace chio {
namespace {

namespace cmd = spec::cmd;
namespace reg = spec::bar0::reg;
using cmd::status;

template <typename In>
status exec(drv::device& d, cmd::opcode op, const In& in, uint32_t in_size) {
    uint8_t out[cmd::OUTPUT_SIZE] = {};
    return d.cmd().exec(op, &in, in_size, out, cmd::OUTPUT_SIZE).status;
}

TEST(sriov_isolation, commands_on_another_functions_resources_look_nonexistent) {
    auto plat = test::run_sriov([&](test::sriov_host& h) {
        std::string err;
        ASSERT_TRUE(h.bring_up(2, 2, err)) << err;
        test::flow victim;
        ASSERT_TRUE(victim.setup(h.vf(1), h.vf(1), err)) << err;
        drv::device& attacker = h.vf(2);
        const uint32_t qpn = victim.a.qp->qpn();
        // A QPN nobody owns answers exactly like the victim's QPN.
        const uint32_t unused_qpn = spec::limits::MAX_QP - 1;
        for (uint32_t q : {qpn, unused_qpn}) {
            SCOPED_TRACE(q);
            EXPECT_EQ(
                exec(attacker, cmd::opcode::QUERY_QP, cmd::query_qp_in{q}, cmd::QUERY_QP_IN_SIZE),
                status::BAD_RES);
            cmd::modify_qp_in m{};
            m.qpn = q;
            m.new_state = static_cast<uint32_t>(spec::qp_state::ERR);
            m.attr_mask = spec::qp_attr::STATE;
            EXPECT_EQ(exec(attacker, cmd::opcode::MODIFY_QP, m, cmd::MODIFY_QP_IN_SIZE),
                      status::BAD_RES);
            EXPECT_EQ(exec(attacker, cmd::opcode::DESTROY_QP, cmd::destroy_qp_in{q},
                           cmd::DESTROY_QP_IN_SIZE),
                      status::BAD_RES);
        }
        EXPECT_EQ(exec(attacker, cmd::opcode::DESTROY_CQ, cmd::destroy_cq_in{victim.a.scq->cqn()},
                       cmd::DESTROY_CQ_IN_SIZE),
                  status::BAD_RES);
        EXPECT_EQ(exec(attacker, cmd::opcode::DEREG_MR, cmd::dereg_mr_in{victim.a.lkey},
                       cmd::DEREG_MR_IN_SIZE),
                  status::BAD_RES);
        EXPECT_EQ(exec(attacker, cmd::opcode::DESTROY_PD, cmd::destroy_pd_in{victim.a.pd},
                       cmd::DESTROY_PD_IN_SIZE),
                  status::BAD_RES);
        EXPECT_EQ(exec(attacker, cmd::opcode::DESTROY_EQ,
                       cmd::destroy_eq_in{h.vf(1).async_eq().eqn()}, cmd::DESTROY_EQ_IN_SIZE),
                  status::BAD_RES);
        cmd::create_cq_in c{};
        c.log_size = 4;
        c.eqn = h.vf(1).async_eq().eqn();  // binding a CQ to another function's EQ
        c.ring_addr = victim.a.buf.bus;
        EXPECT_EQ(exec(attacker, cmd::opcode::CREATE_CQ, c, cmd::CREATE_CQ_IN_SIZE),
                  status::BAD_RES);
        uint32_t lkey = 0, rkey = 0;
        EXPECT_EQ(attacker.reg_mr(victim.a.pd, 0, 4096, victim.a.buf.bus, 0, lkey, rkey).status,
                  status::BAD_RES);
        // The victim's resources are intact and carry traffic.
        spec::cmd::query_qp_out q{};
        ASSERT_TRUE(victim.a.qp->query(h.vf(1).cmd(), q).ok());
        EXPECT_EQ(q.state, static_cast<uint32_t>(spec::qp_state::RTS));
        victim.start(8, 1024, 11);
        ASSERT_TRUE(test::run_flows(h.pf_bus, {&victim}));
        EXPECT_EQ(victim.errors, 0u);
        EXPECT_EQ(victim.mismatches(), 0u);
    });
}

TEST(sriov_isolation, doorbell_for_another_functions_queue_is_dropped_and_counted) {
    auto plat = test::run_sriov([&](test::sriov_host& h) {
        std::string err;
        ASSERT_TRUE(h.bring_up(2, 2, err)) << err;
        test::flow victim;
        ASSERT_TRUE(victim.setup(h.vf(1), h.vf(1), err)) << err;
        drv::device& attacker = h.vf(2);
        cosim::sc_bus& abus = h.bus(2);
        const uint64_t wqes = h.plat.adapter.counters().wqes;
        const uint32_t errs_before = abus.mmio_read32(attacker.bar0() + reg::DB_ERR_COUNT);
        namespace db = spec::bar0::db;
        const uint64_t ring = db::SQ_DB_QPN.make(victim.a.qp->qpn()) | db::SQ_DB_PI.make(5);
        abus.mmio_write64(attacker.db_page(0) + db::SQ_DB, ring);
        abus.mmio_write64(attacker.db_page(0) + db::CQ_DB,
                          db::CQ_DB_CQN.make(victim.a.scq->cqn()) | db::CQ_DB_ARM.make(1));
        for (int i = 0; i < 50; ++i) abus.relax();
        EXPECT_EQ(abus.mmio_read32(attacker.bar0() + reg::DB_ERR_COUNT), errs_before + 2);
        EXPECT_EQ(h.bus(1).mmio_read32(h.vf(1).bar0() + reg::DB_ERR_COUNT), 0u);
        EXPECT_EQ(h.plat.adapter.counters().wqes, wqes) << "no WQE fetched for the victim";
        EXPECT_EQ(h.plat.adapter.contexts().fns[2].errors, 2u);
        // The victim's queue is undisturbed: its own traffic runs clean.
        victim.start(4, 512, 3);
        ASSERT_TRUE(test::run_flows(h.pf_bus, {&victim}));
        EXPECT_EQ(victim.errors, 0u);
        EXPECT_EQ(victim.mismatches(), 0u);
    });
}

TEST(sriov_isolation, another_functions_keys_are_refused_and_no_byte_moves) {
    auto plat = test::run_sriov([&](test::sriov_host& h) {
        std::string err;
        ASSERT_TRUE(h.bring_up(2, 2, err)) << err;
        test::flow victim, attacker;
        ASSERT_TRUE(victim.setup(h.vf(1), h.vf(1), err)) << err;
        ASSERT_TRUE(attacker.setup(h.vf(2), h.vf(2), err)) << err;
        std::memset(victim.b.cpu(), 0x77, 4096);
        std::memset(attacker.a.cpu(), 0xEE, 4096);
        // Remote: an RDMA WRITE naming the victim's rkey and buffer.
        drv::send_wr w;
        w.wr_id = 1;
        w.opcode = spec::wqe_opcode::RDMA_WRITE;
        w.sg_list[0] = {attacker.a.addr(0), 256, attacker.a.lkey};
        w.num_sge = 1;
        w.remote_addr = victim.b.addr(0);
        w.rkey = victim.b.rkey;
        ASSERT_EQ(attacker.a.qp->post_send(w), 0);
        spec::cqe wc{};
        drv::bus& io = h.pf_bus;
        const uint64_t deadline = io.now_ns() + 5'000'000;
        while (attacker.a.scq->poll(&wc, 1) == 0 && io.now_ns() < deadline) io.relax();
        EXPECT_EQ(wc.status, static_cast<uint8_t>(spec::cqe_status::REM_ACCESS_ERR));
        for (int i = 0; i < 4096; ++i) ASSERT_EQ(victim.b.cpu()[i], 0x77) << "byte " << i;
        // Local: a SEND gathering through the victim's lkey.
        test::flow local;
        ASSERT_TRUE(local.setup(h.vf(2), h.vf(2), err)) << err;
        drv::send_wr s;
        s.wr_id = 2;
        s.sg_list[0] = {victim.a.addr(0), 64, victim.a.lkey};
        s.num_sge = 1;
        ASSERT_EQ(local.a.qp->post_send(s), 0);
        spec::cqe lc{};
        const uint64_t d2 = io.now_ns() + 5'000'000;
        while (local.a.scq->poll(&lc, 1) == 0 && io.now_ns() < d2) io.relax();
        EXPECT_EQ(lc.status, static_cast<uint8_t>(spec::cqe_status::LOC_PROT_ERR));
    });
}

TEST(sriov_isolation, manager_commands_from_a_vf_are_bad_op_and_change_nothing) {
    auto plat = test::run_sriov([&](test::sriov_host& h) {
        std::string err;
        ASSERT_TRUE(h.bring_up(2, 2, err)) << err;
        drv::device& vf = h.vf(1);
        cmd::set_vf_quota_in q{};
        q.fn = 1;
        q.pds = 1;
        EXPECT_EQ(exec(vf, cmd::opcode::SET_VF_QUOTA, q, cmd::SET_VF_QUOTA_IN_SIZE),
                  status::BAD_OP);
        cmd::set_vf_addr_in a{};
        a.fn = 1;
        a.mac = test::vf_mac(2);
        EXPECT_EQ(exec(vf, cmd::opcode::SET_VF_ADDR, a, cmd::SET_VF_ADDR_IN_SIZE), status::BAD_OP);
        cmd::set_vf_qos_in qos{};
        qos.fn = 1;
        qos.weight = 100;
        EXPECT_EQ(exec(vf, cmd::opcode::SET_VF_QOS, qos, cmd::SET_VF_QOS_IN_SIZE), status::BAD_OP);
        EXPECT_EQ(exec(vf, cmd::opcode::QUERY_VF_STATS, cmd::query_vf_stats_in{2},
                       cmd::QUERY_VF_STATS_IN_SIZE),
                  status::BAD_OP);
        EXPECT_EQ(exec(vf, cmd::opcode::RESET_VF, cmd::reset_vf_in{2}, cmd::RESET_VF_IN_SIZE),
                  status::BAD_OP);
        cmd::set_qp_qos_in qq{};
        qq.qpn = 2;
        qq.weight = 9;
        EXPECT_EQ(exec(vf, cmd::opcode::SET_QP_QOS, qq, cmd::SET_QP_QOS_IN_SIZE), status::BAD_OP);
        // Nothing changed: no quota (two PDs are fine), same address, same QoS, VF 2 alive.
        uint32_t p1 = 0, p2 = 0;
        EXPECT_TRUE(vf.create_pd(p1).ok());
        EXPECT_TRUE(vf.create_pd(p2).ok());
        const model::function_ctx& f1 = h.plat.adapter.contexts().fns[1];
        EXPECT_EQ(model::mac_to_u64(f1.mac), test::vf_mac(1));
        EXPECT_EQ(f1.qos_weight, 1u);
        EXPECT_TRUE(h.vf(2).cmd().exec(cmd::opcode::NOP, nullptr, 0, nullptr, 0).ok());
        EXPECT_EQ(f1.errors, 6u);
    });
}

TEST(sriov_isolation, quotas_give_lim_err_and_leave_other_functions_alone) {
    auto plat = test::run_sriov([&](test::sriov_host& h) {
        std::string err;
        ASSERT_TRUE(h.bring_up(2, 0, err)) << err;
        drv::vf_quota q;
        q.qps = 1;
        q.cqs = 2;
        q.pds = 1;
        q.mrs = 1;
        q.eqs = 1;
        ASSERT_TRUE(h.mgr->set_quota(1, q).ok());
        drv::vf_quota too_big;
        too_big.qps = spec::limits::MAX_QP + 1;
        EXPECT_EQ(h.mgr->set_quota(1, too_big).status, status::LIM_ERR);
        EXPECT_EQ(h.mgr->set_quota(spec::pci::TOTAL_VFS + 1, q).status, status::BAD_PARAM);
        drv::device& vf = h.vf(1);
        ASSERT_TRUE(vf.probe()) << vf.last_error();  // its async EQ is its one EQ
        uint32_t pd = 0, pd2 = 0;
        ASSERT_TRUE(vf.create_pd(pd).ok());
        EXPECT_EQ(vf.create_pd(pd2).status, status::LIM_ERR);
        drv::cmd_result r;
        auto cq1 = vf.create_cq(4, r);
        auto cq2 = vf.create_cq(4, r);
        ASSERT_TRUE(cq1 && cq2);
        EXPECT_EQ(vf.create_cq(4, r), nullptr);
        EXPECT_EQ(r.status, status::LIM_ERR);
        auto qp1 = vf.create_qp(spec::qp_type::RC, *cq1, *cq2, 4, 4, r, pd);
        ASSERT_TRUE(qp1);
        EXPECT_EQ(vf.create_qp(spec::qp_type::RC, *cq1, *cq2, 4, 4, r, pd), nullptr);
        EXPECT_EQ(r.status, status::LIM_ERR);
        drv::dma_buffer buf = vf.io().dma_alloc(8192, 4096);
        uint32_t lkey = 0, rkey = 0;
        EXPECT_TRUE(vf.reg_mr(pd, buf.bus, 4096, buf.bus, 0, lkey, rkey).ok());
        EXPECT_EQ(vf.reg_mr(pd, buf.bus, 4096, buf.bus, 0, lkey, rkey).status, status::LIM_ERR);
        // Another VF and the PF are not limited by VF 1's quota.
        drv::device& other = h.vf(2);
        ASSERT_TRUE(other.probe()) << other.last_error();
        uint32_t a = 0, b = 0;
        EXPECT_TRUE(other.create_pd(a).ok());
        EXPECT_TRUE(other.create_pd(b).ok());
        EXPECT_TRUE(h.pf->create_pd(a).ok());
        EXPECT_TRUE(h.pf->create_pd(b).ok());
        // Raising the quota lets VF 1 grow again.
        q.pds = 2;
        ASSERT_TRUE(h.mgr->set_quota(1, q).ok());
        EXPECT_TRUE(vf.create_pd(pd2).ok());
    });
}

TEST(sriov_isolation, manager_sets_qos_and_addresses_and_refuses_bad_values) {
    auto plat = test::run_sriov([&](test::sriov_host& h) {
        std::string err;
        ASSERT_TRUE(h.bring_up(2, 1, err)) << err;
        test::flow f;
        ASSERT_TRUE(f.setup(h.vf(1), h.vf(1), err)) << err;
        const model::device_contexts& ctx = h.plat.adapter.contexts();
        EXPECT_TRUE(h.mgr->set_vf_qos(1, 3, 10'000).ok());
        EXPECT_EQ(ctx.fns[1].qos_weight, 3u);
        EXPECT_EQ(ctx.fns[1].max_rate_mbps, 10'000u);
        EXPECT_EQ(h.mgr->set_vf_qos(1, 0, 0).status, status::BAD_PARAM);
        EXPECT_EQ(ctx.fns[1].qos_weight, 3u);
        // Per-QP QoS on a VF's QP, set by the PF.
        EXPECT_TRUE(h.mgr->set_qp_qos(f.a.qp->qpn(), 5, 2'500).ok());
        EXPECT_EQ(ctx.qps[f.a.qp->qpn()].qos_weight, 5u);
        EXPECT_EQ(ctx.qps[f.a.qp->qpn()].rate_limit_mbps, 2'500u);
        EXPECT_EQ(h.mgr->set_qp_qos(spec::limits::MAX_QP - 1, 1, 0).status, status::BAD_RES);
        // Addresses: multicast MAC and bad spoof_check values are refused.
        EXPECT_EQ(h.mgr->set_address(2, 0x010000000001ull, 0, 1, true).status, status::BAD_PARAM);
        EXPECT_TRUE(h.mgr->set_address(2, test::vf_mac(9), 0, 9, false).ok());
        EXPECT_EQ(model::mac_to_u64(ctx.fns[2].mac), test::vf_mac(9));
        EXPECT_FALSE(ctx.fns[2].spoof_check);
        ASSERT_GE(h.log.size(), 6u);
        EXPECT_NE(h.log.back().find("set_address fn=2"), std::string::npos) << h.log.back();
    });
}

}  // namespace
}  // namespace chio
