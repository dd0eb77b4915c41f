// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
#pragma once
// Test helper: packets inside encapsulations and on the less common link types, built byte by
// byte (the tunnel, link-layer and reassembly tests). Every builder ends with the same inner
// TCP segment, which check_inner() checks.

#include <doctest/doctest.h>

#include <capgap/flow_key.hpp>
#include <capgap/segment.hpp>

#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "decode/decode.hpp"
#include "support/bytes.hpp"

namespace capgap::test::encap {

using capgap::Segment;
using capgap::detail::decode_packet;
using capgap::detail::Decoded;
using capgap::detail::IpFragment;

constexpr std::int64_t second = 1'000'000'000;

inline Bytes tcp(std::uint8_t flags = 0x18, std::size_t payload = 10, unsigned sport = 40000) {
    Bytes b;
    put16(b, sport);
    put16(b, 80);
    put32(b, 0x01020304);
    put32(b, 0xa0b0c0d0);
    b.push_back(0x60);  // 24-byte header: one MSS option
    b.push_back(flags);
    put16(b, 0x1234);
    put32(b, 0);
    put32(b, 0x020405b4);
    for (std::size_t i = 0; i < payload; ++i)
        b.push_back(0xaa);
    return b;
}

// IPv4 with `proto`, addresses a.b.c.1 -> a.b.c.2 where a = `net`.
inline Bytes ipv4(const Bytes& inner, unsigned proto = 6, unsigned frag = 0, unsigned net = 192,
                  unsigned id = 0x4242, int total = -1) {
    Bytes b{0x45, 0};
    put16(b, total >= 0 ? static_cast<unsigned>(total) : static_cast<unsigned>(20 + inner.size()));
    put16(b, id);
    put16(b, frag);
    b.push_back(64);
    b.push_back(static_cast<std::uint8_t>(proto));
    put16(b, 0);
    const std::uint8_t n = static_cast<std::uint8_t>(net);
    const std::uint8_t addrs[8] = {n, 0, 2, 1, n, 0, 2, 2};
    b.insert(b.end(), addrs, addrs + 8);
    return cat(b, inner);
}

inline Bytes ipv6(unsigned next, const Bytes& inner, unsigned tag = 0) {
    Bytes b;
    put32(b, 0x60000000);
    put16(b, static_cast<unsigned>(inner.size()));
    b.push_back(static_cast<std::uint8_t>(next));
    b.push_back(64);
    const std::uint8_t t = static_cast<std::uint8_t>(tag);
    const std::uint8_t src[16] = {0x20, 0x01, 0x0d, 0xb8, t, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    const std::uint8_t dst[16] = {0x20, 0x01, 0x0d, 0xb8, t, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
    b.insert(b.end(), src, src + 16);
    b.insert(b.end(), dst, dst + 16);
    return cat(b, inner);
}

inline Bytes ether(unsigned type, const Bytes& payload, const std::vector<unsigned>& tags = {}) {
    Bytes b{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
    for (unsigned tag : tags) {
        put16(b, tag);
        put16(b, 100);
    }
    put16(b, type);
    return cat(b, payload);
}

inline Bytes mpls(const std::vector<unsigned>& labels, const Bytes& payload) {
    Bytes b;
    for (std::size_t i = 0; i < labels.size(); ++i)
        put32(b, (labels[i] << 12) | (i + 1 == labels.size() ? 0x100u : 0u) | 64u);
    return cat(b, payload);
}

inline Bytes pppoe(unsigned proto, const Bytes& payload) {
    Bytes b{0x11, 0x00};
    put16(b, 0x0042);
    put16(b, static_cast<unsigned>(payload.size() + 2));
    put16(b, proto);
    return cat(b, payload);
}

inline Bytes gre(unsigned flags, unsigned type, const Bytes& payload) {
    Bytes b;
    put16(b, flags);
    put16(b, type);
    if (flags & 0x8000) put32(b, 0);           // checksum + reserved
    if (flags & 0x2000) put32(b, 0x12345678);  // key
    if (flags & 0x1000) put32(b, 7);           // sequence
    return cat(b, payload);
}

inline Bytes udp(unsigned dport, const Bytes& payload) {
    Bytes b;
    put16(b, 50000);
    put16(b, dport);
    put16(b, static_cast<unsigned>(8 + payload.size()));
    put16(b, 0);
    return cat(b, payload);
}

inline Bytes vxlan(const Bytes& frame) {
    Bytes b{0x08, 0, 0, 0, 0, 0, 0x01, 0};
    return cat(b, frame);
}

inline Bytes geneve(unsigned type, unsigned opt_words, const Bytes& payload) {
    Bytes b{static_cast<std::uint8_t>(opt_words), 0};
    put16(b, type);
    put32(b, 0x00000100);  // VNI 1
    for (unsigned i = 0; i < opt_words; ++i)
        put32(b, 0x01020304);
    return cat(b, payload);
}

inline Decoded decode(const Bytes& pkt, int link, Segment& s, std::size_t caplen = SIZE_MAX,
                      IpFragment* frag = nullptr) {
    if (caplen > pkt.size()) caplen = pkt.size();
    std::unique_ptr<std::uint8_t[]> copy(new std::uint8_t[caplen > 0 ? caplen : 1]);
    if (caplen > 0) std::memcpy(copy.get(), pkt.data(), caplen);
    return decode_packet(copy.get(), static_cast<std::uint32_t>(caplen),
                         static_cast<std::uint32_t>(pkt.size()), link, s, frag);
}

// The inner segment every builder above ends with.
inline void check_inner(const Segment& s, const char* src = "192.0.2.1:40000",
                        const char* dst = "192.0.2.2:80", std::uint32_t payload = 10) {
    CHECK(capgap::to_string(s.src) == src);
    CHECK(capgap::to_string(s.dst) == dst);
    CHECK(s.seq == 0x01020304u);
    CHECK(s.payload_len == payload);
    CHECK(s.truncated_bytes == 0);
}

constexpr int dlt_en10mb = 1, dlt_ppp = 9, dlt_fddi = 10, dlt_ppp_serial = 50, dlt_ppp_ether = 51,
              dlt_c_hdlc = 104, dlt_80211 = 105, dlt_radiotap = 127, dlt_arcnet_linux = 129,
              dlt_avs = 163, dlt_juniper_ether = 178, dlt_ppi = 192, dlt_nflog = 239;

// Outer Ethernet/IPv4 (10.x addresses) around an inner packet with protocol `proto`.
inline Bytes outer4(unsigned proto, const Bytes& inner) {
    return ether(0x0800, ipv4(inner, proto, 0, 10));
}

inline Bytes inner_frame() {
    return ether(0x0800, ipv4(tcp()));
}

// PPTP's enhanced GRE: version 1, key present (payload length, call id), optional sequence
// and acknowledgement numbers.
inline Bytes pptp(bool seq, bool ack, const Bytes& ppp_frame) {
    Bytes b;
    put16(b, 0x2001 | (seq ? 0x1000u : 0u) | (ack ? 0x0080u : 0u));
    put16(b, 0x880b);
    put16(b, static_cast<unsigned>(ppp_frame.size()));
    put16(b, 0x0007);  // call id
    if (seq) put32(b, 1);
    if (ack) put32(b, 2);
    return cat(b, ppp_frame);
}

inline Bytes nflog(unsigned family, const Bytes& packet, bool big = false) {
    Bytes b{static_cast<std::uint8_t>(family), 0};
    put16(b, 42);  // resource id, network order
    auto tlv = [&](unsigned type, const Bytes& value) {
        const unsigned n = static_cast<unsigned>(4 + value.size());
        if (big) {
            put16(b, n);
            put16(b, type);
        } else {
            put16_le(b, n);
            put16_le(b, type);
        }
        b.insert(b.end(), value.begin(), value.end());
        while (b.size() % 4 != 0)
            b.push_back(0);
    };
    tlv(1, Bytes{0x08, 0x00, 3, 0});  // packet header
    tlv(10, Bytes{'p', 'r', 'e', 'f', 'i', 'x', 0});
    tlv(9, packet);
    return b;
}

// An 802.11 data frame: frame control, duration, addresses, sequence, [addr4], [QoS], LLC.
inline Bytes wlan(const Bytes& ip, unsigned type_ethertype, std::uint8_t fc0 = 0x08,
                  std::uint8_t fc1 = 0x01) {
    Bytes b{fc0, fc1, 0, 0};
    for (int i = 0; i < 18; ++i)
        b.push_back(static_cast<std::uint8_t>(i));
    put16(b, 0x0010);
    if ((fc1 & 3) == 3) b.insert(b.end(), 6, 0x44);
    if (fc0 & 0x80) {
        put16(b, 0);
        if (fc1 & 0x80) put32(b, 0);
    }
    const Bytes llc{0xaa, 0xaa, 0x03, 0, 0, 0};
    b.insert(b.end(), llc.begin(), llc.end());
    put16(b, type_ethertype);
    return cat(b, ip);
}

}  // namespace capgap::test::encap
