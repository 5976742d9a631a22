// The session's queue verbs: queue pairs (create, modify with address resolution, query),
// posting work requests, polling completions, address handles.
#include <cerrno>
#include <cstring>

#include "service/session.h"
#include "service/session_wire.h"

namespace chio::service {

using namespace wire;

namespace {
bool valid_state(uint32_t s) { return s <= static_cast<uint32_t>(verbs::qp_state::ERR); }
bool valid_mtu(uint32_t m) { return m >= 1 && m <= 5; }
}  // namespace

int session::on_create_qp(const bytes& in, bytes& out_bytes) {
    proto::create_qp_req r{};
    proto::create_qp_resp out{};
    write(out_bytes, out);
    if (!read(in, r)) return EINVAL;
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
    write(out_bytes, out);
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

int session::on_modify_qp(const bytes& in) {
    proto::modify_qp_req r{};
    if (!read(in, r)) return EINVAL;
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

int session::on_query_qp(const bytes& in, bytes& out_bytes) {
    proto::handle_req r{};
    proto::query_qp_resp out{};
    write(out_bytes, out);
    verbs::qp* q = read(in, r) ? m_qps.get(r.handle) : nullptr;
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
    write(out_bytes, out);
    return 0;
}

int session::on_post_send(const bytes& body, bytes& out_bytes) {
    proto::post_resp out{};
    write(out_bytes, out);
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
            write(out_bytes, out);
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

int session::on_post_recv(const bytes& body, bool srq, bytes& out_bytes) {
    proto::post_resp out{};
    write(out_bytes, out);
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
            write(out_bytes, out);
            return e;
        }
        ++m_stats.recvs;
    }
    return 0;
}

int session::on_poll_cq(const bytes& in, bytes& out) {
    proto::handle_req r{};
    verbs::cq* c = read(in, r) ? m_cqs.get(r.handle) : nullptr;
    const uint32_t n = r.arg;
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

int session::on_create_ah(const bytes& in, bytes& out_bytes) {
    proto::create_ah_req r{};
    proto::handle_resp out{};
    write(out_bytes, out);
    verbs::pd* p = read(in, r) ? m_pds.get(r.pd) : nullptr;
    if (p == nullptr) return EINVAL;
    verbs::ah_attr a;
    if (const int e = to_ah_attr(r.attr, a)) return e;
    verbs::ah* h = verbs::create_ah(p, &a);
    if (h == nullptr) return errno;
    out.handle = next_handle();
    m_ahs.items[out.handle] = h;
    write(out_bytes, out);
    return 0;
}

}  // namespace chio::service
