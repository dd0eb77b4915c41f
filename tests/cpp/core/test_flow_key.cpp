// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
#include <doctest/doctest.h>

#include <capgap/errors.hpp>
#include <capgap/flow_key.hpp>
#include <capgap/loss_event.hpp>
#include <capgap/session.hpp>

#include <string>
#include <unordered_set>
#include <vector>

#include "core/endpoint_order.hpp"

using capgap::Endpoint;
using capgap::FlowKey;
using capgap::IpAddress;

namespace {
Endpoint ep(const char* addr, std::uint16_t port) {
    return Endpoint{IpAddress::parse(addr), port};
}
}  // namespace

TEST_CASE("IPv4 parse and print") {
    IpAddress a = IpAddress::parse("192.0.2.1");
    CHECK(!a.v6);
    CHECK(a.bytes[0] == 192);
    CHECK(a.bytes[3] == 1);
    CHECK(a.bytes[4] == 0);
    CHECK(to_string(a) == "192.0.2.1");
    const std::uint8_t raw[4] = {10, 0, 0, 255};
    CHECK(to_string(IpAddress::v4(raw)) == "10.0.0.255");
    for (const char* bad :
         {"", "1.2.3", "1.2.3.4.5", "256.0.0.1", "1..2.3", "a.b.c.d", "1.2.3.4 "}) {
        CAPTURE(bad);
        CHECK_THROWS_AS(IpAddress::parse(bad), capgap::parse_error);
    }
}

TEST_CASE("IPv6 parse and RFC 5952 print round trips") {
    struct Case {
        const char* in;
        const char* out;
    };
    for (Case c : {Case{"2001:db8::1", "2001:db8::1"}, Case{"::", "::"}, Case{"::1", "::1"},
                   Case{"1::", "1::"}, Case{"2001:DB8:0:0:0:0:0:1", "2001:db8::1"},
                   Case{"2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"},
                   Case{"2001:0:0:1:0:0:0:1", "2001:0:0:1::1"},
                   Case{"2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"},
                   Case{"2001:0db8:0000:0000:0000:0000:0002:0001", "2001:db8::2:1"},
                   Case{"::ffff:192.0.2.1", "::ffff:192.0.2.1"},
                   Case{"64:ff9b::192.0.2.33", "64:ff9b::c000:221"},
                   Case{"1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0"}}) {
        CAPTURE(c.in);
        IpAddress a = IpAddress::parse(c.in);
        CHECK(a.v6);
        CHECK(to_string(a) == c.out);
        CHECK(IpAddress::parse(to_string(a)) == a);
    }
    for (const char* bad : {":", ":::", "1:2:3:4:5:6:7:8:9", "1::2::3", "12345::", "1:2:3:4:5:6:7",
                            "g::1", "1:", ":1", "::1.2.3"}) {
        CAPTURE(bad);
        CHECK_THROWS_AS(IpAddress::parse(bad), capgap::parse_error);
    }
    const std::uint8_t raw[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    CHECK(IpAddress::v6_from(raw) == IpAddress::parse("2001:db8::1"));
}

TEST_CASE("Endpoint to_string") {
    CHECK(to_string(ep("1.2.3.4", 80)) == "1.2.3.4:80");
    CHECK(to_string(ep("2001:db8::1", 80)) == "[2001:db8::1]:80");
}

TEST_CASE("FlowKey is symmetric and hashes equally both ways") {
    Endpoint a = ep("10.0.0.1", 40000), b = ep("10.0.0.2", 80);
    FlowKey k1(a, b), k2(b, a);
    CHECK(k1 == k2);
    CHECK(hash_value(k1) == hash_value(k2));
    CHECK(std::hash<FlowKey>{}(k1) == std::hash<FlowKey>{}(k2));
    CHECK(k1.lo == a);
    CHECK(FlowKey(a, ep("10.0.0.2", 81)) != k1);
    // v4 and v6 never collide as keys even when the bytes agree.
    IpAddress v6 = IpAddress::parse("a00:1::");
    IpAddress v4 = IpAddress::parse("10.0.0.1");
    CHECK(FlowKey(Endpoint{v6, 1}, b) != FlowKey(Endpoint{v4, 1}, b));

    std::unordered_set<std::size_t> hashes;
    for (std::uint16_t p = 1000; p < 2000; ++p)
        hashes.insert(hash_value(FlowKey(ep("10.0.0.1", p), b)));
    CHECK(hashes.size() == 1000);
}

TEST_CASE("endpoint_less orders endpoints as operator< does, without branching") {
    // Addresses that differ in each byte of either 8-byte half, both families, ports on
    // either side of each other, and equal endpoints.
    std::vector<Endpoint> points;
    for (const char* text : {"0.0.0.0", "10.0.0.1", "10.0.0.2", "10.1.0.1", "192.0.2.1",
                             "255.255.255.255", "::", "::1", "2001:db8::1", "2001:db8::2",
                             "2001:db8:0:0:1::1", "2001:db9::1", "fe80::1:0:0:0"}) {
        for (const int port : {0, 80, 443, 40000, 65535})
            points.push_back(Endpoint{IpAddress::parse(text), static_cast<std::uint16_t>(port)});
    }
    IpAddress high_byte = IpAddress::parse("2001:db8::1");
    high_byte.bytes[8] = 0x80;  // the second half's top byte
    points.push_back(Endpoint{high_byte, 80});
    std::size_t pairs = 0;
    for (const Endpoint& a : points) {
        for (const Endpoint& b : points) {
            CAPTURE(to_string(a));
            CAPTURE(to_string(b));
            CHECK(capgap::detail::endpoint_less(a, b) == (a < b));
            ++pairs;
        }
    }
    CHECK(pairs == points.size() * points.size());
}

TEST_CASE("enum names") {
    CHECK(std::string(to_string(capgap::Direction::c2s)) == "c2s");
    CHECK(std::string(to_string(capgap::Direction::s2c)) == "s2c");
    CHECK(std::string(to_string(capgap::SessionCategory::synack_only)) == "synack_only");
    CHECK(std::string(to_string(capgap::SessionCategory::one_sided)) == "one_sided");
    using capgap::EventKind;
    for (EventKind k : {EventKind::acked_unseen, EventKind::gap_unacked, EventKind::control_missing,
                        EventKind::acked_before_data, EventKind::reordered,
                        EventKind::ws_lost_segment, EventKind::ws_ack_lost_segment}) {
        EventKind back = EventKind::acked_unseen;
        CHECK(capgap::parse_event_kind(to_string(k), back));
        CHECK(back == k);
    }
    EventKind out = EventKind::gap_unacked;
    CHECK(!capgap::parse_event_kind("lost", out));
    CHECK(out == EventKind::gap_unacked);
}

TEST_CASE("Session and LossEvent compare every field") {
    capgap::Session a;
    a.id = 3;
    capgap::Session b = a;
    CHECK(a == b);
    b.evicted = true;
    CHECK(a != b);
    b = a;
    b.syn_count = 2;
    CHECK(a != b);
    capgap::LossEvent e;
    capgap::LossEvent f = e;
    CHECK(e == f);
    f.dst.port = 1;
    CHECK(e != f);
    f = e;
    f.late_filled = true;
    CHECK(e != f);
}
