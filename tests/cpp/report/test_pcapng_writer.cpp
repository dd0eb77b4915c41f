// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// The pcapng writer (src/report/pcapng_writer.hpp): block layout, options, padding, and
// libpcap reading the result back.

#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <pcap/pcap.h>

#include <capgap/extract.hpp>

#include "report/pcapng_writer.hpp"
#include "support/temp_dir.hpp"

using capgap::detail::PcapngWriter;

namespace {

std::uint32_t u32(const std::string& b, std::size_t at) {
    std::uint32_t v;
    std::memcpy(&v, b.data() + at, 4);
    return v;
}

std::uint16_t u16(const std::string& b, std::size_t at) {
    std::uint16_t v;
    std::memcpy(&v, b.data() + at, 2);
    return v;
}

const std::uint8_t frame[5] = {1, 2, 3, 4, 5};

}  // namespace

TEST_CASE("pcapng writer: section, interface and packet blocks, laid out and padded") {
    std::ostringstream out;
    PcapngWriter w(out, "capgap 9.9");  // 10 bytes of option value: padded to 12
    CHECK(w.interface_for(1) == 0);
    CHECK(w.interface_for(101) == 1);
    CHECK(w.interface_for(1) == 0);  // no second IDB for a link type already described
    const std::int64_t t = 0x0000000123456789LL * 1000;  // a time whose high word is not 0
    w.write_packet(1, t, frame, 5, 60, {"ab", "wxyz"});
    w.write_packet(0, 7, frame, 4, 4);
    const std::string b = out.str();

    // SHB: type, length, magic, version 1.0, section length -1, shb_userappl, end of options.
    std::size_t at = 0;
    REQUIRE(b.size() >= 28);
    CHECK(u32(b, 0) == 0x0A0D0D0A);
    const std::uint32_t shb_len = u32(b, 4);
    CHECK(shb_len == 4 + 4 + 4 + 2 + 2 + 8 + (4 + 12) + 4 + 4);
    CHECK(u32(b, 8) == 0x1A2B3C4D);
    CHECK(u16(b, 12) == 1);
    CHECK(u16(b, 14) == 0);
    CHECK(u32(b, 16) == 0xFFFFFFFF);
    CHECK(u32(b, 20) == 0xFFFFFFFF);
    CHECK(u16(b, 24) == 4);   // shb_userappl
    CHECK(u16(b, 26) == 10);  // its unpadded length
    CHECK(b.substr(28, 10) == "capgap 9.9");
    CHECK(b.substr(38, 2) == std::string(2, '\0'));  // padding
    CHECK(u32(b, 40) == 0);                          // opt_endofopt, length 0
    CHECK(u32(b, shb_len - 4) == shb_len);           // the length again at the end
    at = shb_len;

    // Two IDBs: link type, reserved, snaplen 0, if_tsresol 9 (one byte, three of padding).
    for (const int link : {1, 101}) {
        CHECK(u32(b, at) == 1);
        const std::uint32_t len = u32(b, at + 4);
        CHECK(len == 4 + 4 + 2 + 2 + 4 + 8 + 4 + 4);
        CHECK(u16(b, at + 8) == link);
        CHECK(u16(b, at + 10) == 0);
        CHECK(u32(b, at + 12) == 0);
        CHECK(u16(b, at + 16) == 9);
        CHECK(u16(b, at + 18) == 1);
        CHECK(static_cast<unsigned char>(b[at + 20]) == 9);
        CHECK(b.substr(at + 21, 3) == std::string(3, '\0'));
        CHECK(u32(b, at + 24) == 0);
        CHECK(u32(b, at + len - 4) == len);
        at += len;
    }

    // EPB with comments: data 5 bytes padded to 8; "ab" padded to 4; "wxyz" unpadded.
    CHECK(u32(b, at) == 6);
    std::uint32_t len = u32(b, at + 4);
    CHECK(len == 28 + 8 + (4 + 4) + (4 + 4) + 4 + 4);
    CHECK(u32(b, at + 8) == 1);  // interface
    const auto ut = static_cast<std::uint64_t>(t);
    CHECK(u32(b, at + 12) == static_cast<std::uint32_t>(ut >> 32));
    CHECK(u32(b, at + 16) == static_cast<std::uint32_t>(ut));
    CHECK(u32(b, at + 20) == 5);
    CHECK(u32(b, at + 24) == 60);
    CHECK(b.substr(at + 28, 5) == std::string(reinterpret_cast<const char*>(frame), 5));
    CHECK(b.substr(at + 33, 3) == std::string(3, '\0'));
    CHECK(u16(b, at + 36) == 1);  // opt_comment
    CHECK(u16(b, at + 38) == 2);
    CHECK(b.substr(at + 40, 4) == std::string("ab\0\0", 4));
    CHECK(u16(b, at + 44) == 1);
    CHECK(u16(b, at + 46) == 4);
    CHECK(b.substr(at + 48, 4) == "wxyz");
    CHECK(u32(b, at + 52) == 0);  // opt_endofopt
    CHECK(u32(b, at + len - 4) == len);
    at += len;

    // EPB without comments: no options at all, 4 bytes of data need no padding.
    CHECK(u32(b, at) == 6);
    len = u32(b, at + 4);
    CHECK(len == 28 + 4 + 4);
    CHECK(u32(b, at + 20) == 4);
    at += len;
    CHECK(at == b.size());
}

TEST_CASE("pcapng writer: libpcap reads the packets back with nanosecond times") {
    capgap::test::TempDir dir;
    const std::string path = dir.file("out.pcapng");
    {
        std::ofstream f(path, std::ios::binary);
        PcapngWriter w(f, "capgap");
        w.write_packet(w.interface_for(1), 1'700'000'000'123'456'789LL, frame, 5, 1514, {"x"});
        w.write_packet(w.interface_for(1), 1'700'000'001'000'000'001LL, frame, 3, 3);
    }
    char err[PCAP_ERRBUF_SIZE];
    pcap_t* p =
        pcap_open_offline_with_tstamp_precision(path.c_str(), PCAP_TSTAMP_PRECISION_NANO, err);
    REQUIRE_MESSAGE(p != nullptr, err);
    CHECK(pcap_datalink(p) == 1);
    pcap_pkthdr* h = nullptr;
    const u_char* d = nullptr;
    REQUIRE(pcap_next_ex(p, &h, &d) == 1);
    CHECK(h->ts.tv_sec == 1'700'000'000);
    CHECK(h->ts.tv_usec == 123'456'789);  // nanoseconds, as asked
    CHECK(h->caplen == 5);
    CHECK(h->len == 1514);
    CHECK(std::memcmp(d, frame, 5) == 0);
    REQUIRE(pcap_next_ex(p, &h, &d) == 1);
    CHECK(h->ts.tv_sec == 1'700'000'001);
    CHECK(h->ts.tv_usec == 1);
    CHECK(h->caplen == 3);
    CHECK(pcap_next_ex(p, &h, &d) == PCAP_ERROR_BREAK);
    pcap_close(p);
}

TEST_CASE("extraction: session id lists and loss notes") {
    using capgap::SessionSelection;
    CHECK(SessionSelection::parse_ids("3") == std::vector<std::uint64_t>{3});
    CHECK(SessionSelection::parse_ids("7,1,4-6,5") == std::vector<std::uint64_t>{1, 4, 5, 6, 7});
    for (const char* bad : {"", "1,", "a", "5-3", "-1", "1-", "1--2", "1 2"})
        CHECK_THROWS_AS(SessionSelection::parse_ids(bad), capgap::parse_error);

    capgap::LossEvent e;
    e.kind = capgap::EventKind::acked_unseen;
    e.direction = capgap::Direction::c2s;
    e.missing_bytes = 1448;
    e.seq_begin = 1001;
    e.seq_end = 2449;
    CHECK(capgap::event_note(e) ==
          "capgap: acked_unseen c2s, 1448 bytes missing before this ACK (relative seq "
          "1001-2449)");
    e.kind = capgap::EventKind::ws_ack_lost_segment;
    e.direction = capgap::Direction::s2c;
    CHECK(capgap::event_note(e) ==
          "capgap: ws_ack_lost_segment s2c, Wireshark: ACKed unseen segment");
}
