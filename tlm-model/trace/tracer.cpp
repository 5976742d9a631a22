#include "tlm-model/trace/tracer.h"

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <utility>

#include "tlm-model/trace/vcd_merge.h"

extern char** environ;

namespace chio::model {
namespace {

// Value changes are written to the spool file in chunks of this size: large enough that the
// file system sees few writes, small enough that memory stays flat over a long run.
constexpr size_t CHUNK_BYTES = 1 << 20;

bool ends_with(const std::string& s, const std::string& suffix) {
    return s.size() >= suffix.size() &&
           s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// VCD tokens are separated by white space, so a name must not contain any.
bool has_space(const std::string& s) {
    for (const char c : s) {
        if (std::isspace(static_cast<unsigned char>(c)) != 0) {
            return true;
        }
    }
    return false;
}

bool valid_scope(const std::string& scope) {
    return !scope.empty() && !has_space(scope) && scope.front() != '.' && scope.back() != '.' &&
           scope.find("..") == std::string::npos;
}

bool on_path(const char* program) {
    const char* path = std::getenv("PATH");
    std::string dirs = path != nullptr ? path : "";
    size_t start = 0;
    while (start <= dirs.size()) {
        size_t end = dirs.find(':', start);
        if (end == std::string::npos) {
            end = dirs.size();
        }
        const std::string dir = end > start ? dirs.substr(start, end - start) : ".";
        if (access((dir + "/" + program).c_str(), X_OK) == 0) {
            return true;
        }
        start = end + 1;
    }
    return false;
}

// Runs vcd2fst without a shell, so that no path needs quoting; returns its exit status.
int run_vcd2fst(const std::string& vcd, const std::string& fst) {
    std::string prog = "vcd2fst";
    std::string in = vcd;
    std::string out = fst;
    char* argv[] = {prog.data(), in.data(), out.data(), nullptr};
    pid_t pid = 0;
    if (posix_spawnp(&pid, "vcd2fst", nullptr, nullptr, argv, environ) != 0) {
        return -1;
    }
    int status = 0;
    if (waitpid(pid, &status, 0) != pid) {
        return -1;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

tracer::tracer(std::string path, tracer_options options)
    : m_path(std::move(path)), m_opt(std::move(options)), m_filter(m_opt.scopes) {
    if (m_path.empty()) {
        throw std::invalid_argument("tracer: empty output path");
    }
    if (m_opt.triggered) {
        if (m_opt.ring_entries == 0) {
            throw std::invalid_argument("tracer: triggered capture needs ring_entries > 0");
        }
        // Allocated up front: the ring must not grow (and copy) in the middle of a long run.
        m_ring.resize(m_opt.ring_entries);
        m_phase = phase::waiting;
    } else {
        if (m_opt.from_ps > m_opt.to_ps) {
            throw std::invalid_argument("tracer: window from " + std::to_string(m_opt.from_ps) +
                                        " ps is after to " + std::to_string(m_opt.to_ps) + " ps");
        }
        m_from = m_opt.from_ps;
        m_to = m_opt.to_ps;
        m_phase = m_from > 0 ? phase::waiting : phase::recording;
    }
    m_fst = ends_with(m_path, ".fst");
    if (m_fst && !on_path("vcd2fst")) {
        throw std::runtime_error("tracer: " + m_path +
                                 ": FST output needs vcd2fst, which is not on PATH (Debian package "
                                 "gtkwave); install it or trace to a .vcd file");
    }
    m_vcd_path = m_fst ? m_path + ".tmp.vcd" : m_path;
    m_body_path = m_vcd_path + ".body";
    m_body.open(m_body_path, std::ios::binary | std::ios::trunc);
    if (!m_body) {
        throw std::runtime_error("tracer: cannot write " + m_body_path +
                                 " (does the directory exist?)");
    }
    m_buf.reserve(CHUNK_BYTES + 128);
}

tracer::~tracer() {
    if (m_closed) {
        return;
    }
    try {
        close();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "chio: %s\n", e.what());
    }
}

tracer::signal tracer::add(const std::string& scope, const std::string& name, unsigned width) {
    if (m_closed) {
        throw std::logic_error("tracer: add() after close()");
    }
    if (width == 0 || width > 64) {
        throw std::invalid_argument("tracer: signal " + scope + "." + name + ": width " +
                                    std::to_string(width) + " is not 1..64");
    }
    if (name.empty() || has_space(name) || name.find('.') != std::string::npos) {
        throw std::invalid_argument("tracer: bad signal name '" + name +
                                    "' (empty, white space or '.')");
    }
    if (!valid_scope(scope)) {
        throw std::invalid_argument("tracer: bad scope '" + scope +
                                    "' (want dot-separated names, e.g. host0.adapter0)");
    }
    const std::string full = scope + "." + name;
    if (!m_names.insert(full).second) {
        throw std::invalid_argument("tracer: signal " + full + " added twice");
    }
    const auto index = static_cast<uint32_t>(m_signals.size());
    m_signals.push_back({scope, name, width, vcd_id_code(index)});
    m_signals.back().enabled = m_filter.keeps(scope);
    return signal{index};
}

void tracer::set(signal s, uint64_t value, uint64_t time_ps) {
    if (m_closed) {
        throw std::logic_error("tracer: set() after close()");
    }
    if (s.index >= m_signals.size()) {
        throw std::invalid_argument("tracer: set() with unknown signal handle " +
                                    std::to_string(s.index));
    }
    if (time_ps < m_time) {
        ++m_clamped;
    } else {
        m_time = time_ps;
    }
    signal_info& sig = m_signals[s.index];
    if (!sig.enabled || m_phase == phase::done) {
        return;
    }
    if (sig.width < 64) {
        value &= (uint64_t{1} << sig.width) - 1;
    }
    if (sig.has_value && sig.value == value) {
        return;
    }
    if (m_phase == phase::waiting) {
        if (m_opt.triggered) {
            // Before the trigger: only the ring, no formatting, no file.
            sig.value = value;
            sig.has_value = true;
            ring_push(s.index, value);
            return;
        }
        if (m_time < m_from) {
            sig.value = value;  // written at the window's start if it is still current then
            sig.has_value = true;
            return;
        }
        open_window(m_from, m_time == m_from ? s.index : UINT32_MAX);
    }
    if (m_time > m_to) {
        m_phase = phase::done;
        return;
    }
    sig.value = value;
    sig.has_value = true;
    stamp(m_time);
    write_value(sig, value);
}

void tracer::stamp(uint64_t time) {
    if (m_time_written && time == m_stamped) {
        return;
    }
    char text[24] = {'#'};
    const auto end = std::to_chars(text + 1, text + sizeof(text) - 1, time).ptr;
    *end = '\n';
    m_buf.append(text, end + 1);
    m_stamped = time;
    m_time_written = true;
}

void tracer::write_value(const signal_info& sig, uint64_t value) {
    if (sig.width == 1) {
        m_buf += value != 0 ? '1' : '0';  // scalar: value and id code form one token
    } else {
        // Vector: most significant 1 first; a VCD reader zero-extends to the declared width.
        char bits[64];
        int n = 0;
        do {
            bits[n++] = (value & 1) != 0 ? '1' : '0';
            value >>= 1;
        } while (value != 0);
        m_buf += 'b';
        while (n > 0) {
            m_buf += bits[--n];
        }
        m_buf += ' ';
    }
    m_buf += sig.code;
    m_buf += '\n';
    if (m_buf.size() >= CHUNK_BYTES) {
        flush();
    }
}

// Starts recording at `from` with one block holding every value current then, so a viewer shows
// each signal's state from the window's first instant instead of x. `skip` is a signal about to
// change at `from` itself; its new value follows at once.
void tracer::open_window(uint64_t from, uint32_t skip) {
    m_phase = phase::recording;
    m_from = from;
    for (uint32_t i = 0; i < m_signals.size(); ++i) {
        const signal_info& sig = m_signals[i];
        if (sig.enabled && sig.has_value && i != skip) {
            stamp(from);
            write_value(sig, sig.value);
        }
    }
}

// Keeps the newest changes: the oldest is folded into the base values when the ring is full or
// when it is older than the pre-trigger span, so memory is fixed and a push is O(1) amortized.
void tracer::ring_push(uint32_t index, uint64_t value) {
    while (m_ring_size == m_ring.size() ||
           (m_ring_size > 0 && m_ring[m_ring_head].time + m_opt.pre_ps < m_time)) {
        ring_pop();
    }
    m_ring[(m_ring_head + m_ring_size) % m_ring.size()] = {m_time, value, index};
    ++m_ring_size;
}

void tracer::ring_pop() {
    const ring_entry& e = m_ring[m_ring_head];
    signal_info& sig = m_signals[e.index];
    sig.base = e.value;
    sig.has_base = true;
    m_base_time = e.time;
    m_ring_head = (m_ring_head + 1) % m_ring.size();
    --m_ring_size;
}

void tracer::trigger(uint64_t time_ps, const std::string& reason) {
    if (m_closed || m_trigger_fired) {
        return;
    }
    m_trigger_fired = true;
    m_trigger_reason = reason;
    m_trigger_ps = std::max(time_ps, m_time);
    if (!m_opt.triggered || m_phase != phase::waiting) {
        return;
    }
    // The window starts pre_ps before the trigger, but not before the oldest change still held:
    // older ones were folded into the base values and their times are gone.
    const uint64_t want = m_trigger_ps > m_opt.pre_ps ? m_trigger_ps - m_opt.pre_ps : 0;
    const uint64_t from = std::max(want, m_base_time);
    while (m_ring_size > 0 && m_ring[m_ring_head].time < from) {
        ring_pop();
    }
    m_to = m_opt.post_ps > UINT64_MAX - m_trigger_ps ? UINT64_MAX : m_trigger_ps + m_opt.post_ps;
    m_phase = phase::recording;
    m_from = from;
    for (const signal_info& sig : m_signals) {
        if (sig.enabled && sig.has_base) {
            stamp(from);
            write_value(sig, sig.base);
        }
    }
    for (; m_ring_size > 0; --m_ring_size) {
        const ring_entry& e = m_ring[m_ring_head];
        stamp(e.time);
        write_value(m_signals[e.index], e.value);
        m_ring_head = (m_ring_head + 1) % m_ring.size();
    }
    m_ring.clear();
    m_ring.shrink_to_fit();
}

void tracer::add_vcd(const std::string& vcd_path, const std::string& scope_prefix) {
    if (m_closed) {
        throw std::logic_error("tracer: add_vcd() after close()");
    }
    if (vcd_path.empty()) {
        throw std::invalid_argument("tracer: add_vcd() with an empty path");
    }
    if (!scope_prefix.empty() && !valid_scope(scope_prefix)) {
        throw std::invalid_argument("tracer: add_vcd(): bad scope prefix '" + scope_prefix +
                                    "' (want dot-separated names, e.g. host0.adapter0)");
    }
    m_vcds.emplace_back(vcd_path, scope_prefix);
}

void tracer::flush() {
    m_body.write(m_buf.data(), static_cast<std::streamsize>(m_buf.size()));
    m_buf.clear();
    if (!m_body) {
        throw std::runtime_error("tracer: writing " + m_body_path + " failed (disk full?)");
    }
}

void tracer::close() {
    if (m_closed) {
        return;
    }
    // Closed first so that a failure below is reported once, not again from the destructor.
    m_closed = true;
    flush();
    m_body.close();
    try {
        write_output();
    } catch (...) {
        std::remove(m_body_path.c_str());  // the spool is of no use without its header
        throw;
    }
    std::remove(m_body_path.c_str());
    if (m_fst) {
        const int rc = run_vcd2fst(m_vcd_path, m_path);
        if (rc != 0) {
            throw std::runtime_error("tracer: vcd2fst " + m_vcd_path + " " + m_path +
                                     " failed (exit " + std::to_string(rc) +
                                     "); the VCD is kept for inspection");
        }
        std::remove(m_vcd_path.c_str());
    }
}

void tracer::write_output() {
    vcd_merge merge(m_vcd_path);
    for (const signal_info& s : m_signals) {
        if (s.enabled) {
            merge.declare(s.scope, s.name, s.width, s.code);
        }
    }
    merge.set_filter(m_filter);
    if (m_opt.triggered && m_phase == phase::waiting) {
        // The trigger never came: declarations only. (A time window applies to merged files
        // even when none of our own signals changed in it.)
        merge.set_window(UINT64_MAX, UINT64_MAX);
    } else {
        merge.set_window(m_from, m_to);
    }
    merge.add_source(m_body_path, /*has_header=*/false);
    for (const auto& [vcd, prefix] : m_vcds) {
        merge.add_source(vcd, /*has_header=*/true, prefix);
    }
    m_clamped += merge.write();
    m_written = merge.signals();
}

}  // namespace chio::model
