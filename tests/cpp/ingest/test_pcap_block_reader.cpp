// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// Classic pcap records are parsed from large blocks of the file rather than read through
// pcap_next_ex (see src/ingest/pcap_block_reader.hpp). These tests read crafted files both
// ways, PcapSource and libpcap itself, and require the same packets (lengths, times, bytes) and
// an error exactly where libpcap reports one: across many block refills, with records cut to
// the snapshot length, with impossible lengths, cut headers and cut data, in both byte orders
// and both resolutions.

#include <doctest/doctest.h>

#include <capgap/pcap_source.hpp>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include <pcap/pcap.h>

#include "support/temp_dir.hpp"

using Bytes = std::vector<std::uint8_t>;
using capgap::test::TempDir;

namespace {

struct Packet {
    std::uint32_t caplen, len;
    std::int64_t ns;
    Bytes data;
    friend bool operator==(const Packet& a, const Packet& b) {
        return a.caplen == b.caplen && a.len == b.len && a.ns == b.ns && a.data == b.data;
    }
};

struct Outcome {
    std::vector<Packet> packets;
    bool error = false;
    std::string reason;
};

// What libpcap itself returns for the file (nanosecond precision, as PcapSource asks).
Outcome read_with_libpcap(const std::string& path) {
    Outcome o;
    char errbuf[PCAP_ERRBUF_SIZE] = "";
    pcap_t* p =
        pcap_open_offline_with_tstamp_precision(path.c_str(), PCAP_TSTAMP_PRECISION_NANO, errbuf);
    REQUIRE_MESSAGE(p != nullptr, errbuf);
    pcap_pkthdr* h = nullptr;
    const u_char* d = nullptr;
    int r;
    while ((r = pcap_next_ex(p, &h, &d)) == 1) {
        o.packets.push_back({h->caplen, h->len,
                             static_cast<std::int64_t>(h->ts.tv_sec) * 1000000000 + h->ts.tv_usec,
                             Bytes(d, d + h->caplen)});
    }
    if (r == PCAP_ERROR) {
        o.error = true;
        o.reason = pcap_geterr(p);
    }
    pcap_close(p);
    return o;
}

// With batch 0 packet by packet (next), else in batches of up to `batch` (next_batch), each
// batch's data copied only once the whole batch is read.
Outcome read_with_capgap(const std::string& path, std::size_t batch = 0) {
    Outcome o;
    capgap::PcapSource src({path});
    std::vector<capgap::RawPacket> got(std::max<std::size_t>(batch, 1));
    std::uint64_t frame = 0;
    for (;;) {
        const std::size_t n =
            batch == 0 ? (src.next(got[0]) ? 1 : 0) : src.next_batch(got.data(), batch);
        if (n == 0) break;
        CHECK(n <= got.size());
        for (std::size_t i = 0; i < n; ++i) {
            const capgap::RawPacket& p = got[i];
            CHECK(p.frame == ++frame);
            o.packets.push_back({p.caplen, p.len, p.time.ns, Bytes(p.data, p.data + p.caplen)});
        }
    }
    CHECK(src.stats().packets_read == o.packets.size());
    if (!src.stats().problems.empty()) {
        o.error = true;
        o.reason = src.stats().problems[0].reason;
        // The damaged record is the one after the last packet.
        CHECK(src.stats().problems[0].position == "record " + std::to_string(frame + 1));
    }
    return o;
}

class PcapFile {
  public:
    PcapFile(bool big, bool nano, std::uint32_t snaplen) : big_(big) {
        u32(nano ? 0xa1b23c4d : 0xa1b2c3d4);
        u16(2);
        u16(4);
        u32(0);
        u32(0);
        u32(snaplen);
        u32(1);  // Ethernet
    }
    // A record whose header claims `caplen` and carries `stored` bytes (a cut file).
    void record(std::uint32_t sec, std::uint32_t frac, std::uint32_t caplen, std::uint32_t len,
                std::uint32_t stored, std::uint8_t fill) {
        u32(sec);
        u32(frac);
        u32(caplen);
        u32(len);
        for (std::uint32_t i = 0; i < stored; ++i)
            out_.push_back(static_cast<std::uint8_t>(fill + i * 7));
    }
    void record(std::uint32_t sec, std::uint32_t frac, std::uint32_t caplen, std::uint8_t fill) {
        record(sec, frac, caplen, caplen + 10, caplen, fill);
    }
    void raw(const Bytes& b) { out_.insert(out_.end(), b.begin(), b.end()); }
    std::size_t size() const { return out_.size(); }
    std::string save(const std::string& path) const {
        std::ofstream f(path, std::ios::binary);
        f.write(reinterpret_cast<const char*>(out_.data()),
                static_cast<std::streamsize>(out_.size()));
        return path;
    }

  private:
    void u16(unsigned v) {
        const std::uint8_t a = static_cast<std::uint8_t>(v), b = static_cast<std::uint8_t>(v >> 8);
        out_.push_back(big_ ? b : a);
        out_.push_back(big_ ? a : b);
    }
    void u32(std::uint32_t v) {
        u16(big_ ? v >> 16 : v & 0xffff);
        u16(big_ ? v & 0xffff : v >> 16);
    }
    bool big_;
    Bytes out_;
};

// Both readers agree packet for packet, and on whether (and with which words) it ended badly.
void check_same(const std::string& path, std::size_t expect_packets, bool expect_error) {
    const Outcome lib = read_with_libpcap(path);
    CHECK(lib.packets.size() == expect_packets);
    CHECK(lib.error == expect_error);
    for (const std::size_t batch : {0, 1, 7, 256}) {
        CAPTURE(batch);
        const Outcome ours = read_with_capgap(path, batch);
        REQUIRE(ours.packets.size() == lib.packets.size());
        for (std::size_t i = 0; i < lib.packets.size(); ++i) {
            CAPTURE(i);
            CHECK(ours.packets[i] == lib.packets[i]);
        }
        CHECK(ours.error == lib.error);
        if (lib.error) CHECK(ours.reason.rfind(lib.reason, 0) == 0);  // PcapSource may add more
    }
}

}  // namespace

TEST_CASE("pcap records: across many block refills, read as libpcap reads them") {
    // Over 70 MB, so the reader refills its 1 MB block dozens of times and records straddle
    // its end; sizes vary so that different offsets within a record meet the boundary.
    TempDir dir;
    PcapFile f(false, true, 65535);
    std::uint32_t n = 0;
    while (f.size() < (std::size_t{72} << 20)) {
        const std::uint32_t caplen = 60 + (n * 7919) % 9000;
        f.record(1700000000 + n / 1000, (n % 1000) * 1000000 + n, caplen,
                 static_cast<std::uint8_t>(n));
        ++n;
    }
    check_same(f.save(dir.file("big.pcap")), n, false);
}

TEST_CASE("pcap records: byte orders and resolutions") {
    TempDir dir;
    for (const bool big : {false, true}) {
        for (const bool nano : {false, true}) {
            CAPTURE(big);
            CAPTURE(nano);
            PcapFile f(big, nano, 262144);
            f.record(1, nano ? 999999999 : 999999, 100, 1);
            f.record(0x7fffffff, 0, 0, 2);     // the last second a signed 32-bit field holds
            f.record(0x80000000, 5, 60, 3);    // read as negative, as libpcap reads it
            f.record(2, 0xffffffff, 1514, 4);  // a fraction out of range passes through
            f.record(3, 1, 262144, 262144, 262144, 5);  // the largest record
            check_same(f.save(dir.file(std::string("o") + (big ? "b" : "l") + (nano ? "n" : "u"))),
                       5, false);
        }
    }
}

TEST_CASE("pcap records: a record longer than the snapshot length is cut to it") {
    TempDir dir;
    PcapFile f(false, true, 128);
    f.record(1, 0, 100, 1);
    f.record(2, 0, 5000, 2);  // libpcap keeps the first 128 bytes and skips the rest
    f.record(3, 0, 128, 3);
    check_same(f.save(dir.file("snap.pcap")), 3, false);
}

TEST_CASE("pcap records: damaged files stop where libpcap stops, with its words") {
    TempDir dir;
    SUBCASE("a capture length past the largest libpcap accepts") {
        PcapFile f(false, true, 65535);
        f.record(1, 0, 60, 1);
        f.record(2, 0, 262145, 60, 0, 2);
        f.record(3, 0, 60, 3);
        check_same(f.save(dir.file("huge.pcap")), 1, true);
    }
    SUBCASE("the same with its bytes there, after packets read in one batch") {
        PcapFile f(false, true, 65535);
        for (std::uint8_t i = 0; i < 5; ++i)
            f.record(1, i, 60, i);
        f.record(2, 0, 262145, 262145, 262145, 2);
        f.record(3, 0, 60, 3);
        check_same(f.save(dir.file("huge3.pcap")), 5, true);
    }
    SUBCASE("the same past a snapshot length above the largest") {
        PcapFile f(false, true, 0x7fffffff);
        f.record(1, 0, 60, 1);
        f.record(2, 0, 300000, 60, 0, 2);
        check_same(f.save(dir.file("huge2.pcap")), 1, true);
    }
    SUBCASE("a cut record header") {
        PcapFile f(true, false, 65535);
        f.record(1, 0, 60, 1);
        f.raw({0, 0, 0, 1, 0, 0, 0});
        check_same(f.save(dir.file("cuthead.pcap")), 1, true);
    }
    SUBCASE("cut packet data") {
        PcapFile f(false, false, 65535);
        for (std::uint8_t i = 0; i < 5; ++i)
            f.record(1, i, 60, i);
        f.record(2, 0, 60, 60, 59, 2);
        const std::string path = f.save(dir.file("cutdata.pcap"));
        check_same(path, 5, true);
        // The problem names the record and the byte offset where it starts (24 + 5 * 76).
        capgap::PcapSource src({path});
        capgap::RawPacket p;
        while (src.next(p)) {
        }
        REQUIRE(src.stats().problems.size() == 1);
        CHECK(src.stats().problems[0].position == "record 6");
        CHECK(src.stats().problems[0].reason.find("(offset 404)") != std::string::npos);
    }
    SUBCASE("cut data of a record longer than the snapshot length") {
        PcapFile f(false, true, 100);
        f.record(1, 0, 60, 1);
        f.record(2, 0, 500, 500, 300, 2);  // the first 100 bytes are there, not the rest
        check_same(f.save(dir.file("cutsnap.pcap")), 1, true);
    }
    SUBCASE("cut before the snapshot length of a longer record") {
        PcapFile f(false, true, 100);
        f.record(1, 0, 60, 1);
        f.record(2, 0, 500, 500, 40, 2);
        check_same(f.save(dir.file("cutsnap2.pcap")), 1, true);
    }
    SUBCASE("no record at all") {
        PcapFile f(false, true, 65535);
        check_same(f.save(dir.file("empty.pcap")), 0, false);
    }
}

TEST_CASE("pcap records: a file that grows while read is read as far as it was at open") {
    // Opened with five records, rewritten with ten before the first read (a capture still being
    // written): packet by packet and in batches, the five there at open and nothing more.
    TempDir dir;
    PcapFile five(false, true, 65535), ten(false, true, 65535);
    for (std::uint8_t i = 0; i < 10; ++i) {
        if (i < 5) five.record(1, i, 60, i);
        ten.record(1, i, 60, i);
    }
    const std::string path = five.save(dir.file("growing.pcap"));
    for (const std::size_t batch : {0, 256}) {
        CAPTURE(batch);
        five.save(path);
        capgap::PcapSource src({path});
        ten.save(path);
        std::vector<capgap::RawPacket> got(256);
        std::size_t packets = 0;
        for (;;) {
            const std::size_t n =
                batch == 0 ? (src.next(got[0]) ? 1 : 0) : src.next_batch(got.data(), batch);
            if (n == 0) break;
            packets += n;
        }
        CHECK(packets == 5);
        CHECK(src.stats().problems.empty());
    }
}
