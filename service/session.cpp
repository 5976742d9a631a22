#include "service/session.h"

#include <cerrno>
#include <cstring>

#include "service/session_wire.h"

namespace chio::service {

using namespace wire;

static_assert(proto::MAX_SGE == spec::limits::MAX_SGE, "protocol and spec disagree on max_sge");
static_assert(proto::MAX_INLINE == spec::limits::MAX_INLINE, "protocol and spec: max_inline");

session::session(int id, unsigned host, verbs::context* ctx, remote_memory& mem,
                 gid_resolver resolve)
    : m_id(id), m_host(host), m_ctx(ctx), m_mem(mem), m_resolve(std::move(resolve)) {}

std::vector<uint8_t> session::execute(proto::op o, const bytes& body, int32_t& status) {
    ++m_stats.requests;
    bytes out;
    status = dispatch(o, body, out);
    if (status != 0) ++m_stats.errors;
    return out;
}

int session::dispatch(proto::op o, const bytes& in, bytes& out) {
    using op = proto::op;
    switch (o) {
        case op::HELLO:
            return on_hello(in, out);
        case op::QUERY_DEVICE:
            return on_query_device(in, out);
        case op::QUERY_PORT:
            return on_query_port(in, out);
        case op::ALLOC_PD:
            return on_alloc_pd(in, out);
        case op::DEALLOC_PD:
            return on_destroy(m_pds, verbs::dealloc_pd, in);
        case op::REG_MR:
            return on_reg_mr(in, out);
        case op::DEREG_MR:
            return on_dereg_mr(in);
        case op::CREATE_CQ:
            return on_create_cq(in, out);
        case op::DESTROY_CQ:
            return on_destroy(m_cqs, verbs::destroy_cq, in);
        case op::POLL_CQ:
            return on_poll_cq(in, out);
        case op::REQ_NOTIFY_CQ:
            return on_req_notify_cq(in);
        case op::CREATE_QP:
            return on_create_qp(in, out);
        case op::MODIFY_QP:
            return on_modify_qp(in);
        case op::QUERY_QP:
            return on_query_qp(in, out);
        case op::DESTROY_QP:
            return on_destroy(m_qps, verbs::destroy_qp, in);
        case op::POST_SEND:
            return on_post_send(in, out);
        case op::POST_RECV:
            return on_post_recv(in, false, out);
        case op::POST_SRQ_RECV:
            return on_post_recv(in, true, out);
        case op::CREATE_SRQ:
            return on_create_srq(in, out);
        case op::DESTROY_SRQ:
            return on_destroy(m_srqs, verbs::destroy_srq, in);
        case op::CREATE_AH:
            return on_create_ah(in, out);
        case op::DESTROY_AH:
            return on_destroy(m_ahs, verbs::destroy_ah, in);
    }
    return EINVAL;  // an operation this protocol version does not have
}

int session::on_hello(const bytes& in, bytes& out) {
    proto::hello_req r{};
    proto::hello_resp resp{};
    write(out, resp);
    // One HELLO per connection, of this protocol version, from a real process id.
    if (!read(in, r) || r.version != proto::VERSION || m_pid != 0 || r.pid <= 0) return EPROTO;
    m_pid = r.pid;
    m_command.assign(r.command, strnlen(r.command, sizeof(r.command)));
    resp.host = m_host;
    resp.fn = 0;
    verbs::port_attr pa;
    if (verbs::query_port(m_ctx, 1, &pa) == 0) {
        // EUI-64 from the MAC (universal/local bit inverted), as Ethernet adapters derive
        // their node GUID.
        const uint64_t m = pa.mac;
        resp.node_guid = ((m >> 24) << 40) | (0xFFFEull << 24) | (m & 0xFFFFFF);
        resp.node_guid ^= 0x020000ull << 40;
    }
    write(out, resp);
    return 0;
}

int session::on_query_device(const bytes&, bytes& out) {
    verbs::device_attr a;
    proto::device_attr d{};
    const int e = verbs::query_device(m_ctx, &a);
    d.fw_ver = a.fw_ver;
    d.max_mr_size = a.max_mr_size;
    d.vendor_id = a.vendor_id;
    d.vendor_part_id = a.vendor_part_id;
    d.max_qp = a.max_qp;
    d.max_qp_wr = a.max_qp_wr;
    d.max_sge = a.max_sge;
    d.max_recv_sge = a.max_recv_sge;
    d.max_inline_data = a.max_inline_data;
    d.max_cq = a.max_cq;
    d.max_cqe = a.max_cqe;
    d.max_mr = a.max_mr;
    d.max_pd = a.max_pd;
    d.max_ah = a.max_ah;
    d.max_srq = a.max_srq;
    d.max_srq_wr = a.max_srq_wr;
    d.max_srq_sge = a.max_srq_sge;
    d.max_qp_rd_atom = a.max_qp_rd_atom;
    d.max_qp_init_rd_atom = a.max_qp_init_rd_atom;
    d.num_comp_vectors = a.num_comp_vectors;
    d.phys_port_cnt = a.phys_port_cnt;
    write(out, d);
    return e;
}

int session::on_query_port(const bytes& in, bytes& out) {
    proto::handle_req r{};
    proto::port_attr p{};
    write(out, p);
    if (!read(in, r)) return EINVAL;
    verbs::port_attr a;
    if (const int e = verbs::query_port(m_ctx, static_cast<uint8_t>(r.arg), &a)) return e;
    p.state = static_cast<uint32_t>(a.state);
    p.max_mtu = static_cast<uint32_t>(a.max_mtu);
    p.active_mtu = static_cast<uint32_t>(a.active_mtu);
    p.speed_gbps = a.speed_gbps;
    p.mac = a.mac;
    p.gid_hi = a.gid0.hi;
    p.gid_lo = a.gid0.lo;
    p.gid_tbl_len = a.gid_tbl_len;
    p.pkey_tbl_len = a.pkey_tbl_len;
    write(out, p);
    return 0;
}

int session::on_alloc_pd(const bytes&, bytes& out) {
    proto::handle_resp r{};
    write(out, r);
    verbs::pd* p = verbs::alloc_pd(m_ctx);
    if (p == nullptr) return errno;
    r.handle = next_handle();
    m_pds.items[r.handle] = p;
    write(out, r);
    return 0;
}

int session::on_reg_mr(const bytes& in, bytes& out) {
    proto::reg_mr_req r{};
    proto::reg_mr_resp resp{};
    write(out, resp);
    if (!read(in, r)) return EINVAL;
    verbs::pd* p = m_pds.get(r.pd);
    if (p == nullptr || r.length == 0 || r.addr + r.length < r.addr) return EINVAL;
    const uint64_t bus = m_mem.map(m_pid, r.addr, r.length);
    if (bus == 0) return ENOMEM;
    verbs::mr* m = verbs::reg_mr_iova(p, r.iova, r.length, bus, static_cast<int>(r.access));
    if (m == nullptr) {
        const int e = errno;
        m_mem.unmap(bus);
        return e;
    }
    resp.handle = next_handle();
    resp.lkey = m->lkey;
    resp.rkey = m->rkey;
    m_mrs[resp.handle] = mr_entry{m, bus};
    write(out, resp);
    return 0;
}

int session::on_dereg_mr(const bytes& in) {
    proto::handle_req r{};
    if (!read(in, r)) return EINVAL;
    auto it = m_mrs.find(r.handle);
    if (it == m_mrs.end()) return EINVAL;
    if (const int e = verbs::dereg_mr(it->second.mr)) return e;
    m_mem.unmap(it->second.window);
    m_mrs.erase(it);
    return 0;
}

int session::on_create_cq(const bytes& in, bytes& out) {
    proto::create_cq_req r{};
    proto::create_cq_resp resp{};
    write(out, resp);
    if (!read(in, r)) return EINVAL;
    // Completion channels live in the library (it watches armed CQs), so the device's CQ has
    // none.
    verbs::cq* c = verbs::create_cq(m_ctx, r.cqe, nullptr, nullptr, 0);
    if (c == nullptr) return errno;
    resp.handle = next_handle();
    resp.cqe = c->cqe;
    m_cqs.items[resp.handle] = c;
    write(out, resp);
    return 0;
}

int session::on_req_notify_cq(const bytes& in) {
    proto::handle_req r{};
    verbs::cq* c = read(in, r) ? m_cqs.get(r.handle) : nullptr;
    return c ? verbs::req_notify_cq(c, r.arg ? 1 : 0) : EINVAL;
}

int session::on_create_srq(const bytes& in, bytes& out) {
    proto::create_srq_req r{};
    proto::create_srq_resp resp{};
    write(out, resp);
    verbs::pd* p = read(in, r) ? m_pds.get(r.pd) : nullptr;
    if (p == nullptr) return EINVAL;
    verbs::srq_init_attr a;
    a.max_wr = r.max_wr;
    a.max_sge = r.max_sge;
    verbs::srq* s = verbs::create_srq(p, &a);
    if (s == nullptr) return errno;
    resp.handle = next_handle();
    resp.max_wr = a.max_wr;
    resp.max_sge = a.max_sge;
    m_srqs.items[resp.handle] = s;
    write(out, resp);
    return 0;
}

void session::close() {
    // Children before parents: each destroy below would refuse (EBUSY) while a child lives.
    for (auto& [h, q] : m_qps.items) verbs::destroy_qp(q);
    m_qps.items.clear();
    for (auto& [h, s] : m_srqs.items) verbs::destroy_srq(s);
    m_srqs.items.clear();
    for (auto& [h, a] : m_ahs.items) verbs::destroy_ah(a);
    m_ahs.items.clear();
    for (auto& [h, m] : m_mrs) {
        verbs::dereg_mr(m.mr);
        m_mem.unmap(m.window);
    }
    m_mrs.clear();
    for (auto& [h, c] : m_cqs.items) verbs::destroy_cq(c);
    m_cqs.items.clear();
    for (auto& [h, p] : m_pds.items) verbs::dealloc_pd(p);
    m_pds.items.clear();
}

}  // namespace chio::service
