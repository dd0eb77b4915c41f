// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// The interface breakdown of a multi-port capture: a pcapng with two Ethernet interfaces of
// the same link type and snapshot length (what `dumpcap -i eth0 -i eth1` writes), sessions on
// each, loss planted on one. Every packet must carry its interface id, from a file and from a
// stream of the same bytes, and the diagnosis must tell the two ports apart.

#include <doctest/doctest.h>

#include <capgap/analyze.hpp>
#include <capgap/diagnosis.hpp>
#include <capgap/pcap_source.hpp>
#include <capgap/report.hpp>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "support/bytes.hpp"
#include "support/plain_packets.hpp"
#include "support/temp_dir.hpp"

using namespace capgap;
using namespace capgap::test;
using namespace capgap::test::plain;

namespace {

constexpr int sessions_per_interface = 4;
constexpr int lossy_on_interface_1 = 2;  // interface 0 loses nothing

struct Planted {
    std::uint32_t iface;
    std::uint64_t micros;
    Bytes frame;
};

// A TCP segment in an Ethernet frame; s2c segments swap the addresses ipv4() writes.
Bytes frame(unsigned client_port, bool from_client, std::uint32_t seq, std::uint32_t ack,
            std::uint8_t flags, std::size_t payload) {
    Tcp t;
    t.sport = from_client ? client_port : 80;
    t.dport = from_client ? 80 : client_port;
    t.seq = seq;
    t.ack = ack;
    t.flags = flags;
    t.payload = payload;
    Bytes b = ether(0x0800, ipv4(tcp(t)));
    if (!from_client)
        std::swap_ranges(b.begin() + 14 + 12, b.begin() + 14 + 16, b.begin() + 14 + 16);
    return b;
}

// Sessions one after another, 10 ms apart, alternating between the interfaces; on interface
// 1 the first `lossy_on_interface_1` lose the server's second data segment, which the client
// then acknowledges (bytes acknowledged but never seen: a loss).
std::vector<Planted> plant() {
    std::vector<Planted> out;
    constexpr std::uint32_t cisn = 1000, sisn = 5000;
    int lossy_left = lossy_on_interface_1;
    for (int k = 0; k < 2 * sessions_per_interface; ++k) {
        const std::uint32_t iface = static_cast<std::uint32_t>(k % 2);
        const bool lossy = iface == 1 && lossy_left > 0;
        if (lossy) --lossy_left;
        const unsigned port = 40000 + static_cast<unsigned>(k);
        std::uint64_t t = 1'000'000 + static_cast<std::uint64_t>(k) * 10'000;
        auto add = [&](Bytes f) { out.push_back({iface, t++, std::move(f)}); };
        add(frame(port, true, cisn, 0, tcp_flags::syn, 0));
        add(frame(port, false, sisn, cisn + 1, tcp_flags::syn | tcp_flags::ack, 0));
        add(frame(port, true, cisn + 1, sisn + 1, tcp_flags::ack, 0));
        add(frame(port, false, sisn + 1, cisn + 1, tcp_flags::ack, 100));
        if (!lossy) add(frame(port, false, sisn + 101, cisn + 1, tcp_flags::ack, 100));
        add(frame(port, true, cisn + 1, sisn + 201, tcp_flags::ack, 0));
    }
    return out;
}

// Little-endian pcapng: a section header, two Ethernet interfaces with the same snapshot
// length (microsecond timestamps), then enhanced packet blocks.
Bytes pcapng(const std::vector<Planted>& packets) {
    Bytes f;
    auto u16 = [&](unsigned v) { put16_le(f, v); };
    auto u32 = [&](std::uint32_t v) { put32_le(f, v); };
    u32(0x0a0d0d0a), u32(28), u32(0x1a2b3c4d), u16(1), u16(0), u32(0xffffffff), u32(0xffffffff),
        u32(28);
    for (int i = 0; i < 2; ++i)
        u32(1), u32(20), u16(1), u16(0), u32(262144), u32(20);
    for (const Planted& p : packets) {
        const auto size = static_cast<std::uint32_t>(p.frame.size());
        const std::uint32_t total = 32 + ((size + 3) & ~3u);
        u32(6), u32(total), u32(p.iface), u32(static_cast<std::uint32_t>(p.micros >> 32)),
            u32(static_cast<std::uint32_t>(p.micros)), u32(size), u32(size);
        f.insert(f.end(), p.frame.begin(), p.frame.end());
        while (f.size() % 4 != 0)
            f.push_back(0);
        u32(total);
    }
    return f;
}

// The same bytes read once from the front, 7 at a time.
CaptureInput stream_of(const Bytes& bytes) {
    auto at = std::make_shared<std::size_t>(0);
    return CaptureInput::stream("two-ports", [&bytes, at](std::uint8_t* out, std::size_t n) {
        const std::size_t k = std::min<std::size_t>({n, 7, bytes.size() - *at});
        std::copy_n(bytes.begin() + static_cast<std::ptrdiff_t>(*at), k, out);
        *at += k;
        return k;
    });
}

void check_packets(const CaptureInput& input, const std::vector<Planted>& planted) {
    PcapSource src({input});
    RawPacket p;
    std::size_t i = 0;
    while (src.next(p)) {
        REQUIRE(i < planted.size());
        CHECK(p.interface == planted[i].iface);
        CHECK(p.link_type == 1);
        CHECK(p.time.ns == static_cast<std::int64_t>(planted[i].micros) * 1000);
        ++i;
    }
    CHECK(i == planted.size());
    CHECK(src.stats().problems.empty());
}

void check_diagnosis(const Report& r) {
    REQUIRE(r.sessions.size() == 2 * sessions_per_interface);
    for (const auto& s : r.sessions) {
        // Client ports 40000 + k: even k on interface 0, odd on 1.
        const unsigned port = s.session.client.port;
        CHECK(s.session.interface == (port - 40000) % 2);
    }
    const Diagnosis d = r.diagnosis();
    const auto* rows = d.breakdown("interface");
    REQUIRE(rows != nullptr);
    REQUIRE(rows->size() == 2);
    CHECK((*rows)[0].group == "1");  // the lossy port first
    CHECK((*rows)[0].sessions == sessions_per_interface);
    CHECK((*rows)[0].bad == lossy_on_interface_1);
    CHECK((*rows)[1].group == "0");
    CHECK((*rows)[1].sessions == sessions_per_interface);
    CHECK((*rows)[1].bad == 0);
}

}  // namespace

TEST_CASE("interface breakdown: two Ethernet ports of one pcapng, loss on one") {
    const std::vector<Planted> planted = plant();
    const Bytes bytes = pcapng(planted);
    TempDir dir;
    const std::string path = dir.file("two-ports.pcapng");
    std::ofstream(path, std::ios::binary)
        .write(reinterpret_cast<const char*>(bytes.data()),
               static_cast<std::streamsize>(bytes.size()));

    SUBCASE("a file opened by name") {
        check_packets(CaptureInput(path), planted);
        check_diagnosis(analyze({path}));
    }
    SUBCASE("a stream of the same bytes") {
        check_packets(stream_of(bytes), planted);
        check_diagnosis(analyze({stream_of(bytes)}));
    }
}
