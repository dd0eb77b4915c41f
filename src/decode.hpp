// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
#pragma once
// Private: link layer, VLAN, IPv4/IPv6 and TCP decoding to a Segment.

#include <cstdint>

#include <capgap/segment.hpp>

namespace capgap::detail {

// The outcome of decoding one packet; every value but `tcp` names an IngestStats counter.
enum class Decoded : std::uint8_t {
    tcp,               // `out` holds the segment (frame and time are left to the caller)
    not_ip,            // skipped_not_ip
    not_tcp,           // skipped_not_tcp
    ip_fragment,       // skipped_ip_fragment (non-first fragment)
    bad_ip_header,     // skipped_bad_ip_header
    bad_tcp_header,    // skipped_bad_tcp_header
    truncated_header,  // skipped_truncated_header
    unsupported_link,  // skipped_unsupported_link
};

// Decodes caplen bytes of a packet of link type `link_type` (DLT_ value as libpcap's
// pcap_datalink() returns it) whose on-wire length is `len`. Never reads past caplen.
Decoded decode_packet(const std::uint8_t* data, std::uint32_t caplen, std::uint32_t len,
                      int link_type, Segment& out) noexcept;

// True when decode_packet knows the link type.
bool link_type_supported(int link_type) noexcept;

}  // namespace capgap::detail
