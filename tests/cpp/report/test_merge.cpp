// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// Reports of independent captures merge into the report one analysis would give: sums,
// peaks, renumbered sessions with their events, and the rate from the summed counts.
#include <doctest/doctest.h>

#include <capgap/report.hpp>

#include <stdexcept>
#include <string>
#include <vector>

#include "report/summary.hpp"

namespace {

capgap::SessionRow row(std::uint64_t id, bool bad, std::uint32_t tunnel = 0) {
    capgap::SessionRow r;
    r.session.id = id;
    r.session.tunnel = tunnel;
    r.bad = bad;
    return r;
}

capgap::LossEvent event(std::uint64_t session, capgap::EventKind kind, std::uint64_t bytes) {
    capgap::LossEvent e;
    e.session_id = session;
    e.kind = kind;
    e.missing_bytes = bytes;
    return e;
}

// Report a: sessions 0 and 3 (ids need not be dense), 3 bad with one acked_unseen event.
capgap::Report report_a() {
    capgap::Report a;
    a.sources = {"a.pcap"};
    a.sessions = {row(0, false), row(3, true, 1)};
    a.events = {event(3, capgap::EventKind::acked_unseen, 100)};
    a.tallies = {{capgap::EventKind::acked_unseen, capgap::Direction::c2s, 1, 100, 0}};
    a.summary.total_sessions = 2;
    a.summary.bad_sessions = 1;
    a.summary.bad_confirmed = 1;
    a.summary.partial = 5;
    a.ingest.files = 1;
    a.ingest.packets_read = 40;
    a.ingest.open_flows_peak = 7;
    a.ingest.tunnels = {"VXLAN a"};
    a.ingest.unsupported_link_types = {{"DLT 147", 2}};
    a.ingest.have_time = true;
    a.ingest.first_time = capgap::Timestamp{2000};
    a.ingest.last_time = capgap::Timestamp{5000};
    a.ingest.problems = {{"a.pcap", "offset 9", "truncated"}};
    capgap::set_percentage(a.summary);
    return a;
}

// Report b: sessions 0, 1 and 2, 1 bad (two events: a loss and a reordering).
capgap::Report report_b() {
    capgap::Report b;
    b.sources = {"b.pcap"};
    b.sessions = {row(0, false), row(1, true, 1), row(2, false)};
    b.events = {event(1, capgap::EventKind::acked_unseen, 10),
                event(1, capgap::EventKind::reordered, 0)};
    b.tallies = {{capgap::EventKind::acked_unseen, capgap::Direction::c2s, 1, 10, 0},
                 {capgap::EventKind::reordered, capgap::Direction::c2s, 1, 0, 0}};
    b.summary.total_sessions = 3;
    b.summary.bad_sessions = 1;
    b.summary.bad_confirmed = 1;
    b.summary.partial = 1;
    b.ingest.files = 1;
    b.ingest.packets_read = 60;
    b.ingest.open_flows_peak = 3;
    b.ingest.tunnels = {"VXLAN b"};
    b.ingest.unsupported_link_types = {{"DLT 147", 1}};
    b.ingest.have_time = true;
    b.ingest.first_time = capgap::Timestamp{1000};
    b.ingest.last_time = capgap::Timestamp{4000};
    capgap::set_percentage(b.summary);
    return b;
}

}  // namespace

TEST_CASE("merge_reports: sums, peaks, times, renumbered sessions and events, rate again") {
    const capgap::Report m = capgap::merge_reports({report_a(), report_b()});
    CHECK(m.summary.total_sessions == 5);
    CHECK(m.summary.bad_sessions == 2);
    CHECK(m.summary.bad_confirmed == 2);
    CHECK(m.summary.partial == 6);
    CHECK(m.summary.percentage == 40.0);
    const auto ci = capgap::wilson_interval(2, 5);
    CHECK(m.summary.ci95_low == ci.first);
    CHECK(m.summary.ci95_high == ci.second);

    CHECK(m.ingest.files == 2);
    CHECK(m.ingest.packets_read == 100);
    CHECK(m.ingest.open_flows_peak == 7);  // a peak, not a sum
    CHECK(m.ingest.first_time == capgap::Timestamp{1000});
    CHECK(m.ingest.last_time == capgap::Timestamp{5000});
    CHECK(m.ingest.unsupported_link_types.at("DLT 147") == 3);
    CHECK(m.ingest.tunnels == std::vector<std::string>{"VXLAN a", "VXLAN b"});
    REQUIRE(m.ingest.problems.size() == 1);
    CHECK(m.ingest.problems[0].source == "a.pcap");
    CHECK(m.sources == std::vector<std::string>{"a.pcap", "b.pcap"});

    // b's ids follow a's largest (3): 0, 1, 2 become 4, 5, 6.
    REQUIRE(m.sessions.size() == 5);
    const std::uint64_t ids[] = {0, 3, 4, 5, 6};
    const std::uint32_t sources[] = {0, 0, 1, 1, 1};
    for (std::size_t i = 0; i < 5; ++i) {
        CHECK(m.sessions[i].session.id == ids[i]);
        CHECK(m.sessions[i].source == sources[i]);
    }
    // Tunnel 1 of b is b's first tunnel: the merged list's second.
    CHECK(m.sessions[1].session.tunnel == 1);
    CHECK(m.sessions[3].session.tunnel == 2);
    CHECK(m.sessions[2].session.tunnel == 0);
    // Each event still names its (bad) session.
    REQUIRE(m.events.size() == 3);
    CHECK(m.events[0].session_id == 3);
    CHECK(m.events[1].session_id == 5);
    CHECK(m.events[2].session_id == 5);

    REQUIRE(m.tallies.size() == 2);
    CHECK(m.tallies[0].kind == capgap::EventKind::acked_unseen);
    CHECK(m.tallies[0].count == 2);
    CHECK(m.tallies[0].missing_bytes == 110);
    CHECK(m.tallies[1].kind == capgap::EventKind::reordered);
    CHECK(m.tallies[1].count == 1);
}

TEST_CASE("merge_reports is associative and a single report is itself") {
    const capgap::Report a = report_a(), b = report_b(), c = report_a();
    const capgap::Report left = capgap::merge_reports({capgap::merge_reports({a, b}), c});
    const capgap::Report right = capgap::merge_reports({a, capgap::merge_reports({b, c})});
    CHECK(left.to_json() == right.to_json());
    CHECK(left.sessions.size() == right.sessions.size());
    for (std::size_t i = 0; i < left.sessions.size(); ++i) {
        CHECK(left.sessions[i].session.id == right.sessions[i].session.id);
        CHECK(left.sessions[i].source == right.sessions[i].source);
    }
    CHECK(left.events == right.events);
    CHECK(left.sources == right.sources);

    const capgap::Report one = capgap::merge_reports({b});
    CHECK(one.to_json() == b.to_json());
    CHECK(one.events == b.events);

    const capgap::Report none = capgap::merge_reports({});
    CHECK(none.summary.total_sessions == 0);
    CHECK(none.summary.percentage == 0.0);
}

TEST_CASE("merge_reports refuses reports of different modes") {
    capgap::Report a = report_a(), b = report_b();
    b.summary.mode = capgap::Mode::wireshark;
    CHECK_THROWS_AS(capgap::merge_reports({a, b}), std::invalid_argument);
}
