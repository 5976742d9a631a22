// rc_pingpong: the consumer API's example program, after rdma-core's ibv_rc_pingpong.
//
// Two simulated hosts, each with one chio adapter, joined by a link. Each host's driver thread
// opens its device, creates a PD, registers a buffer, creates a CQ and an RC QP, swaps
// {QP number, PSN, MAC, GID, buffer address, rkey} with its peer out of band (tb::rendezvous
// stands in for rc_pingpong's TCP socket), connects its QP (RESET -> INIT -> RTR -> RTS), and then
//   - ping-pongs SEND/RECV messages `iters` times, checking every byte,
//   - RDMA WRITEs a pattern into the server's buffer and RDMA READs it back, checking both ends.
// The server waits for completions with a completion channel (arm, sleep for the event, poll);
// the client busy-polls. Exit status 0 when every check passed.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <systemc>

#include "cosim/topology.h"
#include "driver/verbs.h"
#include "testbenches/scenarios/rendezvous.h"

namespace {

namespace v = chio::verbs;

constexpr uint32_t MSG_SIZE = 8192;  // two MTU-4096 packets per message
constexpr int ITERS = 16;
constexpr uint64_t TIMEOUT_NS = 10'000'000;  // 10 ms of simulated time per completion
constexpr uint64_t RECV_WRID = 1, SEND_WRID = 2, WRITE_WRID = 3, READ_WRID = 4;

// Buffer layout: four MSG_SIZE regions.
constexpr uint64_t SEND_OFF = 0, RECV_OFF = MSG_SIZE, RDMA_OFF = 2 * MSG_SIZE,
                   READ_OFF = 3 * MSG_SIZE, BUF_SIZE = 4 * MSG_SIZE;

uint8_t pattern(int who, int iter, uint32_t i) {
    return static_cast<uint8_t>(who * 31 + iter * 7 + i);
}

struct side {
    const char* name;   // "server" or "client"
    const char* peer;   // the other side's name in the rendezvous
    bool use_events;    // completion channel (true) or busy polling (false)
    int who;            // 0 server, 1 client: seeds the data patterns
    std::string error;  // why the side failed, empty on success

    v::context* ctx = nullptr;
    v::pd* pd = nullptr;
    v::comp_channel* channel = nullptr;
    v::cq* send_cq = nullptr;  // separate CQs: a pong may complete before our ping's ACK
    v::cq* recv_cq = nullptr;
    v::qp* qp = nullptr;
    v::mr* mr = nullptr;
    uint8_t* buf = nullptr;
    uint64_t peer_addr = 0;
    uint32_t peer_rkey = 0;

    bool fail(const std::string& why) {
        error = std::string(name) + ": " + why;
        return false;
    }

    // Waits for the next completion on `cq` and checks it succeeded.
    bool wait_wc(v::cq* cq, v::wc& wc) {
        chio::drv::bus& bus = v::driver_bus(ctx);
        const uint64_t deadline = bus.now_ns() + TIMEOUT_NS;
        for (;;) {
            if (v::poll_cq(cq, 1, &wc) == 1) break;
            if (bus.now_ns() >= deadline) return fail("no completion in time");
            if (!use_events) {
                bus.relax();
                continue;
            }
            // Arm, then poll once more: a completion that arrived before the arm raises no event.
            v::req_notify_cq(cq, 0);
            if (v::poll_cq(cq, 1, &wc) == 1) break;
            v::cq* ev_cq = nullptr;
            void* ev_ctx = nullptr;
            if (v::get_cq_event(channel, &ev_cq, &ev_ctx, deadline - bus.now_ns()) == 0) {
                v::ack_cq_events(ev_cq, 1);
            }
        }
        if (wc.status != v::wc_status::SUCCESS) {
            return fail(std::string("wr_id ") + std::to_string(wc.wr_id) + " completed with " +
                        v::wc_status_str(wc.status));
        }
        return true;
    }

    bool post_recv() {
        v::sge s{reinterpret_cast<uintptr_t>(buf + RECV_OFF), MSG_SIZE, mr->lkey};
        v::recv_wr wr;
        wr.wr_id = RECV_WRID;
        wr.sg_list = &s;
        wr.num_sge = 1;
        v::recv_wr* bad = nullptr;
        return v::post_recv(qp, &wr, &bad) == 0 || fail("post_recv refused");
    }

    // Posts one signaled request on a single gather entry of our buffer and waits for it.
    bool post_and_wait(v::wr_opcode op, uint64_t wr_id, uint64_t local_off, uint64_t remote_off) {
        v::sge s{reinterpret_cast<uintptr_t>(buf + local_off), MSG_SIZE, mr->lkey};
        v::send_wr wr;
        wr.wr_id = wr_id;
        wr.opcode = op;
        wr.send_flags = v::SEND_SIGNALED;
        wr.sg_list = &s;
        wr.num_sge = 1;
        wr.wr.rdma.remote_addr = peer_addr + remote_off;
        wr.wr.rdma.rkey = peer_rkey;
        v::send_wr* bad = nullptr;
        if (v::post_send(qp, &wr, &bad) != 0) return fail("post_send refused");
        v::wc wc;
        if (!wait_wc(send_cq, wc)) return false;
        return wc.wr_id == wr_id || fail("unexpected completion " + std::to_string(wc.wr_id));
    }

    bool setup(chio::drv::bus& bus) {
        std::string why;
        ctx = v::open_device(bus, {}, &why);
        if (ctx == nullptr) return fail("open_device: " + why);
        pd = v::alloc_pd(ctx);
        channel = v::create_comp_channel(ctx);
        v::comp_channel* ch = use_events ? channel : nullptr;
        send_cq = v::create_cq(ctx, 64, nullptr, ch, 0);
        recv_cq = v::create_cq(ctx, 64, nullptr, ch, 0);
        buf = static_cast<uint8_t*>(v::alloc_buf(ctx, BUF_SIZE));
        if (!pd || !channel || !send_cq || !recv_cq || !buf)
            return fail("PD, channel, CQs, buffer");
        const int access = v::ACCESS_LOCAL_WRITE | v::ACCESS_REMOTE_WRITE | v::ACCESS_REMOTE_READ;
        mr = v::reg_mr(pd, buf, BUF_SIZE, access);
        if (mr == nullptr) return fail("reg_mr");
        v::qp_init_attr init;
        init.send_cq = send_cq;
        init.recv_cq = recv_cq;
        init.qp_type = v::qp_type::RC;
        init.cap.max_send_wr = 16;
        init.cap.max_recv_wr = 16;
        init.cap.max_send_sge = 1;
        init.cap.max_recv_sge = 1;
        qp = v::create_qp(pd, &init);
        return qp != nullptr || fail("create_qp");
    }

    bool connect(chio::tb::rendezvous& rv) {
        v::port_attr port;
        if (v::query_port(ctx, 1, &port) != 0) return fail("query_port");
        const uint32_t my_psn = 0x1000u * static_cast<uint32_t>(who + 1);
        rv.put(name, {qp->qp_num, my_psn, port.mac, port.gid0.hi, port.gid0.lo,
                      reinterpret_cast<uintptr_t>(buf), mr->rkey});
        const std::vector<uint64_t> p = rv.get(peer);
        peer_addr = p[5];
        peer_rkey = static_cast<uint32_t>(p[6]);

        v::qp_attr a;
        a.qp_state = v::qp_state::INIT;
        a.pkey_index = 0;
        a.port_num = 1;
        a.qp_access_flags = v::ACCESS_REMOTE_WRITE | v::ACCESS_REMOTE_READ;
        if (v::modify_qp(qp, &a, v::QP_STATE | v::QP_PKEY_INDEX | v::QP_PORT | v::QP_ACCESS_FLAGS))
            return fail("modify_qp to INIT");
        // Receives may be posted from INIT on; post the first before the peer can send.
        if (!post_recv()) return false;
        a.qp_state = v::qp_state::RTR;
        a.path_mtu = port.active_mtu;
        a.dest_qp_num = static_cast<uint32_t>(p[0]);
        a.rq_psn = static_cast<uint32_t>(p[1]);
        a.ah_attr.dmac = p[2];
        a.ah_attr.dgid = {p[3], p[4]};
        a.max_dest_rd_atomic = 1;
        a.min_rnr_timer = 12;
        if (v::modify_qp(qp, &a,
                         v::QP_STATE | v::QP_AV | v::QP_PATH_MTU | v::QP_DEST_QPN | v::QP_RQ_PSN |
                             v::QP_MAX_DEST_RD_ATOMIC | v::QP_MIN_RNR_TIMER))
            return fail("modify_qp to RTR");
        a.qp_state = v::qp_state::RTS;
        a.sq_psn = my_psn;
        a.timeout = 14;
        a.retry_cnt = 7;
        a.rnr_retry = 7;
        a.max_rd_atomic = 1;
        if (v::modify_qp(qp, &a,
                         v::QP_STATE | v::QP_SQ_PSN | v::QP_TIMEOUT | v::QP_RETRY_CNT |
                             v::QP_RNR_RETRY | v::QP_MAX_QP_RD_ATOMIC))
            return fail("modify_qp to RTS");
        rv.barrier("connected", 2);
        return true;
    }

    // The client sends first; each side checks what it received, re-posts its receive, replies.
    bool pingpong() {
        for (int it = 0; it < ITERS; ++it) {
            const bool my_turn_first = who == 1;
            for (int step = 0; step < 2; ++step) {
                const bool sending = (step == 0) == my_turn_first;
                v::wc wc;
                if (sending) {
                    for (uint32_t i = 0; i < MSG_SIZE; ++i) buf[SEND_OFF + i] = pattern(who, it, i);
                    if (!post_and_wait(v::wr_opcode::SEND, SEND_WRID, SEND_OFF, 0)) return false;
                    continue;
                }
                if (!wait_wc(recv_cq, wc)) return false;
                if (wc.wr_id != RECV_WRID || wc.opcode != v::wc_opcode::RECV ||
                    wc.byte_len != MSG_SIZE)
                    return fail("unexpected receive completion");
                for (uint32_t i = 0; i < MSG_SIZE; ++i) {
                    if (buf[RECV_OFF + i] != pattern(1 - who, it, i)) {
                        return fail("iteration " + std::to_string(it) + ": byte " +
                                    std::to_string(i) + " differs");
                    }
                }
                if (!post_recv()) return false;
            }
        }
        return true;
    }

    // The client writes a pattern into the server's RDMA region and reads it back.
    bool rdma(chio::tb::rendezvous& rv) {
        if (who == 1) {
            for (uint32_t i = 0; i < MSG_SIZE; ++i) buf[SEND_OFF + i] = pattern(2, 0, i);
            if (!post_and_wait(v::wr_opcode::RDMA_WRITE, WRITE_WRID, SEND_OFF, RDMA_OFF) ||
                !post_and_wait(v::wr_opcode::RDMA_READ, READ_WRID, READ_OFF, RDMA_OFF))
                return false;
            if (std::memcmp(buf + READ_OFF, buf + SEND_OFF, MSG_SIZE) != 0) {
                return fail("RDMA READ returned other bytes than the RDMA WRITE wrote");
            }
        }
        rv.barrier("rdma-done", 2);
        if (who == 0) {
            for (uint32_t i = 0; i < MSG_SIZE; ++i) {
                if (buf[RDMA_OFF + i] != pattern(2, 0, i)) return fail("RDMA WRITE data differs");
            }
        }
        return true;
    }

    void run(chio::drv::bus& bus, chio::tb::rendezvous& rv) {
        if (setup(bus) && connect(rv) && pingpong()) rdma(rv);
        if (ctx) v::close_device(ctx);  // destroys the QP, CQ, MR, PD; frees the buffer
    }
};

}  // namespace

int sc_main(int, char**) {
    chio::cosim::topology_params tp;
    tp.kind = chio::cosim::topology_kind::pair;
    chio::cosim::topology net(tp);
    chio::tb::rendezvous rv;
    side server{"server", "client", true, 0, {}};
    side client{"client", "server", false, 1, {}};
    net.host(0).run_driver([&](chio::drv::bus& b) { server.run(b, rv); });
    net.host(1).run_driver([&](chio::drv::bus& b) { client.run(b, rv); });
    sc_core::sc_start();  // returns when both driver threads have returned

    for (const side* s : {&server, &client}) {
        if (!s->error.empty()) std::fprintf(stderr, "rc_pingpong: %s\n", s->error.c_str());
    }
    const bool ok = server.error.empty() && client.error.empty();
    std::printf("rc_pingpong: %d x %u-byte ping-pong, RDMA WRITE + READ of %u bytes: %s\n", ITERS,
                MSG_SIZE, MSG_SIZE, ok ? "PASS" : "FAIL");
    return ok ? 0 : 1;
}

int main(int argc, char** argv) {
    setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 0);
    return sc_core::sc_elab_and_sim(argc, argv);
}
