// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// The link layers decode.cpp does not take itself: PPP (with PPPoE framing and Cisco HDLC),
// Frame Relay, LLC over ATM (RFC 1483), FDDI and other LLC/SNAP carriers, IEEE 802.11 behind
// radiotap, PPI or AVS headers, Linux NFLOG, OpenBSD PFLOG and ENC, Solaris IPNET, IP over
// InfiniBand, ARCNET, Juniper's encapsulations, Endace ERF records, netANALYZER and 802.3br
// mPackets. Ethernet itself is inline in layers.hpp.

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

// The address family of BSD headers (PFLOG, ENC), as in DLT_NULL: IPv6 has a different value
// on each BSD (24 NetBSD/OpenBSD, 28 FreeBSD, 30 macOS).
Decoded by_bsd_family(Ctx& c, std::uint32_t af, std::uint32_t off) noexcept {
    switch (af) {
        case 2:
            return ipv4(c, off);
        case 24:
        case 28:
        case 30:
            return ipv6(c, off);
        default:
            return Decoded::not_ip;
    }
}

// A network-layer protocol id (ISO/IEC TR 9577) at `off`, as Frame Relay (RFC 2427) and LLC
// over ATM (RFC 2684) carry it. OSI protocols and Q.933 signalling are not IP.
Decoded nlpid(Ctx& c, std::uint32_t off) noexcept {
    if (c.avail(off) < 1) return Decoded::truncated_header;
    switch (c.data[off]) {
        case 0xcc:
            return ipv4(c, off + 1);
        case 0x8e:
            return ipv6(c, off + 1);
        case 0xcf:
            return ppp_protocol(c, off + 1);
        case 0x80: {  // SNAP: OUI and protocol id
            if (c.avail(off) < 6) return Decoded::truncated_header;
            const std::uint8_t* s = c.data + off + 1;
            if (s[0] == 0 && s[1] == 0 && s[2] == 0) return by_ethertype(c, off + 6, load16(s + 3));
            // Bridged 802.3 (OUI 00-80-C2, with or without the FCS): the frame follows.
            if (s[0] == 0x00 && s[1] == 0x80 && s[2] == 0xc2 &&
                (load16(s + 3) == 0x0001 || load16(s + 3) == 0x0007))
                return ethernet(c, off + 6);
            return Decoded::not_ip;
        }
        default:
            return Decoded::not_ip;
    }
}

// Frame Relay at `off`: a Q.922 address of 2 to 4 bytes (the last one has its EA bit set),
// then RFC 2427 multiprotocol encapsulation (UI control 0x03, an optional pad byte, an NLPID)
// or, without the control byte, Cisco's (an ethertype).
Decoded frame_relay(Ctx& c, std::uint32_t off) noexcept {
    std::uint32_t n = 0;
    do {
        if (c.avail(off + n) < 1) return Decoded::truncated_header;
        if (++n > 4) return Decoded::not_ip;
    } while ((c.data[off + n - 1] & 1) == 0);
    if (n < 2) return Decoded::not_ip;
    off += n;
    if (c.avail(off) < 2) return Decoded::truncated_header;
    if (c.data[off] != 0x03) return by_ethertype(c, off + 2, load16(c.data + off));
    ++off;
    if (c.data[off] == 0x00) ++off;  // pad to align the rest
    return nlpid(c, off);
}

// HDLC-framed packets whose protocol is not said (ERF's PoS records): Cisco HDLC (0F or 8F),
// PPP in HDLC-like framing (FF 03), otherwise Frame Relay.
Decoded hdlc_guess(Ctx& c, std::uint32_t off) noexcept {
    if (c.avail(off) < 2) return Decoded::truncated_header;
    const std::uint8_t a = c.data[off];
    if ((a == 0x0f || a == 0x8f) && c.data[off + 1] == 0x00) return chdlc(c, off);
    if (a == 0xff && c.data[off + 1] == 0x03) return ppp(c, off);
    return frame_relay(c, off);
}

// LLC over ATM (RFC 1483 / RFC 2684, LLC encapsulation): routed SNAP (AA AA 03, OUI 0,
// ethertype), bridged 802.3 (OUI 00-80-C2, two pad bytes, the frame) or NLPID (FE FE 03).
Decoded atm_llc(Ctx& c, std::uint32_t off) noexcept {
    if (c.avail(off) < 3) return Decoded::truncated_header;
    const std::uint8_t* l = c.data + off;
    if (l[0] == 0xfe && l[1] == 0xfe && l[2] == 0x03) return nlpid(c, off + 3);
    if (l[0] != 0xaa || l[1] != 0xaa || l[2] != 0x03) return Decoded::not_ip;
    if (c.avail(off) < 8) return Decoded::truncated_header;
    if (l[3] == 0x00 && l[4] == 0x80 && l[5] == 0xc2 &&
        (load16(l + 6) == 0x0001 || load16(l + 6) == 0x0007))
        return ethernet(c, off + 10);
    return llc_snap(c, off);
}

// OpenBSD pflog: the header's length (byte 0, padded to 4 bytes), the address family (byte
// 1), action, reason, interface and rule names...; the packet from its IP header.
Decoded pflog(Ctx& c) noexcept {
    if (c.caplen < 2) return Decoded::truncated_header;
    const std::uint32_t length = c.data[0];
    if (length < 45) return Decoded::not_ip;  // shorter than the oldest header: not pflog
    return by_bsd_family(c, c.data[1], (length + 3) & ~3u);
}

// OpenBSD enc (IPsec before encryption / after decryption): address family, SPI and flags,
// 4 bytes each; the family in the writer's byte order, read as DLT_NULL's.
Decoded enc(Ctx& c) noexcept {
    if (c.caplen < 12) return Decoded::truncated_header;
    const std::uint32_t be = load32(c.data);
    return by_bsd_family(c, (be & 0xffff0000u) == 0 ? be : load32_le(c.data), 12);
}

// Solaris ipnet: version, family (2 IPv4, 26 IPv6), hardware type, packet length, interface
// and zone ids: 24 bytes, then IP.
Decoded ipnet(Ctx& c) noexcept {
    if (c.caplen < 24) return Decoded::truncated_header;
    switch (c.data[1]) {
        case 2:
            return ipv4(c, 24);
        case 26:
            return ipv6(c, 24);
        default:
            return Decoded::not_ip;
    }
}

// IP over InfiniBand: RFC 4391's ethertype and 2 reserved bytes, either alone or after a
// 40-byte pseudo header (IP version, traffic class, flow label, source QPN, source and
// destination GIDs), which tshark 4.0 expects. The pseudo header starts with the GRH version
// nibble (6) or zeros, never with an IP or ARP ethertype.
Decoded ipoib(Ctx& c) noexcept {
    if (c.caplen < 4) return Decoded::truncated_header;
    const std::uint16_t type = load16(c.data);
    if (type == ethertype_ipv4 || type == ethertype_ipv6 || type == 0x0806) {
        return by_ethertype(c, 4, type);
    }
    if (c.caplen < 44) return Decoded::truncated_header;
    return by_ethertype(c, 44, load16(c.data + 40));
}

// Hilscher netANALYZER: a 4-byte little-endian header (status, then version 1 / port /
// transparent-mode / GPIO-event bits, then the frame length), then the Ethernet frame with its
// FCS; in transparent mode the frame still has its preamble and start delimiter.
Decoded netanalyzer(Ctx& c, bool transparent) noexcept {
    if (c.caplen < 4) return Decoded::truncated_header;
    const std::uint8_t bits = c.data[1];
    if ((bits & 0x01) != 0 || ((bits >> 2) & 0x0f) != 1) return Decoded::not_ip;  // GPIO event
    std::uint32_t off = 4;
    if (transparent) {
        // 0x55 bytes (7 normally; the header flags shorter and longer ones), then 0xD5.
        for (;;) {
            if (c.avail(off) < 1) return Decoded::truncated_header;
            const std::uint8_t b = c.data[off++];
            if (b == 0xd5) break;
            if (b != 0x55 || off > 4 + 15) return Decoded::not_ip;
        }
    }
    return ethernet(c, off);
}

// IEEE 802.3br mPackets: 6 preamble bytes, a start-mPacket delimiter (byte 7, with byte 6
// 0x55) or a continuation delimiter and fragment count (bytes 6 and 7), the data, and a CRC.
// Express frames and the first fragment of a preemptable one start with the Ethernet header;
// continuation fragments carry the rest of a frame, counted by name (not reassembled).
Decoded mpacket(Ctx& c) noexcept {
    if (c.caplen < 8) return Decoded::truncated_header;
    const std::uint8_t smd = c.data[7];
    if (c.data[6] != 0x55) {
        switch (c.data[6]) {
            case 0x61:
            case 0x52:
            case 0x9e:
            case 0x2a:
                return c.unsupported(Encap::mpacket_fragment, c.data[6]);
            default:
                return Decoded::not_ip;
        }
    }
    switch (smd) {
        case 0xd5:  // express
        case 0xe6:  // start of a preemptable frame, SMD-S0 to S3
        case 0x4c:
        case 0x7f:
        case 0xb3:
            return ethernet(c, 8);
        default:  // verify and respond mPackets: no data
            return Decoded::not_ip;
    }
}

// Endace ERF record types (the low 7 bits of the type byte) capgap decodes.
constexpr unsigned erf_hdlc_pos = 1;
constexpr unsigned erf_eth = 2;
constexpr unsigned erf_mc_hdlc = 5;
constexpr unsigned erf_color_hdlc_pos = 10;
constexpr unsigned erf_color_eth = 11;
constexpr unsigned erf_dsm_color_hdlc_pos = 15;
constexpr unsigned erf_dsm_color_eth = 16;
constexpr unsigned erf_color_mc_hdlc_pos = 17;
constexpr unsigned erf_color_hash_pos = 19;
constexpr unsigned erf_color_hash_eth = 20;
constexpr unsigned erf_ipv4 = 22;
constexpr unsigned erf_ipv6 = 23;
constexpr unsigned erf_meta = 27;
constexpr unsigned erf_pad = 48;

// An ERF record: timestamp (8), type (bit 7: an extension header follows), flags, record
// length, loss counter (or colour), wire length; 8-byte extension headers, each saying in its
// first bit whether another follows; then the type's own header and the frame. The record's
// length bounds what is decoded; bytes past it would be a second record.
Decoded erf(Ctx& c) noexcept {
    if (c.caplen < 16) return Decoded::truncated_header;
    const std::uint8_t* h = c.data;
    const unsigned type = h[8] & 0x7fu;
    const std::uint32_t rlen = load16(h + 10);
    const std::uint32_t wlen = load16(h + 14);
    std::uint32_t off = 16;
    for (bool more = (h[8] & 0x80) != 0; more; off += 8) {
        if (c.avail(off) < 8) return Decoded::truncated_header;
        more = (c.data[off] & 0x80) != 0;
    }
    if (rlen < off) return Decoded::truncated_header;  // the record ends inside its headers
    if (c.caplen > rlen) return c.unsupported(Encap::erf_records);
    c.caplen = rlen < c.caplen ? rlen : c.caplen;
    switch (type) {
        case erf_eth:
        case erf_color_eth:
        case erf_dsm_color_eth:
        case erf_color_hash_eth:
            // Offset and pad bytes before the frame; the wire length counts the frame only.
            c.len = c.end = off + 2 + wlen;
            return ethernet(c, off + 2);
        case erf_hdlc_pos:
        case erf_color_hdlc_pos:
        case erf_dsm_color_hdlc_pos:
        case erf_color_hash_pos:
            c.len = c.end = off + wlen;
            return hdlc_guess(c, off);
        case erf_mc_hdlc:
        case erf_color_mc_hdlc_pos:  // a 4-byte multichannel header first
            c.len = c.end = off + 4 + wlen;
            return hdlc_guess(c, off + 4);
        case erf_ipv4:
            c.len = c.end = off + wlen;
            return ipv4(c, off);
        case erf_ipv6:
            c.len = c.end = off + wlen;
            return ipv6(c, off);
        case erf_meta:  // provenance: no packet
        case erf_pad:
            return Decoded::not_ip;
        default:  // ATM cells, AAL5/AAL2, InfiniBand, raw link, counters...
            return c.unsupported(Encap::erf_type, static_cast<std::uint16_t>(type));
    }
}

// Juniper's "MGC" cookie and flags, with optional extension TLVs (flag 0x80). Returns the
// offset after it, or 0 when the magic is missing; with the no-layer-2 flag (0x02) the
// packet is IP after 4 more bytes, which *no_l2 says.
std::uint32_t juniper_header(const Ctx& c, bool& no_l2) noexcept {
    if (c.caplen < 4 || c.data[0] != 'M' || c.data[1] != 'G' || c.data[2] != 'C') return 0;
    const std::uint8_t flags = c.data[3];
    std::uint32_t off = 4;
    if ((flags & 0x80) != 0)
        off = c.caplen < 6 ? c.caplen + 1 : 6 + std::uint32_t{load16(c.data + 4)};
    no_l2 = (flags & 0x02) != 0;
    return off;
}

// Juniper ATM1 (4-byte cookie) and ATM2 (8-byte cookie) PICs. The payload's encapsulation is
// not said: LLC/SNAP or NLPID by their headers, then (ATM2 only) VC-multiplexed PPP or
// Ethernet, Cisco's NLPID, and last VC-multiplexed IP by its version nibble.
Decoded juniper_atm(Ctx& c, std::uint32_t off, bool atm2) noexcept {
    if (c.avail(off) < (atm2 ? 8u : 4u)) return Decoded::truncated_header;
    const std::uint8_t* cookie = c.data + off;
    if (!atm2 && cookie[0] == 0x80) return Decoded::not_ip;  // OAM cell
    if (atm2 && (cookie[7] & 0x70) != 0) return Decoded::not_ip;
    off += atm2 ? 8 : 4;
    if (c.avail(off) < 3) return Decoded::truncated_header;
    const std::uint8_t* p = c.data + off;
    if ((p[0] == 0xaa && p[1] == 0xaa && p[2] == 0x03) ||
        (p[0] == 0xfe && p[1] == 0xfe && p[2] == 0x03))
        return atm_llc(c, off);
    if (atm2 && (c.data[3] & 0x01) == 0 && (cookie[3] & 0x3f) != 0) return ethernet(c, off);
    const std::uint16_t proto = load16(p);
    if (atm2 && (proto == 0x0021 || proto == 0x0057 || proto == 0x0281 || proto == 0x0283))
        return ppp_protocol(c, off);
    if (p[0] == 0x03) return nlpid(c, off + 1);
    if ((p[0] >> 4) == 4 || (p[0] >> 4) == 6) return ip_by_version(c, off);
    return Decoded::not_ip;
}

// A PPP protocol Juniper's multilink PICs may carry (their cookies are told apart by it).
bool juniper_ppp_guess(std::uint16_t proto) noexcept {
    switch (proto) {
        case 0x0021:  // IPv4
        case 0x0023:  // OSI
        case 0x003d:  // multilink
        case 0x0057:  // IPv6
        case 0x0281:  // MPLS
        case 0x0283:
        case 0x8021:  // IPCP, OSINLCP, IPv6CP, MPLSCP
        case 0x8023:
        case 0x8057:
        case 0x8281:
        case 0xc021:  // LCP, PAP, CHAP
        case 0xc023:
        case 0xc223:
            return true;
        default:
            return false;
    }
}

// Juniper multilink PPP: an AS PIC's 8-byte cookie (first byte 0x40 or 0x47) says the layer-3
// protocol; an LS PIC's 4-byte one (0x54) means PPP; otherwise the cookie is guessed from what
// follows: FF 03 (a bundle's child link), a 2-byte ML PIC cookie before a PPP protocol, or the
// PPP protocol itself.
Decoded juniper_mlppp(Ctx& c, std::uint32_t off, std::uint8_t flags) noexcept {
    if (c.avail(off) < 8) return Decoded::truncated_header;
    const std::uint8_t* k = c.data + off;
    if (k[0] == 0x40 || k[0] == 0x47) {
        const unsigned dir = k[4] & 0x03u;
        switch (k[5] & 0xf0u) {
            case 0x00:  // IPv4, or IS-IS over PPP on incoming packets not from the RE
                if ((flags & 0x01) != 0 && dir != 0x03) return ppp_protocol(c, off + 8);
                return ipv4(c, off + 8);
            case 0x10:
                return ipv6(c, off + 8);
            case 0x20:
                return mpls(c, off + 8);
            default:
                return Decoded::not_ip;
        }
    }
    if (k[0] == 0x54) return ppp_protocol(c, off + 4);
    if (k[0] == 0xff && k[1] == 0x03) return ppp_protocol(c, off + 2);
    if (juniper_ppp_guess(load16(k + 2))) return ppp_protocol(c, off + 2);
    if (juniper_ppp_guess(load16(k))) return ppp_protocol(c, off);
    return Decoded::not_ip;
}

// The Juniper link types past the common header: PPPoE and Ethernet carry an Ethernet frame,
// PPP two bytes (address, control) and the PPP protocol, Cisco HDLC and Frame Relay their frames,
// GGSN a protocol (little-endian: 2 IPv4, 6 IPv6) and a VLAN id before IP, ATM1/ATM2 and MLPPP a
// cookie.
Decoded juniper(Ctx& c, int link_type) noexcept {
    bool no_l2 = false;
    const std::uint32_t off = juniper_header(c, no_l2);
    if (off == 0) return c.caplen < 4 ? Decoded::truncated_header : Decoded::not_ip;
    if (no_l2) return ip_by_version(c, off + 4);
    switch (link_type) {
        case dlt_juniper_pppoe:
        case dlt_juniper_ether:
            return ethernet(c, off);
        case dlt_juniper_ppp:  // the HDLC address and control bytes, then the protocol
            return ppp_protocol(c, off + 2);
        case dlt_juniper_chdlc:
            return chdlc(c, off);
        case dlt_juniper_frelay:
            return frame_relay(c, off);
        case dlt_juniper_ggsn: {
            if (c.avail(off) < 4) return Decoded::truncated_header;
            switch (load16_le(c.data + off)) {
                case 2:
                    return ipv4(c, off + 4);
                case 6:
                    return ipv6(c, off + 4);
                default:
                    return Decoded::not_ip;
            }
        }
        case dlt_juniper_mlppp:
            return juniper_mlppp(c, off, c.data[3]);
        case dlt_juniper_atm1:
            return juniper_atm(c, off, false);
        default:  // dlt_juniper_atm2
            return juniper_atm(c, off, true);
    }
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
        case dlt_atm_rfc1483:
        case linktype_atm_rfc1483:
            return atm_llc(c, 0);
        case dlt_frelay:
            return frame_relay(c, 0);
        case dlt_pflog:
            return pflog(c);
        case dlt_enc:
            return enc(c);
        case dlt_ipnet:
            return ipnet(c);
        case dlt_ipoib:
            return ipoib(c);
        case dlt_erf:
            return erf(c);
        case dlt_netanalyzer:
            return netanalyzer(c, false);
        case dlt_netanalyzer_transparent:
            return netanalyzer(c, true);
        case dlt_ethernet_mpacket:
            return mpacket(c);
        case dlt_juniper_ether:
        case dlt_juniper_pppoe:
        case dlt_juniper_ppp:
        case dlt_juniper_chdlc:
        case dlt_juniper_frelay:
        case dlt_juniper_ggsn:
        case dlt_juniper_atm1:
        case dlt_juniper_atm2:
        case dlt_juniper_mlppp:
            return juniper(c, link_type);
        default:
            return Decoded::unsupported_link;
    }
}

}  // namespace capgap::detail::layers

namespace capgap::detail {

static_assert(link_type_erf == layers::dlt_erf, "one value for ERF");

std::uint32_t erf_loss_counter(const std::uint8_t* data, std::uint32_t caplen) noexcept {
    using namespace layers;
    if (caplen < 16) return 0;
    switch (data[8] & 0x7fu) {
        case erf_color_hdlc_pos:  // these types hold a colour or a hash there
        case erf_color_eth:
        case erf_dsm_color_hdlc_pos:
        case erf_dsm_color_eth:
        case erf_color_mc_hdlc_pos:
        case erf_color_hash_pos:
        case erf_color_hash_eth:
            return 0;
        default:
            return load16(data + 12);
    }
}

}  // namespace capgap::detail
