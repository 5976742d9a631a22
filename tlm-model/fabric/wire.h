// The RoCEv2 wire format (IBA 1.4 Annex A17): a roce_packet to the exact Ethernet frame and back.
//
// Contract: encode() writes Ethernet II, IPv4 (no options, DF set, header checksum) or IPv6, UDP
// to spec::roce::UDP_DPORT, the BTH and the extension headers header_layout() names in network
// byte order, the payload, the pad to a 4-byte multiple and the ICRC; wire_size() bytes, no FCS.
// The UDP checksum is 0 over IPv4 (allowed by Annex A17 and RFC 768; ConnectX adapters send 0)
// and computed over IPv6, where RFC 8200 section 8.1 requires it.
// decode() accepts any bytes: it never reads out of bounds and never asserts, and rejects what a
// RoCEv2 receiver would drop, naming the reason. It is a fuzz target.
// Plain C++ (no SystemC).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "tlm-model/fabric/packet.h"

namespace chio::model {

// The frame for `p`. A packet with `corrupt` set gets the complement of its ICRC, so a receiver
// (ours or Wireshark) sees what the damaged frame would show.
std::vector<uint8_t> encode(const roce_packet& p);

// Parses one Ethernet frame (destination MAC through ICRC; bytes after the IP packet, such as
// Ethernet padding, are ignored). Returns true for a well-formed RoCEv2 frame with a good ICRC.
// On false, `why` (when not null) gets a one-line reason. A frame whose only faults are its
// ICRC or UDP checksum (damage in flight) is parsed in full into `out` with `corrupt` set, so a
// receiver can count it; after any other failure `out` is unspecified.
bool decode(const uint8_t* data, size_t len, roce_packet& out, std::string* why);
inline bool decode(const std::vector<uint8_t>& frame, roce_packet& out, std::string* why) {
    return decode(frame.data(), frame.size(), out, why);
}

// The ICRC of a complete frame (IBA Annex A17.3.3): computed over frame[0, len - ICRC) of a
// frame whose IP and UDP headers are consistent. Returns the value as it appears on the wire
// read little-endian; 0 for a frame too short to hold the headers or not IPv4/IPv6. For tests and
// tools; encode() and decode() use it.
uint32_t compute_icrc(const uint8_t* frame, size_t len);

// CRC-32 of IEEE 802.3 (the ICRC's CRC, IBA 7.8.1) over `len` bytes, standard initial value and
// final complement: crc32("123456789") == 0xCBF43926.
uint32_t crc32(const uint8_t* data, size_t len);

}  // namespace chio::model
