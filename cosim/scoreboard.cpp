#include "cosim/scoreboard.h"

#include <cstdio>
#include <cstring>
#include <sstream>
#include <systemc>
#include <utility>

#include "cosim/scoreboard_state.h"
#include "tlm-model/sim_time.h"

namespace chio::cosim {

namespace {

std::function<void(const std::string&)>& sink() {
    static std::function<void(const std::string&)> s;
    return s;
}

std::string json_escape(const std::string& s) {
    std::string o;
    for (char c : s) {
        if (c == '"' || c == '\\') o += '\\';
        if (static_cast<unsigned char>(c) < 0x20) continue;
        o += c;
    }
    return o;
}

}  // namespace

uint64_t sb_now_ns() { return static_cast<uint64_t>(time_ns(sc_core::sc_time_stamp()) + 0.5); }

std::string sb_object(uint16_t fn, uint32_t qpn, const char* queue, uint16_t index,
                      uint64_t wr_id) {
    return "fn " + std::to_string(fn) + " qpn " + std::to_string(qpn) + " " + queue + " index " +
           std::to_string(index) + " wr_id " + std::to_string(wr_id);
}

std::string scoreboard_violation::to_string(uint64_t seed) const {
    return "scoreboard violation [" + invariant + "] " + object + ": " + detail +
           " (t=" + std::to_string(time_ns) + " ns, seed " + std::to_string(seed) + ")";
}

scoreboard::scoreboard(std::string name) : m(std::make_unique<state>()) {
    m->name = std::move(name);
}

scoreboard::~scoreboard() {
    finish();
    if (m->violations > m->reported) {
        const std::string line = m->name + ": " + summary();
        std::fprintf(stderr, "%s\n", line.c_str());
        if (sink()) sink()(line);
    }
}

void scoreboard::set_enabled(bool on) { m_enabled = on; }
void scoreboard::set_seed(uint64_t seed) { m->seed = seed; }

void scoreboard::set_probes(std::function<bool()> faults_injected,
                            std::function<bool(uint16_t, uint32_t)> qp_alive) {
    m->faults_injected = std::move(faults_injected);
    m->qp_alive = std::move(qp_alive);
}

void scoreboard::set_violation_sink(std::function<void(const std::string&)> s) {
    sink() = std::move(s);
}

sb_function& scoreboard::state::fn(uint16_t f) {
    if (last_fn != nullptr && last_fn->fn == f) return *last_fn;
    auto it = fns.find(f);
    if (it != fns.end()) return *(last_fn = &it->second);
    sb_function& n = fns[f];
    n.fn = f;
    return *(last_fn = &n);
}

void scoreboard::state::fail(const char* invariant, const std::string& object,
                             const std::string& detail) {
    ++violations;
    ++by_invariant[invariant];
    scoreboard_violation v{invariant, object, detail, sb_now_ns()};
    // Printed as it happens (the first ones): a log line next to what caused it.
    if (violations <= MAX_KEPT)
        std::fprintf(stderr, "%s: %s\n", name.c_str(), v.to_string(seed).c_str());
    if (kept.size() < MAX_KEPT) kept.push_back(std::move(v));
}

// Regions of a function: the DMA buffers its driver allocated and the MRs it registered. The
// last region hit is cached: a ring or buffer is touched again and again.
bool scoreboard::state::in_own_regions(sb_function& f, uint64_t addr, uint64_t len) {
    const uint64_t end = addr + len;
    if (end < addr) return false;
    if (addr >= f.hit_lo && end <= f.hit_hi) return true;
    auto it = f.buffers.upper_bound(addr);
    if (it != f.buffers.begin()) {
        --it;
        if (end <= it->second) {
            f.hit_lo = it->first;
            f.hit_hi = it->second;
            return true;
        }
    }
    for (const auto& [key, r] : f.mrs) {
        if (addr >= r.first && end <= r.second) {
            f.hit_lo = r.first;
            f.hit_hi = r.second;
            return true;
        }
    }
    return false;
}

void scoreboard::on_dma_alloc(uint16_t fn, uint64_t addr, uint64_t size) {
    sb_function& f = m->fn(fn);
    f.buffers[addr] = addr + size;
    f.hit_lo = 1;
    f.hit_hi = 0;
}

void scoreboard::on_dma_free(uint16_t fn, uint64_t addr) {
    sb_function& f = m->fn(fn);
    f.buffers.erase(addr);
    f.hit_lo = 1;
    f.hit_hi = 0;
    // A freed CQ ring is no CQ any more (the driver dropped it, e.g. after a device loss).
    auto r = f.cq_rings.find(addr);
    if (r != f.cq_rings.end()) {
        f.cqs.erase(r->second);
        f.cq_rings.erase(r);
    }
}

void scoreboard::on_function_reset(uint16_t fn) {
    sb_function& f = m->fn(fn);
    for (auto& [n, qp] : f.qps) qp.void_ = true;
    f.srqs.clear();
    f.mrs.clear();
    f.cqs.clear();
    f.cq_rings.clear();
    f.hit_lo = 1;
    f.hit_hi = 0;
}

void scoreboard::hand_over(uint16_t fn, scoreboard& to) {
    if (&to == this) return;
    sb_function& src = m->fn(fn);
    sb_function& dst = to.m->fn(fn);
    // The view stays with its board: each board's observer reports into its own state.
    dst.buffers = std::exchange(src.buffers, {});
    dst.mrs = std::exchange(src.mrs, {});
    dst.cqs = std::exchange(src.cqs, {});
    dst.cq_rings = std::exchange(src.cq_rings, {});
    dst.qps = std::exchange(src.qps, {});
    dst.srqs = std::exchange(src.srqs, {});
    dst.lost = std::exchange(src.lost, false);
    src.hit_lo = dst.hit_lo = 1;
    src.hit_hi = dst.hit_hi = 0;
}

drv::observer* scoreboard::driver_view(uint16_t fn) {
    sb_function& f = m->fn(fn);
    if (!f.view) f.view = std::make_unique<sb_view>(*m, fn);
    return f.view.get();
}

void scoreboard::on_dma(uint16_t fn, uint64_t addr, uint32_t len, bool write, const uint8_t* data,
                        bool ok) {
    ++m->checks;
    sb_function& f = m->fn(fn);
    if (!m->in_own_regions(f, addr, len)) {
        // Refused (the IOMMU or an injected fault answered it): containment worked, no byte
        // moved; counted, not a violation. Completed: bytes moved where this function has
        // nothing.
        if (!ok) {
            ++m->refused_dma;
            return;
        }
        const char* whose = nullptr;
        uint16_t owner = 0;
        for (auto& [other, g] : m->fns) {
            if (other != fn && m->in_own_regions(g, addr, len)) {
                whose = "cross-function";
                owner = other;
                break;
            }
        }
        char buf[160];
        std::snprintf(buf, sizeof(buf), "%s of %u bytes at 0x%llx%s", write ? "write" : "read", len,
                      static_cast<unsigned long long>(addr),
                      whose ? "" : " outside every region the function registered");
        std::string detail = buf;
        if (whose) detail += " inside a region of fn " + std::to_string(owner);
        m->fail(whose ? whose : "dma-region", "fn " + std::to_string(fn), detail);
        return;
    }
    if (!write || !ok || f.cq_rings.empty()) return;
    // A write into one of the function's CQ rings is a CQE (the device writes whole entries).
    auto it = f.cq_rings.upper_bound(addr);
    if (it == f.cq_rings.begin()) return;
    --it;
    auto c = f.cqs.find(it->second);
    if (c == f.cqs.end()) return;
    sb_cq& cq = c->second;
    const uint64_t ring_bytes = uint64_t{sizeof(spec::cqe)} << cq.log_size;
    if (addr >= cq.ring + ring_bytes) return;
    if ((addr - cq.ring) % sizeof(spec::cqe) != 0 || len % sizeof(spec::cqe) != 0 ||
        addr + len > cq.ring + ring_bytes) {
        m->fail("index-bounds", "fn " + std::to_string(fn) + " cqn " + std::to_string(cq.cqn),
                "CQ ring write of " + std::to_string(len) + " bytes at offset " +
                    std::to_string(addr - cq.ring) + " is not whole entries inside the ring");
        return;
    }
    for (uint32_t off = 0; off < len; off += sizeof(spec::cqe)) {
        spec::cqe e;
        std::memcpy(&e, data + off, sizeof(e));
        const auto slot = static_cast<uint32_t>((addr + off - cq.ring) / sizeof(spec::cqe));
        m->device_cqe(f, cq, slot, e);
    }
}

size_t scoreboard::finish() {
    if (!m->finished && m_enabled) {
        m->finished = true;
        m->liveness(sb_now_ns());
    }
    return static_cast<size_t>(m->violations);
}

uint64_t scoreboard::checks() const { return m->checks; }
uint64_t scoreboard::violation_count() const { return m->violations; }
const std::vector<scoreboard_violation>& scoreboard::violations() const { return m->kept; }

bool scoreboard::next_cqe_slot(uint16_t fn, uint32_t cqn, uint64_t& addr, uint8_t& phase) const {
    auto f = m->fns.find(fn);
    if (f == m->fns.end()) return false;
    auto c = f->second.cqs.find(cqn);
    if (c == f->second.cqs.end()) return false;
    const sb_cq& cq = c->second;
    addr = cq.ring + (cq.pi & ((1u << cq.log_size) - 1)) * sizeof(spec::cqe);
    phase = ((cq.pi >> cq.log_size) & 1u) ? 0 : 1;
    return true;
}

void scoreboard::acknowledge() { m->reported = m->violations; }

std::string scoreboard::summary() const {
    std::string s = "scoreboard: " + std::to_string(m->checks) + " checks, " +
                    std::to_string(m->violations) + " violations";
    if (!m_enabled) s = "scoreboard: off";
    if (!m->kept.empty()) s += "; first: " + m->kept.front().to_string(m->seed);
    return s;
}

std::string scoreboard::json() const {
    std::ostringstream o;
    o << "{\"enabled\":" << (m_enabled ? "true" : "false") << ",\"checks\":" << m->checks
      << ",\"violations\":" << m->violations << ",\"refused_dma\":" << m->refused_dma
      << ",\"by_invariant\":{";
    bool first = true;
    for (const auto& [k, n] : m->by_invariant) {
        o << (first ? "" : ",") << '"' << k << "\":" << n;
        first = false;
    }
    o << "},\"first\":[";
    for (size_t i = 0; i < m->kept.size() && i < 8; ++i) {
        o << (i ? "," : "") << '"' << json_escape(m->kept[i].to_string(m->seed)) << '"';
    }
    o << "]}";
    return o.str();
}

}  // namespace chio::cosim
