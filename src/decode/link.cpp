// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// The link layers decode.cpp does not take itself: PPP (with PPPoE framing and Cisco HDLC),
// FDDI and other LLC/SNAP carriers, IEEE 802.11 behind radiotap, PPI or AVS headers, Linux
// NFLOG, ARCNET and Juniper's Ethernet. Ethernet itself is inline in layers.hpp.

#include "decode/layers.hpp"

namespace capgap::detail::layers {

// An 802.2 LLC header with a SNAP extension (AA AA 03, OUI 00-00-00 or 00-00-F8) at `off`.
Decoded llc_snap(Ctx& c, std::uint32_t off) noexcept {
    if (c.avail(off) < 8) return Decoded::truncated_header;
    const std::uint8_t* l = c.data + off;
    if (l[0] != 0xaa || l[1] != 0xaa || l[2] != 0x03 || l[3] != 0 || l[4] != 0 ||
        (l[5] != 0 && l[5] != 0xf8))
        return Decoded::not_ip;
    return by_ethertype(c, off + 8, load16(l + 6));
}

// The PPP protocol field at `off` (one byte when compressed: the first byte is odd).
Decoded ppp_protocol(Ctx& c, std::uint32_t off) noexcept {
    if (c.avail(off) < 1) return Decoded::truncated_header;
    std::uint16_t proto = c.data[off];
    if ((proto & 1) != 0) {
        off += 1;
    } else {
        if (c.avail(off) < 2) return Decoded::truncated_header;
        proto = load16(c.data + off);
        off += 2;
    }
    switch (proto) {
        case 0x0021:
            return ipv4(c, off);
        case 0x0057:
            return ipv6(c, off);
        case 0x0281:  // MPLS unicast
        case 0x0283:  // MPLS multicast
            return mpls(c, off);
        default:
            // 0x0001-0x7fff carry network-layer data (Van Jacobson compressed TCP, bridged
            // frames, ...): a payload capgap cannot read. 0x8000 and up are control
            // protocols (IPCP, LCP, CHAP, ...): no data, like ARP on Ethernet.
            if (proto < 0x8000) return c.unsupported(Encap::ppp_protocol, proto);
            return Decoded::not_ip;
    }
}

// PPP, with or without the HDLC-like address and control bytes FF 03.
Decoded ppp(Ctx& c, std::uint32_t off) noexcept {
    if (c.avail(off) < 2) return Decoded::truncated_header;
    if (c.data[off] == 0xff && c.data[off + 1] == 0x03) off += 2;
    return ppp_protocol(c, off);
}

namespace {

// Cisco HDLC: address (0x0F unicast, 0x8F broadcast), control 0, ethertype.
Decoded chdlc(Ctx& c, std::uint32_t off) noexcept {
    if (c.avail(off) < 4) return Decoded::truncated_header;
    return by_ethertype(c, off + 4, load16(c.data + off + 2));
}

// IEEE 802.11 frame at `off`: only data frames carrying LLC/SNAP are decoded.
Decoded ieee802_11(Ctx& c, std::uint32_t off) noexcept {
    if (c.avail(off) < 2) return Decoded::truncated_header;
    const std::uint8_t fc0 = c.data[off];
    const std::uint8_t fc1 = c.data[off + 1];
    if (((fc0 >> 2) & 3) != 2) return Decoded::not_ip;  // management, control, extension
    const unsigned subtype = fc0 >> 4;
    if ((subtype & 0x4) != 0) return Decoded::not_ip;  // null function: no body
    std::uint32_t header = 24;
    if ((fc1 & 0x03) == 0x03) header += 6;  // ToDS and FromDS: fourth address
    if ((subtype & 0x8) != 0) {             // QoS data
        header += 2;
        if ((fc1 & 0x80) != 0) header += 4;  // +HTC field
    }
    if ((fc1 & 0x40) != 0) return c.encrypted(Encap::wlan_protected);
    if (c.avail(off) < header) return Decoded::truncated_header;
    return llc_snap(c, off + header);
}

// Linux NFLOG: family, version, resource id, then TLVs (length and type in the logging
// host's byte order, little-endian on nearly every host; values padded to 4 bytes). TLV type 9
// holds the packet from its network header.
Decoded nflog(Ctx& c) noexcept {
    if (c.caplen < 4) return Decoded::truncated_header;
    const std::uint8_t family = c.data[0];
    std::uint32_t off = 4;
    // A TLV's length counts its 4-byte header and is at least 4: whichever byte order gives a
    // sensible first length is the host's.
    bool big = false;
    if (c.avail(off) >= 4) {
        const std::uint16_t le = load16_le(c.data + off);
        const std::uint16_t be = load16(c.data + off);
        big = (le < 4 || le > c.avail(off)) && be >= 4 && be <= c.avail(off);
    }
    for (;;) {
        if (c.avail(off) < 4) return Decoded::truncated_header;
        const std::uint8_t* t = c.data + off;
        const std::uint32_t tlv_len = big ? load16(t) : load16_le(t);
        const std::uint32_t type = (big ? load16(t + 2) : load16_le(t + 2)) & 0x7fffu;
        if (tlv_len < 4) return Decoded::not_ip;
        if (type == 9) {
            switch (family) {
                case 2:
                    return ipv4(c, off + 4);
                case 10:
                    return ipv6(c, off + 4);
                default:
                    return ip_by_version(c, off + 4);
            }
        }
        off += (tlv_len + 3) & ~3u;
    }
}

// Juniper "MGC" cookie, flags, optional extension TLVs, then Ethernet (or, with the no-L2
// flag, 4 more bytes and IP).
Decoded juniper_ether(Ctx& c) noexcept {
    if (c.caplen < 4) return Decoded::truncated_header;
    if (c.data[0] != 'M' || c.data[1] != 'G' || c.data[2] != 'C') return Decoded::not_ip;
    const std::uint8_t flags = c.data[3];
    std::uint32_t off = 4;
    if ((flags & 0x80) != 0) {
        if (c.caplen < 6) return Decoded::truncated_header;
        off = 6 + std::uint32_t{load16(c.data + 4)};
    }
    if ((flags & 0x02) != 0) return ip_by_version(c, off + 4);
    return ethernet(c, off);
}

// ARCNET as Linux captures it: source, destination, 2 bytes of offset, protocol id; RFC 1201
// protocols add split flag and sequence number (the kernel has already joined split
// packets), the old RFC 1051 ones do not.
Decoded arcnet_linux(Ctx& c) noexcept {
    if (c.caplen < 5) return Decoded::truncated_header;
    const std::uint8_t type = c.data[4];
    switch (type) {
        case 0xf0:  // IP, RFC 1051
            return ipv4(c, 5);
        case 0xf1:  // ARP, RFC 1051
        case 0x80:  // diagnostics
            return Decoded::not_ip;
        default:
            if (c.caplen < 8) return Decoded::truncated_header;
            if (type == 0xd4) return ipv4(c, 8);
            if (type == 0xc4) return ipv6(c, 8);
            return Decoded::not_ip;
    }
}

// Radiotap, PPI and AVS headers in front of 802.11.
Decoded wlan_with_header(Ctx& c, int link_type) noexcept {
    std::uint32_t off = 0;
    switch (link_type) {
        case dlt_ieee802_11_radio:  // length LE at offset 2
            if (c.caplen < 4) return Decoded::truncated_header;
            off = load16_le(c.data + 2);
            break;
        case dlt_ieee802_11_radio_avs:  // length BE at offset 4
            if (c.caplen < 8) return Decoded::truncated_header;
            off = load32(c.data + 4);
            break;
        case dlt_ppi: {  // length LE at offset 2, the link type of what follows at offset 4
            if (c.caplen < 8) return Decoded::truncated_header;
            off = load16_le(c.data + 2);
            const std::uint32_t inner = load32_le(c.data + 4);
            if (inner == dlt_en10mb) return ethernet(c, off);
            if (inner != dlt_ieee802_11) return Decoded::unsupported_link;
            break;
        }
        default:
            break;
    }
    return ieee802_11(c, off);
}

}  // namespace

Decoded other_link(Ctx& c, int link_type) noexcept {
    switch (link_type) {
        case dlt_ppp:
            return ppp(c, 0);
        case dlt_ppp_serial:
            // RFC 1662 framing starts with FF; Cisco's PPP-in-HDLC with 0F or 8F.
            if (c.caplen >= 1 && (c.data[0] == 0x0f || c.data[0] == 0x8f)) return chdlc(c, 0);
            return ppp(c, 0);
        case dlt_ppp_ether:
            return pppoe(c, 0);
        case dlt_c_hdlc:
            return chdlc(c, 0);
        case dlt_fddi:  // frame control, destination, source, then LLC
            return llc_snap(c, 13);
        case dlt_ieee802_11:
            return ieee802_11(c, 0);
        case dlt_ieee802_11_radio:
        case dlt_ieee802_11_radio_avs:
        case dlt_ppi:
            return wlan_with_header(c, link_type);
        case dlt_nflog:
            return nflog(c);
        case dlt_arcnet_linux:
            return arcnet_linux(c);
        case dlt_juniper_ether:
            return juniper_ether(c);
        default:
            return Decoded::unsupported_link;
    }
}

}  // namespace capgap::detail::layers
