// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// The one hash mixer and what is built on it. The flow key hash must be the same both ways,
// take in every field of the key, and spread flows evenly over both its halves: the high 32
// bits choose a flow's shard (--threads), the low bits its slot in a shard's flow table.
// Nothing a user sees follows its values: the reports of 1 to 7 shards, each holding other
// flows in another order, are compared byte for byte (test_threads.cpp, test_parallel.py).

#include <doctest/doctest.h>

#include <capgap/flow_key.hpp>

#include <cstdint>
#include <set>

#include "core/hash.hpp"

using capgap::Endpoint;
using capgap::FlowKey;
using capgap::IpAddress;
using capgap::detail::hash_mix;
using capgap::detail::hash_mix_address;
using capgap::detail::hash_seed;

TEST_CASE("hash: the flow key hash is the same both ways and takes in every field") {
    constexpr std::uint64_t k = 0x9e3779b97f4a7c15ULL;  // (0 ^ 1) * k, then h ^= h >> 29
    CHECK(hash_mix(0, 1) == (k ^ (k >> 29)));
    const Endpoint a{IpAddress::parse("192.0.2.1"), 40000};
    const Endpoint b{IpAddress::parse("198.51.100.2"), 80};
    const std::uint64_t ab = capgap::detail::flow_hash(a, b, 0);
    CHECK(capgap::detail::flow_hash(b, a, 0) == ab);
    CHECK(capgap::hash_value(FlowKey(b, a)) == ab);
    CHECK(capgap::hash_value(FlowKey(a, b)) == ab);
    std::set<std::uint64_t> seen{ab};
    seen.insert(capgap::detail::flow_hash(a, b, 7));  // tunnel
    seen.insert(capgap::detail::flow_hash(a, Endpoint{b.addr, 81}, 0));
    seen.insert(capgap::detail::flow_hash(Endpoint{a.addr, 40001}, b, 0));
    // The ports swapped between the same addresses: another flow.
    seen.insert(capgap::detail::flow_hash(Endpoint{a.addr, 80}, Endpoint{b.addr, 40000}, 0));
    for (std::size_t i = 0; i < 16; ++i) {
        Endpoint other = b;
        other.addr.bytes[i] ^= 0x01;
        seen.insert(capgap::detail::flow_hash(a, other, 0));
    }
    Endpoint b6 = b;
    b6.addr.v6 = true;  // the same bytes as an IPv6 address
    seen.insert(capgap::detail::flow_hash(a, b6, 0));
    CHECK(seen.size() == 22);
}

TEST_CASE("hash: flows spread evenly over shards and slots") {
    // 65,536 flows of one server from clients numbered in order, as a capture has them: each
    // of 16 buckets of the high and of the low 32 bits gets its share, within 10%.
    constexpr int flows = 65536, buckets = 16;
    int high[buckets] = {}, low[buckets] = {};
    const Endpoint server{IpAddress::parse("10.0.0.1"), 443};
    for (int i = 0; i < flows; ++i) {
        Endpoint client{IpAddress::parse("10.1.0.0"), static_cast<std::uint16_t>(1024 + i % 50000)};
        client.addr.bytes[2] = static_cast<std::uint8_t>(i / 50000);
        client.addr.bytes[3] = static_cast<std::uint8_t>(i % 251);
        const std::uint64_t h = capgap::detail::flow_hash(client, server, 0);
        ++high[(h >> 32) % buckets];
        ++low[h % buckets];
    }
    for (int k = 0; k < buckets; ++k) {
        CAPTURE(k);
        CHECK(high[k] > flows / buckets * 9 / 10);
        CHECK(high[k] < flows / buckets * 11 / 10);
        CHECK(low[k] > flows / buckets * 9 / 10);
        CHECK(low[k] < flows / buckets * 11 / 10);
    }
}

TEST_CASE("hash: an address mixes in every byte and its family") {
    const IpAddress v6 = IpAddress::parse("2001:db8::1");
    const std::uint64_t base = hash_mix_address(hash_seed, v6);
    CHECK(hash_mix_address(hash_seed, IpAddress::parse("2001:db8::1")) == base);
    std::set<std::uint64_t> seen{base};
    for (std::size_t i = 0; i < 16; ++i) {
        IpAddress other = v6;
        other.bytes[i] ^= 0x10;
        seen.insert(hash_mix_address(hash_seed, other));
    }
    CHECK(seen.size() == 17);

    // The same bytes as an IPv4 and an IPv6 address.
    IpAddress v4 = IpAddress::parse("192.0.2.1");
    IpAddress v4_bytes_as_v6 = v4;
    v4_bytes_as_v6.v6 = true;
    CHECK(hash_mix_address(hash_seed, v4) != hash_mix_address(hash_seed, v4_bytes_as_v6));

    // Order matters: (a, b) and (b, a) are different keys where order is meant.
    const IpAddress w = IpAddress::parse("2001:db8::2");
    CHECK(hash_mix_address(hash_mix_address(hash_seed, v6), w) !=
          hash_mix_address(hash_mix_address(hash_seed, w), v6));
}

TEST_CASE("hash: public address and endpoint hashes agree with equality") {
    CHECK(capgap::hash_value(IpAddress::parse("10.0.0.1")) ==
          capgap::hash_value(IpAddress::parse("10.0.0.1")));
    CHECK(capgap::hash_value(IpAddress::parse("10.0.0.1")) !=
          capgap::hash_value(IpAddress::parse("10.0.0.2")));
    CHECK(capgap::hash_value(IpAddress::parse("::1")) !=
          capgap::hash_value(IpAddress::parse("0.0.0.0")));
    const IpAddress a = IpAddress::parse("10.0.0.1");
    CHECK(capgap::hash_value(Endpoint{a, 80}) == capgap::hash_value(Endpoint{a, 80}));
    CHECK(capgap::hash_value(Endpoint{a, 80}) != capgap::hash_value(Endpoint{a, 81}));
    CHECK(capgap::hash_value(Endpoint{a, 80}) != capgap::hash_value(a));
}
