#include "tlm-model/trace/tracer.h"

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

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

tracer::tracer(std::string path) : m_path(std::move(path)) {
    if (m_path.empty()) {
        throw std::invalid_argument("tracer: empty output path");
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
    } else if (time_ps > m_time) {
        m_time = time_ps;
        m_time_written = false;
    }
    signal_info& sig = m_signals[s.index];
    if (sig.width < 64) {
        value &= (uint64_t{1} << sig.width) - 1;
    }
    if (sig.has_value && sig.value == value) {
        return;
    }
    sig.value = value;
    sig.has_value = true;
    if (!m_time_written) {
        char stamp[24] = {'#'};
        const auto end = std::to_chars(stamp + 1, stamp + sizeof(stamp) - 1, m_time).ptr;
        *end = '\n';
        m_buf.append(stamp, end + 1);
        m_time_written = true;
    }
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
        merge.declare(s.scope, s.name, s.width, s.code);
    }
    merge.add_source(m_body_path, /*has_header=*/false);
    for (const auto& [vcd, prefix] : m_vcds) {
        merge.add_source(vcd, /*has_header=*/true, prefix);
    }
    m_clamped += merge.write();
    m_written = merge.signals();
}

}  // namespace chio::model
