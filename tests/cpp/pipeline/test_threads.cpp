// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// Options::threads: the sharded tracker gives the report one tracker gives, for every thread
// count, on segment streams built to hit what sharding could get wrong: port reuse, clock
// jumps and steps, closed and idle expiry, open_flows_peak across the shards' flows, and the
// per-shard share of max_open_flows.
#include <doctest/doctest.h>

#include <capgap/analyze.hpp>

#include <algorithm>
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "support/flow_builder.hpp"

using namespace capgap;
using capgap::test::endpoint;
using capgap::test::Flow;

namespace {

constexpr std::int64_t ms = 1'000'000;
constexpr std::int64_t s = 1'000 * ms;
constexpr std::int64_t t0 = 1'700'000'000 * s;

// Segments of several flows in one capture: sorted by time (ties in the order given) and
// numbered 1, 2, ... in that order.
std::vector<Segment> capture(std::vector<Segment> segs) {
    std::stable_sort(segs.begin(), segs.end(),
                     [](const Segment& a, const Segment& b) { return a.time.ns < b.time.ns; });
    std::uint64_t frame = 0;
    for (Segment& seg : segs)
        seg.frame = ++frame;
    return segs;
}

Flow flow_at(std::vector<Segment>& out, unsigned i, std::int64_t start_ns) {
    Flow f(out);
    f.client =
        endpoint(static_cast<std::uint8_t>(1 + i % 200), static_cast<std::uint16_t>(40000 + i));
    f.server = endpoint(250, static_cast<std::uint16_t>(i % 3 == 0 ? 443 : 80));
    f.cisn = 1000 + 7919 * i;
    f.sisn = 900000 + 104729 * i;
    f.t_ns = start_ns;
    return f;
}

// What a run gives, rendered every way a user sees it.
struct Outputs {
    std::string text, json, sessions_csv, events_csv;
    Report report;
};

Outputs run(const std::vector<Segment>& segs, Options o, unsigned threads) {
    o.threads = threads;
    o.match.include_excluded = true;
    Analyzer a(o);
    for (const Segment& seg : segs)
        a.feed_segment(seg);
    Outputs out;
    out.report = a.finish();
    out.text = out.report.to_text();
    out.json = out.report.to_json();
    std::ostringstream ss, es;
    out.report.write_sessions_csv(ss);
    out.report.write_events_csv(es);
    out.sessions_csv = ss.str();
    out.events_csv = es.str();
    return out;
}

// Every output of `threads` equals the one-thread run's; returns the latter.
Outputs same_for_all_threads(const std::vector<Segment>& segs, const Options& o = {}) {
    Outputs one = run(segs, o, 1);
    for (unsigned n : {2U, 3U, 4U, 7U}) {
        CAPTURE(n);
        const Outputs many = run(segs, o, n);
        CHECK(many.text == one.text);
        CHECK(many.json == one.json);
        CHECK(many.sessions_csv == one.sessions_csv);
        CHECK(many.events_csv == one.events_csv);
        CHECK(many.report.timeline == one.report.timeline);
        REQUIRE(many.report.sessions.size() == one.report.sessions.size());
        for (std::size_t i = 0; i < one.report.sessions.size(); ++i)
            CHECK(many.report.sessions[i].session == one.report.sessions[i].session);
        CHECK(many.report.events == one.report.events);
        for (const IngestCounter& c : ingest_counters) {
            CAPTURE(c.name);
            CHECK(many.report.ingest.*c.member == one.report.ingest.*c.member);
        }
    }
    return one;
}

// Flows that start, lose data, close, reuse their ports and go idle, interleaved over a
// minute of capture time.
std::vector<Segment> busy_capture() {
    std::vector<Segment> out;
    for (unsigned i = 0; i < 80; ++i) {
        Flow f = flow_at(out, i, t0 + static_cast<std::int64_t>(i) * 700 * ms);
        f.step_ns = (1 + i % 5) * ms;
        f.handshake();
        f.c(1, 100);
        if (i % 4 == 1) {
            f.s(1, 0, 301);  // the server ACKs 100..300 that were never seen
            f.c(201, 100);
        } else {
            f.c(101, 100);
            f.s(1, 0, 201);
        }
        if (i % 6 == 2) f.s(1, 50);  // s2c data with a gap below it when i % 12 == 2
        if (i % 3 == 0) {
            // Close, then reuse the same ports with a new ISN: a second instance.
            f.c(201, 0, 1, tcp_flags::fin);
            f.s(1, 0, 202, tcp_flags::fin);
            f.wait_ms(static_cast<std::int64_t>(200 + 400 * (i % 7)));
            f.cisn += 5'000'000;
            f.sisn += 7'000'000;
            f.handshake();
            f.c(1, 10);
            f.s(1, 0, 11);
        }
        if (i % 5 == 4) f.c(1, 0, 1, tcp_flags::rst);
        // The rest stay open and idle; some talk again after a long pause (idle expiry).
        if (i % 10 == 7) {
            f.wait_ms(40'000);
            f.c(301, 100);
        }
    }
    return capture(std::move(out));
}

}  // namespace

TEST_CASE("threads: interleaved flows with loss, port reuse and expiry give one report") {
    Options o;
    o.tracker.closed_timeout_ns = 2 * s;
    o.tracker.idle_timeout_ns = 20 * s;
    const Outputs one = same_for_all_threads(busy_capture(), o);
    // The capture hits what it was built for.
    CHECK(one.report.ingest.flows_closed_expired > 0);
    CHECK(one.report.ingest.flows_idle_expired > 0);
    CHECK(one.report.summary.bad_confirmed > 0);
    CHECK(one.report.sessions.size() > 80);  // reuse made second instances
}

TEST_CASE("threads: the default timeouts, and drop_duplicates with duplicated packets") {
    std::vector<Segment> segs = busy_capture();
    // Every 9th segment seen twice (a SPAN copy 10 us later).
    std::vector<Segment> dup;
    for (std::size_t i = 0; i < segs.size(); ++i) {
        dup.push_back(segs[i]);
        if (i % 9 == 0) {
            Segment c = segs[i];
            c.time.ns += 10'000;
            dup.push_back(c);
        }
    }
    dup = capture(std::move(dup));
    const Outputs kept = same_for_all_threads(dup);
    CHECK(kept.report.ingest.duplicate_packets > 0);
    Options o;
    o.tracker.drop_duplicates = true;
    const Outputs dropped = same_for_all_threads(dup, o);
    CHECK(dropped.report.ingest.duplicates_dropped > 0);
}

TEST_CASE("threads: the clock runs over all segments (jumps, steps back, a followed jump)") {
    std::vector<Segment> segs = busy_capture();
    // A corrupt timestamp ten years ahead, one a day back, each alone: counted, not followed.
    segs[100].time.ns += 10 * 365 * 24 * 3600 * s;
    segs[150].time.ns -= 24 * 3600 * s;
    // A jump two hours ahead that persists for the rest of the capture: followed after
    // clock_confirm_packets segments, which then expires every open flow at once.
    for (std::size_t i = 300; i < segs.size(); ++i)
        segs[i].time.ns += 2 * 3600 * s;
    // Out of order by a little.
    std::swap(segs[200].time, segs[201].time);
    const Outputs one = same_for_all_threads(segs);
    const IngestStats& st = one.report.ingest;
    CHECK(st.timestamp_jumps_forward == 2);  // the corrupt one and the persistent one
    CHECK(st.timestamp_steps_back >= 1);
    CHECK(st.timestamp_jumps_followed == 1);
    CHECK(st.packets_out_of_time_order >= 2);
    CHECK(st.flows_idle_expired > 0);
}

TEST_CASE("threads: open_flows_peak is the peak of the sum over the shards, not a sum of peaks") {
    // 20 flows open together, all idle-expired, then 20 others open together: at most 20 were
    // ever open at once, while the shards' own peaks, from different phases, may add to more.
    std::vector<Segment> out;
    for (unsigned i = 0; i < 20; ++i) {
        Flow f = flow_at(out, i, t0 + static_cast<std::int64_t>(i) * ms);
        f.handshake();
    }
    for (unsigned i = 20; i < 40; ++i) {
        Flow f = flow_at(out, i, t0 + 60 * s + static_cast<std::int64_t>(i) * ms);
        f.handshake();
    }
    Options o;
    o.tracker.idle_timeout_ns = 10 * s;
    const Outputs one = same_for_all_threads(capture(std::move(out)), o);
    CHECK(one.report.ingest.open_flows_peak == 20);
    CHECK(one.report.ingest.flows_idle_expired == 20);
}

TEST_CASE("threads: max_open_flows is split between the shards") {
    // 40 flows open together with a cap of 8: one tracker evicts whenever 8 are open; with N
    // threads each shard evicts when its own count reaches its part of the cap, so which
    // flows are evicted may differ (the documented exception); all of them start a session.
    std::vector<Segment> out;
    for (unsigned i = 0; i < 40; ++i) {
        Flow f = flow_at(out, i, t0 + static_cast<std::int64_t>(i) * ms);
        f.handshake();
    }
    const std::vector<Segment> segs = capture(std::move(out));
    Options o;
    o.tracker.max_open_flows = 8;
    for (unsigned n : {1U, 2U, 3U}) {
        CAPTURE(n);
        const Outputs r = run(segs, o, n);
        CHECK(r.report.ingest.flows_evicted > 0);
        CHECK(r.report.ingest.open_flows_peak <= 8 + n);  // each part rounded up
        CHECK(r.report.summary.total_sessions == 40);     // every SYN starts one, evicted or not
    }
    // With no shard reaching its share of the cap, nothing differs (1000 / 7 > 40).
    o.tracker.max_open_flows = 1000;
    const Outputs one = same_for_all_threads(segs, o);
    CHECK(one.report.ingest.flows_evicted == 0);
    CHECK(one.report.ingest.open_flows_peak == 40);
}

TEST_CASE("threads: sessions_started counts every shard's instances") {
    const std::vector<Segment> segs = busy_capture();
    Options o;
    o.threads = 3;
    o.match.include_excluded = true;  // a row for every instance
    Analyzer a(o);
    for (const Segment& seg : segs)
        a.feed_segment(seg);
    a.flush();
    const Report r = a.finish();
    // After finish every shard has published its count (finish waits for the shards).
    CHECK(a.sessions_started() == r.sessions.size());
    CHECK(r.sessions.size() > 80);
}

TEST_CASE("threads: an Analyzer dropped before its end stops its threads") {
    // As when reading throws: the shards' threads wait for batches, and at the end for the
    // numbering and the rows; the destructor must release every wait (a hang fails the run).
    const std::vector<Segment> segs = busy_capture();
    for (const unsigned threads : {2U, 3U}) {
        for (const std::size_t fed : {std::size_t{0}, segs.size() / 2, segs.size()}) {
            CAPTURE(threads);
            CAPTURE(fed);
            Options o;
            o.threads = threads;
            {
                Analyzer a(o);
                for (std::size_t i = 0; i < fed; ++i)
                    a.feed_segment(segs[i]);
            }
            // The same input then still gives the report, with threads or without.
            Analyzer b(o);
            for (const Segment& seg : segs)
                b.feed_segment(seg);
            b.flush();
            Options one = o;
            one.threads = 1;
            Analyzer c(one);
            for (const Segment& seg : segs)
                c.feed_segment(seg);
            c.flush();
            CHECK(b.finish().summary.total_sessions == c.finish().summary.total_sessions);
        }
    }
}

TEST_CASE("threads: a capture longer than the batches in flight, with bursts of expiry") {
    // 3,000 flows of 60 segments (180,000 in all, more than the 512 batches of 256 a shard
    // may have in flight), started in waves so that each sweep finishes a thousand at once:
    // the reading thread runs ahead of a shard busy with its sweep, then waits for it.
    std::vector<Segment> out;
    for (unsigned i = 0; i < 3000; ++i) {
        Flow f = flow_at(out, i % 1000 + 1000 * (i / 1000 % 2),
                         t0 + static_cast<std::int64_t>(i / 1000) * 3 * s +
                             static_cast<std::int64_t>(i % 1000) * 100'000);
        f.cisn += 13 * i;  // the third wave reuses the first one's ports: new instances
        f.step_ns = 20'000;
        f.handshake();
        for (std::uint32_t k = 0; k < 27; ++k) {
            f.c(1 + 100 * k, 100);
            if (!(i % 50 == 7 && k == 13)) f.s(1 + 10 * k, 10);  // one s2c segment never seen
        }
        f.c(2701, 0, 271, tcp_flags::fin);
        f.s(271, 0, 2702, tcp_flags::fin);
    }
    const std::vector<Segment> segs = capture(std::move(out));
    REQUIRE(segs.size() > 512 * 256);
    Options o;
    o.tracker.closed_timeout_ns = 1 * s;
    const Outputs one = same_for_all_threads(segs, o);
    CHECK(one.report.summary.total_sessions == 3000);
    CHECK(one.report.ingest.flows_closed_expired >= 2000);
    CHECK(one.report.summary.bad_confirmed == 60);  // every 50th flow lost one segment
}

TEST_CASE("threads: tens of thousands of sessions, finished out of id order") {
    // 40,000 short flows, tens of thousands per shard (the merge's and the rows' sizes come
    // from the shards' counts). Every 97th flow never closes, so it finishes at the end,
    // after flows that started later: each shard's sessions finish out of id order and must
    // come back in one tracker's order. Every 101st flow never shows one s2c segment.
    std::vector<Segment> out;
    std::uint64_t lossy = 0;
    for (unsigned i = 0; i < 40000; ++i) {
        Flow f = flow_at(out, i, t0 + static_cast<std::int64_t>(i) * 50'000);
        f.step_ns = 10'000;
        f.handshake();
        const bool lose = i % 101 == 5;
        lossy += lose ? 1 : 0;
        for (std::uint32_t k = 0; k < 3; ++k) {
            f.c(1 + 100 * k, 100);
            if (!(lose && k == 1)) f.s(1 + 10 * k, 10);
        }
        if (i % 97 != 0) {
            f.c(301, 0, 31, tcp_flags::fin);
            f.s(31, 0, 302, tcp_flags::fin);
        }
    }
    const std::vector<Segment> segs = capture(std::move(out));
    Options o;
    o.tracker.closed_timeout_ns = 1 * s;
    const Outputs one = same_for_all_threads(segs, o);
    CHECK(one.report.summary.total_sessions == 40000);
    CHECK(one.report.summary.bad_confirmed == lossy);
    // The capture lasts 2 s: the flows that closed in its first second expired on the way.
    CHECK(one.report.ingest.flows_closed_expired > 15000);
}
