// Wire-format constants of the RoCEv2 frame that are not chio's hardware interface: field values
// fixed by the Ethernet, IP, UDP and InfiniBand standards and the pcap file format. Everything the
// adapter's interface declares (header sizes, the UDP port, BTH opcodes, AETH syndromes,
// EtherTypes) lives in spec/chio.toml as chio::spec::roce; this header holds only what those
// standards fix and no chio design choice could change. Each constant cites its source.
#pragma once

#include <cstdint>

namespace chio::model::wire {

// --- Ethernet (IEEE 802.3-2018) ---
inline constexpr uint32_t MAC_BYTES = 6;
// Clause 3.1.1 / 4.4.2: every frame costs preamble (7) + SFD (1) + FCS (4) + minimum inter-packet
// gap (12) on the wire beyond the bytes from destination MAC to the end of the payload.
inline constexpr uint32_t PREAMBLE_SFD = 8;
inline constexpr uint32_t FCS = 4;
inline constexpr uint32_t IFG = 12;
inline constexpr uint32_t FRAME_OVERHEAD = PREAMBLE_SFD + FCS + IFG;
// Clause 3.2.8: minimum frame 64 bytes including FCS, i.e. 60 without it.
inline constexpr uint32_t MIN_FRAME_NO_FCS = 60;

// --- IPv4 (RFC 791) ---
inline constexpr uint8_t IPV4_VERSION = 4;
inline constexpr uint8_t IPV4_IHL_NO_OPTIONS = 5;  // header length in 32-bit words
inline constexpr uint16_t IPV4_FLAG_DF = 0x4000;   // flags/fragment word: Don't Fragment
inline constexpr uint16_t IPV4_FLAG_MF = 0x2000;   // More Fragments
inline constexpr uint16_t IPV4_FRAG_OFFSET_MASK = 0x1FFF;
inline constexpr uint8_t IP_PROTO_UDP = 17;  // IANA protocol number, used by IPv6 Next Header too

// --- IPv6 (RFC 8200) ---
inline constexpr uint8_t IPV6_VERSION = 6;
inline constexpr uint32_t IPV6_FLOW_LABEL_MASK = 0xFFFFF;  // 20 bits

// DSCP (6 bits) and ECN (2 bits) share the IPv4 TOS / IPv6 Traffic Class byte (RFC 2474, 3168).
inline constexpr uint8_t DSCP_MASK = 0x3F;
inline constexpr uint8_t ECN_MASK = 0x3;
inline constexpr uint32_t DSCP_SHIFT = 2;

// --- UDP (RFC 768, RFC 8200 section 8.1) ---
// A computed checksum of 0 is sent as 0xFFFF; 0 means "no checksum" (IPv4 only).
inline constexpr uint16_t UDP_CHECKSUM_ZERO_AS = 0xFFFF;

// --- InfiniBand transport (IBA 1.4 vol 1) ---
inline constexpr uint32_t QPN_MASK = 0xFFFFFF;  // 9.2: DestQP and SrcQP are 24 bits
inline constexpr uint32_t PSN_MASK = 0xFFFFFF;  // 9.2: PSN is 24 bits
inline constexpr uint32_t MSN_MASK = 0xFFFFFF;  // 9.3.5: AETH MSN is 24 bits
inline constexpr uint8_t BTH_TVER = 0;          // 9.2: transport header version
inline constexpr uint8_t BTH_SE = 0x80;         // byte 1: solicited event
inline constexpr uint8_t BTH_MIGREQ = 0x40;     // byte 1: migration request
inline constexpr uint32_t BTH_PAD_SHIFT = 4;    // byte 1 bits 5:4: pad count
inline constexpr uint8_t BTH_PAD_MASK = 0x3;
inline constexpr uint8_t BTH_TVER_MASK = 0xF;  // byte 1 bits 3:0
inline constexpr uint8_t BTH_ACKREQ = 0x80;    // byte 8: acknowledge request
inline constexpr uint32_t PAYLOAD_ALIGN = 4;   // 9.2: payload padded to a 4-byte multiple

// ICRC (IBA 7.8.1 and Annex A17.3.3): the CRC-32 of IEEE 802.3 (polynomial 0x04C11DB7, here in
// its bit-reflected form), initial value all ones, result complemented. It covers a pseudo packet:
// 8 bytes of ones standing in for the LRH, then the IP header, UDP header and BTH with their
// variant fields replaced by ones, then the rest of the transport headers, payload and pad. The
// 32-bit result goes on the wire least significant byte first (as Linux rxe_icrc.c and scapy's
// contrib/roce.py do); the ICRC is the complement of the CRC register, so the bytes are those of
// a standard (zlib) CRC-32 of the pseudo packet, little-endian.
inline constexpr uint32_t CRC32_POLY_REFLECTED = 0xEDB88320;
inline constexpr uint32_t ICRC_LRH_ONES = 8;
// Variant fields (Annex A17.3.3): IPv4 TOS, TTL, header checksum; IPv6 traffic class, flow label,
// hop limit; UDP checksum; BTH byte 4 (FECN/BECN/reserved).
inline constexpr uint32_t IPV4_TOS_OFFSET = 1;
inline constexpr uint32_t IPV4_TTL_OFFSET = 8;
inline constexpr uint32_t IPV4_CHECKSUM_OFFSET = 10;
inline constexpr uint32_t IPV6_HOP_LIMIT_OFFSET = 7;
inline constexpr uint32_t UDP_CHECKSUM_OFFSET = 6;
inline constexpr uint32_t BTH_RESV8A_OFFSET = 4;

// --- pcap (the libpcap file format, draft-ietf-opsawg-pcap) ---
inline constexpr uint32_t PCAP_MAGIC_NS = 0xA1B23C4D;  // nanosecond time stamps
inline constexpr uint16_t PCAP_VERSION_MAJOR = 2;
inline constexpr uint16_t PCAP_VERSION_MINOR = 4;
inline constexpr uint32_t PCAP_LINKTYPE_ETHERNET = 1;
inline constexpr uint32_t PCAP_SNAPLEN = 262144;  // tcpdump's default; above any Ethernet frame

}  // namespace chio::model::wire
