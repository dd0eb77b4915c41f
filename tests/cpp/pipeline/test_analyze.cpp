// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// Analyzer bookkeeping: counters, filter results, source stats and the fatal case. Verdicts
// belong to the tracker and matcher tests.
#include <doctest/doctest.h>

#include <capgap/analyze.hpp>
#include <capgap/errors.hpp>

#include <cstdint>
#include <vector>

using namespace capgap;

namespace {
// A link type no decoder knows (well inside the "reserved" range).
constexpr int unknown_link = 65000;
}  // namespace

TEST_CASE("an empty Analyzer reports no sessions") {
    Analyzer a;
    Report r = a.finish();
    CHECK(r.summary.total_sessions == 0);
    CHECK(r.ingest.packets_read == 0);
    CHECK(!r.ingest.have_time);
}

TEST_CASE("packets of an unsupported link type are counted, and fatal when nothing else") {
    const std::uint8_t bytes[20] = {};
    Analyzer a;
    a.feed_packet(bytes, 20, 60, unknown_link, Timestamp{5});
    a.feed_packet(bytes, 10, 10, unknown_link, Timestamp{9});
    const IngestStats& st = a.stats();
    CHECK(st.packets_read == 2);
    CHECK(st.bytes_read == 30);
    CHECK(st.skipped_unsupported_link == 2);
    CHECK(st.unsupported_link_types.size() == 1);
    CHECK(st.unsupported_link_types.begin()->second == 2);
    CHECK(st.have_time);
    CHECK(st.first_time == Timestamp{5});
    CHECK(st.last_time == Timestamp{9});
    CHECK_THROWS_AS(a.finish(), format_error);
}

TEST_CASE("packets rejected by the filter are counted, not decoded") {
    const std::uint8_t bytes[4] = {};
    RawPacket p;
    p.data = bytes;
    p.caplen = 4;
    p.len = 4;
    p.link_type = unknown_link;
    p.frame = 1;
    p.time = Timestamp{100};
    p.passed_filter = false;
    Analyzer a;
    a.feed(p);
    CHECK(a.stats().packets_read == 1);
    CHECK(a.stats().filtered_out == 1);
    CHECK(a.stats().skipped_unsupported_link == 0);
    CHECK(a.stats().decoded == 0);
    Report r = a.finish();  // filtered packets are not "undecodable"
    CHECK(r.summary.total_sessions == 0);
}

TEST_CASE("merge_source_stats adds files and problems, not packets") {
    IngestStats src;
    src.files = 2;
    src.packets_read = 50;
    src.problems.push_back(InputProblem{"b.pcap", "record 3", "truncated"});
    Analyzer a;
    a.merge_source_stats(src);
    CHECK(a.stats().files == 2);
    CHECK(a.stats().packets_read == 0);
    REQUIRE(a.stats().problems.size() == 1);
    CHECK(a.stats().problems[0].source == "b.pcap");
}

TEST_CASE("analyze: a missing file is an io_error") {
    CHECK_THROWS_AS(analyze({"/nonexistent/capgap-test.pcap"}), io_error);
}
