// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// The one hash mixer and what is built on it. The flow key hash is pinned to its values: the
// flow table's order follows it, so a change there is a change of behaviour, not of speed.

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

TEST_CASE("hash: the mixer and the flow key hash keep their values") {
    CHECK(hash_mix(0, 1) == 0x9e3779bd8ef1b1deULL);
    const Endpoint a{IpAddress::parse("192.0.2.1"), 40000};
    const Endpoint b{IpAddress::parse("198.51.100.2"), 80};
    CHECK(capgap::detail::flow_hash(a, b, 0) == 0x2306cf3bd848bfd6ULL);
    CHECK(capgap::hash_value(FlowKey(b, a)) == 0x2306cf3bd848bfd6ULL);
    const Endpoint c{IpAddress::parse("2001:db8::1"), 443};
    const Endpoint d{IpAddress::parse("2001:db8::2"), 50000};
    CHECK(capgap::hash_value(FlowKey(d, c, 7)) == 0x4c80bcc97ada1720ULL);
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
