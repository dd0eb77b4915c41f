// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// IPv6 with its extension headers, IP told apart by its version, and the description of a
// fragment for the reassembler. IPv4 is inline in layers.hpp (the common path).

#include "decode/layers.hpp"

namespace capgap::detail::layers {

// Fills *c.frag for a piece of a fragmented datagram the reassembler takes.
Decoded fragment_piece(Ctx& c, std::uint8_t proto, const IpAddress& src, const IpAddress& dst,
                       std::uint32_t id, std::uint32_t offset, bool more, std::uint32_t off,
                       std::uint32_t length) noexcept {
    IpFragment& f = *c.frag;
    f.src = src;
    f.dst = dst;
    f.proto = proto;
    f.depth = c.depth;
    f.id = id;
    f.offset = offset;
    f.more = more;
    f.length = length;
    f.data = c.data + (off < c.caplen ? off : c.caplen);
    const std::uint32_t have = c.avail(off);
    f.captured = have < length ? have : length;
    return Decoded::tcp_fragment;
}

Decoded ipv6(Ctx& c, std::uint32_t off) noexcept {
    if (c.avail(off) < 40) return Decoded::truncated_header;
    const std::uint8_t* ip = c.data + off;
    if ((ip[0] >> 4) != 6) return Decoded::bad_ip_header;
    std::uint32_t remaining = load16(ip + 4);
    if (remaining == 0) {
        const std::uint32_t frame = frame_ip_length(c, off);
        remaining = frame > 40 ? frame - 40 : 0;
    }
    if (off + 40 <= c.end && remaining > c.end - off - 40) remaining = c.end - off - 40;
    std::uint8_t next = ip[6];
    std::uint32_t p = off + 40;
    // Every extension header is at least 8 bytes and shrinks `remaining`, so this ends.
    for (;;) {
        std::uint32_t ext = 0;
        switch (next) {
            case proto_tcp:
                set_v6(c.out.src.addr, ip + 8);
                set_v6(c.out.dst.addr, ip + 24);
                return decode_tcp_header(c.data, c.caplen, p, remaining, c.out);
            case 0:    // hop-by-hop options
            case 43:   // routing
            case 60:   // destination options
            case 135:  // mobility
                if (c.avail(p) < 2) return Decoded::truncated_header;
                ext = (std::uint32_t{c.data[p + 1]} + 1) * 8;
                break;
            case 51:  // authentication header: length in 4-byte units, minus 2
                if (c.avail(p) < 2) return Decoded::truncated_header;
                ext = (std::uint32_t{c.data[p + 1]} + 2) * 4;
                break;
            case 44: {  // fragment
                if (c.avail(p) < 8) return Decoded::truncated_header;
                const std::uint16_t fo = load16(c.data + p + 2);
                const std::uint32_t offset = fo & 0xfff8u;
                const bool more = (fo & 1) != 0;
                if (offset != 0 || more) {  // an atomic fragment (RFC 6946) is whole
                    if (8 > remaining) return Decoded::bad_ip_header;
                    if (c.frag != nullptr) {
                        if (!reassembled_protocol(c.data[p])) return Decoded::ip_fragment;
                        return fragment_piece(c, c.data[p], IpAddress::v6_from(ip + 8),
                                              IpAddress::v6_from(ip + 24), load32(c.data + p + 4),
                                              offset, more, p + 8, remaining - 8);
                    }
                    if (offset != 0) return Decoded::ip_fragment;
                }
                ext = 8;
                break;
            }
            default:  // UDP, ICMPv6, ESP, tunnels, no next header, ...
                c.outer = ip + 8;
                c.outer_v6 = true;
                return ip_payload(c, next, p, remaining);
        }
        if (ext > remaining) return Decoded::bad_ip_header;
        next = c.data[p];
        p += ext;
        remaining -= ext;
        if (p > c.caplen) return Decoded::truncated_header;
    }
}

// IPv4 or IPv6, told apart by the version nibble (raw IP, MPLS payloads, ...).
Decoded ip_by_version(Ctx& c, std::uint32_t off) noexcept {
    if (c.avail(off) < 1) return Decoded::truncated_header;
    switch (c.data[off] >> 4) {
        case 4:
            return ipv4(c, off);
        case 6:
            return ipv6(c, off);
        default:
            return Decoded::not_ip;
    }
}

}  // namespace capgap::detail::layers
