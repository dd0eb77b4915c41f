// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// The report's bytes (report_bytes.hpp, docs/state-format.md "Report"): every field of a
// report, analysed from the test captures, merged from several, chained from pieces or read
// from CSV, comes back exactly; damaged or truncated bytes give format_error naming the bytes
// and an offset, never a crash.
#include <doctest/doctest.h>

#include <capgap/analyze.hpp>
#include <capgap/analyze_csv.hpp>
#include <capgap/errors.hpp>
#include <capgap/flow_state.hpp>
#include <capgap/report.hpp>
#include <capgap/report_bytes.hpp>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "pipeline/state_format.hpp"
#include "report/report_format.hpp"
#include "support/temp_dir.hpp"

using namespace capgap;

namespace {

const std::string real = std::string(CAPGAP_TEST_DATA) + "/real/";
const std::string csv = std::string(CAPGAP_TEST_DATA) + "/csv/";

// Bit for bit: a double read back must be the same number, not a near one.
bool same_bits(double a, double b) {
    return std::memcmp(&a, &b, sizeof a) == 0;
}

void check_same(const Report& a, const Report& b) {
    const Summary &s = a.summary, &t = b.summary;
    CHECK(s.mode == t.mode);
    CHECK(s.join == t.join);
    CHECK(s.total_sessions == t.total_sessions);
    CHECK(s.bad_sessions == t.bad_sessions);
    CHECK(s.bad_confirmed == t.bad_confirmed);
    CHECK(s.bad_wireshark == t.bad_wireshark);
    CHECK(s.bad_data_missing == t.bad_data_missing);
    CHECK(s.bad_control_only == t.bad_control_only);
    CHECK(s.wireshark_only == t.wireshark_only);
    CHECK(s.confirmed_only == t.confirmed_only);
    CHECK(s.syn_only == t.syn_only);
    CHECK(s.one_sided == t.one_sided);
    CHECK(s.partial == t.partial);
    CHECK(s.synack_only == t.synack_only);
    CHECK(s.before_window == t.before_window);
    CHECK(s.after_window == t.after_window);
    CHECK(s.filtered_out == t.filtered_out);
    CHECK(s.evicted == t.evicted);
    CHECK(s.unmatched_events == t.unmatched_events);
    CHECK(same_bits(s.percentage, t.percentage));
    CHECK(same_bits(s.ci95_low, t.ci95_low));
    CHECK(same_bits(s.ci95_high, t.ci95_high));

    REQUIRE(a.sessions.size() == b.sessions.size());
    for (std::size_t i = 0; i < a.sessions.size(); ++i) {
        const SessionRow &x = a.sessions[i], &y = b.sessions[i];
        CAPTURE(i);
        CHECK(x.session == y.session);
        CHECK(x.bad == y.bad);
        CHECK(x.bad_wireshark == y.bad_wireshark);
        CHECK(x.events == y.events);
        CHECK(x.missing_bytes == y.missing_bytes);
        CHECK(x.data_missing == y.data_missing);
        CHECK(x.source == y.source);
    }
    CHECK(a.events == b.events);
    REQUIRE(a.tallies.size() == b.tallies.size());
    for (std::size_t i = 0; i < a.tallies.size(); ++i) {
        CHECK(a.tallies[i].kind == b.tallies[i].kind);
        CHECK(a.tallies[i].direction == b.tallies[i].direction);
        CHECK(a.tallies[i].count == b.tallies[i].count);
        CHECK(a.tallies[i].missing_bytes == b.tallies[i].missing_bytes);
        CHECK(a.tallies[i].late_filled == b.tallies[i].late_filled);
    }

    const IngestStats &g = a.ingest, &h = b.ingest;
    for (const IngestCounter& c : ingest_counters) {
        CAPTURE(c.name);
        CHECK(g.*c.member == h.*c.member);
    }
    CHECK(g.unsupported_link_types == h.unsupported_link_types);
    CHECK(g.unsupported_encapsulations == h.unsupported_encapsulations);
    CHECK(g.tunnels == h.tunnels);
    CHECK(g.csv_bad_lines == h.csv_bad_lines);
    REQUIRE(g.problems.size() == h.problems.size());
    for (std::size_t i = 0; i < g.problems.size(); ++i) {
        CHECK(g.problems[i].source == h.problems[i].source);
        CHECK(g.problems[i].position == h.problems[i].position);
        CHECK(g.problems[i].reason == h.problems[i].reason);
    }
    CHECK(g.have_time == h.have_time);
    CHECK(g.first_time == h.first_time);
    CHECK(g.last_time == h.last_time);

    CHECK(a.sources == b.sources);
    CHECK(a.timeline == b.timeline);
    CHECK(a.diagnosis_options == b.diagnosis_options);
    CHECK(a.parts == b.parts);
    // And what users see of it.
    CHECK(a.to_text() == b.to_text());
    CHECK(a.to_json() == b.to_json());
}

void round_trip(const Report& r) {
    const std::string bytes = to_bytes(r);
    const Report back = report_from_bytes(bytes, "r");
    check_same(r, back);
    CHECK(to_bytes(back) == bytes);  // one report, one string of bytes
}

Endpoint ep(std::uint8_t last, std::uint16_t port, bool v6 = false) {
    Endpoint e;
    e.addr.v6 = v6;
    e.addr.bytes[0] = v6 ? 0x20 : 10;
    e.addr.bytes[v6 ? 15 : 3] = last;
    e.port = port;
    return e;
}

// Every field set, each to a value of its own, none at its default: a field the format forgot
// would come back at its default and differ.
Report every_field() {
    Report r;
    Summary& s = r.summary;
    s.mode = Mode::wireshark;
    s.join = Join::socket;
    std::uint64_t v = 1;
    for (std::uint64_t* f :
         {&s.total_sessions, &s.bad_sessions, &s.bad_confirmed, &s.bad_wireshark,
          &s.bad_data_missing, &s.bad_control_only, &s.wireshark_only, &s.confirmed_only,
          &s.syn_only, &s.one_sided, &s.partial, &s.synack_only, &s.before_window, &s.after_window,
          &s.filtered_out, &s.evicted, &s.unmatched_events})
        *f = 1000 + v++;
    s.percentage = 1.0 / 3.0;
    s.ci95_low = 0.1;
    s.ci95_high = 99.9;

    SessionRow row;
    Session& x = row.session;
    x.id = 7;
    x.client = ep(2, 40000, true);
    x.server = ep(1, 443, true);
    x.category = SessionCategory::one_sided;
    x.syn_frame = 11;
    x.syn_time = Timestamp{12};
    x.first_frame = 13;
    x.first_time = Timestamp{-14};
    x.last_time = Timestamp{15};
    x.packets = 16;
    x.packets_c2s = 17;
    x.bytes_c2s = 18;
    x.bytes_s2c = 19;
    x.truncated_bytes = 20;
    x.syn_count = 21;
    x.evicted = true;
    x.tunnel = 2;
    x.vlan = 23;
    x.interface = 24;
    x.retransmissions = 25;
    x.duplicates = 26;
    row.bad = true;
    row.bad_wireshark = true;
    row.events = 27;
    row.missing_bytes = 28;
    row.data_missing = true;
    row.source = 1;
    r.sessions = {row, SessionRow{}};

    LossEvent e;
    e.session_id = 7;
    e.direction = Direction::s2c;
    e.kind = EventKind::ws_ack_lost_segment;
    e.late_filled = true;
    e.frame = 31;
    e.time = Timestamp{32};
    e.seq_begin = 33;
    e.seq_end = 340;
    e.missing_bytes = 35;
    e.src = ep(3, 36);
    e.dst = ep(4, 37);
    r.events = {e, LossEvent{}};
    r.tallies = {{EventKind::reordered, Direction::s2c, 41, 42, 43}, EventTally{}};

    IngestStats& g = r.ingest;
    for (const IngestCounter& c : ingest_counters)
        g.*c.member = 5000 + v++;
    g.unsupported_link_types = {{"DLT_147", 51}, {"DLT_148", 52}};
    g.unsupported_encapsulations = {{"GRE protocol 0x883e", 53}};
    g.tunnels = {"VXLAN 10.0.0.1 <-> 10.0.0.2 VNI 42", "GRE 10.0.0.3 <-> 10.0.0.4"};
    g.csv_bad_lines = {3, 5, 2, 4};
    g.problems = {{"a.pcap", "offset 1234", "truncated record"}, {"b.pcap", "", "cut"}};
    g.have_time = true;
    g.first_time = Timestamp{-61};
    g.last_time = Timestamp{62};

    r.sources = {"a.pcap, b.pcap", "c.pcapng", ""};
    r.timeline.base_ns = Timeline::first_base_ns * 10;
    r.timeline.origin_ns = 1'700'000'000'000'000'000;
    TimelineCounts b;
    b.packets = 71;
    b.bytes = 72;
    b.segments = 73;
    b.data_segments = 74;
    b.acks = 75;
    b.acks_above_hole = 76;
    b.retransmissions = 77;
    b.duplicates = 78;
    r.timeline.buckets = {b, TimelineCounts{}, b};
    r.timeline.peak_bytes_1ms = 79;
    r.timeline.peak_bytes_10ms = 80;
    r.diagnosis_options.top = 81;
    r.diagnosis_options.bucket_ns = 82;
    r.diagnosis_options.prefix_v4 = 20;
    r.diagnosis_options.prefix_v6 = 48;
    r.parts = {{91, 92, 93, 94, 95, 96, 97, 98, 99}, ReportPart{}};
    return r;
}

}  // namespace

TEST_CASE("report bytes: a report with every field set comes back whole") {
    const Report r = every_field();
    round_trip(r);
    // The hand-made report's values are all there: the comparison above is not of defaults.
    const Report back = report_from_bytes(to_bytes(r));
    CHECK(back.sessions.at(0).session.interface == 24);
    CHECK(back.ingest.problems.at(0).position == "offset 1234");
    CHECK(back.parts.at(0).tunnels == 99);
    CHECK(back.summary.join == Join::socket);
    round_trip(Report{});
}

TEST_CASE("report bytes: reports analysed, merged, chained and read from CSV come back whole") {
    Options opt;
    const Report mixed = analyze({real + "lo_mixed.pcap"}, opt);
    const Report v6 = analyze({real + "lo_v6_nsec.pcap"}, opt);
    REQUIRE(mixed.sessions.size() > 0);
    REQUIRE(!mixed.events.empty());
    REQUIRE(!mixed.timeline.empty());
    round_trip(mixed);
    round_trip(v6);
    // Merged from several parts: a chain of two pieces, and the two captures.
    const PieceResult p0 = analyze_piece({real + "lo_mixed.pcap"}, opt, nullptr);
    const PieceResult p1 =
        analyze_piece({real + "lo_v6_nsec.pcap"}, opt, &p0.state, PieceEnd::finish);
    REQUIRE(!p0.report.parts.empty());
    round_trip(p0.report);
    round_trip(p1.report);
    const Report merged = merge_reports({mixed, p0.report, p1.report, v6});
    REQUIRE(merged.parts.size() >= 2);
    REQUIRE(merged.sources.size() >= 3);
    round_trip(merged);
    // A capture cut short: a problem in the ingest.
    capgap::test::TempDir dir;
    std::ifstream in(real + "lo_mixed.pcap", std::ios::binary);
    const std::string whole((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const std::string cut = dir.file("cut.pcap");
    std::ofstream(cut, std::ios::binary) << whole.substr(0, whole.size() - 7);
    const Report truncated = analyze({cut}, opt);
    REQUIRE(!truncated.ingest.problems.empty());
    round_trip(truncated);
    // CSV: bad lines, and the socket join.
    MatchOptions match;
    const Report from_csv =
        analyze_wireshark_csv(csv + "sanitized_syn.csv", csv + "sanitized_lost.csv", match);
    REQUIRE(!from_csv.ingest.csv_bad_lines.empty());
    round_trip(from_csv);
    round_trip(socket_join(csv + "gui_old_syn.csv", csv + "gui_old_lost.csv", {}, {}));
}

TEST_CASE("report bytes: damaged bytes are refused with format_error, never a crash") {
    Report small = analyze({real + "lo_v6_nsec.pcap"}, Options{});
    small.ingest.problems = {{"x.pcap", "offset 9", "cut"}};
    const std::string good = to_bytes(small);
    REQUIRE(good.size() > detail::state_header_size);

    SUBCASE("every truncation") {
        for (std::size_t n = 0; n < good.size(); ++n)
            CHECK_THROWS_AS(report_from_bytes(good.substr(0, n), "r"), format_error);
    }
    SUBCASE("every flipped byte") {
        for (std::size_t i = 0; i < good.size(); ++i) {
            std::string bad = good;
            bad[i] = static_cast<char>(bad[i] ^ 0x01);
            CHECK_THROWS_AS(report_from_bytes(bad, "r"), format_error);
        }
    }
    SUBCASE("bytes appended") {
        CHECK_THROWS_AS(report_from_bytes(good + '\0', "r"), format_error);
    }
    SUBCASE("a flow state is not a report") {
        FlowState st = analyze_piece({real + "lo_mixed.pcap"}, Options{}, nullptr).state;
        try {
            (void)report_from_bytes(st.bytes(), "st");
            FAIL("a flow state was read as a report");
        } catch (const format_error& e) {
            CHECK(std::string(e.what()) == "st:offset 0: not a capgap report (no CAPGAPRP magic)");
        }
    }
    // The body changed and framed again with the right CRCs, so that the section reader (not
    // the checksum) meets the damage: refused at an offset, or a report that writes back the
    // same bytes.
    const detail::FrameFormat& frame = detail::report_frame;
    const std::string body = good.substr(detail::state_header_size);
    REQUIRE(detail::frame_bytes(frame, body) == good);
    SUBCASE("a body cut short but framed as whole: refused at an offset") {
        for (std::size_t n = 0; n < body.size(); ++n) {
            try {
                (void)report_from_bytes(detail::frame_bytes(frame, body.substr(0, n)), "cut");
                FAIL("a body of " << n << " bytes was taken");
            } catch (const format_error& e) {
                CHECK(std::string(e.what()).rfind("cut:offset ", 0) == 0);
            }
        }
    }
    SUBCASE("a body with a changed byte, framed again: refused or the same bytes back") {
        for (std::size_t i = 0; i < body.size(); ++i) {
            for (const char c : {'\xff', '\x02'}) {
                std::string b = body;
                b[i] = c;
                const std::string framed = detail::frame_bytes(frame, b);
                try {
                    const Report r = report_from_bytes(framed, "x");
                    CHECK(to_bytes(r) == framed);
                } catch (const format_error& e) {
                    CHECK(std::string(e.what()).rfind("x:offset ", 0) == 0);
                }
            }
        }
    }
}
