// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// PcapSource: pcap and pcapng files written by the tests, several files merged, BPF filters,
// damaged files, and the shared capture corpus when it is present.

#include <doctest/doctest.h>

#include <capgap/errors.hpp>
#include <capgap/pcap_source.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

#include <lz4frame.h>
#include <zlib.h>
#include <zstd.h>

#include <stdexcept>
#include <thread>

#include "decode/decode.hpp"
#include "ingest/stream.hpp"
#include "support/shared_captures.hpp"
#include "support/temp_dir.hpp"

namespace fs = std::filesystem;
using capgap::PcapSource;
using capgap::RawPacket;
using Bytes = std::vector<std::uint8_t>;
using capgap::test::TempDir;

namespace {

constexpr std::int64_t sec = 1000000000;

// Appends integers in the chosen byte order.
struct Writer {
    bool big = false;
    Bytes out;

    void u8(unsigned v) { out.push_back(static_cast<std::uint8_t>(v)); }
    void u16(unsigned v) {
        if (big) {
            u8(v >> 8);
            u8(v);
        } else {
            u8(v);
            u8(v >> 8);
        }
    }
    void u32(std::uint32_t v) {
        if (big) {
            u16(v >> 16);
            u16(v & 0xffff);
        } else {
            u16(v & 0xffff);
            u16(v >> 16);
        }
    }
    void bytes(const Bytes& b) { out.insert(out.end(), b.begin(), b.end()); }
    void pad4() {
        while (out.size() % 4 != 0)
            u8(0);
    }
    void save(const std::string& path) const {
        std::ofstream f(path, std::ios::binary);
        f.write(reinterpret_cast<const char*>(out.data()),
                static_cast<std::streamsize>(out.size()));
    }
};

// Ethernet + IPv4 + TCP with the given ports and payload size.
Bytes tcp_frame(unsigned sport, unsigned dport, std::size_t payload = 0) {
    Writer w;
    w.big = true;
    for (int i = 0; i < 12; ++i)
        w.u8(static_cast<unsigned>(i));
    w.u16(0x0800);
    w.u8(0x45);
    w.u8(0);
    w.u16(static_cast<unsigned>(40 + payload));
    w.u32(0);
    w.u8(64);
    w.u8(6);
    w.u16(0);
    w.u32(0xc0000201);
    w.u32(0xc6336402);
    w.u16(sport);
    w.u16(dport);
    w.u32(1000);
    w.u32(0);
    w.u8(0x50);
    w.u8(0x02);
    w.u16(65535);
    w.u32(0);
    for (std::size_t i = 0; i < payload; ++i)
        w.u8(0x61);
    return w.out;
}

// The same IPv4 packet behind a BSD loopback header (family in host order, little endian).
Bytes null_frame(unsigned sport, unsigned dport) {
    Bytes b = tcp_frame(sport, dport);
    b.erase(b.begin(), b.begin() + 10);  // keep 4 bytes in front of the IPv4 header
    b[0] = 2;
    b[1] = b[2] = b[3] = 0;
    return b;
}

// The IPv4 packet alone (raw IP link types).
Bytes raw_frame(unsigned sport, unsigned dport) {
    const Bytes eth = tcp_frame(sport, dport);
    return Bytes(eth.begin() + 14, eth.end());
}

struct Rec {
    std::int64_t ns;
    Bytes data;
    std::uint32_t len = 0;  // 0: data.size()
};

Bytes pcap_bytes(int link, const std::vector<Rec>& recs, bool nano, bool big = false) {
    Writer w;
    w.big = big;
    w.u32(nano ? 0xa1b23c4d : 0xa1b2c3d4);
    w.u16(2);
    w.u16(4);
    w.u32(0);
    w.u32(0);
    w.u32(262144);
    w.u32(static_cast<std::uint32_t>(link));
    for (const Rec& r : recs) {
        w.u32(static_cast<std::uint32_t>(r.ns / sec));
        w.u32(static_cast<std::uint32_t>(nano ? r.ns % sec : r.ns % sec / 1000));
        w.u32(static_cast<std::uint32_t>(r.data.size()));
        w.u32(r.len != 0 ? r.len : static_cast<std::uint32_t>(r.data.size()));
        w.bytes(r.data);
    }
    return w.out;
}

void write_pcap(const std::string& path, int link, const std::vector<Rec>& recs, bool nano,
                bool big = false) {
    Writer w;
    w.out = pcap_bytes(link, recs, nano, big);
    w.save(path);
}

struct Iface {
    unsigned linktype;
    std::uint32_t snaplen = 65535;
    int tsresol = -1;  // -1: no option (microseconds)
};

struct NgPacket {
    std::uint32_t iface;
    std::uint64_t ticks;
    Bytes data;
};

// A pcapng file built block by block: interface descriptions and packets in any order.
struct Pcapng {
    Writer w;

    explicit Pcapng(bool big = false) {
        w.big = big;
        w.u32(0x0a0d0d0a);
        w.u32(28);
        w.u32(0x1a2b3c4d);
        w.u16(1);
        w.u16(0);
        w.u32(0xffffffff);
        w.u32(0xffffffff);
        w.u32(28);
    }
    Pcapng& iface(const Iface& i) {
        const std::uint32_t len = 20 + (i.tsresol >= 0 ? 12 : 0);
        w.u32(1);
        w.u32(len);
        w.u16(i.linktype);
        w.u16(0);
        w.u32(i.snaplen);
        if (i.tsresol >= 0) {
            w.u16(9);
            w.u16(1);
            w.u8(static_cast<unsigned>(i.tsresol));
            w.pad4();
            w.u16(0);
            w.u16(0);
        }
        w.u32(len);
        return *this;
    }
    Pcapng& packet(const NgPacket& p) {
        const auto padded = static_cast<std::uint32_t>((p.data.size() + 3) & ~std::size_t{3});
        const std::uint32_t len = 32 + padded;
        w.u32(6);
        w.u32(len);
        w.u32(p.iface);
        w.u32(static_cast<std::uint32_t>(p.ticks >> 32));
        w.u32(static_cast<std::uint32_t>(p.ticks));
        w.u32(static_cast<std::uint32_t>(p.data.size()));
        w.u32(static_cast<std::uint32_t>(p.data.size()));
        w.bytes(p.data);
        w.pad4();
        w.u32(len);
        return *this;
    }
    void save(const std::string& path) const { w.save(path); }
    const Bytes& bytes() const { return w.out; }
};

struct Seen {
    std::uint64_t frame;
    std::int64_t ns;
    int link;
    std::uint32_t caplen;
    std::uint32_t len;
    bool passed;
    bool operator==(const Seen& o) const {
        return frame == o.frame && ns == o.ns && link == o.link && caplen == o.caplen &&
               len == o.len && passed == o.passed;
    }
};

std::vector<Seen> read_all(PcapSource& src) {
    std::vector<Seen> v;
    RawPacket p;
    while (src.next(p)) {
        v.push_back({p.frame, p.time.ns, p.link_type, p.caplen, p.len, p.passed_filter});
    }
    return v;
}

// MANIFEST.tsv rows as column name -> value.
std::vector<std::map<std::string, std::string>> read_manifest(const std::string& path) {
    std::vector<std::map<std::string, std::string>> rows;
    std::ifstream f(path);
    std::string line;
    std::vector<std::string> header;
    while (std::getline(f, line)) {
        std::vector<std::string> cells;
        std::stringstream ss(line);
        std::string cell;
        while (std::getline(ss, cell, '\t'))
            cells.push_back(cell);
        if (header.empty()) {
            header = cells;
            continue;
        }
        std::map<std::string, std::string> row;
        for (std::size_t i = 0; i < cells.size() && i < header.size(); ++i) {
            row[header[i]] = cells[i];
        }
        rows.push_back(row);
    }
    return rows;
}

}  // namespace

TEST_CASE("pcap_source: nanosecond pcap, every field and the counters") {
    TempDir dir;
    const std::string path = dir.file("nano.pcap");
    const std::int64_t t0 = 1700000000 * sec + 123456789;
    write_pcap(path, 1,
               {{t0, tcp_frame(1, 80, 10)}, {t0 + 1, tcp_frame(2, 80), 1500}, {t0 + sec, {1, 2}}},
               true);
    PcapSource src({path});
    const auto seen = read_all(src);
    REQUIRE(seen.size() == 3);
    CHECK(seen[0].frame == 1);
    CHECK(seen[0].ns == t0);
    CHECK(seen[0].link == 1);
    CHECK(seen[0].caplen == 64);
    CHECK(seen[0].len == 64);
    CHECK(seen[0].passed);
    CHECK(seen[1].frame == 2);
    CHECK(seen[1].ns == t0 + 1);
    CHECK(seen[1].caplen == 54);
    CHECK(seen[1].len == 1500);
    CHECK(seen[2].frame == 3);
    CHECK(seen[2].caplen == 2);

    const capgap::IngestStats& st = src.stats();
    CHECK(st.files == 1);
    CHECK(st.packets_read == 3);
    CHECK(st.bytes_read == 64 + 54 + 2);
    CHECK(st.have_time);
    CHECK(st.first_time.ns == t0);
    CHECK(st.last_time.ns == t0 + sec);
    CHECK(st.filtered_out == 0);
    CHECK(st.problems.empty());

    RawPacket p;
    CHECK_FALSE(src.next(p));  // stays at the end
    CHECK_FALSE(src.next(p));
}

TEST_CASE("pcap_source: packet data is the record's bytes") {
    TempDir dir;
    const std::string path = dir.file("data.pcap");
    const Bytes frame = tcp_frame(1234, 443, 5);
    write_pcap(path, 1, {{sec, frame}}, false);
    PcapSource src({path});
    RawPacket p;
    REQUIRE(src.next(p));
    CHECK(Bytes(p.data, p.data + p.caplen) == frame);
    capgap::Segment s;
    REQUIRE(capgap::detail::decode_packet(p.data, p.caplen, p.len, p.link_type, s) ==
            capgap::detail::Decoded::tcp);
    CHECK(s.src.port == 1234);
    CHECK(s.dst.port == 443);
    CHECK(s.payload_len == 5);
}

TEST_CASE("pcap_source: microsecond and big-endian pcap give nanoseconds") {
    TempDir dir;
    const std::string usec = dir.file("usec.pcap");
    const std::string be = dir.file("be.pcap");
    write_pcap(usec, 1, {{1500000000 * sec + 999999000, tcp_frame(1, 2)}}, false);
    write_pcap(be, 1, {{1500000000 * sec + 999999999, tcp_frame(1, 2)}}, true, true);
    PcapSource a({usec});
    auto sa = read_all(a);
    REQUIRE(sa.size() == 1);
    CHECK(sa[0].ns == 1500000000 * sec + 999999000);
    PcapSource b({be});
    auto sb = read_all(b);
    REQUIRE(sb.size() == 1);
    CHECK(sb[0].ns == 1500000000 * sec + 999999999);
}

TEST_CASE("pcap_source: pcapng timestamp resolutions") {
    TempDir dir;
    const std::string path = dir.file("res.pcapng");
    Pcapng ng;
    ng.iface({1, 65535, 9}).packet({0, 1600000000ull * 1000000000ull + 7, tcp_frame(1, 2)});
    ng.save(path);
    PcapSource src({path});
    auto seen = read_all(src);
    REQUIRE(seen.size() == 1);
    CHECK(seen[0].ns == 1600000000 * sec + 7);

    const std::string usec = dir.file("usec.pcapng");
    Pcapng ng2(true);
    ng2.iface({1}).packet({0, 1600000000ull * 1000000ull + 3, tcp_frame(1, 2)});
    ng2.save(usec);
    PcapSource src2({usec});
    seen = read_all(src2);
    REQUIRE(seen.size() == 1);
    CHECK(seen[0].ns == 1600000000 * sec + 3000);
}

TEST_CASE("pcap_source: pcapng with interfaces of different link types") {
    TempDir dir;
    const std::string path = dir.file("multi.pcapng");
    Pcapng ng;
    ng.iface({1})                        // Ethernet, microseconds
        .iface({0, 65535, 9})            // BSD loopback, nanoseconds
        .iface({101, 65535, 0x80 | 30})  // raw IP, 2^-30 s
        .packet({0, 1000000, tcp_frame(1, 80)})
        .packet({1, 2000000001, null_frame(2, 80)})
        .packet({2, (std::uint64_t{3} << 30) + (std::uint64_t{1} << 29), raw_frame(3, 80)})
        .packet({0, 4000000, tcp_frame(4, 22)});
    ng.save(path);

    PcapSource src({path});
    const auto seen = read_all(src);
    REQUIRE(seen.size() == 4);
    CHECK(seen[0].link == 1);
    CHECK(seen[0].ns == 1 * sec);
    CHECK(seen[1].link == 0);
    CHECK(seen[1].ns == 2 * sec + 1);
    CHECK(seen[2].link == 12);  // LINKTYPE_RAW is reported as DLT_RAW, as libpcap does
    CHECK(seen[2].ns == 3 * sec + sec / 2);
    CHECK(seen[3].link == 1);
    CHECK(seen[3].frame == 4);
    CHECK(src.stats().problems.empty());
    CHECK(src.stats().packets_read == 4);

    SUBCASE("BPF per link type") {
        PcapSource f({path}, "tcp dst port 80");
        const auto fs = read_all(f);
        REQUIRE(fs.size() == 4);
        CHECK(fs[0].passed);
        CHECK(fs[1].passed);
        CHECK(fs[2].passed);
        CHECK_FALSE(fs[3].passed);
        CHECK(f.stats().filtered_out == 1);
    }
}

TEST_CASE("pcap_source: a second link type after some packets") {
    TempDir dir;
    const std::string path = dir.file("late.pcapng");
    Pcapng ng;
    ng.iface({1})
        .packet({0, 1, tcp_frame(1, 80)})
        .packet({0, 2, tcp_frame(2, 80)})
        .iface({0})
        .packet({1, 3, null_frame(3, 80)})
        .packet({0, 4, tcp_frame(4, 80)})
        .iface({1, 1500})  // same type, other snapshot length: libpcap refuses that too
        .packet({2, 5, tcp_frame(5, 80)});
    ng.save(path);
    PcapSource src({path});
    const auto seen = read_all(src);
    REQUIRE(seen.size() == 5);
    for (std::size_t i = 0; i < seen.size(); ++i) {
        CHECK(seen[i].frame == i + 1);
        CHECK(seen[i].ns == static_cast<std::int64_t>(i + 1) * 1000);
        CHECK(seen[i].link == (i == 2 ? 0 : 1));
    }
    CHECK(src.stats().problems.empty());
}

TEST_CASE("pcap_source: a packet longer than its interface's snapshot length stops the file") {
    // libpcap refuses it in a single-interface file; the pcapng reader, which reads every
    // file of several interfaces, refuses it alike, with the packets before kept.
    TempDir dir;
    for (const int interfaces : {1, 2}) {
        CAPTURE(interfaces);
        Pcapng ng;
        for (int i = 0; i < interfaces; ++i)
            ng.iface({1, 60});
        ng.packet({0, 1, tcp_frame(1, 80)})  // 54 bytes
            .packet({static_cast<std::uint32_t>(interfaces - 1), 2, tcp_frame(2, 80, 100)})
            .packet({0, 3, tcp_frame(3, 80)});
        const std::string path = dir.file("snap" + std::to_string(interfaces) + ".pcapng");
        ng.save(path);
        PcapSource src({path});
        CHECK(read_all(src).size() == 1);
        REQUIRE(src.stats().problems.size() == 1);
        CHECK(src.stats().problems[0].position == "record 2");
        CHECK(src.stats().problems[0].reason.find(
                  "invalid packet capture length 154, bigger than snaplen of 60") == 0);
    }
}

TEST_CASE("pcap_source: several files merge by time, ties in argument order") {
    TempDir dir;
    const std::string a = dir.file("a.pcap");
    const std::string b = dir.file("b.pcapng");
    write_pcap(
        a, 1,
        {{1 * sec, tcp_frame(1, 80)}, {3 * sec, tcp_frame(3, 80)}, {5 * sec, tcp_frame(5, 80)}},
        true);
    Pcapng ng;
    ng.iface({1, 65535, 9})
        .packet({0, 2 * sec, tcp_frame(2, 80)})
        .packet({0, 3 * sec, tcp_frame(33, 80)})
        .packet({0, 4 * sec, tcp_frame(4, 80)});
    ng.save(b);

    PcapSource src({a, b});
    std::vector<unsigned> ports;
    std::vector<std::uint64_t> frames;
    RawPacket p;
    while (src.next(p)) {
        capgap::Segment s;
        REQUIRE(capgap::detail::decode_packet(p.data, p.caplen, p.len, p.link_type, s) ==
                capgap::detail::Decoded::tcp);
        ports.push_back(s.src.port);
        frames.push_back(p.frame);
    }
    CHECK(ports == std::vector<unsigned>{1, 2, 3, 33, 4, 5});
    CHECK(frames == std::vector<std::uint64_t>{1, 2, 3, 4, 5, 6});
    CHECK(src.stats().files == 2);
    CHECK(src.stats().first_time.ns == 1 * sec);
    CHECK(src.stats().last_time.ns == 5 * sec);

    PcapSource rev({b, a});
    ports.clear();
    while (rev.next(p)) {
        capgap::Segment s;
        capgap::detail::decode_packet(p.data, p.caplen, p.len, p.link_type, s);
        ports.push_back(s.src.port);
    }
    CHECK(ports == std::vector<unsigned>{1, 2, 33, 3, 4, 5});
}

TEST_CASE("pcap_source: BPF filter marks packets, frames still count") {
    TempDir dir;
    const std::string path = dir.file("f.pcap");
    write_pcap(path, 1,
               {{1 * sec, tcp_frame(1000, 80)},
                {2 * sec, tcp_frame(1000, 443)},
                {3 * sec, tcp_frame(80, 1000)},
                {4 * sec, {0xff, 0xff}}},
               false);
    PcapSource src({path}, "tcp port 80");
    const auto seen = read_all(src);
    REQUIRE(seen.size() == 4);
    CHECK(seen[0].passed);
    CHECK_FALSE(seen[1].passed);
    CHECK(seen[2].passed);
    CHECK_FALSE(seen[3].passed);
    CHECK(seen[3].frame == 4);
    CHECK(src.stats().packets_read == 4);
    CHECK(src.stats().filtered_out == 2);

    SUBCASE("a filter for another link layer matches nothing there") {
        const std::string raw = dir.file("raw.pcap");
        write_pcap(raw, 12, {{sec, raw_frame(1, 80)}}, false);
        PcapSource r({raw}, "ether host 01:02:03:04:05:06");
        const auto rs = read_all(r);
        REQUIRE(rs.size() == 1);
        CHECK_FALSE(rs[0].passed);
    }
}

TEST_CASE("pcap_source: a bad filter is a parse_error naming the bpf option and the expression") {
    TempDir dir;
    const std::string path = dir.file("f.pcap");
    write_pcap(path, 1, {{sec, tcp_frame(1, 80)}}, false);
    CHECK_THROWS_AS(PcapSource({path}, "tcp port"), capgap::parse_error);
    CHECK_THROWS_AS(PcapSource({}, "no such primitive"), capgap::parse_error);
    try {
        PcapSource src({path}, "port 99999999");
        FAIL("no exception");
    } catch (const capgap::parse_error& e) {
        CHECK(e.source() == "bpf");
        CHECK(std::string(e.what()).rfind("bpf: 'port 99999999': ", 0) == 0);
    }
}

TEST_CASE("pcap_source: a truncated last record keeps the packets before it") {
    TempDir dir;
    const std::string path = dir.file("cut.pcap");
    write_pcap(path, 1,
               {{1 * sec, tcp_frame(1, 80)},
                {2 * sec, tcp_frame(2, 80)},
                {3 * sec, tcp_frame(3, 80, 100)}},
               false);
    fs::resize_file(path, fs::file_size(path) - 50);
    PcapSource src({path});
    const auto seen = read_all(src);
    CHECK(seen.size() == 2);
    REQUIRE(src.stats().problems.size() == 1);
    const capgap::InputProblem& pr = src.stats().problems[0];
    CHECK(pr.source == path);
    CHECK(pr.position == "record 3");
    CHECK(pr.reason.find("truncated") != std::string::npos);

    SUBCASE("the other files go on") {
        const std::string good = dir.file("good.pcap");
        write_pcap(good, 1, {{sec + 1, tcp_frame(9, 80)}, {10 * sec, tcp_frame(9, 80)}}, false);
        PcapSource both({path, good});
        CHECK(read_all(both).size() == 4);
        CHECK(both.stats().problems.size() == 1);
    }
}

TEST_CASE("pcap_source: open failures") {
    TempDir dir;
    SUBCASE("missing file is an io_error") {
        CHECK_THROWS_AS(PcapSource({dir.file("nope.pcap")}), capgap::io_error);
        try {
            PcapSource src({dir.file("nope.pcap")});
        } catch (const capgap::io_error& e) {
            CHECK(std::string(e.what()).find("nope.pcap") != std::string::npos);
            // The path and errno travel with it, for bindings (Python's FileNotFoundError).
            CHECK(e.path() == dir.file("nope.pcap"));
            CHECK(e.error_number() == ENOENT);
        }
    }
    SUBCASE("a directory is an io_error") {
        CHECK_THROWS_AS(PcapSource({dir.file("")}), capgap::io_error);
        try {
            PcapSource src({dir.file("")});
        } catch (const capgap::io_error& e) {
            CHECK(e.error_number() == EISDIR);
        }
    }
    SUBCASE("text is a format_error") {
        const std::string path = dir.file("text.pcap");
        std::ofstream(path) << "version https://git-lfs.github.com/spec/v1\noid sha256:00\n";
        CHECK_THROWS_AS(PcapSource({path}), capgap::format_error);
        try {
            PcapSource src({path});
        } catch (const capgap::format_error& e) {
            CHECK(std::string(e.what()).find("text.pcap") != std::string::npos);
        }
    }
    SUBCASE("an empty file is a format_error") {
        const std::string path = dir.file("empty.pcap");
        std::ofstream(path).flush();
        CHECK_THROWS_AS(PcapSource({path}), capgap::format_error);
    }
    SUBCASE("the second file failing throws too") {
        const std::string good = dir.file("good.pcap");
        write_pcap(good, 1, {{sec, tcp_frame(1, 80)}}, false);
        CHECK_THROWS_AS(PcapSource({good, dir.file("nope.pcap")}), capgap::io_error);
    }
}

TEST_CASE("pcap_source: no files, moves") {
    PcapSource none({});
    RawPacket p;
    CHECK_FALSE(none.next(p));
    CHECK(none.stats().files == 0);
    CHECK_FALSE(none.stats().have_time);

    TempDir dir;
    const std::string path = dir.file("m.pcap");
    write_pcap(path, 1, {{sec, tcp_frame(1, 80)}, {2 * sec, tcp_frame(1, 80)}}, false);
    PcapSource a({path});
    REQUIRE(a.next(p));
    PcapSource b(std::move(a));
    REQUIRE(b.next(p));
    CHECK(p.frame == 2);
    CHECK_FALSE(b.next(p));
}

TEST_CASE("pcap_source: link type names") {
    CHECK(capgap::link_type_name(1) == "EN10MB");
    CHECK(capgap::link_type_name(113) == "LINUX_SLL");
    CHECK(capgap::link_type_name(276) == "LINUX_SLL2");
    CHECK(capgap::link_type_name(0) == "NULL");
    CHECK(capgap::link_type_name(65000) == "DLT_65000");
}

TEST_CASE("pcap_source: shared captures match their manifest") {
    const auto dir = capgap::test::shared_captures();
    if (!dir) return;
    const std::string& root = *dir;
    for (const auto& row : read_manifest(root + "/MANIFEST.tsv")) {
        const std::string& name = row.at("file");
        CAPTURE(name);
        PcapSource src({root + "/" + name});
        const auto seen = read_all(src);
        CHECK(seen.size() == std::stoull(row.at("packets")));
        CHECK(src.stats().problems.empty());
        for (std::size_t i = 1; i < seen.size(); ++i)
            CHECK(seen[i].frame == i + 1);
    }
}

TEST_CASE("pcap_source: shared malformed captures") {
    const auto dir = capgap::test::shared_captures("malformed");
    if (!dir) return;
    const std::string& root = *dir;
    struct Expect {
        const char* file;
        int packets;  // -1: format_error on open
        bool problem;
    };
    const Expect cases[] = {
        {"icspcap__DNP3-Read.pcap", -1, false},
        {"libpcap__pcap-invalid-version-1.pcap", -1, false},
        {"libpcap__pcapng-invalid-vers-1.pcapng", -1, false},
        {"libpcap__shb-option-too-long.pcapng", -1, false},
        {"markofu__http-fault-post.pcap", 25, true},
        {"pcapplusplus__fuzz-clusterfuzz-testcase-FuzzTarget-5188876846235648.pcap", 1, true},
        {"pcapplusplus__fuzz-clusterfuzz-testcase-minimized-FuzzTarget-5643903448645632.pcap", 1,
         true},
        {"pcapplusplus__fuzz-crash-pcapng-epb-unbounded-length.pcapng", 0, true},
        {"suricata__bug-1450-04_tls_DER-incomplete-header.pcap", 6, true},
        {"tcpdump__dsa.pcap", 8, false},
        {"tcpdump__juniper_es_oobr.pcap", 1, false},
    };
    for (const Expect& e : cases) {
        CAPTURE(e.file);
        const std::string path = root + "/" + e.file;
        if (!fs::exists(path)) continue;
        if (e.packets < 0) {
            CHECK_THROWS_AS(PcapSource({path}), capgap::format_error);
            continue;
        }
        PcapSource src({path});
        CHECK(read_all(src).size() == static_cast<std::size_t>(e.packets));
        CHECK(src.stats().problems.size() == (e.problem ? 1u : 0u));
    }
}

// ---- compressed captures, standard input, pipes and streams ----

namespace {

// gzip through zlib (window bits 16 + 15: a gzip header and trailer).
Bytes gzip(const Bytes& in) {
    z_stream z{};
    REQUIRE(deflateInit2(&z, 6, Z_DEFLATED, 16 + 15, 8, Z_DEFAULT_STRATEGY) == Z_OK);
    Bytes out(deflateBound(&z, static_cast<uLong>(in.size())));
    z.next_in = const_cast<Bytef*>(in.data());
    z.avail_in = static_cast<uInt>(in.size());
    z.next_out = out.data();
    z.avail_out = static_cast<uInt>(out.size());
    REQUIRE(deflate(&z, Z_FINISH) == Z_STREAM_END);
    out.resize(z.total_out);
    deflateEnd(&z);
    return out;
}

Bytes zstd(const Bytes& in) {
    Bytes out(ZSTD_compressBound(in.size()));
    const std::size_t n = ZSTD_compress(out.data(), out.size(), in.data(), in.size(), 3);
    REQUIRE_FALSE(ZSTD_isError(n));
    out.resize(n);
    return out;
}

Bytes lz4(const Bytes& in) {
    Bytes out(LZ4F_compressFrameBound(in.size(), nullptr));
    const std::size_t n = LZ4F_compressFrame(out.data(), out.size(), in.data(), in.size(), nullptr);
    REQUIRE_FALSE(LZ4F_isError(n));
    out.resize(n);
    return out;
}

using Compress = Bytes (*)(const Bytes&);
struct Codec {
    const char* name;
    Compress compress;
};
const Codec codecs[] = {{"gzip", gzip}, {"zstd", zstd}, {"lz4", lz4}};

// About 3 MB of records of varied sizes: more than the block reader's 1 MB buffer and the
// decompressors' input buffers, so both refill many times.
Bytes big_capture(std::size_t packets = 2500) {
    std::vector<Rec> recs;
    for (std::size_t i = 0; i < packets; ++i) {
        recs.push_back({static_cast<std::int64_t>(i) * 1000 + sec,
                        tcp_frame(1000 + static_cast<unsigned>(i % 50), 80, (i * 37) % 1400)});
    }
    return pcap_bytes(1, recs, true);
}

void save(const std::string& path, const Bytes& b) {
    Writer w;
    w.out = b;
    w.save(path);
}

// A stream over bytes in memory, `chunk` bytes per read at most.
capgap::CaptureInput memory_stream(const std::string& name, Bytes bytes, std::size_t chunk) {
    auto data = std::make_shared<Bytes>(std::move(bytes));
    auto at = std::make_shared<std::size_t>(0);
    return capgap::CaptureInput::stream(name, [data, at, chunk](std::uint8_t* buf, std::size_t n) {
        const std::size_t k = std::min({n, chunk, data->size() - *at});
        std::memcpy(buf, data->data() + *at, k);
        *at += k;
        return k;
    });
}

// Checks that `got` is the first got.size() packets of `all`.
void check_prefix(const std::vector<Seen>& got, const std::vector<Seen>& all) {
    REQUIRE(got.size() <= all.size());
    for (std::size_t i = 0; i < got.size(); ++i) {
        CHECK(got[i].ns == all[i].ns);
        CHECK(got[i].caplen == all[i].caplen);
        CHECK(got[i].frame == all[i].frame);
    }
}

struct StreamFailure : std::runtime_error {
    using std::runtime_error::runtime_error;
};

}  // namespace

TEST_CASE("pcap_source: gzip, zstd and lz4 captures give the plain file's packets") {
    TempDir dir;
    const Bytes plain = big_capture();
    const std::string plain_path = dir.file("plain.pcap");
    save(plain_path, plain);
    PcapSource ref({plain_path});
    const auto want = read_all(ref);
    REQUIRE(want.size() == 2500);
    const Bytes half1(plain.begin(), plain.begin() + static_cast<std::ptrdiff_t>(plain.size() / 2));
    const Bytes half2(plain.begin() + static_cast<std::ptrdiff_t>(plain.size() / 2), plain.end());
    for (const Codec& c : codecs) {
        CAPTURE(c.name);
        const Bytes packed = c.compress(plain);
        const std::string path = dir.file(std::string("cap.") + c.name);
        save(path, packed);
        PcapSource file({path});
        CHECK(read_all(file) == want);
        CHECK(file.stats().problems.empty());
        CHECK(file.stats().bytes_read == ref.stats().bytes_read);
        // Decompressed on a thread of its own (an analysis with threads does so).
        PcapSource ahead({path});
        capgap::detail::read_ahead(ahead);
        CHECK(read_all(ahead) == want);
        CHECK(ahead.stats().problems.empty());
        CHECK(ahead.stats().bytes_read == ref.stats().bytes_read);

        // Two compressed files merged by time (here the same capture twice): read ahead, each
        // starts its thread when the merge first reads on from it.
        PcapSource pair_plain({path, path});
        PcapSource pair_ahead({path, path});
        capgap::detail::read_ahead(pair_ahead);
        const auto pair = read_all(pair_ahead);
        CHECK(pair.size() == 2 * want.size());
        CHECK(pair == read_all(pair_plain));

        // Two members / frames back to back (gzip a b, pigz, zstd and lz4 of two parts).
        Bytes two = c.compress(half1);
        const Bytes second = c.compress(half2);
        two.insert(two.end(), second.begin(), second.end());
        PcapSource joined({memory_stream("joined", two, 1 << 20)});
        CHECK(read_all(joined) == want);
        CHECK(joined.stats().problems.empty());

        // A stream that gives a few bytes at a time.
        PcapSource trickle({memory_stream("trickle", packed, 7)});
        CHECK(read_all(trickle) == want);
        CHECK(trickle.stats().problems.empty());
    }
    // The plain capture as a stream, read by the block reader through the Stream.
    PcapSource plain_stream({memory_stream("plain", plain, 4093)});
    CHECK(read_all(plain_stream) == want);
}

TEST_CASE("pcap_source: cut or corrupt compressed data keeps the packets before it") {
    TempDir dir;
    const Bytes plain = big_capture(600);
    const std::string plain_path = dir.file("plain.pcap");
    save(plain_path, plain);
    PcapSource ref({plain_path});
    const auto want = read_all(ref);
    for (const Codec& c : codecs) {
        CAPTURE(c.name);
        const Bytes packed = c.compress(plain);
        for (const std::size_t keep :
             {packed.size() / 3, packed.size() * 2 / 3, packed.size() - 1}) {
            CAPTURE(keep);
            const std::string path = dir.file(std::string("cut.") + c.name);
            save(path, Bytes(packed.begin(), packed.begin() + static_cast<std::ptrdiff_t>(keep)));
            for (const bool ahead : {false, true}) {
                CAPTURE(ahead);
                PcapSource src({path});
                if (ahead) capgap::detail::read_ahead(src);
                std::vector<Seen> got;
                REQUIRE_NOTHROW(got = read_all(src));
                check_prefix(got, want);
                CHECK(got.size() < want.size() + (keep == packed.size() - 1 ? 1 : 0));
                REQUIRE(src.stats().problems.size() == 1);
                const capgap::InputProblem& p = src.stats().problems[0];
                CHECK(p.source == path);
                CHECK(p.position == "record " + std::to_string(got.size() + 1));
                CHECK(p.reason.find(std::string(c.name) + " data cut short after " +
                                    std::to_string(keep) + " compressed bytes") == 0);
                CHECK(p.reason.find("(capture offset ") != std::string::npos);
            }
        }
    }
    SUBCASE("a wrong gzip checksum: every packet, then the problem") {
        Bytes packed = gzip(plain);
        packed[packed.size() - 8] ^= 0xff;  // the trailer's CRC-32
        const std::string path = dir.file("crc.gz");
        save(path, packed);
        for (const bool ahead : {false, true}) {
            CAPTURE(ahead);
            PcapSource src({path});
            if (ahead) capgap::detail::read_ahead(src);
            CHECK(read_all(src) == want);
            REQUIRE(src.stats().problems.size() == 1);
            CHECK(src.stats().problems[0].reason.find("gzip data corrupt at compressed byte") == 0);
            CHECK(src.stats().problems[0].reason.find("incorrect data check") != std::string::npos);
        }
    }
    SUBCASE("data after the gzip stream") {
        Bytes packed = gzip(plain);
        packed.push_back(0);
        packed.push_back(0);
        const std::string path = dir.file("tail.gz");
        save(path, packed);
        PcapSource src({path});
        CHECK(read_all(src) == want);
        REQUIRE(src.stats().problems.size() == 1);
        CHECK(src.stats().problems[0].reason.find("data after the end of the gzip stream") !=
              std::string::npos);
    }
    SUBCASE("compressed data that is not a capture") {
        const std::string path = dir.file("text.gz");
        save(path, gzip(Bytes(100, 'x')));
        CHECK_THROWS_AS(PcapSource({path}), capgap::format_error);
        save(path, Bytes{0x1f, 0x8b, 0x08, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
        CHECK_THROWS_AS(PcapSource({path}), capgap::format_error);
    }
}

TEST_CASE("pcap_source: standard input and pipes") {
    const Bytes plain = big_capture(300);
    TempDir dir;
    const std::string plain_path = dir.file("plain.pcap");
    save(plain_path, plain);
    PcapSource ref({plain_path});
    const auto want = read_all(ref);
    for (const bool compressed : {false, true}) {
        CAPTURE(compressed);
        const Bytes bytes = compressed ? gzip(plain) : plain;
        int fds[2];
        REQUIRE(::pipe(fds) == 0);
        std::thread writer([&] {
            std::size_t at = 0;
            while (at < bytes.size()) {
                const ssize_t n = ::write(fds[1], bytes.data() + at, bytes.size() - at);
                if (n <= 0) break;
                at += static_cast<std::size_t>(n);
            }
            ::close(fds[1]);
        });
        SUBCASE("-: standard input") {
            const int saved = ::dup(STDIN_FILENO);
            ::dup2(fds[0], STDIN_FILENO);
            ::close(fds[0]);
            {
                PcapSource src({"-", plain_path});  // merged with a file by time
                const auto seen = read_all(src);
                CHECK(seen.size() == 2 * want.size());
                CHECK(src.stats().problems.empty());
                CHECK(src.stats().files == 2);
            }
            writer.join();
            ::dup2(saved, STDIN_FILENO);
            ::close(saved);
        }
        SUBCASE("a pipe by name") {
            const std::string name = "/dev/fd/" + std::to_string(fds[0]);
            {
                PcapSource src({name});
                CHECK(read_all(src) == want);
                CHECK(src.stats().problems.empty());
            }
            writer.join();
            ::close(fds[0]);
        }
    }
    CHECK_THROWS_AS(PcapSource({"-", "-"}), capgap::io_error);
}

TEST_CASE("pcap_source: a truncated capture on standard input names stdin") {
    const Bytes plain = big_capture(10);
    PcapSource src({memory_stream("stdin", Bytes(plain.begin(), plain.end() - 5), 1 << 20)});
    CHECK(read_all(src).size() == 9);
    REQUIRE(src.stats().problems.size() == 1);
    CHECK(src.stats().problems[0].source == "stdin");
    CHECK(src.stats().problems[0].reason.find("truncated dump file") == 0);
    CHECK(capgap::CaptureInput("-").name() == "stdin");
}

TEST_CASE("pcap_source: multi-interface pcapng read from a stream") {
    Pcapng ng;
    ng.iface({1})
        .iface({0, 65535, 9})
        .iface({101, 65535, 0x80 | 30})
        .packet({0, 1000000, tcp_frame(1, 80)})
        .packet({1, 2000000001, null_frame(2, 80)})
        .packet({2, (std::uint64_t{3} << 30) + (std::uint64_t{1} << 29), raw_frame(3, 80)})
        .packet({0, 4000000, tcp_frame(4, 22)});
    for (const bool compressed : {false, true}) {
        CAPTURE(compressed);
        const Bytes bytes = compressed ? zstd(ng.bytes()) : ng.bytes();
        PcapSource src({memory_stream("ng", bytes, 13)});
        const auto seen = read_all(src);
        REQUIRE(seen.size() == 4);
        CHECK(seen[0].link == 1);
        CHECK(seen[0].ns == 1 * sec);
        CHECK(seen[1].link == 0);
        CHECK(seen[1].ns == 2 * sec + 1);
        CHECK(seen[2].link == 12);
        CHECK(seen[2].ns == 3 * sec + sec / 2);
        CHECK(seen[3].link == 1);
        CHECK(src.stats().problems.empty());
        PcapSource f({memory_stream("ng", bytes, 13)}, "tcp dst port 80");
        const auto fs = read_all(f);
        REQUIRE(fs.size() == 4);
        CHECK(f.stats().filtered_out == 1);
        CHECK_FALSE(fs[3].passed);
    }
    SUBCASE("one interface: libpcap reads the stream") {
        Pcapng one;
        one.iface({1}).packet({0, 5, tcp_frame(1, 80)}).packet({0, 6, tcp_frame(2, 80)});
        PcapSource src({memory_stream("one", one.bytes(), 5)});
        const auto seen = read_all(src);
        REQUIRE(seen.size() == 2);
        CHECK(seen[1].ns == 6000);
        CHECK(src.stats().problems.empty());
    }
    SUBCASE("an interface of another type after packets: the packets before, and the problem") {
        Pcapng late;
        late.iface({1})
            .packet({0, 1, tcp_frame(1, 80)})
            .packet({0, 2, tcp_frame(2, 80)})
            .iface({0})
            .packet({1, 3, null_frame(3, 80)});
        PcapSource src({memory_stream("late", late.bytes(), 1 << 20)});
        CHECK(read_all(src).size() == 2);
        REQUIRE(src.stats().problems.size() == 1);
        CHECK(src.stats().problems[0].reason.find("cannot be read from a stream") !=
              std::string::npos);
    }
}

TEST_CASE("pcap_source: an exception of a stream's read function reaches the caller") {
    const Bytes packed = gzip(big_capture(2000));
    auto failing = [](std::size_t after) {
        auto at = std::make_shared<std::size_t>(0);
        return [at, after](std::uint8_t* buf, std::size_t n) -> std::size_t {
            if (*at >= after) throw StreamFailure("the network went away");
            const std::size_t k = std::min(n, after - *at);
            std::memset(buf, 0, k);
            *at += k;
            return k;
        };
    };
    // At open: the first bytes cannot be read.
    CHECK_THROWS_AS(PcapSource({capgap::CaptureInput::stream("s", failing(0))}), StreamFailure);
    // Part way: through libpcap's header read, and through the block reader.
    auto part = std::make_shared<std::size_t>(0);
    const std::size_t limit = packed.size() / 2;
    const auto read = [&packed, part, limit](std::uint8_t* buf, std::size_t n) -> std::size_t {
        if (*part >= limit) throw StreamFailure("the network went away");
        const std::size_t k = std::min(n, limit - *part);
        std::memcpy(buf, packed.data() + *part, k);
        *part += k;
        return k;
    };
    PcapSource src({capgap::CaptureInput::stream("s", read)});
    RawPacket p;
    std::size_t n = 0;
    CHECK_THROWS_WITH_AS(
        [&] {
            while (src.next(p))
                ++n;
        }(),
        "the network went away", StreamFailure);
    CHECK(n > 0);
}
