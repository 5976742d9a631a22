#include "service/session.h"

#include <cerrno>
#include <cstring>
#include <systemc>

namespace chio::service {

namespace proto = shim::proto;

namespace {

// Reads a fixed-size request body; false when the body has another size.
template <typename T>
bool read_body(const std::vector<uint8_t>& body, T& out) {
    if (body.size() != sizeof(T)) return false;
    std::memcpy(&out, body.data(), sizeof(T));
    return true;
}

template <typename T>
std::vector<uint8_t> to_bytes(const T& v) {
    std::vector<uint8_t> b(sizeof(T));
    std::memcpy(b.data(), &v, sizeof(T));
    return b;
}

proto::qp_cap to_wire(const verbs::qp_cap& c) {
    return {c.max_send_wr, c.max_recv_wr, c.max_send_sge, c.max_recv_sge, c.max_inline_data};
}

verbs::qp_cap from_wire(const proto::qp_cap& c) {
    verbs::qp_cap v;
    v.max_send_wr = c.max_send_wr;
    v.max_recv_wr = c.max_recv_wr;
    v.max_send_sge = c.max_send_sge;
    v.max_recv_sge = c.max_recv_sge;
    v.max_inline_data = c.max_inline_data;
    return v;
}

double now_us() { return sc_core::sc_time_stamp().to_seconds() * 1e6; }

bool valid_state(uint32_t s) { return s <= static_cast<uint32_t>(verbs::qp_state::ERR); }
bool valid_mtu(uint32_t m) { return m >= 1 && m <= 5; }

}  // namespace

static_assert(proto::MAX_SGE == spec::limits::MAX_SGE, "protocol and spec disagree on max_sge");
static_assert(proto::MAX_INLINE == spec::limits::MAX_INLINE, "protocol and spec: max_inline");

session::session(int id, unsigned host, verbs::context* ctx, remote_memory& mem,
                 gid_resolver resolve)
    : m_id(id), m_host(host), m_ctx(ctx), m_mem(mem), m_resolve(std::move(resolve)) {}

std::vector<uint8_t> session::execute(proto::op o, const std::vector<uint8_t>& body,
                                      int32_t& status) {
    ++m_stats.requests;
    status = EINVAL;
    proto::handle_req hr{};
    const bool by_handle = read_body(body, hr);
    switch (o) {
        case proto::op::HELLO: {
            proto::hello_req r{};
            proto::hello_resp out{};
            if (read_body(body, r)) status = hello(r, out);
            return to_bytes(out);
        }
        case proto::op::QUERY_DEVICE: {
            verbs::device_attr a;
            proto::device_attr out{};
            status = verbs::query_device(m_ctx, &a);
            out.fw_ver = a.fw_ver;
            out.max_mr_size = a.max_mr_size;
            out.vendor_id = a.vendor_id;
            out.vendor_part_id = a.vendor_part_id;
            out.max_qp = a.max_qp;
            out.max_qp_wr = a.max_qp_wr;
            out.max_sge = a.max_sge;
            out.max_recv_sge = a.max_recv_sge;
            out.max_inline_data = a.max_inline_data;
            out.max_cq = a.max_cq;
            out.max_cqe = a.max_cqe;
            out.max_mr = a.max_mr;
            out.max_pd = a.max_pd;
            out.max_ah = a.max_ah;
            out.max_srq = a.max_srq;
            out.max_srq_wr = a.max_srq_wr;
            out.max_srq_sge = a.max_srq_sge;
            out.max_qp_rd_atom = a.max_qp_rd_atom;
            out.max_qp_init_rd_atom = a.max_qp_init_rd_atom;
            out.num_comp_vectors = a.num_comp_vectors;
            out.phys_port_cnt = a.phys_port_cnt;
            return to_bytes(out);
        }
        case proto::op::QUERY_PORT: {
            verbs::port_attr a;
            proto::port_attr out{};
            if (!by_handle) return {};
            status = verbs::query_port(m_ctx, static_cast<uint8_t>(hr.arg), &a);
            out.state = static_cast<uint32_t>(a.state);
            out.max_mtu = static_cast<uint32_t>(a.max_mtu);
            out.active_mtu = static_cast<uint32_t>(a.active_mtu);
            out.speed_gbps = a.speed_gbps;
            out.mac = a.mac;
            out.gid_hi = a.gid0.hi;
            out.gid_lo = a.gid0.lo;
            out.gid_tbl_len = a.gid_tbl_len;
            out.pkey_tbl_len = a.pkey_tbl_len;
            return to_bytes(out);
        }
        case proto::op::ALLOC_PD: {
            proto::handle_resp out{};
            if (verbs::pd* p = verbs::alloc_pd(m_ctx)) {
                out.handle = next_handle();
                m_pds.items[out.handle] = p;
                status = 0;
            } else {
                status = errno;
            }
            return to_bytes(out);
        }
        case proto::op::DEALLOC_PD: {
            verbs::pd* p = by_handle ? m_pds.get(hr.handle) : nullptr;
            if (p == nullptr) return {};
            status = verbs::dealloc_pd(p);
            if (status == 0) m_pds.items.erase(hr.handle);
            return {};
        }
        case proto::op::REG_MR: {
            proto::reg_mr_req r{};
            proto::reg_mr_resp out{};
            if (read_body(body, r)) status = reg_mr(r, out);
            return to_bytes(out);
        }
        case proto::op::DEREG_MR:
            if (by_handle) status = dereg_mr(hr.handle);
            return {};
        case proto::op::CREATE_CQ: {
            proto::create_cq_req r{};
            proto::create_cq_resp out{};
            if (!read_body(body, r)) return {};
            if (verbs::cq* c = verbs::create_cq(m_ctx, r.cqe, nullptr, nullptr, 0)) {
                out.handle = next_handle();
                out.cqe = c->cqe;
                m_cqs.items[out.handle] = c;
                status = 0;
            } else {
                status = errno;
            }
            return to_bytes(out);
        }
        case proto::op::DESTROY_CQ: {
            verbs::cq* c = by_handle ? m_cqs.get(hr.handle) : nullptr;
            if (c == nullptr) return {};
            status = verbs::destroy_cq(c);
            if (status == 0) m_cqs.items.erase(hr.handle);
            return {};
        }
        case proto::op::POLL_CQ: {
            std::vector<uint8_t> out;
            if (by_handle) status = poll_cq(hr.handle, hr.arg, out);
            return out;
        }
        case proto::op::REQ_NOTIFY_CQ: {
            verbs::cq* c = by_handle ? m_cqs.get(hr.handle) : nullptr;
            if (c != nullptr) status = verbs::req_notify_cq(c, hr.arg ? 1 : 0);
            return {};
        }
        case proto::op::CREATE_QP: {
            proto::create_qp_req r{};
            proto::create_qp_resp out{};
            if (read_body(body, r)) status = create_qp(r, out);
            return to_bytes(out);
        }
        case proto::op::MODIFY_QP: {
            proto::modify_qp_req r{};
            if (read_body(body, r)) status = modify_qp(r);
            return {};
        }
        case proto::op::QUERY_QP: {
            proto::query_qp_resp out{};
            if (by_handle) status = query_qp(hr.handle, out);
            return to_bytes(out);
        }
        case proto::op::DESTROY_QP:
            if (by_handle) status = destroy_qp(hr.handle);
            return {};
        case proto::op::POST_SEND: {
            proto::post_resp out{};
            status = post_send(body, out);
            return to_bytes(out);
        }
        case proto::op::POST_RECV:
        case proto::op::POST_SRQ_RECV: {
            proto::post_resp out{};
            status = post_recv(body, o == proto::op::POST_SRQ_RECV, out);
            return to_bytes(out);
        }
        case proto::op::CREATE_SRQ: {
            proto::create_srq_req r{};
            proto::create_srq_resp out{};
            verbs::pd* p = read_body(body, r) ? m_pds.get(r.pd) : nullptr;
            if (p == nullptr) return to_bytes(out);
            verbs::srq_init_attr a;
            a.max_wr = r.max_wr;
            a.max_sge = r.max_sge;
            if (verbs::srq* s = verbs::create_srq(p, &a)) {
                out.handle = next_handle();
                out.max_wr = a.max_wr;
                out.max_sge = a.max_sge;
                m_srqs.items[out.handle] = s;
                status = 0;
            } else {
                status = errno;
            }
            return to_bytes(out);
        }
        case proto::op::DESTROY_SRQ: {
            verbs::srq* s = by_handle ? m_srqs.get(hr.handle) : nullptr;
            if (s == nullptr) return {};
            status = verbs::destroy_srq(s);
            if (status == 0) m_srqs.items.erase(hr.handle);
            return {};
        }
        case proto::op::CREATE_AH: {
            proto::create_ah_req r{};
            proto::handle_resp out{};
            if (read_body(body, r)) status = create_ah(r, out);
            return to_bytes(out);
        }
        case proto::op::DESTROY_AH: {
            verbs::ah* a = by_handle ? m_ahs.get(hr.handle) : nullptr;
            if (a == nullptr) return {};
            status = verbs::destroy_ah(a);
            if (status == 0) m_ahs.items.erase(hr.handle);
            return {};
        }
    }
    ++m_stats.errors;
    return {};
}

int session::hello(const proto::hello_req& r, proto::hello_resp& out) {
    // One HELLO per connection, of this protocol version, from a real process id.
    if (r.version != proto::VERSION || m_pid != 0 || r.pid <= 0) return EPROTO;
    m_pid = r.pid;
    m_command.assign(r.command, strnlen(r.command, sizeof(r.command)));
    out.host = m_host;
    out.fn = 0;
    verbs::port_attr pa;
    if (verbs::query_port(m_ctx, 1, &pa) == 0) {
        // EUI-64 from the MAC, as Ethernet adapters derive their node GUID.
        const uint64_t m = pa.mac;
        out.node_guid = ((m >> 24) << 40) | (0xFFFEull << 24) | (m & 0xFFFFFF);
        out.node_guid ^= 0x020000ull << 40;
    }
    return 0;
}

int session::reg_mr(const proto::reg_mr_req& r, proto::reg_mr_resp& out) {
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
    out.handle = next_handle();
    out.lkey = m->lkey;
    out.rkey = m->rkey;
    m_mrs[out.handle] = mr_entry{m, bus};
    return 0;
}

int session::dereg_mr(uint32_t h) {
    auto it = m_mrs.find(h);
    if (it == m_mrs.end()) return EINVAL;
    if (const int e = verbs::dereg_mr(it->second.mr)) return e;
    m_mem.unmap(it->second.window);
    m_mrs.erase(it);
    return 0;
}

int session::create_qp(const proto::create_qp_req& r, proto::create_qp_resp& out) {
    verbs::pd* p = m_pds.get(r.pd);
    verbs::cq* scq = m_cqs.get(r.send_cq);
    verbs::cq* rcq = m_cqs.get(r.recv_cq);
    verbs::srq* s = r.srq ? m_srqs.get(r.srq) : nullptr;
    if (p == nullptr || scq == nullptr || rcq == nullptr || (r.srq && s == nullptr)) return EINVAL;
    if (r.qp_type != static_cast<uint32_t>(verbs::qp_type::RC) &&
        r.qp_type != static_cast<uint32_t>(verbs::qp_type::UD)) {
        return EOPNOTSUPP;  // UC, XRC, raw packet: not offered by chio
    }
    verbs::qp_init_attr a;
    a.send_cq = scq;
    a.recv_cq = rcq;
    a.srq = s;
    a.cap = from_wire(r.cap);
    a.qp_type = static_cast<verbs::qp_type>(r.qp_type);
    a.sq_sig_all = r.sq_sig_all ? 1 : 0;
    verbs::qp* q = verbs::create_qp(p, &a);
    if (q == nullptr) return errno;
    out.handle = next_handle();
    out.qp_num = q->qp_num;
    out.cap = to_wire(a.cap);
    m_qps.items[out.handle] = q;
    return 0;
}

int session::to_ah_attr(const proto::ah_attr& in, verbs::ah_attr& out) {
    // RoCE carries every packet with a GRH: an address without a global route cannot be
    // resolved (the kernel refuses it the same way).
    if (!in.is_global) return EINVAL;
    out.dgid.hi = in.dgid_hi;
    out.dgid.lo = in.dgid_lo;
    out.is_global = 1;
    out.sl = static_cast<uint8_t>(in.sl);
    out.port_num = static_cast<uint8_t>(in.port_num);
    if (!m_resolve(out.dgid, out.dmac)) return EHOSTUNREACH;
    return 0;
}

int session::modify_qp(const proto::modify_qp_req& r) {
    verbs::qp* q = m_qps.get(r.handle);
    if (q == nullptr) return EINVAL;
    const proto::qp_attr& w = r.attr;
    const int mask = static_cast<int>(r.attr_mask);
    verbs::qp_attr a;
    if ((mask & verbs::QP_STATE) && !valid_state(w.qp_state)) return EINVAL;
    if ((mask & verbs::QP_PATH_MTU) && !valid_mtu(w.path_mtu)) return EINVAL;
    a.qp_state = static_cast<verbs::qp_state>(w.qp_state);
    a.cur_qp_state = static_cast<verbs::qp_state>(valid_state(w.cur_qp_state) ? w.cur_qp_state : 0);
    if (valid_mtu(w.path_mtu)) a.path_mtu = static_cast<verbs::mtu>(w.path_mtu);
    a.qkey = w.qkey;
    a.rq_psn = w.rq_psn;
    a.sq_psn = w.sq_psn;
    a.dest_qp_num = w.dest_qp_num;
    a.qp_access_flags = static_cast<int>(w.qp_access_flags);
    a.pkey_index = static_cast<uint16_t>(w.pkey_index);
    a.port_num = w.port_num;
    a.max_rd_atomic = w.max_rd_atomic;
    a.max_dest_rd_atomic = w.max_dest_rd_atomic;
    a.min_rnr_timer = w.min_rnr_timer;
    a.timeout = w.timeout;
    a.retry_cnt = w.retry_cnt;
    a.rnr_retry = w.rnr_retry;
    if (mask & verbs::QP_AV) {
        if (const int e = to_ah_attr(w.ah, a.ah_attr)) return e;
    }
    return verbs::modify_qp(q, &a, mask);
}

int session::query_qp(uint32_t h, proto::query_qp_resp& out) {
    verbs::qp* q = m_qps.get(h);
    if (q == nullptr) return EINVAL;
    verbs::qp_attr a;
    verbs::qp_init_attr init;
    if (const int e = verbs::query_qp(q, &a, 0, &init)) return e;
    proto::qp_attr& w = out.attr;
    w.qp_state = static_cast<uint32_t>(a.qp_state);
    w.cur_qp_state = static_cast<uint32_t>(a.cur_qp_state);
    w.path_mtu = static_cast<uint32_t>(a.path_mtu);
    w.qkey = a.qkey;
    w.rq_psn = a.rq_psn;
    w.sq_psn = a.sq_psn;
    w.dest_qp_num = a.dest_qp_num;
    w.qp_access_flags = static_cast<uint32_t>(a.qp_access_flags);
    w.cap = to_wire(a.cap);
    w.pkey_index = a.pkey_index;
    w.ah.dgid_hi = a.ah_attr.dgid.hi;
    w.ah.dgid_lo = a.ah_attr.dgid.lo;
    w.ah.is_global = a.ah_attr.is_global;
    w.ah.sl = a.ah_attr.sl;
    w.ah.port_num = a.ah_attr.port_num;
    w.port_num = a.port_num;
    w.max_rd_atomic = a.max_rd_atomic;
    w.max_dest_rd_atomic = a.max_dest_rd_atomic;
    w.min_rnr_timer = a.min_rnr_timer;
    w.timeout = a.timeout;
    w.retry_cnt = a.retry_cnt;
    w.rnr_retry = a.rnr_retry;
    out.init.qp_type = static_cast<uint32_t>(q->qp_type);
    out.init.sq_sig_all = static_cast<uint32_t>(q->sq_sig_all);
    out.init.cap = to_wire(q->cap);
    return 0;
}

int session::destroy_qp(uint32_t h) {
    verbs::qp* q = m_qps.get(h);
    if (q == nullptr) return EINVAL;
    if (const int e = verbs::destroy_qp(q)) return e;
    m_qps.items.erase(h);
    return 0;
}

int session::post_send(const std::vector<uint8_t>& body, proto::post_resp& out) {
    proto::post_req hdr{};
    if (body.size() < sizeof(hdr)) return EINVAL;
    std::memcpy(&hdr, body.data(), sizeof(hdr));
    verbs::qp* q = m_qps.get(hdr.handle);
    if (q == nullptr || hdr.count == 0 || hdr.count > proto::MAX_LIST ||
        body.size() != sizeof(hdr) + hdr.count * sizeof(proto::send_wr)) {
        return EINVAL;
    }
    for (uint32_t i = 0; i < hdr.count; ++i) {
        proto::send_wr w{};
        std::memcpy(&w, body.data() + sizeof(hdr) + i * sizeof(w), sizeof(w));
        verbs::send_wr v;
        verbs::sge sg[proto::MAX_SGE];
        v.wr_id = w.wr_id;
        v.opcode = static_cast<verbs::wr_opcode>(w.opcode);
        v.send_flags = w.send_flags;
        v.imm_data = w.imm_data;
        int e = 0;
        if (w.send_flags & verbs::SEND_INLINE) {
            // The library copied the bytes at post time; the driver copies them from here.
            if (w.inline_len > proto::MAX_INLINE) e = EINVAL;
            sg[0] = {reinterpret_cast<uintptr_t>(w.inline_data), w.inline_len, 0};
            v.num_sge = w.inline_len ? 1 : 0;
        } else {
            if (w.num_sge > proto::MAX_SGE) e = EINVAL;
            for (uint32_t s = 0; s < w.num_sge && s < proto::MAX_SGE; ++s) {
                sg[s] = {w.sg_list[s].addr, w.sg_list[s].length, w.sg_list[s].lkey};
            }
            v.num_sge = static_cast<int>(w.num_sge);
        }
        v.sg_list = sg;
        v.wr.rdma.remote_addr = w.remote_addr;
        v.wr.rdma.rkey = w.rkey;
        v.wr.atomic.remote_addr = w.remote_addr;
        v.wr.atomic.rkey = w.rkey;
        v.wr.atomic.compare_add = w.compare_add;
        v.wr.atomic.swap = w.swap;
        if (q->qp_type == verbs::qp_type::UD) {
            v.wr.ud.ah = m_ahs.get(w.ah);
            v.wr.ud.remote_qpn = w.remote_qpn;
            v.wr.ud.remote_qkey = w.remote_qkey;
            if (v.wr.ud.ah == nullptr) e = EINVAL;
        }
        verbs::send_wr* bad = nullptr;
        if (e == 0) e = verbs::post_send(q, &v, &bad);
        if (e != 0) {
            out.bad_index = i;
            ++m_stats.errors;
            return e;
        }
        ++m_stats.sends;
        if (m_stats.first_post_us < 0) m_stats.first_post_us = now_us();
        if (w.send_flags & verbs::SEND_INLINE) {
            m_stats.bytes += w.inline_len;
        } else {
            for (uint32_t s = 0; s < w.num_sge; ++s) m_stats.bytes += w.sg_list[s].length;
        }
    }
    return 0;
}

int session::post_recv(const std::vector<uint8_t>& body, bool srq, proto::post_resp& out) {
    proto::post_req hdr{};
    if (body.size() < sizeof(hdr)) return EINVAL;
    std::memcpy(&hdr, body.data(), sizeof(hdr));
    verbs::qp* q = srq ? nullptr : m_qps.get(hdr.handle);
    verbs::srq* s = srq ? m_srqs.get(hdr.handle) : nullptr;
    if ((q == nullptr && s == nullptr) || hdr.count == 0 || hdr.count > proto::MAX_LIST ||
        body.size() != sizeof(hdr) + hdr.count * sizeof(proto::recv_wr)) {
        return EINVAL;
    }
    for (uint32_t i = 0; i < hdr.count; ++i) {
        proto::recv_wr w{};
        std::memcpy(&w, body.data() + sizeof(hdr) + i * sizeof(w), sizeof(w));
        verbs::recv_wr v;
        verbs::sge sg[proto::MAX_SGE];
        int e = w.num_sge > proto::MAX_SGE ? EINVAL : 0;
        for (uint32_t k = 0; k < w.num_sge && k < proto::MAX_SGE; ++k) {
            sg[k] = {w.sg_list[k].addr, w.sg_list[k].length, w.sg_list[k].lkey};
        }
        v.wr_id = w.wr_id;
        v.num_sge = static_cast<int>(w.num_sge);
        v.sg_list = sg;
        verbs::recv_wr* bad = nullptr;
        if (e == 0) e = srq ? verbs::post_srq_recv(s, &v, &bad) : verbs::post_recv(q, &v, &bad);
        if (e != 0) {
            out.bad_index = i;
            ++m_stats.errors;
            return e;
        }
        ++m_stats.recvs;
    }
    return 0;
}

int session::poll_cq(uint32_t h, uint32_t n, std::vector<uint8_t>& out) {
    verbs::cq* c = m_cqs.get(h);
    if (c == nullptr || n == 0 || n > proto::MAX_LIST) return EINVAL;
    std::vector<verbs::wc> wcs(n);
    const int got = verbs::poll_cq(c, static_cast<int>(n), wcs.data());
    if (got < 0) return EINVAL;
    out.resize(static_cast<size_t>(got) * sizeof(proto::wc));
    for (int i = 0; i < got; ++i) {
        const verbs::wc& v = wcs[static_cast<size_t>(i)];
        proto::wc w{};
        w.wr_id = v.wr_id;
        w.status = static_cast<uint32_t>(v.status);
        w.opcode = static_cast<uint32_t>(v.opcode);
        w.vendor_err = v.vendor_err;
        w.byte_len = v.byte_len;
        w.imm_data = v.imm_data;
        w.qp_num = v.qp_num;
        w.src_qp = v.src_qp;
        w.wc_flags = v.wc_flags;
        w.pkey_index = v.pkey_index;
        std::memcpy(out.data() + static_cast<size_t>(i) * sizeof(w), &w, sizeof(w));
    }
    m_stats.completions += static_cast<uint64_t>(got);
    if (got > 0) m_stats.last_completion_us = now_us();
    return 0;
}

int session::create_ah(const proto::create_ah_req& r, proto::handle_resp& out) {
    verbs::pd* p = m_pds.get(r.pd);
    if (p == nullptr) return EINVAL;
    verbs::ah_attr a;
    if (const int e = to_ah_attr(r.attr, a)) return e;
    verbs::ah* h = verbs::create_ah(p, &a);
    if (h == nullptr) return errno;
    out.handle = next_handle();
    m_ahs.items[out.handle] = h;
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
