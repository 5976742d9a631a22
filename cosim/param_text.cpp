#include "cosim/param_text.h"

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace chio::cosim {

bool parse_param_real(const std::string& text, double& out) {
    if (text.empty() || std::isspace(static_cast<unsigned char>(text[0]))) return false;
    errno = 0;
    char* end = nullptr;
    const double d = std::strtod(text.c_str(), &end);
    if (errno != 0 || end == text.c_str() || *end != '\0' || !std::isfinite(d)) return false;
    out = d;
    return true;
}

bool parse_param_uint(const std::string& text, uint64_t& out) {
    if (text.empty() || text[0] < '0' || text[0] > '9') return false;
    errno = 0;
    char* end = nullptr;
    const unsigned long long n = std::strtoull(text.c_str(), &end, 10);
    if (errno != 0 || *end != '\0') return false;
    out = n;
    return true;
}

std::string param_number(double v) {
    char buf[32];
    // Whole numbers in full (a range end of 3145728 B reads better than 3.14573e+06).
    if (v == std::floor(v) && std::fabs(v) < 1e15) {
        std::snprintf(buf, sizeof buf, "%.0f", v);
    } else {
        std::snprintf(buf, sizeof buf, "%g", v);
    }
    return buf;
}

bool split_key_value(const char* option, const std::string& text, std::string& key,
                     std::string& value, std::string& err) {
    const size_t eq = text.find('=');
    if (eq == std::string::npos) {
        err = std::string(option) + " '" + text + "': expected KEY=VALUE";
        return false;
    }
    key = text.substr(0, eq);
    value = text.substr(eq + 1);
    return true;
}

std::string unknown_key_error(const char* option, const std::string& text, const std::string& key,
                              const std::vector<const char*>& keys) {
    std::string list;
    for (const char* k : keys) list += (list.empty() ? "" : ", ") + std::string(k);
    return std::string(option) + " '" + text + "': unknown key '" + key + "' (keys: " + list + ")";
}

}  // namespace chio::cosim
