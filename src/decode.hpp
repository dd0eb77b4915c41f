// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
#pragma once
// Private: link layers, encapsulations (VLAN, MPLS, PPPoE, GRE, ERSPAN, VXLAN, Geneve, IP in
// IP), IPv4/IPv6 and TCP decoding to a Segment.

#include <cstdint>

#include <capgap/flow_key.hpp>
#include <capgap/segment.hpp>

namespace capgap::detail {

// The outcome of decoding one packet; every value but `tcp` and `tcp_fragment` names an
// IngestStats counter.
enum class Decoded : std::uint8_t {
    tcp,                  // `out` holds the segment (frame and time are left to the caller)
    not_ip,               // skipped_not_ip
    not_tcp,              // skipped_not_tcp
    ip_fragment,          // skipped_ip_fragment (a fragment that is not reassembled here)
    bad_ip_header,        // skipped_bad_ip_header
    bad_tcp_header,       // skipped_bad_tcp_header
    truncated_header,     // skipped_truncated_header
    unsupported_link,     // skipped_unsupported_link
    tcp_fragment,         // `frag` holds one piece of a fragmented TCP datagram: reassemble it
    encapsulation_depth,  // skipped_encapsulation_depth (more than max_encapsulation_depth)
    encrypted,            // skipped_encrypted (802.11 protected frame)
};

// Tunnel, MPLS and PPPoE layers peeled before a packet is given up (crafted loops such as
// IP-in-IP-in-IP... end here). VLAN tags and the labels of one MPLS stack do not count.
constexpr unsigned max_encapsulation_depth = 8;

// One piece of a fragmented IPv4 or IPv6 datagram whose upper protocol is TCP. `data` points
// into the packet buffer: copy what you keep before the buffer goes away.
struct IpFragment {
    IpAddress src;
    IpAddress dst;
    std::uint32_t id = 0;      // IPv4 identification or IPv6 fragment header identification
    std::uint32_t offset = 0;  // byte offset of this piece in the datagram's payload
    std::uint32_t length = 0;  // on-wire bytes of this piece
    const std::uint8_t* data = nullptr;  // its captured bytes
    std::uint32_t captured = 0;          // how many (<= length; the snaplen may cut the piece)
    bool more = false;                   // more fragments follow (MF / M flag)
};

// Decodes caplen bytes of a packet of link type `link_type` (DLT_ value as libpcap's
// pcap_datalink() returns it) whose on-wire length is `len`. Never reads past caplen.
//
// Fragments: with `frag` set, every piece of a fragmented TCP datagram (first one included)
// returns tcp_fragment and is described in *frag; fragments of other protocols return
// ip_fragment. Without `frag`, a first fragment decodes as TCP with its own length and later
// pieces return ip_fragment (stateless decoding).
Decoded decode_packet(const std::uint8_t* data, std::uint32_t caplen, std::uint32_t len,
                      int link_type, Segment& out, IpFragment* frag = nullptr) noexcept;

// Decodes a TCP header at data[off] whose IP payload is `ip_payload` bytes on the wire (the
// reassembler uses it on a rebuilt datagram head). Never reads past caplen.
Decoded decode_tcp_header(const std::uint8_t* data, std::uint32_t caplen, std::uint32_t off,
                          std::uint32_t ip_payload, Segment& out) noexcept;

// True when decode_packet knows the link type.
bool link_type_supported(int link_type) noexcept;

}  // namespace capgap::detail
