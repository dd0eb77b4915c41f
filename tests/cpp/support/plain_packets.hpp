// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
#pragma once
// Test helper: plain packets (Ethernet, Linux cooked, loopback, IPv4/IPv6 with extension
// headers, TCP) built byte by byte, for the decoder's entry, link-type and IP tests.

#include <doctest/doctest.h>

#include <capgap/flow_key.hpp>
#include <capgap/segment.hpp>

#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "decode/decode.hpp"
#include "support/bytes.hpp"

namespace capgap::test::plain {

using capgap::Segment;
using capgap::detail::decode_packet;
using capgap::detail::Decoded;

struct Tcp {
    unsigned sport = 40000;
    unsigned dport = 80;
    std::uint32_t seq = 0x01020304;
    std::uint32_t ack = 0xa0b0c0d0;
    std::uint8_t flags = 0x18;
    unsigned window = 0x1234;
    unsigned doff = 5;         // data offset in 32-bit words (header bytes written: 4*max(5,doff))
    std::size_t payload = 10;  // payload bytes written
};

inline Bytes tcp(const Tcp& t) {
    Bytes b;
    put16(b, t.sport);
    put16(b, t.dport);
    put32(b, t.seq);
    put32(b, t.ack);
    b.push_back(static_cast<std::uint8_t>(t.doff << 4));
    b.push_back(t.flags);
    put16(b, t.window);
    put16(b, 0);  // checksum
    put16(b, 0);  // urgent pointer
    const unsigned words = t.doff < 5 ? 5 : t.doff;
    for (unsigned i = 20; i < words * 4; ++i)
        b.push_back(1);  // NOP options
    for (std::size_t i = 0; i < t.payload; ++i)
        b.push_back(0xaa);
    return b;
}

struct Ip4 {
    unsigned ihl = 5;  // header words
    unsigned proto = 6;
    unsigned frag = 0;  // flags + fragment offset field
    int total = -1;     // -1: computed
    unsigned version = 4;
};

inline Bytes ipv4(const Bytes& inner, const Ip4& o = {}) {
    Bytes b;
    b.push_back(static_cast<std::uint8_t>((o.version << 4) | o.ihl));
    b.push_back(0);
    const unsigned header = (o.ihl < 5 ? 5 : o.ihl) * 4;
    put16(b, o.total >= 0 ? static_cast<unsigned>(o.total)
                          : static_cast<unsigned>(header + inner.size()));
    put16(b, 0x4242);  // id
    put16(b, o.frag);
    b.push_back(64);
    b.push_back(static_cast<std::uint8_t>(o.proto));
    put16(b, 0);
    const std::uint8_t addrs[8] = {192, 0, 2, 1, 198, 51, 100, 2};
    b.insert(b.end(), addrs, addrs + 8);
    for (unsigned i = 20; i < header; ++i)
        b.push_back(1);  // NOP options
    return cat(b, inner);
}

// An IPv6 header; `inner` holds any extension headers and the transport.
inline Bytes ipv6(unsigned next, const Bytes& inner, int plen = -1) {
    Bytes b;
    put32(b, 0x60000000);
    put16(b, plen >= 0 ? static_cast<unsigned>(plen) : static_cast<unsigned>(inner.size()));
    b.push_back(static_cast<std::uint8_t>(next));
    b.push_back(64);
    const std::uint8_t src[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    const std::uint8_t dst[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
    b.insert(b.end(), src, src + 16);
    b.insert(b.end(), dst, dst + 16);
    return cat(b, inner);
}

// A generic IPv6 extension header of (len + 1) * 8 bytes.
inline Bytes ext6(unsigned next, unsigned len) {
    Bytes b{static_cast<std::uint8_t>(next), static_cast<std::uint8_t>(len)};
    b.resize((len + 1) * 8, 0);
    return b;
}

// An authentication header of (len + 2) * 4 bytes.
inline Bytes ah6(unsigned next, unsigned len) {
    Bytes b{static_cast<std::uint8_t>(next), static_cast<std::uint8_t>(len)};
    b.resize((len + 2) * 4, 0);
    return b;
}

inline Bytes frag6(unsigned next, unsigned offset, bool more) {
    Bytes b{static_cast<std::uint8_t>(next), 0};
    put16(b, (offset << 3) | (more ? 1u : 0u));
    put32(b, 0x11223344);
    return b;
}

inline Bytes ether(unsigned type, const Bytes& payload, const std::vector<unsigned>& tags = {}) {
    Bytes b{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
    for (std::size_t i = 0; i < tags.size(); ++i) {
        put16(b, tags[i]);
        put16(b, static_cast<unsigned>(100 + i));  // TCI: VLAN id
    }
    put16(b, type);
    return cat(b, payload);
}

inline Bytes sll(unsigned type, const Bytes& payload) {
    Bytes b;
    put16(b, 0);  // packet type: to us
    put16(b, 1);  // ARPHRD_ETHER
    put16(b, 6);
    for (int i = 0; i < 8; ++i)
        b.push_back(static_cast<std::uint8_t>(i));
    put16(b, type);
    return cat(b, payload);
}

inline Bytes sll2(unsigned type, const Bytes& payload) {
    Bytes b;
    put16(b, type);
    put16(b, 0);  // reserved
    put32(b, 3);  // interface index
    put16(b, 1);  // ARPHRD_ETHER
    b.push_back(0);
    b.push_back(6);
    for (int i = 0; i < 8; ++i)
        b.push_back(static_cast<std::uint8_t>(i));
    return cat(b, payload);
}

inline Bytes loopback(std::uint32_t af, bool big, const Bytes& payload) {
    Bytes b;
    if (big) {
        put32(b, af);
    } else {
        put32_le(b, af);
    }
    return cat(b, payload);
}

// Decodes from a heap copy of exactly `caplen` bytes, so a sanitizer sees any over-read.
inline Decoded decode(const Bytes& pkt, int link, Segment& s, std::size_t caplen = SIZE_MAX,
                      std::size_t len = SIZE_MAX) {
    if (caplen > pkt.size()) caplen = pkt.size();
    if (len == SIZE_MAX) len = pkt.size();
    std::unique_ptr<std::uint8_t[]> copy(new std::uint8_t[caplen > 0 ? caplen : 1]);
    if (caplen > 0) std::memcpy(copy.get(), pkt.data(), caplen);
    return decode_packet(copy.get(), static_cast<std::uint32_t>(caplen),
                         static_cast<std::uint32_t>(len), link, s);
}

inline void check_v4_segment(const Segment& s, std::uint32_t payload) {
    CHECK(capgap::to_string(s.src) == "192.0.2.1:40000");
    CHECK(capgap::to_string(s.dst) == "198.51.100.2:80");
    CHECK_FALSE(s.src.addr.v6);
    CHECK(s.seq == 0x01020304u);
    CHECK(s.ack == 0xa0b0c0d0u);
    CHECK(s.window == 0x1234);
    CHECK(s.flags == 0x18);
    CHECK(s.payload_len == payload);
    CHECK(s.truncated_bytes == 0);
}

inline void check_v6_segment(const Segment& s, std::uint32_t payload) {
    CHECK(capgap::to_string(s.src) == "[2001:db8::1]:40000");
    CHECK(capgap::to_string(s.dst) == "[2001:db8::2]:80");
    CHECK(s.src.addr.v6);
    CHECK(s.seq == 0x01020304u);
    CHECK(s.payload_len == payload);
    CHECK(s.truncated_bytes == 0);
}

constexpr int dlt_null = 0, dlt_en10mb = 1, dlt_raw = 12, dlt_raw_bsd = 14, linktype_raw = 101,
              dlt_loop = 108, dlt_sll = 113, dlt_ipv4 = 228, dlt_ipv6 = 229, dlt_sll2 = 276;

}  // namespace capgap::test::plain
