// pcap_writer: a capture file of Ethernet frames with simulated time stamps, in the classic pcap
// format with nanosecond resolution (magic 0xa1b23c4d, LINKTYPE_ETHERNET), which Wireshark and
// tshark read directly.
//
// Contract: open() creates the file and writes the global header; write() appends one record.
// Time stamps are nanoseconds of simulated time since the start of simulation; callers write in
// non-decreasing time order (the fabric writes at the current simulated time). Records are
// little-endian like the header, as the format allows. Frames longer than the snap length are
// cut (the record keeps the original length). I/O errors are values: open() and write() return
// false and error() says why; nothing throws or asserts. Plain C++ (no SystemC).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace chio::model {

class pcap_writer {
public:
    pcap_writer() = default;
    ~pcap_writer();
    pcap_writer(const pcap_writer&) = delete;
    pcap_writer& operator=(const pcap_writer&) = delete;

    // Creates (truncates) `path`; false with error() set when it cannot.
    bool open(const std::string& path);
    bool is_open() const { return m_file != nullptr; }
    // Flushes and closes; false when a write failed at any point.
    bool close();

    // One frame at `time_ns`. False when the file is not open or the write failed.
    bool write(uint64_t time_ns, const uint8_t* frame, size_t len);
    bool write(uint64_t time_ns, const std::vector<uint8_t>& frame) {
        return write(time_ns, frame.data(), frame.size());
    }

    uint64_t frames() const { return m_frames; }
    const std::string& error() const { return m_error; }

private:
    bool put(const void* data, size_t len);

    std::FILE* m_file = nullptr;
    std::string m_path;
    std::string m_error;
    uint64_t m_frames = 0;
    bool m_failed = false;
};

}  // namespace chio::model
