#include "tlm-model/fabric/pcap_writer.h"

#include <array>
#include <cerrno>
#include <cstring>

#include "tlm-model/fabric/wire_constants.h"

namespace chio::model {

namespace {

constexpr uint64_t NS_PER_S = 1000000000;

template <size_t N>
void put_le(std::array<uint8_t, N>& b, size_t at, uint64_t v, size_t bytes) {
    for (size_t i = 0; i < bytes; ++i) b[at + i] = static_cast<uint8_t>(v >> (8 * i));
}

}  // namespace

pcap_writer::~pcap_writer() { close(); }

bool pcap_writer::open(const std::string& path) {
    close();
    m_path = path;
    m_error.clear();
    m_failed = false;
    m_frames = 0;
    m_file = std::fopen(path.c_str(), "wb");
    if (!m_file) {
        m_error = "cannot create pcap '" + path + "': " + std::strerror(errno);
        return false;
    }
    // Global header: magic, version 2.4, thiszone 0, sigfigs 0, snaplen, link type.
    std::array<uint8_t, 24> h{};
    put_le(h, 0, wire::PCAP_MAGIC_NS, 4);
    put_le(h, 4, wire::PCAP_VERSION_MAJOR, 2);
    put_le(h, 6, wire::PCAP_VERSION_MINOR, 2);
    put_le(h, 16, wire::PCAP_SNAPLEN, 4);
    put_le(h, 20, wire::PCAP_LINKTYPE_ETHERNET, 4);
    return put(h.data(), h.size());
}

bool pcap_writer::put(const void* data, size_t len) {
    if (!m_file) return false;
    if (std::fwrite(data, 1, len, m_file) != len && !m_failed) {
        m_failed = true;
        m_error = "write to pcap '" + m_path + "' failed: " + std::strerror(errno);
    }
    return !m_failed;
}

bool pcap_writer::write(uint64_t time_ns, const uint8_t* frame, size_t len) {
    if (!m_file) {
        m_error = "pcap not open";
        return false;
    }
    const size_t incl = len < wire::PCAP_SNAPLEN ? len : wire::PCAP_SNAPLEN;
    // Record header: seconds, nanoseconds, captured length, original length.
    std::array<uint8_t, 16> r{};
    put_le(r, 0, time_ns / NS_PER_S, 4);
    put_le(r, 4, time_ns % NS_PER_S, 4);
    put_le(r, 8, incl, 4);
    put_le(r, 12, len, 4);
    if (!put(r.data(), r.size()) || (incl && !put(frame, incl))) return false;
    ++m_frames;
    return true;
}

bool pcap_writer::close() {
    if (!m_file) return !m_failed;
    if (std::fclose(m_file) != 0 && !m_failed) {
        m_failed = true;
        m_error = "closing pcap '" + m_path + "' failed: " + std::strerror(errno);
    }
    m_file = nullptr;
    return !m_failed;
}

}  // namespace chio::model
