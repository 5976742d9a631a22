#include "testbenches/scenarios/loopback.h"

#include <cstring>
#include <memory>
#include <vector>

#include "driver/device.h"

namespace chio::tb {

namespace {

using spec::qp_state;
namespace a = spec::qp_attr;

void fill(uint8_t* p, uint32_t len, uint64_t seed, uint64_t i) { fill_pattern(p, len, seed, i); }

// RESET -> INIT -> RTR -> RTS with the attributes each RC transition requires, towards QP
// `dest` behind the port described by `peer`.
bool connect(drv::device& dev, drv::queue_pair& qp, uint32_t dest,
             const spec::cmd::query_port_out& peer, std::string& err) {
    auto& c = dev.cmd();
    drv::qp_attr_values v;
    v.dest_qpn = dest;
    v.port = 1;
    v.access_flags = spec::access_flags::LOCAL_WRITE | spec::access_flags::REMOTE_WRITE |
                     spec::access_flags::REMOTE_READ | spec::access_flags::REMOTE_ATOMIC;
    v.dest_mac = peer.mac;
    v.dest_gid_hi = peer.gid_hi;
    v.dest_gid_lo = peer.gid_lo;
    const struct {
        qp_state s;
        uint32_t mask;
    } steps[] = {{qp_state::INIT, a::STATE | a::PKEY_INDEX | a::PORT | a::ACCESS_FLAGS},
                 {qp_state::RTR, a::STATE | a::AV | a::PATH_MTU | a::DEST_QPN | a::RQ_PSN |
                                     a::MAX_DEST_RD_ATOMIC | a::MIN_RNR_TIMER},
                 {qp_state::RTS, a::STATE | a::SQ_PSN | a::TIMEOUT | a::RETRY_CNT | a::RNR_RETRY |
                                     a::MAX_QP_RD_ATOMIC}};
    for (const auto& s : steps) {
        const drv::cmd_result r = qp.modify(c, s.s, s.mask, v);
        if (!r.ok()) {
            err = std::string("MODIFY_QP to ") + spec::to_string(s.s) +
                  " failed: " + spec::cmd::to_string(r.status);
            return false;
        }
    }
    return true;
}

}  // namespace

loopback_result run_loopback(drv::bus& bus, const sim_options& o) {
    loopback_result res;
    drv::device dev(bus);
    if (!dev.probe()) {
        res.error = "bring-up: " + dev.last_error();
        return res;
    }
    drv::cmd_result r;
    uint32_t pd = 0;
    spec::cmd::query_port_out port{};
    if (!dev.create_pd(pd).ok() || !dev.query_port(port).ok()) {
        res.error = "CREATE_PD or QUERY_PORT failed";
        return res;
    }
    auto scq = dev.create_cq(10, r);
    auto rcq = scq ? dev.create_cq(10, r) : nullptr;
    if (!scq || !rcq) {
        res.error = std::string("CREATE_CQ failed: ") + spec::cmd::to_string(r.status);
        return res;
    }
    auto qa = dev.create_qp(spec::qp_type::RC, *scq, *rcq, 8, 8, r, pd);
    auto qb = qa ? dev.create_qp(spec::qp_type::RC, *scq, *rcq, 8, 8, r, pd) : nullptr;
    if (!qa || !qb) {
        res.error = std::string("CREATE_QP failed: ") + spec::cmd::to_string(r.status);
        return res;
    }
    if (!connect(dev, *qa, qb->qpn(), port, res.error) ||
        !connect(dev, *qb, qa->qpn(), port, res.error)) {
        return res;
    }

    const uint32_t depth = o.depth;
    const uint32_t slot_size = o.size == 0 ? 1 : o.size;
    drv::dma_buffer tx = bus.dma_alloc(uint64_t{slot_size} * depth, 4096);
    drv::dma_buffer rx = bus.dma_alloc(uint64_t{slot_size} * depth, 4096);
    if (tx.cpu == nullptr || rx.cpu == nullptr) {
        res.error = "out of host memory for buffers";
        return res;
    }
    // The driver's bus addresses serve as I/O virtual addresses (iova == pa).
    uint32_t tx_lkey = 0, rx_lkey = 0, unused = 0;
    if (!dev.reg_mr(pd, tx.bus, tx.size, tx.bus, 0, tx_lkey, unused).ok() ||
        !dev.reg_mr(pd, rx.bus, rx.size, rx.bus, spec::access_flags::LOCAL_WRITE, rx_lkey, unused)
             .ok()) {
        res.error = "REG_MR failed";
        return res;
    }
    auto* txp = static_cast<uint8_t*>(tx.cpu);
    auto* rxp = static_cast<uint8_t*>(rx.cpu);
    std::vector<uint8_t> send_seen(o.count, 0), recv_seen(o.count, 0);
    std::vector<uint8_t> expect(slot_size);
    res.expected = 2 * o.count;

    uint64_t posted = 0, sends_done = 0, recvs_done = 0;
    // Liveness bound: no progress for this long (simulated) means completions were lost.
    const uint64_t stall_ns = 1000000;
    uint64_t last_progress = bus.now_ns();
    spec::cqe wc[32];
    while (sends_done < o.count || recvs_done < o.count) {
        while (posted < o.count && posted - std::min(sends_done, recvs_done) < depth) {
            const uint64_t slot = posted % depth;
            fill(txp + slot * slot_size, o.size, o.seed, posted);
            std::memset(rxp + slot * slot_size, 0, slot_size);
            drv::recv_wr rw;
            rw.wr_id = posted;
            // --inject-error: a receive buffer too short for its message, so the receiver
            // completes it with a length error and the QP goes to ERR (a known failure to
            // capture in a triggered trace).
            const uint32_t rx_len = posted == o.inject_error ? o.size / 2 : o.size;
            rw.sg_list[0] = {rx.bus + slot * slot_size, rx_len, rx_lkey};
            rw.num_sge = 1;
            drv::send_wr sw;
            sw.wr_id = posted;
            sw.sg_list[0] = {tx.bus + slot * slot_size, o.size, tx_lkey};
            sw.num_sge = 1;
            if (int e = qb->post_recv(rw); e != 0) {
                res.error = "post_recv failed: errno " + std::to_string(e);
                return res;
            }
            if (int e = qa->post_send(sw); e != 0) {
                res.error = "post_send failed: errno " + std::to_string(e);
                return res;
            }
            ++posted;
            ++res.sends;
        }
        bool progress = false;
        for (drv::completion_queue* cq : {scq.get(), rcq.get()}) {
            const int n = cq->poll(wc, 32);
            for (int k = 0; k < n; ++k) {
                const spec::cqe& c = wc[k];
                progress = true;
                const bool recv = c.opcode >= static_cast<uint8_t>(spec::cqe_opcode::RECV);
                if (c.wr_id >= o.count) {
                    ++res.duplicated;  // a completion for nothing we posted
                    continue;
                }
                auto& seen = recv ? recv_seen[c.wr_id] : send_seen[c.wr_id];
                if (seen++ != 0) {
                    ++res.duplicated;
                    continue;
                }
                ++res.seen;
                ++(recv ? recvs_done : sends_done);
                if (c.status != static_cast<uint8_t>(spec::cqe_status::SUCCESS)) {
                    ++res.error_completions;
                    if (res.error.empty()) {
                        res.error = std::string(recv ? "receive" : "send") + " completion " +
                                    std::to_string(c.wr_id) + " status " +
                                    spec::to_string(static_cast<spec::cqe_status>(c.status));
                    }
                    continue;
                }
                if (!recv) continue;
                fill(expect.data(), o.size, o.seed, c.wr_id);
                const uint8_t* got = rxp + (c.wr_id % depth) * slot_size;
                if (c.byte_len != o.size || std::memcmp(got, expect.data(), o.size) != 0) {
                    ++res.data_mismatches;
                } else {
                    res.bytes_verified += o.size;
                }
            }
        }
        if (progress) {
            last_progress = bus.now_ns();
        } else if (bus.now_ns() - last_progress > stall_ns) {
            if (res.error.empty()) res.error = "no completion for 1 ms of simulated time";
            break;
        } else {
            bus.relax();
        }
    }
    res.per_opcode["SEND"] = res.sends;

    dev.destroy_qp(*qa);
    dev.destroy_qp(*qb);
    scq->destroy(dev.cmd());
    rcq->destroy(dev.cmd());
    dev.dereg_mr(tx_lkey);
    dev.dereg_mr(rx_lkey);
    dev.destroy_pd(pd);
    bus.dma_free(tx);
    bus.dma_free(rx);
    res.finish();
    return res;
}

}  // namespace chio::tb
