// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// IPv4/IPv6 fragment reassembly up to the TCP header: order, overlaps, missing pieces, timeouts,
// the caps, and the Analyzer's counts around it.

#include <doctest/doctest.h>

#include <capgap/analyze.hpp>
#include <capgap/flow_key.hpp>
#include <capgap/segment.hpp>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "decode/decode.hpp"
#include "decode/reassembly.hpp"
#include "support/bytes.hpp"
#include "support/encap_packets.hpp"
#include "support/flow_builder.hpp"

using capgap::Segment;
using capgap::detail::decode_packet;
using capgap::detail::Decoded;
using capgap::detail::Encap;
using capgap::detail::EncapInfo;
using capgap::detail::encapsulation_name;
using capgap::detail::IpFragment;
using capgap::detail::Reassembler;
using capgap::test::Bytes;
using capgap::test::cat;
using capgap::test::put16;
using capgap::test::put16_le;
using capgap::test::put32;
using capgap::test::put32_le;
using namespace capgap::test::encap;

namespace {

// Splits tcp(flags, payload) into IPv4 fragments of `piece` bytes (a multiple of 8), returned
// as Ethernet frames in datagram order.
std::vector<Bytes> fragments4(const Bytes& transport, std::size_t piece, unsigned id = 0x77) {
    std::vector<Bytes> out;
    for (std::size_t off = 0; off < transport.size(); off += piece) {
        const std::size_t n = std::min(piece, transport.size() - off);
        const bool more = off + n < transport.size();
        const Bytes part(transport.begin() + static_cast<std::ptrdiff_t>(off),
                         transport.begin() + static_cast<std::ptrdiff_t>(off + n));
        out.push_back(
            ether(0x0800,
                  ipv4(part, 6, (more ? 0x2000u : 0u) | static_cast<unsigned>(off / 8), 192, id)));
    }
    return out;
}

Bytes fragment6(const Bytes& transport, std::size_t off, std::size_t n, bool more) {
    Bytes fh{6, 0};
    put16(fh, static_cast<unsigned>(off) | (more ? 1u : 0u));
    put32(fh, 0xabcdef01);
    const Bytes part(transport.begin() + static_cast<std::ptrdiff_t>(off),
                     transport.begin() + static_cast<std::ptrdiff_t>(off + n));
    return ether(0x86dd, ipv6(44, cat(fh, part)));
}

struct Feed {
    Reassembler r;
    capgap::IngestStats st;
    Segment seg;

    explicit Feed(capgap::detail::ReassemblyLimits l = {}) : r(l) {}

    // Decodes one frame and hands a fragment to the reassembler, as the Analyzer does.
    Decoded add(const Bytes& frame, std::int64_t t_ns = 0, std::size_t caplen = SIZE_MAX) {
        IpFragment f;
        if (caplen > frame.size()) caplen = frame.size();
        Decoded d = decode_packet(frame.data(), static_cast<std::uint32_t>(caplen),
                                  static_cast<std::uint32_t>(frame.size()), dlt_en10mb, seg, &f);
        if (d == Decoded::tcp_fragment) d = r.add(f, capgap::Timestamp{t_ns}, seg, st);
        return d;
    }
};

}  // namespace

TEST_CASE("reassembly: IPv4 fragments in order, out of order, overlapping") {
    const Bytes t = tcp(0x02, 100);  // a SYN with data: 124 bytes of TCP
    auto frags = fragments4(t, 16);
    REQUIRE(frags.size() == 8);
    SUBCASE("in order: the last piece is the segment") {
        Feed f;
        for (std::size_t i = 0; i + 1 < frags.size(); ++i)
            CHECK(f.add(frags[i]) == Decoded::tcp_fragment);
        REQUIRE(f.add(frags.back()) == Decoded::tcp);
        check_inner(f.seg, "192.0.2.1:40000", "192.0.2.2:80", 100);
        CHECK(f.seg.has(capgap::tcp_flags::syn));
        CHECK(f.st.skipped_ip_fragment == 7);
        CHECK(f.r.pending() == 0);
    }
    SUBCASE("reversed") {
        Feed f;
        for (std::size_t i = frags.size() - 1; i > 0; --i)
            CHECK(f.add(frags[i]) == Decoded::tcp_fragment);
        REQUIRE(f.add(frags[0]) == Decoded::tcp);
        check_inner(f.seg, "192.0.2.1:40000", "192.0.2.2:80", 100);
    }
    SUBCASE("overlaps and duplicates") {
        Feed f;
        const auto big = fragments4(t, 48);  // 48, 48, 28 bytes
        CHECK(f.add(frags[0]) == Decoded::tcp_fragment);
        CHECK(f.add(frags[0]) == Decoded::tcp_fragment);  // duplicate
        CHECK(f.add(big[1]) == Decoded::tcp_fragment);    // 48..96
        CHECK(f.add(frags[2]) == Decoded::tcp_fragment);  // 32..48
        CHECK(f.add(frags[3]) == Decoded::tcp_fragment);  // 48..64, inside big[1]
        CHECK(f.add(frags[1]) == Decoded::tcp_fragment);  // 16..32
        REQUIRE(f.add(big[2]) == Decoded::tcp);           // 96..124
        check_inner(f.seg, "192.0.2.1:40000", "192.0.2.2:80", 100);
        CHECK(f.st.skipped_ip_fragment == 6);
    }
    SUBCASE("a first piece shorter than the TCP header (8-byte fragments)") {
        Feed f;
        const Bytes syn = tcp(0x02, 0);
        const auto tiny = fragments4(syn, 8);
        REQUIRE(tiny.size() == 3);
        CHECK(f.add(tiny[0]) == Decoded::tcp_fragment);
        CHECK(f.add(tiny[2]) == Decoded::tcp_fragment);
        REQUIRE(f.add(tiny[1]) == Decoded::tcp);
        CHECK(f.seg.payload_len == 0);
        CHECK(f.seg.flags == 0x02);
    }
    SUBCASE("two datagrams interleaved, told apart by id and addresses") {
        Feed f;
        const auto other = fragments4(tcp(0x18, 100, 5555), 64, 0x78);
        CHECK(f.add(frags[0]) == Decoded::tcp_fragment);
        CHECK(f.add(other[0]) == Decoded::tcp_fragment);
        for (std::size_t i = 1; i + 1 < frags.size(); ++i)
            CHECK(f.add(frags[i]) == Decoded::tcp_fragment);
        REQUIRE(f.add(other[1]) == Decoded::tcp);
        CHECK(f.seg.src.port == 5555);
        REQUIRE(f.add(frags.back()) == Decoded::tcp);
        CHECK(f.seg.src.port == 40000);
    }
}

TEST_CASE("reassembly: IPv6 fragments") {
    const Bytes t = tcp(0x12, 60);  // 84 bytes
    Feed f;
    CHECK(f.add(fragment6(t, 48, 36, false)) == Decoded::tcp_fragment);
    CHECK(f.add(fragment6(t, 0, 48, true)) == Decoded::tcp);
    check_inner(f.seg, "[2001:db8::1]:40000", "[2001:db8::2]:80", 60);
    // An atomic fragment (offset 0, no more) is a whole packet.
    CHECK(f.add(fragment6(t, 0, 84, false)) == Decoded::tcp);
    CHECK(f.r.pending() == 0);
}

TEST_CASE("reassembly: missing pieces, timeouts, the cap") {
    const Bytes t = tcp(0x18, 100);
    const auto frags = fragments4(t, 32);
    REQUIRE(frags.size() == 4);
    SUBCASE("a missing piece: incomplete at the end") {
        Feed f;
        CHECK(f.add(frags[0]) == Decoded::tcp_fragment);
        CHECK(f.add(frags[1]) == Decoded::tcp_fragment);
        CHECK(f.add(frags[3]) == Decoded::tcp_fragment);
        CHECK(f.st.skipped_ip_fragment == 3);
        f.r.flush(f.st);
        CHECK(f.st.skipped_ip_fragment == 0);
        CHECK(f.st.skipped_fragment_incomplete == 3);
        CHECK(f.r.pending() == 0);
    }
    SUBCASE("timeout after 30 s of capture time") {
        Feed f;
        CHECK(f.add(frags[0], 0) == Decoded::tcp_fragment);
        CHECK(f.add(frags[1], 10 * second) == Decoded::tcp_fragment);
        CHECK(f.add(frags[2], 31 * second) == Decoded::tcp_fragment);  // the first two expire
        CHECK(f.st.skipped_fragment_incomplete == 2);
        CHECK(f.add(frags[3], 32 * second) == Decoded::tcp_fragment);  // a new, partial one
        CHECK(f.st.skipped_ip_fragment == 2);
        CHECK(f.r.pending() == 1);
    }
    SUBCASE("cap on pending datagrams evicts the oldest") {
        capgap::detail::ReassemblyLimits lim;
        lim.max_pending = 3;
        Feed f(lim);
        for (unsigned id = 1; id <= 5; ++id)
            CHECK(f.add(fragments4(t, 32, id)[0]) == Decoded::tcp_fragment);
        CHECK(f.r.pending() == 3);
        CHECK(f.st.skipped_fragment_evicted == 2);
        CHECK(f.st.skipped_ip_fragment == 3);
        // Datagram 5 still completes.
        const auto last = fragments4(t, 32, 5);
        CHECK(f.add(last[1]) == Decoded::tcp_fragment);
        CHECK(f.add(last[2]) == Decoded::tcp_fragment);
        CHECK(f.add(last[3]) == Decoded::tcp);
    }
    SUBCASE("inconsistent pieces") {
        Feed f;
        CHECK(f.add(frags[3]) == Decoded::tcp_fragment);
        Bytes longer = frags[2];
        longer[14 + 6] = 0x00;  // clear MF: a second, different end
        CHECK(f.add(longer) == Decoded::bad_ip_header);
        // Beyond 65535 bytes.
        CHECK(f.add(ether(0x0800, ipv4(Bytes(64, 0), 6, 0x1fff, 192, 9))) ==
              Decoded::bad_ip_header);
    }
    SUBCASE("the snaplen cuts a piece's payload: truncated bytes, not loss") {
        Feed f;
        CHECK(f.add(frags[0]) == Decoded::tcp_fragment);
        CHECK(f.add(frags[1], 0, 14 + 20 + 10) == Decoded::tcp_fragment);
        CHECK(f.add(frags[2]) == Decoded::tcp_fragment);
        REQUIRE(f.add(frags[3]) == Decoded::tcp);
        CHECK(f.seg.payload_len == 100);
        CHECK(f.seg.truncated_bytes == 22);
    }
    SUBCASE("the snaplen cuts the TCP header") {
        Feed f;
        CHECK(f.add(frags[0], 0, 14 + 20 + 10) == Decoded::tcp_fragment);
        CHECK(f.add(frags[1]) == Decoded::tcp_fragment);
        CHECK(f.add(frags[2]) == Decoded::tcp_fragment);
        CHECK(f.add(frags[3]) == Decoded::truncated_header);
    }
}

TEST_CASE("reassembly: other protocols' fragments are not reassembled") {
    Segment s;
    IpFragment f;
    CHECK(decode(ether(0x0800, ipv4(Bytes(40, 0), 17, 0x2000)), dlt_en10mb, s, SIZE_MAX, &f) ==
          Decoded::ip_fragment);
    CHECK(decode(ether(0x0800, ipv4(Bytes(40, 0), 47, 5)), dlt_en10mb, s, SIZE_MAX, &f) ==
          Decoded::ip_fragment);
    // Without a reassembler, a first fragment still decodes on its own.
    CHECK(decode(fragments4(tcp(0x18, 100), 64)[0], dlt_en10mb, s) == Decoded::tcp);
}

TEST_CASE("reassembly: the Analyzer keeps packets_read == decoded + filtered_out + skipped") {
    capgap::Analyzer a;
    const auto frags = fragments4(tcp(0x02, 0), 8);
    const auto lost = fragments4(tcp(0x02, 40, 41000), 16, 0x99);
    std::int64_t t = 1'700'000'000 * second;
    for (const Bytes& fr : {frags[0], lost[0], frags[2], lost[2], frags[1]}) {
        a.feed_packet(fr.data(), static_cast<std::uint32_t>(fr.size()),
                      static_cast<std::uint32_t>(fr.size()), dlt_en10mb, capgap::Timestamp{t});
        t += 1000;
        const auto& st = a.stats();
        CHECK(st.packets_read == st.decoded + st.filtered_out + st.skipped());
    }
    const capgap::Report rep = a.finish();
    CHECK(rep.ingest.decoded == 1);
    CHECK(rep.ingest.skipped_ip_fragment == 2);
    CHECK(rep.ingest.skipped_fragment_incomplete == 2);
    CHECK(rep.ingest.packets_read ==
          rep.ingest.decoded + rep.ingest.filtered_out + rep.ingest.skipped());
    CHECK(rep.summary.total_sessions == 1);
    REQUIRE(rep.sessions.size() == 1);
    CHECK(rep.sessions[0].session.syn_frame == 5);  // numbered at the piece that completed it
}
