// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// The tracker's clock (docs/counting-rules.md, "Time and flow expiry"): a corrupt timestamp
// is counted and expires nothing; a jump that persists is followed.

#include <doctest/doctest.h>

#include <capgap/analyze.hpp>
#include <capgap/tracker.hpp>

#include <cstdint>
#include <vector>

#include "support/flow_builder.hpp"

using namespace capgap;
using capgap::test::Flow;

namespace {

constexpr std::int64_t second = 1'000'000'000;
constexpr std::int64_t minute = 60 * second;
constexpr std::int64_t hour = 60 * minute;
constexpr std::int64_t year = 365 * 24 * hour;

struct Run {
    std::vector<Session> sessions;
    std::vector<LossEvent> events;
    TrackerCounters counters;
};

Run run(const std::vector<Segment>& segs, TrackerOptions opt = {}) {
    Tracker t(opt);
    for (const Segment& s : segs)
        t.feed(s);
    t.finish();
    Run r;
    r.counters = t.counters();
    r.sessions = t.take_sessions();
    r.events = t.take_events();
    return r;
}

// Connections open at once over 20 minutes of capture, in frame order: A has a segment the
// capture missed (bad), B is clean and stays open, C (at the end) closes with a FIN from each
// side. No connection is idle for 15 minutes (idle_timeout) and C closes less than 5 s
// (closed_timeout) before the end, so without a jump nothing expires.
std::vector<Segment> three_flows() {
    std::vector<Segment> v;
    Flow a(v), b(v), c(v);
    b.client = test::endpoint(3, 40001);
    c.client = test::endpoint(4, 40002);
    auto sync = [&](Flow& f) { f.t_ns = v.back().time.ns; };
    a.handshake();
    sync(b);
    b.handshake();
    for (int i = 0; i < 4; ++i) {
        sync(a);
        a.wait_ms(5 * 60'000);
        a.c(1 + 100 * static_cast<std::uint32_t>(i), 100);
        sync(b);
        b.c(1 + 100 * static_cast<std::uint32_t>(i), 100);
        sync(b);
        b.s(1, 0, 101 + 100 * static_cast<std::uint32_t>(i));
    }
    sync(a);
    a.c(501, 100);  // bytes 401..500 never captured
    sync(a);
    a.s(1, 0, 601);
    sync(c);
    c.handshake();
    sync(c);
    c.c(1, 10);
    sync(c);
    c.s(1, 0, 11);
    sync(c);
    c.c(11, 0, 1, tcp_flags::fin);
    sync(c);
    c.s(1, 0, 12, tcp_flags::fin);
    sync(c);
    c.c(12, 0, 2);
    sync(b);
    b.c(401, 100);
    sync(a);
    a.c(601, 100);
    // Frames in feed order (each Flow numbered its own).
    for (std::size_t i = 0; i < v.size(); ++i)
        v[i].frame = i + 1;
    return v;
}

// The session and event fields a changed clock would change.
void check_same_results(const Run& got, const Run& want) {
    REQUIRE(got.sessions.size() == want.sessions.size());
    for (std::size_t i = 0; i < got.sessions.size(); ++i) {
        CAPTURE(i);
        const Session& g = got.sessions[i];
        const Session& w = want.sessions[i];
        CHECK(g.client == w.client);
        CHECK(g.server == w.server);
        CHECK(g.category == w.category);
        CHECK(g.syn_frame == w.syn_frame);
        CHECK(g.first_frame == w.first_frame);
        CHECK(g.packets == w.packets);
        CHECK(g.evicted == w.evicted);
    }
    REQUIRE(got.events.size() == want.events.size());
    for (std::size_t i = 0; i < got.events.size(); ++i) {
        CAPTURE(i);
        CHECK(got.events[i].session_id == want.events[i].session_id);
        CHECK(got.events[i].kind == want.events[i].kind);
        CHECK(got.events[i].frame == want.events[i].frame);
        CHECK(got.events[i].missing_bytes == want.events[i].missing_bytes);
    }
    CHECK(got.counters.flows_idle_expired == want.counters.flows_idle_expired);
    CHECK(got.counters.flows_closed_expired == want.counters.flows_closed_expired);
}

std::size_t frame_index(const std::vector<Segment>& v, const Endpoint& src, std::uint32_t rel_seq,
                        std::uint32_t isn) {
    for (std::size_t i = 0; i < v.size(); ++i)
        if (v[i].src == src && v[i].seq == isn + rel_seq && v[i].payload_len > 0) return i;
    FAIL("no such segment");
    return 0;
}

}  // namespace

TEST_CASE("clock: the built flows give three sessions, A bad, nothing idle-expired") {
    const Run base = run(three_flows());
    REQUIRE(base.sessions.size() == 3);
    CHECK(base.sessions[0].category == SessionCategory::complete);
    CHECK(base.counters.flows_idle_expired == 0);
    CHECK(base.counters.flows_closed_expired == 0);  // C closed less than 5 s before the end
    CHECK(base.counters.packets_out_of_time_order == 0);
    CHECK(base.counters.timestamp_jumps_forward == 0);
    bool a_bad = false;
    for (const LossEvent& e : base.events)
        if (e.session_id == 0 && is_loss(e.kind)) a_bad = e.missing_bytes == 100;
    CHECK(a_bad);
}

TEST_CASE("clock: one packet dated 5 years ahead changes no session or verdict") {
    const std::vector<Segment> v = three_flows();
    const Run base = run(v);
    // B's third data segment, mid-capture, with all three connections open.
    std::vector<Segment> w = v;
    const std::size_t i = frame_index(w, test::endpoint(3, 40001), 201, 1000);
    w[i].time.ns += 5 * year;
    const Run got = run(w);
    check_same_results(got, base);
    CHECK(got.counters.timestamp_jumps_forward == 1);
    CHECK(got.counters.timestamp_steps_back == 0);
    CHECK(got.counters.timestamp_jumps_followed == 0);
    CHECK(got.counters.packets_out_of_time_order == 1);  // the packet after it
    CHECK(got.counters.timestamp_largest_step_back_ns == 0);

    // Without a limit the clock is the latest time seen: the jump expires every open flow
    // and splits the sessions (what this rule prevents).
    TrackerOptions no_limit;
    no_limit.clock_jump_limit_ns = 0;
    const Run old = run(w, no_limit);
    CHECK(old.counters.flows_idle_expired >= 2);
    CHECK(old.sessions.size() > base.sessions.size());
    CHECK(old.counters.timestamp_jumps_forward == 0);
}

TEST_CASE("clock: a step back is counted with its size and changes nothing") {
    const std::vector<Segment> v = three_flows();
    const Run base = run(v);
    std::vector<Segment> w = v;
    const std::size_t i = frame_index(w, test::endpoint(3, 40001), 201, 1000);
    const std::int64_t clock = w[i - 1].time.ns;  // the latest time before it
    w[i].time.ns = clock - 2 * hour;
    const Run got = run(w);
    check_same_results(got, base);
    CHECK(got.counters.timestamp_steps_back == 1);
    CHECK(got.counters.timestamp_jumps_forward == 0);
    CHECK(got.counters.timestamp_largest_step_back_ns == static_cast<std::uint64_t>(2 * hour));
    CHECK(got.counters.packets_out_of_time_order == 1);  // it; the next is later than it

    // A small step (merged SPAN ports) is out of order, not a step beyond the limit.
    std::vector<Segment> u = v;
    u[i].time.ns = clock - 3'000'000;
    const Run small = run(u);
    check_same_results(small, base);
    CHECK(small.counters.timestamp_steps_back == 0);
    CHECK(small.counters.packets_out_of_time_order == 1);
    CHECK(small.counters.timestamp_largest_step_back_ns == 3'000'000);
}

TEST_CASE("clock: outliers that disagree with each other are each counted, never followed") {
    const std::vector<Segment> v = three_flows();
    const Run base = run(v);
    std::vector<Segment> w = v;
    const std::size_t i = frame_index(w, test::endpoint(3, 40001), 201, 1000);
    w[i].time.ns += 5 * year;
    w[i + 1].time.ns += 9 * year;
    w[i + 2].time.ns -= 3 * year;
    w[i + 3].time.ns += 5 * year;
    const Run got = run(w);
    check_same_results(got, base);
    CHECK(got.counters.timestamp_jumps_forward == 3);
    CHECK(got.counters.timestamp_steps_back == 1);
    CHECK(got.counters.timestamp_jumps_followed == 0);
}

TEST_CASE("clock: a jump that persists is followed and idle flows still expire") {
    // A is left open; two hours later (a host suspended) the capture continues with B.
    std::vector<Segment> v;
    Flow a(v), b(v);
    b.client = test::endpoint(3, 40001);
    a.handshake();
    a.c(1, 100);
    b.t_ns = a.t_ns + 2 * hour;
    b.handshake();
    b.c(1, 100);
    b.s(1, 0, 101);
    b.c(101, 100);
    b.s(1, 0, 201);
    a.t_ns = b.t_ns;
    a.c(101, 100);  // A again, after the clock followed: a new (partial) instance
    for (std::size_t i = 0; i < v.size(); ++i)
        v[i].frame = i + 1;

    Tracker t;
    for (std::size_t i = 0; i < v.size() - 1; ++i)
        t.feed(v[i]);
    CHECK(t.counters().timestamp_jumps_forward == 1);
    CHECK(t.counters().timestamp_jumps_followed == 1);
    CHECK(t.counters().flows_idle_expired == 1);  // A left the table: memory stays bounded
    CHECK(t.open_sessions() == 1);
    t.feed(v.back());
    t.finish();
    REQUIRE(t.sessions().size() == 3);
    CHECK(t.sessions()[0].packets == 4);  // A before the jump
    CHECK(t.sessions()[2].category == SessionCategory::partial);
    CHECK(t.counters().packets_out_of_time_order == 0);

    // Following needs clock_confirm_packets in a row: with 9, the eight after the jump are
    // not enough and A stays open to the end (one instance).
    TrackerOptions nine;
    nine.clock_confirm_packets = 9;
    const Run r = run(v, nine);
    CHECK(r.counters.timestamp_jumps_followed == 0);
    CHECK(r.counters.flows_idle_expired == 0);
    CHECK(r.sessions.size() == 2);
}

TEST_CASE("clock: a first packet dated years ahead is a step back the clock follows") {
    std::vector<Segment> v;
    Flow a(v), b(v);
    b.client = test::endpoint(3, 40001);
    a.syn();
    v.back().time.ns += 5 * year;
    a.synack();
    a.c(1, 0);
    a.c(1, 100);
    a.s(1, 0, 101);
    b.t_ns = a.t_ns + 20 * minute;  // A idle longer than idle_timeout
    b.handshake();
    for (std::size_t i = 0; i < v.size(); ++i)
        v[i].frame = i + 1;
    const Run r = run(v);
    CHECK(r.counters.timestamp_steps_back == 1);
    CHECK(r.counters.timestamp_jumps_followed == 1);
    CHECK(r.counters.timestamp_largest_step_back_ns ==
          static_cast<std::uint64_t>(5 * year - a.step_ns));
    CHECK(r.counters.packets_out_of_time_order == 1);
    CHECK(r.counters.flows_idle_expired == 1);  // the clock runs again from the real time
    REQUIRE(r.sessions.size() == 2);
    CHECK(r.sessions[0].packets == 5);
    CHECK(r.sessions[0].syn_time.ns == v[0].time.ns);  // the packet's own time, as captured
}

TEST_CASE("clock: first_time and last_time are the first and last packets' times") {
    // The report's first_time anchors relative window bounds: it is the first packet's time
    // as captured (Wireshark's frame.time_relative counts from it too), outlier or not. An
    // outlier in the middle moves neither first_time nor last_time.
    std::vector<Segment> v;
    Flow a(v);
    a.handshake();
    a.c(1, 100);
    a.s(1, 0, 101);
    a.c(101, 100);
    const std::int64_t first = v.front().time.ns, last = v.back().time.ns;
    std::vector<Segment> mid = v;
    mid[2].time.ns += 5 * year;
    Analyzer m;
    for (const Segment& s : mid)
        m.feed_segment(s);
    const Report rm = m.finish();
    CHECK(rm.ingest.first_time.ns == first);
    CHECK(rm.ingest.last_time.ns == last);
    CHECK(rm.ingest.timestamp_jumps_forward == 1);
    CHECK(rm.summary.total_sessions == 1);

    // An outlier first packet is the anchor: "0,60" then means the minute after it, and the
    // session (whose SYN is that packet) is the only one counted; the report's
    // timestamp_steps_back says the anchor is suspect (absolute bounds do not depend on it).
    std::vector<Segment> w = v;
    Flow b(w);
    b.client = test::endpoint(3, 40001);
    b.t_ns = a.t_ns;
    b.handshake();
    w[0].time.ns += 5 * year;
    for (std::size_t i = 0; i < w.size(); ++i)
        w[i].frame = i + 1;
    Options opt;
    opt.match.window = TimeWindow::parse("0,60");
    Analyzer f(opt);
    for (const Segment& s : w)
        f.feed_segment(s);
    const Report rf = f.finish();
    CHECK(rf.ingest.first_time.ns == first + 5 * year);
    CHECK(rf.ingest.timestamp_steps_back == 1);
    CHECK(rf.summary.total_sessions == 1);
    Options abs;
    abs.match.window = TimeWindow::parse(std::to_string(first / second) + "," +
                                         std::to_string(first / second + 60));
    Analyzer g(abs);
    for (const Segment& s : w)
        g.feed_segment(s);
    CHECK(g.finish().summary.total_sessions == 1);  // B only: A's SYN is dated years ahead
}
