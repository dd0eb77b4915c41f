// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// @file
/// A decoded TCP segment: what the tracker consumes, whatever the packet source.

#include <cstdint>

#include <capgap/flow_key.hpp>
#include <capgap/time.hpp>

namespace capgap {

/// TCP flag bits as they appear in the header's 13th byte.
namespace tcp_flags {
constexpr std::uint8_t fin = 0x01;
constexpr std::uint8_t syn = 0x02;
constexpr std::uint8_t rst = 0x04;
constexpr std::uint8_t psh = 0x08;
constexpr std::uint8_t ack = 0x10;
constexpr std::uint8_t urg = 0x20;
}  // namespace tcp_flags

/// Segment::vlan and Session::vlan of an untagged packet.
constexpr std::uint16_t no_vlan = 0xffff;

/// One TCP segment, decoded. Feed these to Tracker (or Analyzer) in capture order.
struct Segment {
    std::uint64_t frame = 0;   ///< 1-based frame number in capture order (as Wireshark counts)
    Timestamp time;            ///< capture timestamp
    Endpoint src;              ///< sender
    Endpoint dst;              ///< receiver
    std::uint32_t seq = 0;     ///< sequence number as on the wire
    std::uint32_t ack = 0;     ///< acknowledgement number (meaningful when the ACK flag is set)
    std::uint16_t window = 0;  ///< raw window field (unscaled)
    std::uint8_t flags = 0;    ///< tcp_flags bits
    std::uint32_t payload_len = 0;      ///< ON-WIRE payload bytes (IP length minus headers)
    std::uint32_t truncated_bytes = 0;  ///< payload bytes the snaplen cut off (not loss)
    std::uint16_t checksum = 0;         ///< TCP checksum field (tells SPAN duplicates from resends)
    std::uint16_t vlan = no_vlan;       ///< outermost 802.1Q/802.1ad VLAN id (no_vlan: untagged)
    std::uint32_t tunnel = 0;  ///< outer tunnel context, part of the flow key (0: none); set by
                               ///< the Analyzer with Options::tunnel_key, see IngestStats::tunnels
    std::uint32_t interface = 0;  ///< capture interface (pcapng interface id; 0 otherwise)

    bool has(std::uint8_t f) const { return (flags & f) != 0; }
};

}  // namespace capgap
