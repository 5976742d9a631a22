#include "tlm-model/trace/vcd_merge.h"

#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <utility>

namespace chio::model {

struct vcd_scope_node {
    std::string name;
    std::vector<std::unique_ptr<vcd_scope_node>> children;  // in order of first declaration
    std::vector<std::string> vars;                          // complete "$var ... $end" lines
    std::set<std::string> var_names;

    vcd_scope_node* child(const std::string& child_name) {
        for (auto& c : children) {
            if (c->name == child_name) {
                return c.get();
            }
        }
        children.push_back(std::make_unique<vcd_scope_node>());
        children.back()->name = child_name;
        return children.back().get();
    }
};

namespace {

std::vector<std::string> split_scope(const std::string& dotted) {
    std::vector<std::string> parts;
    size_t start = 0;
    for (size_t dot = dotted.find('.'); dot != std::string::npos; dot = dotted.find('.', start)) {
        parts.push_back(dotted.substr(start, dot - start));
        start = dot + 1;
    }
    parts.push_back(dotted.substr(start));
    return parts;
}

void write_scope(std::ostream& out, const vcd_scope_node& node) {
    for (const std::string& v : node.vars) {
        out << v << '\n';
    }
    for (const auto& c : node.children) {
        out << "$scope module " << c->name << " $end\n";
        write_scope(out, *c);
        out << "$upscope $end\n";
    }
}

// A scalar change is one token ("1!"); vector, real and string values are two ("b101 !").
bool is_two_token(const std::string& value) { return std::strchr("bBrRsS", value[0]) != nullptr; }

}  // namespace

std::string vcd_id_code(uint64_t index) {
    std::string code;
    do {
        code += static_cast<char>('!' + index % 94);
        index /= 94;
    } while (index != 0);
    return code;
}

vcd_merge::vcd_merge(std::string out_path)
    : m_out_path(std::move(out_path)), m_root(std::make_unique<vcd_scope_node>()) {}

vcd_merge::~vcd_merge() = default;

void vcd_merge::declare(const std::string& dotted_scope, const std::string& name, unsigned width,
                        const std::string& code) {
    m_used_codes.insert(code);
    const std::string reference =
        width > 1 ? name + " [" + std::to_string(width - 1) + ":0]" : name;
    add_var(split_scope(dotted_scope), "wire", width, code, reference, "tracer");
}

void vcd_merge::add_var(const std::vector<std::string>& scope, const std::string& type,
                        unsigned width, const std::string& code, const std::string& reference,
                        const std::string& origin) {
    vcd_scope_node* node = m_root.get();
    std::string path;
    for (const std::string& part : scope) {
        node = node->child(part);
        path += part + ".";
    }
    const std::string name = reference.substr(0, reference.find(' '));
    if (!node->var_names.insert(name).second) {
        throw std::runtime_error("VCD merge: " + origin + " declares " + path + name +
                                 ", which another source already declares");
    }
    const size_t space = reference.find(' ');
    std::string range = space == std::string::npos ? "" : reference.substr(space + 1);
    range.erase(0, range.find_first_not_of(' '));
    m_signals.push_back({path.empty() ? "" : path.substr(0, path.size() - 1), name, range, width});
    node->vars.push_back("$var " + type + " " + std::to_string(width) + " " + code + " " +
                         reference + " $end");
}

std::string vcd_merge::fresh_code() {
    std::string code;
    do {
        code = vcd_id_code(m_next_code++);
    } while (m_used_codes.count(code) != 0);
    m_used_codes.insert(code);
    return code;
}

void vcd_merge::add_source(const std::string& path, bool has_header,
                           const std::string& scope_prefix) {
    const std::vector<std::string> prefix =
        scope_prefix.empty() ? std::vector<std::string>{} : split_scope(scope_prefix);
    source src;
    src.path = path;
    src.reader = std::make_unique<vcd_reader>(path, has_header);
    src.renumbered = has_header;
    for (const vcd_var& v : src.reader->vars()) {
        std::vector<std::string> scope = v.scope;
        if (!prefix.empty()) {
            scope = prefix;
            if (v.scope.size() > 1) {
                scope.insert(scope.end(), v.scope.begin() + 1, v.scope.end());
            }
        }
        std::string dotted;
        for (const std::string& part : scope) {
            dotted += (dotted.empty() ? "" : ".") + part;
        }
        if (!m_filter.keeps(dotted)) {
            src.codes.try_emplace(v.id);  // known but not written, unless an alias is kept
            continue;
        }
        std::string& code = src.codes[v.id];
        if (code.empty()) {
            code = fresh_code();
        }
        add_var(scope, v.type, v.width, code, v.reference, path);
    }
    m_sources.push_back(std::move(src));
}

// Reads the source's next block into src.changes, clamping its time to the previous block's.
bool vcd_merge::read_block(source& src, uint64_t& t, uint64_t& clamped) {
    if (!src.reader->next_block(t, src.changes)) {
        return false;
    }
    if (t < src.time) {
        ++clamped;
        t = src.time;
    }
    src.time = t;
    return true;
}

// Makes the source's next in-window block current (src.time, src.changes), or marks it done.
// Blocks before the window only update src.before; the first block at or after `from` is held
// back while the values of src.before are handed out as a block at `from`.
void vcd_merge::advance(source& src, uint64_t& clamped) {
    if (src.held) {
        src.held = false;
        src.time = src.held_time;
        src.changes.swap(src.held_changes);
        src.live = src.time <= m_to;
        return;
    }
    uint64_t t = 0;
    for (;;) {
        if (!read_block(src, t, clamped)) {
            src.live = false;
            break;
        }
        if (t >= m_from || !src.renumbered) {
            src.live = true;
            break;
        }
        for (const vcd_change& c : src.changes) {
            src.before[c.id] = c.value;
        }
    }
    if (!src.before.empty() && m_from != UINT64_MAX) {
        if (src.live) {
            src.held = true;
            src.held_time = t;
            src.held_changes.swap(src.changes);
        }
        src.changes.clear();
        for (const auto& [id, value] : src.before) {
            src.changes.push_back({value, id});
        }
        src.before.clear();
        src.time = m_from;
        src.live = true;
        return;
    }
    src.live = src.live && t <= m_to;
}

uint64_t vcd_merge::write() {
    std::ofstream out(m_out_path, std::ios::binary | std::ios::trunc);
    if (!out) {
        throw std::runtime_error("VCD merge: cannot write " + m_out_path);
    }
    // No $date: the same run must produce the same file.
    out << "$version chio tracer $end\n$timescale 1ps $end\n";
    write_scope(out, *m_root);
    out << "$enddefinitions $end\n";

    uint64_t clamped = 0;
    if (m_sources.size() == 1 && !m_sources[0].renumbered) {
        // Only the tracer's own spool: it is already a valid body, copy it as it is.
        if (std::filesystem::file_size(m_sources[0].path) > 0) {
            std::ifstream in(m_sources[0].path, std::ios::binary);
            out << in.rdbuf();
        }
    } else {
        for (source& s : m_sources) {
            advance(s, clamped);
        }
        bool stamped = false;
        uint64_t last = 0;
        for (;;) {
            const source* next = nullptr;
            for (const source& s : m_sources) {
                if (s.live && (next == nullptr || s.time < next->time)) {
                    next = &s;
                }
            }
            if (next == nullptr) {
                break;
            }
            const uint64_t t = next->time;
            if (!stamped || t != last) {
                out << '#' << t << '\n';
                stamped = true;
                last = t;
            }
            for (source& s : m_sources) {
                if (!s.live || s.time != t) {
                    continue;
                }
                for (const vcd_change& c : s.changes) {
                    const std::string* code = &c.id;
                    if (s.renumbered) {
                        auto it = s.codes.find(c.id);
                        if (it == s.codes.end()) {
                            throw std::runtime_error("VCD merge: " + s.path +
                                                     ": value change for undeclared code '" + c.id +
                                                     "'");
                        }
                        if (it->second.empty()) {
                            continue;  // a var the scope filter left out
                        }
                        code = &it->second;
                    }
                    out << c.value << (is_two_token(c.value) ? " " : "") << *code << '\n';
                }
                advance(s, clamped);
            }
        }
    }
    out.flush();
    if (!out) {
        throw std::runtime_error("VCD merge: writing " + m_out_path + " failed (disk full?)");
    }
    return clamped;
}

}  // namespace chio::model
