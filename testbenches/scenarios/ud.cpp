#include "testbenches/scenarios/ud.h"

#include <algorithm>
#include <cstring>
#include <memory>

#include "driver/device.h"
#include "testbenches/scenarios/rendezvous.h"

namespace chio::tb {

namespace {

namespace a = spec::qp_attr;
constexpr uint32_t QKEY = 0x11111111;
constexpr uint64_t TIMEOUT_NS = 100000000;

struct shared_state {
    rendezvous rv;
};

void run_host(unsigned me, unsigned n, drv::bus& b, const sim_options& o, shared_state& sh,
              scenario_result& res) {
    const std::string tag = "host" + std::to_string(me);
    drv::device dev(b);
    if (!dev.probe()) return res.fail(tag + " bring-up: " + dev.last_error());
    uint32_t pd = 0;
    spec::cmd::query_port_out port{};
    dev.create_pd(pd);
    dev.query_port(port);
    const uint32_t incoming = static_cast<uint32_t>(o.count) * (n - 1);
    unsigned rq_log = 1;
    while ((1u << rq_log) < incoming && rq_log < spec::limits::MAX_WQ_LOG_SIZE) ++rq_log;
    drv::cmd_result r;
    auto cq = dev.create_cq(std::min(rq_log + 1, spec::limits::MAX_CQ_LOG_SIZE), r);
    if (!cq) return res.fail(tag + " CREATE_CQ failed");
    auto qp = dev.create_qp(spec::qp_type::UD, *cq, *cq, 8, rq_log, r, pd);
    if (!qp) return res.fail(tag + " CREATE_QP failed");
    drv::qp_attr_values v;
    v.qkey = QKEY;
    if (!qp->modify(dev.cmd(), spec::qp_state::INIT, a::STATE | a::PKEY_INDEX | a::PORT | a::QKEY,
                    v)
             .ok() ||
        !qp->modify(dev.cmd(), spec::qp_state::RTR, a::STATE, v).ok() ||
        !qp->modify(dev.cmd(), spec::qp_state::RTS, a::STATE | a::SQ_PSN, v).ok()) {
        return res.fail(tag + " UD QP did not reach RTS");
    }
    const uint32_t size = std::max<uint32_t>(16, std::min<uint32_t>(o.size, 4096));
    const uint64_t slot = size + spec::roce::GRH;
    constexpr uint64_t SEND_SLOTS = 8;  // sends in flight, each with its own buffer
    drv::dma_buffer buf = b.dma_alloc(slot * (incoming + SEND_SLOTS), 4096);
    uint32_t lkey = 0, unused = 0;
    dev.reg_mr(pd, buf.bus, buf.size, buf.bus, spec::access_flags::LOCAL_WRITE, lkey, unused);
    auto* cpu = static_cast<uint8_t*>(buf.cpu);
    for (uint32_t i = 0; i < incoming; ++i) {
        drv::recv_wr w;
        w.wr_id = i;
        w.sg_list[0] = {buf.bus + (i + SEND_SLOTS) * slot, static_cast<uint32_t>(slot), lkey};
        w.num_sge = 1;
        if (qp->post_recv(w) != 0) return res.fail(tag + " post_recv failed");
    }
    sh.rv.put(tag, {qp->qpn(), port.mac, port.gid_hi, port.gid_lo});
    std::vector<uint32_t> ahs(n), qpns(n);
    for (unsigned p = 0; p < n; ++p) {
        if (p == me) continue;
        const auto rec = sh.rv.get("host" + std::to_string(p));
        qpns[p] = static_cast<uint32_t>(rec[0]);
        if (!dev.create_ah(pd, rec[1], rec[2], rec[3], ahs[p]).ok())
            return res.fail(tag + " CREATE_AH failed");
    }
    sh.rv.barrier("receives posted", n);
    // Sends: count datagrams to every peer, interleaved; the header names sender and sequence.
    uint64_t seq = 0, sent_done = 0, received = 0;
    std::vector<uint8_t> seen(incoming, 0);
    const uint64_t to_send = o.count * (n - 1);
    const uint64_t deadline = b.now_ns() + TIMEOUT_NS;
    while (sent_done < to_send || received < incoming) {
        if (seq < to_send && seq - sent_done < SEND_SLOTS) {
            const unsigned peer = static_cast<unsigned>((me + 1 + seq % (n - 1)) % n);
            uint8_t* out = cpu + (seq % SEND_SLOTS) * slot;
            fill_pattern(out, size, o.seed ^ me, seq);
            const uint64_t hdr[2] = {me, seq};
            std::memcpy(out, hdr, sizeof(hdr));
            drv::send_wr w;
            w.wr_id = seq;
            w.opcode = (seq & 1) ? spec::wqe_opcode::SEND_WITH_IMM : spec::wqe_opcode::SEND;
            w.imm = static_cast<uint32_t>(seq);
            w.sg_list[0] = {buf.bus + (seq % SEND_SLOTS) * slot, size, lkey};
            w.num_sge = 1;
            w.ah = ahs[peer];
            w.remote_qpn = qpns[peer];
            w.remote_qkey = QKEY;
            if (qp->post_send(w) != 0) return res.fail(tag + " post_send failed");
            ++res.sends;
            ++res.per_opcode[(seq & 1) ? "SEND_WITH_IMM" : "SEND"];
            ++seq;
        }
        spec::cqe c{};
        if (cq->poll(&c, 1) == 0) {
            if (b.now_ns() > deadline) return res.fail(tag + ": no completion for 100 ms");
            b.relax();
            continue;
        }
        ++res.seen;
        if (c.status != static_cast<uint8_t>(spec::cqe_status::SUCCESS)) {
            ++res.error_completions;
            res.fail(tag + " completion status " +
                     spec::to_string(static_cast<spec::cqe_status>(c.status)));
            continue;
        }
        if (c.opcode < static_cast<uint8_t>(spec::cqe_opcode::RECV)) {
            ++sent_done;
            continue;
        }
        if (c.wr_id >= incoming || seen[c.wr_id]++) {
            ++res.duplicated;
            continue;
        }
        ++received;
        const uint8_t* got = cpu + (c.wr_id + SEND_SLOTS) * slot + spec::roce::GRH;
        uint64_t hdr[2];
        std::memcpy(hdr, got, sizeof(hdr));
        std::vector<uint8_t> expect(size);
        fill_pattern(expect.data(), size, o.seed ^ hdr[0], hdr[1]);
        std::memcpy(expect.data(), hdr, sizeof(hdr));
        if (c.byte_len != slot || hdr[0] >= n || c.src_qp != qpns[hdr[0]] ||
            std::memcmp(got, expect.data(), size) != 0) {
            ++res.data_mismatches;
            res.fail(tag + ": datagram differs");
        } else {
            res.bytes_verified += size;
        }
    }
    res.expected += to_send + incoming;
    sh.rv.barrier("finished", n);
    dev.destroy_qp(*qp);
    cq->destroy(dev.cmd());
}

}  // namespace

void start_ud(cosim::topology& topo, const sim_options& o, scenario_result& res) {
    auto sh = std::make_shared<shared_state>();
    const unsigned n = topo.size();
    for (unsigned i = 0; i < n; ++i) {
        topo.host(i).run_driver(
            [sh, o, &res, i, n](drv::bus& b) { run_host(i, n, b, o, *sh, res); });
    }
}

}  // namespace chio::tb
