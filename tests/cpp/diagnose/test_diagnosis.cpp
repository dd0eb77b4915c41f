// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// The diagnosis: the timeline accumulator, the gap-ACK ratio against a direct count, the
// tracker's retransmission and duplicate marks, VLAN and pcapng drop facts, the statistics
// (z test, knee, bucket) and each finding rule on synthetic inputs.

#include <doctest/doctest.h>

#include <capgap/analyze.hpp>
#include <capgap/diagnosis.hpp>
#include <capgap/errors.hpp>
#include <capgap/report.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "diagnose/accumulator.hpp"
#include "diagnose/diagnose.hpp"
#include "diagnose/rules.hpp"
#include "support/flow_builder.hpp"
#include "support/plain_packets.hpp"
#include "support/temp_dir.hpp"

using namespace capgap;
using capgap::test::Flow;

namespace {

Report analyze_segments(const std::vector<Segment>& segs, Options o = {}) {
    Analyzer a(o);
    for (const Segment& s : segs)
        a.feed_segment(s);
    return a.finish();
}

const Finding* find(const std::vector<Finding>& fs, FindingName n) {
    for (const Finding& f : fs)
        if (f.name == n) return &f;
    return nullptr;
}

double figure(const Finding& f, const std::string& name) {
    for (const auto& kv : f.figures)
        if (kv.first == name) return kv.second;
    FAIL("no figure " << name);
    return 0;
}

Severity worst_other(const std::vector<Finding>& fs, FindingName except) {
    Severity s = Severity::info;
    for (const Finding& f : fs)
        if (f.name != except && f.severity > s) s = f.severity;
    return s;
}

}  // namespace

TEST_CASE("timeline: buckets, coarsening and merging keep every count") {
    Timeline t;
    t.at(1'000'000'005).packets += 1;  // bucket 0 of 10 ms from 1.000 s
    t.at(1'015'000'000).packets += 2;  // bucket 1
    t.at(999'000'000).packets += 4;    // before the origin: bucket 0
    CHECK(t.base_ns == Timeline::first_base_ns);
    CHECK(t.origin_ns == 1'000'000'000);
    REQUIRE(t.buckets.size() == 2);
    CHECK(t.buckets[0].packets == 5);
    CHECK(t.buckets[1].packets == 2);

    // A time past max_buckets bases grows the base tenfold, adding buckets together.
    t.at(1'000'000'000 + static_cast<std::int64_t>(Timeline::max_buckets) * 10'000'000).packets +=
        8;
    CHECK(t.base_ns == 100'000'000);
    CHECK(t.buckets[0].packets == 7);
    CHECK(t.total().packets == 15);

    Timeline u;
    u.at(1'000'000'000).packets += 16;
    u.peak_bytes_1ms = 99;
    t.merge(u);
    CHECK(t.total().packets == 31);
    CHECK(t.buckets[0].packets == 23);
    CHECK(t.peak_bytes_1ms == 99);
}

TEST_CASE("timeline: the extreme times a file may carry stay in range") {
    detail::TimelineAccumulator acc;
    acc.packet(INT64_MIN, 60);
    acc.packet(0, 60);
    acc.packet(INT64_MAX, 60);
    acc.packet(INT64_MAX, 60);
    const Timeline t = acc.take();
    CHECK(t.total().packets == 4);
    CHECK(t.buckets.size() <= Timeline::max_buckets);
    Report r;
    r.timeline = t;
    r.ingest.have_time = true;
    r.ingest.first_time = Timestamp{INT64_MIN};
    r.ingest.last_time = Timestamp{INT64_MAX};
    const Diagnosis d = r.diagnosis();
    std::uint64_t packets = 0;
    for (const TimelineRow& row : d.timeline)
        packets += row.packets;
    CHECK(packets == 4);
    CHECK(d.timeline.size() <= Timeline::max_buckets);
}

TEST_CASE("timeline accumulator: packets, bytes and the 1 ms and 10 ms peaks") {
    detail::TimelineAccumulator acc;
    // 10 packets of 100 bytes in the 1 ms window [5.000, 5.001) s; 3 more in the next one;
    // 20 packets of 100 bytes spread one per 1 ms over [5.010, 5.030).
    for (int i = 0; i < 10; ++i)
        acc.packet(5'000'000'000 + i * 50'000, 100);
    for (int i = 0; i < 3; ++i)
        acc.packet(5'001'000'000 + i * 50'000, 100);
    for (int i = 0; i < 20; ++i)
        acc.packet(5'010'000'000 + i * 1'000'000, 100);
    const Timeline t = acc.take();
    CHECK(t.total().packets == 33);
    CHECK(t.total().bytes == 3300);
    CHECK(t.peak_bytes_1ms == 1000);
    CHECK(t.peak_bytes_10ms == 1300);  // [5.000, 5.010): 13 packets; later windows 10 each
}

TEST_CASE("gap-ACK ratio: ACKs above a hole over all ACKs, against a direct count") {
    // Three sessions; the server sends 10 segments of 100 bytes each; some never reach the
    // capture. The client ACKs every segment it receives (cumulatively, as TCP does).
    std::vector<Segment> segs;
    const std::vector<std::set<int>> dropped = {{2, 3}, {5}, {}};
    std::uint64_t want_acks = 0, want_above_hole = 0;
    for (std::size_t k = 0; k < dropped.size(); ++k) {
        Flow f(segs);
        f.client = capgap::test::endpoint(static_cast<std::uint8_t>(10 + k), 40000);
        f.t_ns += static_cast<std::int64_t>(k) * 1'000'000'000;
        f.handshake();
        for (int i = 0; i < 10; ++i) {
            const auto seq = static_cast<std::uint32_t>(1 + 100 * i);
            if (dropped[k].count(i) == 0) {
                f.s(seq, 100);
            } else {
                f.wait_ms(1);  // sent, not captured
            }
            f.c(1, 0, seq + 100);
        }
    }
    // Direct count over the segments as built: every ACK flag, and each ACK that is the first
    // to cover a byte the capture never saw (a run of drops counts once per ACK covering it).
    for (std::size_t k = 0; k < dropped.size(); ++k) {
        std::uint32_t covered = 0;  // segments covered by an ACK so far
        for (int i = 0; i < 10; ++i) {
            bool new_hole = false;
            for (int j = static_cast<int>(covered); j <= i; ++j)
                new_hole = new_hole || dropped[k].count(j) != 0;
            if (new_hole) ++want_above_hole;
            covered = static_cast<std::uint32_t>(i + 1);
        }
    }
    for (const Segment& s : segs)
        want_acks += s.has(tcp_flags::ack) ? 1 : 0;
    // Dropping 2 and 3: the ACK of 2 reveals [2], the ACK of 3 reveals [3]: two ACKs, as
    // Zeek counts them (one run, one event, but two ACKs above a hole).
    CHECK(want_above_hole == 3);

    const Report r = analyze_segments(segs);
    const Diagnosis d = r.diagnosis();
    std::uint64_t acks = 0, above = 0;
    for (const TimelineRow& row : d.timeline) {
        acks += row.acks;
        above += row.acks_above_hole;
        if (row.acks > 0)
            CHECK(row.gap_ack_ratio == doctest::Approx(static_cast<double>(row.acks_above_hole) /
                                                       static_cast<double>(row.acks)));
    }
    CHECK(acks == want_acks);
    CHECK(above == want_above_hole);
}

TEST_CASE("tracker marks: a resend of seen data is a retransmission, a fill is not") {
    std::vector<Segment> segs;
    Flow f(segs);
    f.handshake();
    f.c(1, 100);
    f.c(101, 100);
    f.s(1, 0, 201);
    f.c(101, 100).checksum = 7;  // sent again (another checksum: not a SPAN copy)
    f.c(301, 100);               // 201..300 never captured: a hole
    f.c(201, 100);               // fills the hole: not a retransmission
    Segment dup = f.c(401, 100);
    segs.push_back(dup);  // an exact copy: a duplicate
    f.s(1, 0, 501);

    const Report r = analyze_segments(segs);
    REQUIRE(r.sessions.size() == 1);
    CHECK(r.sessions[0].session.retransmissions == 1);
    CHECK(r.sessions[0].session.duplicates == 1);
    const TimelineCounts t = r.timeline.total();
    CHECK(t.retransmissions == 1);
    CHECK(t.duplicates == 1);
    CHECK(t.segments == segs.size());
    CHECK(t.data_segments == 7);

    Options off;
    off.timeline = false;
    const Report o = analyze_segments(segs, off);
    CHECK(o.timeline.empty());
    CHECK(o.sessions[0].session.retransmissions == 1);  // per session, with or without it
    CHECK(o.diagnosis().timeline.size() >= 1);          // rows from sessions and events only
    CHECK(o.diagnosis().load.points.empty());
}

TEST_CASE("VLAN: the outermost tag of the first packet names the session's VLAN") {
    using namespace capgap::test;
    using namespace capgap::test::plain;
    Analyzer a;
    Tcp syn;
    syn.flags = tcp_flags::syn;
    syn.payload = 0;
    const Bytes tagged = ether(0x0800, ipv4(tcp(syn)), {0x8100, 0x8100});
    a.feed_packet(tagged.data(), static_cast<std::uint32_t>(tagged.size()),
                  static_cast<std::uint32_t>(tagged.size()), 1, Timestamp{1'000'000'000});
    Tcp other = syn;
    other.sport = 40001;
    const Bytes plain = ether(0x0800, ipv4(tcp(other)));
    a.feed_packet(plain.data(), static_cast<std::uint32_t>(plain.size()),
                  static_cast<std::uint32_t>(plain.size()), 1, Timestamp{1'001'000'000});
    const Report r = a.finish();
    REQUIRE(r.sessions.size() == 2);
    CHECK(r.sessions[0].session.vlan == 100);
    CHECK(r.sessions[1].session.vlan == no_vlan);
    const Diagnosis d = r.diagnosis();
    const auto* vlans = d.breakdown("vlan");
    REQUIRE(vlans != nullptr);
    REQUIRE(vlans->size() == 2);
    std::set<std::string> groups{(*vlans)[0].group, (*vlans)[1].group};
    CHECK(groups == std::set<std::string>{"100", "untagged"});
}

TEST_CASE("pcapng: interface statistics and EPB drop counts are interface_drops") {
    using namespace capgap::test;
    using namespace capgap::test::plain;
    TempDir dir;
    Bytes f;
    auto u16 = [&](unsigned v) { put16_le(f, v); };
    auto u32 = [&](std::uint32_t v) { put32_le(f, v); };
    auto u64 = [&](std::uint64_t v) {
        u32(static_cast<std::uint32_t>(v));
        u32(static_cast<std::uint32_t>(v >> 32));
    };
    u32(0x0a0d0d0a), u32(28), u32(0x1a2b3c4d), u16(1), u16(0), u32(0xffffffff), u32(0xffffffff),
        u32(28);
    u32(1), u32(20), u16(1), u16(0), u32(65535), u32(20);  // Ethernet, microseconds
    Tcp syn;
    syn.flags = tcp_flags::syn;
    syn.payload = 0;
    const Bytes pkt = ether(0x0800, ipv4(tcp(syn)));
    const auto padded = static_cast<std::uint32_t>((pkt.size() + 3) & ~std::size_t{3});
    const std::uint32_t epb = 32 + padded + 12 + 4;  // with epb_dropcount (code 4) and the end
    u32(6), u32(epb), u32(0), u32(0), u32(1000000), u32(static_cast<std::uint32_t>(pkt.size())),
        u32(static_cast<std::uint32_t>(pkt.size()));
    f.insert(f.end(), pkt.begin(), pkt.end());
    while (f.size() % 4 != 0)
        f.push_back(0);
    u16(4), u16(8), u64(5), u16(0), u16(0), u32(epb);
    // Two statistics blocks: the counters are cumulative, the last one counts.
    for (const std::uint64_t base : {1ull, 7ull}) {
        const std::uint32_t isb = 12 + 12 + 12 + 4 + 12;
        u32(5), u32(isb), u32(0), u32(0), u32(2000000);
        u16(5), u16(8), u64(base);      // isb_ifdrop
        u16(7), u16(8), u64(base * 2);  // isb_osdrop
        u16(0), u16(0), u32(isb);
    }
    const std::string path = dir.file("drops.pcapng");
    std::ofstream(path, std::ios::binary)
        .write(reinterpret_cast<const char*>(f.data()), static_cast<std::streamsize>(f.size()));
    const Report r = analyze({path});
    CHECK(r.ingest.packets_read == 1);
    // The last statistics block counts (7 + 14); the EPB's 5 are among them, not added.
    CHECK(r.ingest.interface_drops == 7 + 14);
    const Diagnosis d = r.diagnosis();
    const Finding* x = find(d.findings, FindingName::capture_host_drops);
    REQUIRE(x != nullptr);
    CHECK(x->severity == Severity::critical);
    CHECK(figure(*x, "drops") == 21);
    CHECK(find(d.findings, FindingName::clean_capture) == nullptr);

    // The same bytes as a stream (read once from the front, a few bytes at a time): the
    // drops are counted as the bytes pass.
    std::size_t at = 0;
    const Report s = analyze({CaptureInput::stream("drops", [&](std::uint8_t* out, std::size_t n) {
        const std::size_t k = std::min<std::size_t>({n, 7, f.size() - at});
        std::copy(f.begin() + static_cast<std::ptrdiff_t>(at),
                  f.begin() + static_cast<std::ptrdiff_t>(at + k), out);
        at += k;
        return k;
    })});
    CHECK(s.ingest.packets_read == 1);
    CHECK(s.ingest.interface_drops == 21);
}

TEST_CASE("two-proportion z and the significance rule") {
    // p1 = 0.3, p2 = 0.1, pooled 0.2: z = 0.2 / sqrt(0.2 * 0.8 * 0.02).
    CHECK(detail::two_proportion_z(30, 100, 10, 100) ==
          doctest::Approx(0.2 / std::sqrt(0.2 * 0.8 * 0.02)));
    CHECK(detail::two_proportion_z(10, 100, 30, 100) < 0);
    CHECK(detail::two_proportion_z(0, 100, 0, 100) == 0);
    CHECK(detail::two_proportion_z(1, 0, 0, 10) == 0);
    double z = 0;
    CHECK(detail::significant(30, 100, 10, 100, z));        // z = 3.54
    CHECK_FALSE(detail::significant(25, 100, 15, 100, z));  // z = 1.77
    CHECK_FALSE(detail::significant(2, 19, 0, 1000, z));    // too few sessions and bad
    CHECK_FALSE(detail::significant(30, 100, 0, 0, z));     // no rest
}

TEST_CASE("knee: a step in loss against rate is found between the buckets") {
    std::vector<detail::LoadSample> s;
    for (int i = 1; i <= 10; ++i) {
        const double rate = i * 1e6;
        const double bytes = rate / 8;  // one second's bytes
        const std::uint64_t segs = 100 * static_cast<std::uint64_t>(i);
        const bool lossy = i >= 6;
        s.push_back({rate, bytes, lossy ? bytes * 0.05 : 0.0, segs, lossy ? segs / 20 : 0});
    }
    Load l;
    detail::fit_knee(s, l);
    REQUIRE(l.knee_bits_per_s);
    CHECK(*l.knee_bits_per_s == doctest::Approx(5.5e6));
    CHECK(l.knee_confidence == "high");
    CHECK(l.buckets_below == 5);
    CHECK(l.loss_below == 0);
    CHECK(l.loss_above == doctest::Approx(0.05 / 1.05));
    CHECK(l.points.size() == 10);

    // Loss proportional to the traffic everywhere: no rate is special.
    std::vector<detail::LoadSample> flat;
    for (int i = 1; i <= 10; ++i) {
        const std::uint64_t segs = 1000 * static_cast<std::uint64_t>(i);
        flat.push_back(
            {i * 1e6, i * 1e6 / 8, i * 1e6 / 8 * (i % 2 == 0 ? 0.011 : 0.009), segs, segs / 100});
    }
    Load f;
    detail::fit_knee(flat, f);
    CHECK(f.knee_confidence != "high");
    CHECK(f.knee_confidence != "medium");

    Load none;
    detail::fit_knee({{1e6, 100, 0, 10, 0}, {2e6, 200, 0, 20, 0}}, none);
    CHECK_FALSE(none.knee_bits_per_s);
    CHECK(none.knee_confidence == "none");
}

TEST_CASE("bucket width: parsed, chosen from the duration, a multiple of the base") {
    CHECK(parse_bucket("100ms") == 100'000'000);
    CHECK(parse_bucket("10s") == 10'000'000'000);
    CHECK(parse_bucket("1m") == 60'000'000'000);
    CHECK(parse_bucket("1h") == 3'600'000'000'000);
    CHECK_THROWS_AS(parse_bucket("1x"), parse_error);
    CHECK_THROWS_AS(parse_bucket("s"), parse_error);
    CHECK_THROWS_AS(parse_bucket("0s"), parse_error);
    const std::int64_t s = 1'000'000'000;
    CHECK(detail::choose_bucket(0, 5 * s, 10'000'000) == 100'000'000);  // 50 rows
    CHECK(detail::choose_bucket(0, 60 * s, 10'000'000) == s);           // 60 rows
    CHECK(detail::choose_bucket(0, 3600 * s, 10'000'000) == 60 * s);
    CHECK(detail::choose_bucket(0, 1 * s, s) == s);  // never below the base
    CHECK(detail::choose_bucket(150'000'000, 1 * s, 100'000'000) == 200'000'000);
}

// ---- the finding rules, one by one ----

namespace {

detail::Facts clean_facts() {
    detail::Facts f;
    f.sessions = f.two_way = 1000;
    f.packets_read = f.decoded = 100000;
    f.data_segments = 50000;
    return f;
}

}  // namespace

TEST_CASE("findings: a clean capture says so with its interval, and nothing else") {
    const auto fs = detail::find_causes(clean_facts());
    REQUIRE(fs.size() == 1);
    CHECK(fs[0].name == FindingName::clean_capture);
    CHECK(fs[0].severity == Severity::info);
    CHECK(figure(fs[0], "ci95_high") == doctest::Approx(wilson_interval(0, 1000).second));
    CHECK(fs[0].title.find("0 of 1000 sessions") != std::string::npos);
}

TEST_CASE("findings: loss that no rule explains is said, with its interval") {
    auto f = clean_facts();
    f.bad = f.two_way_bad = 30;  // 3% of 1000, no load, direction, group or drop pattern
    auto fs = detail::find_causes(f);
    REQUIRE(fs.size() == 1);
    CHECK(fs[0].name == FindingName::loss_unexplained);
    CHECK(fs[0].severity == Severity::warning);
    CHECK(figure(fs[0], "ci95_low") == doctest::Approx(wilson_interval(30, 1000).first));
    CHECK(figure(fs[0], "ci95_high") == doctest::Approx(wilson_interval(30, 1000).second));
    CHECK(fs[0].title.find("30 of 1000 sessions") != std::string::npos);
    // Under 1% of the sessions: still said, at info.
    f.bad = f.two_way_bad = 5;
    fs = detail::find_causes(f);
    REQUIRE(find(fs, FindingName::loss_unexplained) != nullptr);
    CHECK(find(fs, FindingName::loss_unexplained)->severity == Severity::info);
    // A finding above info explains the loss: no loss_unexplained beside it.
    f.bad = f.two_way_bad = 30;
    f.host_drops = 500;
    fs = detail::find_causes(f);
    CHECK(find(fs, FindingName::capture_host_drops) != nullptr);
    CHECK(find(fs, FindingName::loss_unexplained) == nullptr);
}

TEST_CASE("findings: capture-host drops, critical from 0.1% of the packets offered") {
    auto f = clean_facts();
    f.host_drops = 50;  // 0.05%
    auto fs = detail::find_causes(f);
    REQUIRE(find(fs, FindingName::capture_host_drops) != nullptr);
    CHECK(find(fs, FindingName::capture_host_drops)->severity == Severity::warning);
    CHECK(find(fs, FindingName::clean_capture) == nullptr);
    f.card_drops = 100;
    fs = detail::find_causes(f);
    CHECK(find(fs, FindingName::capture_host_drops)->severity == Severity::critical);
    CHECK(figure(*find(fs, FindingName::capture_host_drops), "drops") == 150);
}

TEST_CASE("findings: load-correlated loss needs a sure knee and a ratio") {
    auto f = clean_facts();
    f.bad = f.two_way_bad = 40;
    f.load.knee_bits_per_s = 5e8;
    f.load.knee_confidence = "high";
    f.load.loss_below = 0.0001;
    f.load.loss_above = 0.02;
    auto fs = detail::find_causes(f);
    REQUIRE(!fs.empty());
    CHECK(fs[0].name == FindingName::load_correlated_loss);
    CHECK(fs[0].severity == Severity::critical);
    CHECK(figure(fs[0], "knee_bits_per_s") == 5e8);
    CHECK(worst_other(fs, FindingName::load_correlated_loss) == Severity::info);
    f.load.loss_above = 0.004;
    CHECK(detail::find_causes(f)[0].severity == Severity::warning);
    f.load.knee_confidence = "low";
    CHECK(find(detail::find_causes(f), FindingName::load_correlated_loss) == nullptr);
    f.load.knee_confidence = "high";
    f.load.loss_below = 0.001;  // only 4x
    CHECK(find(detail::find_causes(f), FindingName::load_correlated_loss) == nullptr);
    // Loss concentrated on a group explains the load figure: kept at info.
    f.load.loss_below = 0.0001;
    BreakdownRow row;
    row.group = "10.0.0.9:80";
    row.bad = 36;
    row.significant = true;
    f.significant_rows.emplace_back("server", row);
    fs = detail::find_causes(f);
    CHECK(find(fs, FindingName::load_correlated_loss)->severity == Severity::info);
    CHECK(find(fs, FindingName::loss_concentrated)->severity == Severity::warning);
}

TEST_CASE("findings: one direction missing, with the servers that show it") {
    auto f = clean_facts();
    f.one_sided = 15;
    f.synack_only = 10;
    f.one_way_rows.push_back(FindingRow{"server", "10.0.0.9:443"});
    auto fs = detail::find_causes(f);
    const Finding* x = find(fs, FindingName::one_direction_missing);
    REQUIRE(x != nullptr);
    CHECK(x->severity == Severity::warning);
    CHECK(figure(*x, "one_way_sessions") == 25);
    REQUIRE(x->rows.size() == 1);
    CHECK(x->rows[0].group == "10.0.0.9:443");
    f.one_sided = 5;  // 15 of 1010: under 2%
    CHECK(find(detail::find_causes(f), FindingName::one_direction_missing) == nullptr);
    f.one_sided = 900;
    CHECK(find(detail::find_causes(f), FindingName::one_direction_missing)->severity ==
          Severity::critical);
}

TEST_CASE("findings: one direction lossier, by the z test and a 3x ratio") {
    auto f = clean_facts();
    f.bad = f.two_way_bad = 30;
    f.bad_in[1] = 30;
    f.bad_in[0] = 2;
    auto fs = detail::find_causes(f);
    const Finding* x = find(fs, FindingName::direction_lossier);
    REQUIRE(x != nullptr);
    CHECK(x->severity == Severity::warning);
    REQUIRE(x->rows.size() == 1);
    CHECK(x->rows[0].table == "direction");
    CHECK(x->rows[0].group == "s2c");
    f.bad_in[0] = 20;  // 1.5x
    CHECK(find(detail::find_causes(f), FindingName::direction_lossier) == nullptr);
}

TEST_CASE("findings: loss concentrated on significant rows, first table first") {
    auto f = clean_facts();
    f.bad = f.two_way_bad = 30;
    BreakdownRow row;
    row.group = "10.0.0.2:80";
    row.sessions = 100;
    row.bad = 28;
    row.percentage = 28;
    row.significant = true;
    row.z = 12;
    f.significant_rows.emplace_back("server", row);
    BreakdownRow port = row;
    port.group = "80";
    f.significant_rows.emplace_back("server_port", port);
    auto fs = detail::find_causes(f);
    const Finding* x = find(fs, FindingName::loss_concentrated);
    REQUIRE(x != nullptr);
    CHECK(x->severity == Severity::warning);
    REQUIRE(x->rows.size() == 2);
    CHECK(x->rows[0].table == "server");
    CHECK(x->rows[0].group == "10.0.0.2:80");
    CHECK(figure(*x, "bad_in_groups") == 28);

    // The same loss, all in one direction: the groups explain the lopsidedness.
    f.bad_in[1] = 30;
    fs = detail::find_causes(f);
    REQUIRE(find(fs, FindingName::direction_lossier) != nullptr);
    CHECK(find(fs, FindingName::direction_lossier)->severity == Severity::info);
    CHECK(worst_other(fs, FindingName::loss_concentrated) == Severity::info);
}

TEST_CASE("findings: duplicates, truncation, network loss") {
    auto f = clean_facts();
    f.duplicates = 5000;
    auto fs = detail::find_causes(f);
    REQUIRE(find(fs, FindingName::duplicates) != nullptr);
    CHECK(find(fs, FindingName::duplicates)->severity == Severity::warning);
    CHECK(find(fs, FindingName::clean_capture) != nullptr);  // duplicates are not loss
    f.duplicates = 500;                                      // 0.5%
    CHECK(find(detail::find_causes(f), FindingName::duplicates) == nullptr);

    f = clean_facts();
    f.truncated_packets = 10;
    f.truncated_sessions = 2;
    CHECK(find(detail::find_causes(f), FindingName::truncated_payload)->severity == Severity::info);
    f.truncated_sessions = 50;
    CHECK(find(detail::find_causes(f), FindingName::truncated_payload)->severity ==
          Severity::warning);

    f = clean_facts();
    f.retransmissions = 1000;  // 2% of data segments
    fs = detail::find_causes(f);
    const Finding* n = find(fs, FindingName::network_loss);
    REQUIRE(n != nullptr);
    CHECK(n->severity == Severity::warning);
    CHECK(n->title.find("the network loses, not your capture") != std::string::npos);
    f.bad = f.two_way_bad = 50;  // 5% capture loss: not a clean capture
    CHECK(find(detail::find_causes(f), FindingName::network_loss)->severity == Severity::info);
}

TEST_CASE("findings: out-of-order timestamps; late data keeps loss findings at info") {
    auto f = clean_facts();
    f.out_of_order = 500;
    f.largest_step_back_ns = 4'000'000;
    f.bad_wireshark = 40;
    f.wireshark_only = 30;
    f.bad = f.two_way_bad = 20;
    f.late_only_bad = 16;
    f.bad_in[0] = 20;
    auto fs = detail::find_causes(f);
    const Finding* x = find(fs, FindingName::timestamps_out_of_order);
    REQUIRE(x != nullptr);
    CHECK(x->severity == Severity::warning);
    CHECK(figure(*x, "explains_wireshark_share") == doctest::Approx(0.75));
    CHECK(figure(*x, "largest_step_back_ms") == doctest::Approx(4.0));
    const Finding* d = find(fs, FindingName::direction_lossier);
    REQUIRE(d != nullptr);
    CHECK(d->severity == Severity::info);
    CHECK(worst_other(fs, FindingName::timestamps_out_of_order) == Severity::info);
}

TEST_CASE("diagnose: a server losing far more than the rest is marked and found") {
    // 40 sessions to 10.0.0.2:80 of which 20 lose a segment; 200 to 10.0.0.3:80 with 2.
    std::vector<Segment> segs;
    auto session = [&](std::uint8_t server, int n, bool lose) {
        Flow f(segs);
        f.client = capgap::test::endpoint(static_cast<std::uint8_t>(n % 200 + 20),
                                          static_cast<std::uint16_t>(30000 + n));
        f.server = capgap::test::endpoint(server, 80);
        f.t_ns += static_cast<std::int64_t>(n) * 10'000'000;
        f.handshake();
        f.s(1, 100);
        if (lose) {
            f.wait_ms(1);
        } else {
            f.s(101, 100);
        }
        f.c(1, 0, 201);
    };
    int n = 0;
    for (int i = 0; i < 40; ++i)
        session(2, n++, i % 2 == 0);
    for (int i = 0; i < 200; ++i)
        session(3, n++, i % 100 == 0);
    Report r = analyze_segments(segs);
    r.diagnosis_options.top = 1;
    const Diagnosis d = r.diagnosis();
    const auto* servers = d.breakdown("server");
    REQUIRE(servers != nullptr);
    REQUIRE(servers->size() == 2);  // top 1, then the rest
    CHECK((*servers)[0].group == "10.0.0.2:80");
    CHECK((*servers)[0].sessions == 40);
    CHECK((*servers)[0].bad == 20);
    CHECK((*servers)[0].significant);
    CHECK((*servers)[1].group == "rest");
    CHECK((*servers)[1].sessions == 200);
    CHECK((*servers)[1].bad == 2);
    CHECK_FALSE((*servers)[1].significant);
    const auto* ports = d.breakdown("server_port");
    REQUIRE(ports != nullptr);
    CHECK((*ports)[0].group == "80");
    CHECK_FALSE((*ports)[0].significant);  // everything: no rest to compare with
    const auto* dirs = d.breakdown("direction");
    REQUIRE(dirs != nullptr);
    CHECK((*dirs)[0].group == "s2c");
    CHECK((*dirs)[0].bad == 22);

    const Finding* x = find(d.findings, FindingName::loss_concentrated);
    REQUIRE(x != nullptr);
    CHECK(x->severity == Severity::warning);
    REQUIRE(!x->rows.empty());
    CHECK(x->rows[0].table == "server");
    CHECK(x->rows[0].group == "10.0.0.2:80");
    CHECK(d.reconstructable.total == 240);
    CHECK(d.reconstructable.sessions == 218);
}

TEST_CASE("diagnose: rows out of id order find their events all the same") {
    // 30 sessions, every third losing a server segment; the rows are then reversed and
    // rotated (a report put together by hand), which must not change what is counted.
    std::vector<Segment> segs;
    for (int n = 0; n < 30; ++n) {
        Flow f(segs);
        f.client = capgap::test::endpoint(static_cast<std::uint8_t>(20 + n),
                                          static_cast<std::uint16_t>(30000 + n));
        f.server = capgap::test::endpoint(2, 80);
        f.t_ns += static_cast<std::int64_t>(n) * 10'000'000;
        f.handshake();
        f.s(1, 100);
        if (n % 3 != 0) f.s(101, 100);
        f.c(1, 0, 201);
    }
    Report r = analyze_segments(segs);
    REQUIRE(r.sessions.size() == 30);
    for (int order = 0; order < 2; ++order) {
        Report x = r;
        if (order == 0) {
            std::reverse(x.sessions.begin(), x.sessions.end());
        } else {
            std::rotate(x.sessions.begin(), x.sessions.begin() + 7, x.sessions.end());
        }
        CAPTURE(order);
        const Diagnosis d = x.diagnosis();
        const auto* dirs = d.breakdown("direction");
        REQUIRE(dirs != nullptr);
        CHECK((*dirs)[0].group == "s2c");
        CHECK((*dirs)[0].bad == 10);
        CHECK((*dirs)[1].bad == 0);
        CHECK(d.reconstructable.total == 30);
        CHECK(d.reconstructable.sessions == 20);
        const auto* servers = d.breakdown("server");
        REQUIRE(servers != nullptr);
        CHECK((*servers)[0].bad == 10);
    }
}

TEST_CASE("diagnose: on two threads, every table and the timeline as on one, as made") {
    // 70,000 counted sessions (enough for the second thread): server k % 700 on port 80 or
    // 443, client prefix (k / 7) % 300, VLAN k % 3, every 13th bad, every 5th one-sided.
    constexpr std::uint64_t n = 70'000;
    Report r;
    for (std::uint64_t k = 0; k < n; ++k) {
        SessionRow row;
        Session& s = row.session;
        s.id = k;
        s.category = k % 5 == 0 ? SessionCategory::one_sided : SessionCategory::complete;
        s.server = capgap::test::endpoint(static_cast<std::uint8_t>(k % 700 / 3),
                                          k % 700 % 3 == 0 ? 443 : 80);
        s.server.addr.bytes[2] = static_cast<std::uint8_t>(k % 700 % 3);  // 700 servers
        s.client = capgap::test::endpoint(1, 40000);
        s.client.addr.bytes[1] = static_cast<std::uint8_t>(k / 7 % 300 / 256);
        s.client.addr.bytes[2] = static_cast<std::uint8_t>(k / 7 % 300 % 256);
        s.vlan = static_cast<std::uint16_t>(k % 3);
        s.packets = 10;
        s.syn_frame = s.first_frame = k + 1;
        s.syn_time = s.first_time = Timestamp{static_cast<std::int64_t>(k) * 1'000'000};  // k ms
        row.bad = k % 13 == 0;
        row.events = row.bad ? 1 : 0;
        r.sessions.push_back(row);
    }
    r.summary.total_sessions = n;
    r.ingest.have_time = true;  // a timeline of the sessions' starts, 70 s
    r.ingest.first_time = Timestamp{0};
    r.ingest.last_time = Timestamp{static_cast<std::int64_t>(n) * 1'000'000};
    r.diagnosis_options.top = 1000;  // every group listed
    r.diagnosis_options.bucket_ns = 1'000'000'000;
    const Diagnosis one = detail::diagnose(r, r.diagnosis_options, 1);
    const Diagnosis two = detail::diagnose(r, r.diagnosis_options, 2);
    REQUIRE(one.breakdowns.size() == two.breakdowns.size());
    const std::size_t expected_groups[] = {700, 2, 300, 3, 1, 1};
    for (std::size_t t = 0; t < one.breakdowns.size(); ++t) {
        const auto& a = one.breakdowns[t].second;
        const auto& b = two.breakdowns[t].second;
        CAPTURE(one.breakdowns[t].first);
        REQUIRE(a.size() == b.size());
        std::uint64_t sessions = 0, bad = 0;
        for (std::size_t i = 0; i < a.size(); ++i) {
            CHECK(a[i].group == b[i].group);
            CHECK(a[i].sessions == b[i].sessions);
            CHECK(a[i].bad == b[i].bad);
            CHECK(a[i].significant == b[i].significant);
            CHECK(a[i].z == b[i].z);
            sessions += a[i].sessions;
            bad += a[i].bad;
        }
        if (t < std::size(expected_groups)) {
            CHECK(a.size() == expected_groups[t]);
            CHECK(sessions == n);
            CHECK(bad == (n + 12) / 13);
        }
    }
    // One group by hand: server 10.0.1.1:80 is k % 700 == 4, with k % 13 == 0 bad.
    std::uint64_t sessions = 0, bad = 0;
    for (std::uint64_t k = 4; k < n; k += 700) {
        ++sessions;
        if (k % 13 == 0) ++bad;
    }
    const auto* servers = two.breakdown("server");
    REQUIRE(servers != nullptr);
    const auto it = std::find_if(servers->begin(), servers->end(),
                                 [](const BreakdownRow& x) { return x.group == "10.0.1.1:80"; });
    REQUIRE(it != servers->end());
    CHECK(it->sessions == sessions);
    CHECK(it->bad == bad);
    // The timeline (made beside the first tables on two threads): a row per second, 1,000
    // sessions each, those with k % 13 == 0 bad.
    REQUIRE(one.timeline.size() == two.timeline.size());
    CHECK(one.timeline.size() == n / 1000 + 1);
    for (std::size_t i = 0; i < one.timeline.size(); ++i) {
        CAPTURE(i);
        std::uint64_t started = 0, bad_started = 0;
        for (std::uint64_t k = 1000 * i; k < std::min(n, 1000 * (i + 1)); ++k) {
            ++started;
            if (k % 13 == 0) ++bad_started;
        }
        CHECK(one.timeline[i].new_sessions == started);
        CHECK(two.timeline[i].new_sessions == started);
        CHECK(one.timeline[i].bad_sessions == bad_started);
        CHECK(two.timeline[i].bad_sessions == bad_started);
    }
    CHECK(one.bucket_ns == two.bucket_ns);
    CHECK(one.findings.size() == two.findings.size());
    CHECK(one.reconstructable.sessions == two.reconstructable.sessions);
}
