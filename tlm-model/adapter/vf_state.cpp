#include "tlm-model/adapter/vf_state.h"

#include <cstring>

namespace chio::model {

namespace {

// Field-by-field little-endian writer and reader: the record layout is the order of put/get
// calls below, never a struct's in-memory layout (no padding or ABI in the format).
class writer {
public:
    void u16(uint16_t v) { raw(&v, 2); }
    void u32(uint32_t v) { raw(&v, 4); }
    void u64(uint64_t v) { raw(&v, 8); }
    void raw(const void* p, size_t n) {
        const auto* b = static_cast<const uint8_t*>(p);
        m_out.insert(m_out.end(), b, b + n);
    }
    std::vector<uint8_t>& out() { return m_out; }

private:
    std::vector<uint8_t> m_out;
};

class reader {
public:
    reader(const uint8_t* p, size_t n) : m_p(p), m_n(n) {}
    uint16_t u16() { return get<uint16_t>(); }
    uint32_t u32() { return get<uint32_t>(); }
    uint64_t u64() { return get<uint64_t>(); }
    void raw(void* dst, size_t n) {
        if (m_at + n > m_n) {
            m_fail = true;
            return;
        }
        std::memcpy(dst, m_p + m_at, n);
        m_at += n;
    }
    bool failed() const { return m_fail; }

private:
    template <typename T>
    T get() {
        T v{};
        raw(&v, sizeof(T));
        return v;
    }
    const uint8_t* m_p;
    size_t m_n;
    size_t m_at = 0;
    bool m_fail = false;
};

void put(writer& w, const vf_ring_idx& r) {
    w.u16(r.pi);
    w.u16(r.fetch_or_cpi);
    w.u16(r.ci);
    w.u16(static_cast<uint16_t>(r.armed | r.armed_solicited << 1));
}
void get(reader& r, vf_ring_idx& x) {
    x.pi = r.u16();
    x.fetch_or_cpi = r.u16();
    x.ci = r.u16();
    const uint16_t f = r.u16();
    x.armed = f & 1;
    x.armed_solicited = (f >> 1) & 1;
}

// One put/get pair per record type (the same field order both ways).
void put(writer& w, const vf_function_rec& f) {
    for (uint32_t q : f.quota) w.u32(q);
    w.u32(f.qos_weight);
    w.u64(f.max_rate_mbps);
    w.u32(f.src_override);
    w.u64(f.src_mac);
    w.u64(f.src_gid_hi);
    w.u64(f.src_gid_lo);
    w.u32(static_cast<uint32_t>(f.async_eqn));
}
void get(reader& r, vf_function_rec& f) {
    for (uint32_t& q : f.quota) q = r.u32();
    f.qos_weight = r.u32();
    f.max_rate_mbps = r.u64();
    f.src_override = r.u32();
    f.src_mac = r.u64();
    f.src_gid_hi = r.u64();
    f.src_gid_lo = r.u64();
    f.async_eqn = static_cast<int32_t>(r.u32());
}
void put(writer& w, const vf_regs_rec& x) {
    w.u32(x.cmd_addr_lo);
    w.u32(x.cmd_addr_hi);
    w.u32(x.scratch);
    w.u32(x.dev_ctrl);
}
void get(reader& r, vf_regs_rec& x) {
    x.cmd_addr_lo = r.u32();
    x.cmd_addr_hi = r.u32();
    x.scratch = r.u32();
    x.dev_ctrl = r.u32();
}
void put(writer& w, const vf_config_rec& x) {
    w.u32(x.command);
    w.u32(x.dev_ctrl);
    w.u32(x.msix_ctrl);
}
void get(reader& r, vf_config_rec& x) {
    x.command = r.u32();
    x.dev_ctrl = r.u32();
    x.msix_ctrl = r.u32();
}
void put(writer& w, const vf_msix_rec& x) {
    w.u32(x.vector);
    w.u64(x.addr);
    w.u32(x.data);
    w.u32(x.ctrl);
    w.u32(x.pending);
}
void get(reader& r, vf_msix_rec& x) {
    x.vector = r.u32();
    x.addr = r.u64();
    x.data = r.u32();
    x.ctrl = r.u32();
    x.pending = r.u32();
}
void put(writer& w, const vf_pd_rec& x) {
    w.u32(x.index);
    w.u32(x.refs);
}
void get(reader& r, vf_pd_rec& x) {
    x.index = r.u32();
    x.refs = r.u32();
}
void put(writer& w, const vf_mr_rec& x) {
    w.u32(x.index);
    w.u32(x.pd);
    w.u32(x.access);
    w.u32(x.variant);
    w.u64(x.iova);
    w.u64(x.length);
    w.u64(x.pa);
}
void get(reader& r, vf_mr_rec& x) {
    x.index = r.u32();
    x.pd = r.u32();
    x.access = r.u32();
    x.variant = r.u32();
    x.iova = r.u64();
    x.length = r.u64();
    x.pa = r.u64();
}
void put(writer& w, const vf_ah_rec& x) {
    w.u32(x.index);
    w.u32(x.pd);
    w.u64(x.mac);
    w.u64(x.gid_hi);
    w.u64(x.gid_lo);
}
void get(reader& r, vf_ah_rec& x) {
    x.index = r.u32();
    x.pd = r.u32();
    x.mac = r.u64();
    x.gid_hi = r.u64();
    x.gid_lo = r.u64();
}
void put(writer& w, const vf_eq_rec& x) {
    w.u32(x.index);
    w.u32(x.log_size);
    w.u32(x.vector);
    w.u32(x.cq_refs);
    w.u64(x.ring);
    put(w, x.idx);
}
void get(reader& r, vf_eq_rec& x) {
    x.index = r.u32();
    x.log_size = r.u32();
    x.vector = r.u32();
    x.cq_refs = r.u32();
    x.ring = r.u64();
    get(r, x.idx);
}
void put(writer& w, const vf_cq_rec& x) {
    w.u32(x.index);
    w.u32(x.log_size);
    w.u32(x.eqn);
    w.u32(x.qp_refs);
    w.u32(x.error);
    w.u64(x.ring);
    put(w, x.idx);
}
void get(reader& r, vf_cq_rec& x) {
    x.index = r.u32();
    x.log_size = r.u32();
    x.eqn = r.u32();
    x.qp_refs = r.u32();
    x.error = r.u32();
    x.ring = r.u64();
    get(r, x.idx);
}
void put(writer& w, const vf_srq_rec& x) {
    w.u32(x.index);
    w.u32(x.pd);
    w.u32(x.log_size);
    w.u32(x.qp_refs);
    w.u64(x.ring);
    put(w, x.idx);
}
void get(reader& r, vf_srq_rec& x) {
    x.index = r.u32();
    x.pd = r.u32();
    x.log_size = r.u32();
    x.qp_refs = r.u32();
    x.ring = r.u64();
    get(r, x.idx);
}

// The QP record's 32-bit fields in format order (the same list writes and reads them).
template <typename Q>
auto qp_words(Q& x) {
    return std::vector<decltype(&x.index)>{
        &x.index,       &x.type,     &x.state,      &x.send_cqn,     &x.recv_cqn, &x.sq_log_size,
        &x.rq_log_size, &x.pd,       &x.parked,     &x.qos_weight,   &x.dest_qpn, &x.rq_psn,
        &x.sq_psn,      &x.path_mtu, &x.port,       &x.access_flags, &x.qkey,     &x.timers,
        &x.rd_atomic,   &x.next_psn, &x.retry_left, &x.rnr_left,     &x.epsn,     &x.msn,
        &x.nak_sent,    &x.in_send,  &x.rwqe_index, &x.rwqe_wqid,    &x.offset,   &x.in_write,
        &x.write_len,   &x.write_off};
}
template <typename Q>
auto qp_dwords(Q& x) {
    return std::vector<decltype(&x.sq_addr)>{&x.rate_limit_mbps, &x.sq_addr, &x.rq_addr,
                                             &x.db_rec_addr,     &x.av_mac,  &x.av_gid_hi,
                                             &x.av_gid_lo,       &x.write_pa};
}
void put(writer& w, const vf_qp_rec& x) {
    for (const uint32_t* p : qp_words(x)) w.u32(*p);
    w.u32(static_cast<uint32_t>(x.srqn));
    for (const uint64_t* p : qp_dwords(x)) w.u64(*p);
    put(w, x.sq);
    put(w, x.rq);
    w.raw(&x.rwqe, sizeof(x.rwqe));
}
void get(reader& r, vf_qp_rec& x) {
    for (uint32_t* p : qp_words(x)) *p = r.u32();
    x.srqn = static_cast<int32_t>(r.u32());
    for (uint64_t* p : qp_dwords(x)) *p = r.u64();
    get(r, x.sq);
    get(r, x.rq);
    r.raw(&x.rwqe, sizeof(x.rwqe));
}

void put(writer& w, const vf_atomic_rec& x) {
    w.u32(x.qp);
    w.u32(x.psn);
    w.u64(x.orig);
}
void get(reader& r, vf_atomic_rec& x) {
    x.qp = r.u32();
    x.psn = r.u32();
    x.orig = r.u64();
}

// Size of one encoded record of type T.
template <typename T>
uint16_t record_size() {
    writer w;
    put(w, T{});
    return static_cast<uint16_t>(w.out().size());
}

template <typename T>
void section(writer& w, uint32_t& count, vf_section type, const std::vector<T>& recs) {
    if (recs.empty()) return;
    const uint16_t rs = record_size<T>();
    w.u16(static_cast<uint16_t>(type));
    w.u16(rs);
    w.u32(static_cast<uint32_t>(rs * recs.size()));
    for (const T& r : recs) put(w, r);
    ++count;
}

template <typename T>
bool read_records(const uint8_t* p, uint32_t bytes, std::vector<T>& out) {
    const uint16_t rs = record_size<T>();
    reader r(p, bytes);
    for (uint32_t i = 0; i < bytes / rs; ++i) {
        T x{};
        get(r, x);
        out.push_back(x);
    }
    return !r.failed();
}

template <typename T>
bool read_one(const uint8_t* p, uint32_t bytes, T& out) {
    std::vector<T> v;
    if (!read_records(p, bytes, v) || v.size() != 1) return false;
    out = v[0];
    return true;
}

void store32(uint8_t* p, uint32_t v) { std::memcpy(p, &v, 4); }

}  // namespace

uint32_t vf_blob::checksum(const uint8_t* data, size_t len) {
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; ++i) {
        const bool in_field = i >= CHECKSUM && i < CHECKSUM + 4;
        h = (h ^ (in_field ? 0u : data[i])) * 16777619u;
    }
    return h;
}

std::vector<uint8_t> encode_vf_state(const vf_state& s) {
    writer w;
    w.u32(spec::limits::VF_STATE_MAGIC);
    w.u16(static_cast<uint16_t>(spec::limits::VF_STATE_VERSION));
    w.u16(static_cast<uint16_t>(vf_blob::HEADER_SIZE));
    w.u32(0);  // total, patched below
    w.u32(0);  // sections
    w.u32(0);  // checksum
    w.u16(s.source_fn);
    w.u16(0);
    uint32_t n = 0;
    section(w, n, vf_section::function, std::vector<vf_function_rec>{s.function});
    section(w, n, vf_section::regs, std::vector<vf_regs_rec>{s.regs});
    section(w, n, vf_section::config, std::vector<vf_config_rec>{s.config});
    section(w, n, vf_section::msix, s.msix);
    section(w, n, vf_section::pd, s.pds);
    section(w, n, vf_section::mr, s.mrs);
    section(w, n, vf_section::ah, s.ahs);
    section(w, n, vf_section::eq, s.eqs);
    section(w, n, vf_section::cq, s.cqs);
    section(w, n, vf_section::srq, s.srqs);
    section(w, n, vf_section::qp, s.qps);
    section(w, n, vf_section::qp_atomic, s.atomics);
    std::vector<uint8_t>& b = w.out();
    store32(b.data() + vf_blob::TOTAL, static_cast<uint32_t>(b.size()));
    store32(b.data() + vf_blob::SECTIONS, n);
    store32(b.data() + vf_blob::CHECKSUM, vf_blob::checksum(b.data(), b.size()));
    return b;
}

vf_decode_result decode_vf_state(const uint8_t* data, size_t len, vf_state& out) {
    using code = vf_decode_result::code;
    auto bad = [](uint32_t at, const std::string& why) {
        return vf_decode_result{code::bad_blob, at, why};
    };
    out = vf_state{};
    if (len < vf_blob::HEADER_SIZE) return bad(0, "blob length " + std::to_string(len));
    reader h(data, vf_blob::HEADER_SIZE);
    const uint32_t magic = h.u32();
    const uint16_t version = h.u16();
    const uint16_t hdr = h.u16();
    const uint32_t total = h.u32();
    const uint32_t sections = h.u32();
    const uint32_t sum = h.u32();
    out.source_fn = h.u16();
    if (magic != spec::limits::VF_STATE_MAGIC) return bad(vf_blob::MAGIC, "magic");
    if (version != spec::limits::VF_STATE_VERSION) {
        return {code::bad_version, version, "version " + std::to_string(version)};
    }
    if (hdr != vf_blob::HEADER_SIZE) return bad(vf_blob::HEADER_BYTES, "header_bytes");
    if (total != len) return bad(vf_blob::TOTAL, "total_bytes " + std::to_string(total));
    if (sum != vf_blob::checksum(data, len)) return bad(vf_blob::CHECKSUM, "checksum");
    size_t at = vf_blob::HEADER_SIZE;
    for (uint32_t i = 0; i < sections; ++i) {
        if (at + vf_blob::SECTION_HEAD > len) return bad(static_cast<uint32_t>(at), "section");
        reader sh(data + at, vf_blob::SECTION_HEAD);
        const auto type = static_cast<vf_section>(sh.u16());
        const uint16_t rs = sh.u16();
        const uint32_t bytes = sh.u32();
        const size_t body = at + vf_blob::SECTION_HEAD;
        if (bytes > len - body) return bad(static_cast<uint32_t>(at), "section length");
        const uint8_t* p = data + body;
        auto check = [&](uint16_t want) { return rs == want && bytes % want == 0; };
        bool ok = true;
        switch (type) {
            case vf_section::function:
                ok = check(record_size<vf_function_rec>()) && read_one(p, bytes, out.function);
                break;
            case vf_section::regs:
                ok = check(record_size<vf_regs_rec>()) && read_one(p, bytes, out.regs);
                break;
            case vf_section::config:
                ok = check(record_size<vf_config_rec>()) && read_one(p, bytes, out.config);
                break;
            case vf_section::msix:
                ok = check(record_size<vf_msix_rec>()) && read_records(p, bytes, out.msix);
                break;
            case vf_section::pd:
                ok = check(record_size<vf_pd_rec>()) && read_records(p, bytes, out.pds);
                break;
            case vf_section::mr:
                ok = check(record_size<vf_mr_rec>()) && read_records(p, bytes, out.mrs);
                break;
            case vf_section::ah:
                ok = check(record_size<vf_ah_rec>()) && read_records(p, bytes, out.ahs);
                break;
            case vf_section::eq:
                ok = check(record_size<vf_eq_rec>()) && read_records(p, bytes, out.eqs);
                break;
            case vf_section::cq:
                ok = check(record_size<vf_cq_rec>()) && read_records(p, bytes, out.cqs);
                break;
            case vf_section::srq:
                ok = check(record_size<vf_srq_rec>()) && read_records(p, bytes, out.srqs);
                break;
            case vf_section::qp:
                ok = check(record_size<vf_qp_rec>()) && read_records(p, bytes, out.qps);
                break;
            case vf_section::qp_atomic:
                ok = check(record_size<vf_atomic_rec>()) && read_records(p, bytes, out.atomics);
                break;
            default:
                break;  // a section this version does not know: skipped
        }
        if (!ok) {
            return bad(static_cast<uint32_t>(at), "section type " +
                                                      std::to_string(static_cast<unsigned>(type)) +
                                                      " record_bytes " + std::to_string(rs));
        }
        at = body + bytes;
    }
    if (at != len) return bad(static_cast<uint32_t>(at), "bytes after the last section");
    return {};
}

}  // namespace chio::model
