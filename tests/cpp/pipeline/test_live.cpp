// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// Continuous measurement: the tracker's take-finished and judge-open, and LiveCapture's
// intervals (assignment by SYN time, the emission rule, the cap's marking, totals) over a
// synthetic capture replayed as fast as it reads.

#include <doctest/doctest.h>

#include <capgap/analyze.hpp>
#include <capgap/errors.hpp>
#include <capgap/live.hpp>
#include <capgap/tracker.hpp>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include <pcap/pcap.h>

#include "support/bytes.hpp"
#include "support/flow_builder.hpp"
#include "support/temp_dir.hpp"

using namespace capgap;
using capgap::test::endpoint;
using capgap::test::Flow;

namespace {

constexpr std::int64_t s_ns = 1'000'000'000;
constexpr std::int64_t t0 = 1'700'000'000'000'000'000;  // a multiple of 10 s

// The segment as raw IPv4 + TCP bytes (DLT_RAW); the addresses are 10.0.0.x of the endpoints.
std::vector<std::uint8_t> raw_ip(const Segment& s) {
    using capgap::test::put16;
    using capgap::test::put32;
    capgap::test::Bytes b;
    const std::uint32_t total = 40 + s.payload_len;
    b.push_back(0x45);
    b.push_back(0);
    put16(b, total);
    put16(b, 1);
    put16(b, 0x4000);
    b.push_back(64);
    b.push_back(6);
    put16(b, 0);
    const auto addr = [&](const Endpoint& e) {
        const std::string text = capgap::to_string(e.addr);
        const std::uint8_t last =
            static_cast<std::uint8_t>(std::stoi(text.substr(text.rfind('.') + 1)));
        for (std::uint8_t x : {std::uint8_t{10}, std::uint8_t{0}, std::uint8_t{0}, last})
            b.push_back(x);
    };
    addr(s.src);
    addr(s.dst);
    put16(b, s.src.port);
    put16(b, s.dst.port);
    put32(b, s.seq);
    put32(b, s.ack);
    b.push_back(0x50);
    b.push_back(s.flags);
    put16(b, 65535);
    put16(b, 0);
    put16(b, 0);
    for (std::uint32_t i = 0; i < s.payload_len; ++i)
        b.push_back(0x61);
    return b;
}

// Writes the segments, sorted by time, as a nanosecond pcap of raw IP packets.
void write_pcap(const std::string& path, std::vector<Segment> segs) {
    std::stable_sort(segs.begin(), segs.end(),
                     [](const Segment& a, const Segment& b) { return a.time < b.time; });
    pcap_t* dead = pcap_open_dead_with_tstamp_precision(DLT_RAW, 65535, PCAP_TSTAMP_PRECISION_NANO);
    pcap_dumper_t* d = pcap_dump_open(dead, path.c_str());
    REQUIRE(d != nullptr);
    for (const Segment& s : segs) {
        const std::vector<std::uint8_t> bytes = raw_ip(s);
        pcap_pkthdr h{};
        h.ts.tv_sec = static_cast<time_t>(s.time.ns / s_ns);
        h.ts.tv_usec = static_cast<suseconds_t>(s.time.ns % s_ns);  // nanoseconds here
        h.caplen = h.len = static_cast<bpf_u_int32>(bytes.size());
        pcap_dump(reinterpret_cast<u_char*>(d), &h, bytes.data());
    }
    pcap_dump_close(d);
    pcap_close(dead);
}

Flow flow_at(std::vector<Segment>& v, std::uint16_t port, std::int64_t at_ns) {
    Flow f(v);
    f.client = endpoint(1, port);
    f.t_ns = at_ns;
    return f;
}

// The scenario of the emission rule (10 s intervals, 3 s grace, 20 s cap, 1 s closed
// timeout):
//   interval A [t0, t0+10s): flow 1 loses a segment (acked, unseen) and closes at once;
//     flow 2 opens a hole at t0+2.5s and stays busy past the interval's end, filling it at
//     t0+13s and closing at t0+14s (good, but bad if judged before); flow 3 goes silent
//     at t0+3s and never closes (judged once idle for the grace, not marked).
//   interval B [t0+10s, t0+20s): flow 4 opens at t0+11s and talks every second to
//     t0+45s without loss: still open at the cap (t0+40s), judged there and marked.
std::vector<Segment> scenario() {
    std::vector<Segment> v;
    {
        Flow f = flow_at(v, 40001, t0 + 1 * s_ns);
        f.handshake();
        f.c(101, 100);
        f.s(1, 0, 201);  // acks bytes 1..100 the capture never saw
        f.c(201, 0, 1, tcp_flags::fin);
        f.s(1, 0, 202, tcp_flags::fin);
        f.c(202, 0, 2);
    }
    {
        Flow f = flow_at(v, 40002, t0 + 2 * s_ns);
        f.handshake();
        f.t_ns = t0 + 2'500'000'000;
        f.c(101, 100);  // bytes 1..100 not yet sent: a hole
        for (int k = 3; k <= 12; ++k) {
            f.t_ns = t0 + k * s_ns;
            f.s(1, 0, 1);  // duplicate ACKs meanwhile
        }
        f.t_ns = t0 + 13 * s_ns;
        f.c(1, 100);  // the hole filled late
        f.s(1, 0, 201);
        f.raw(true, f.cisn + 201, 0, tcp_flags::rst, 0);
    }
    {
        Flow f = flow_at(v, 40003, t0 + 3 * s_ns);
        f.handshake();
        f.c(1, 50);
        f.s(1, 0, 51);
    }
    {
        Flow f = flow_at(v, 40004, t0 + 11 * s_ns);
        f.handshake();
        std::uint32_t seq = 1;
        for (int k = 12; k <= 45; ++k) {
            f.t_ns = t0 + k * s_ns;
            f.c(seq, 10);
            seq += 10;
            f.s(1, 0, seq);
        }
    }
    return v;
}

LiveOptions scenario_options(const std::string& file) {
    LiveOptions o;
    o.replay_file = file;
    o.speed = 0;
    o.interval_ns = 10 * s_ns;
    o.grace_ns = 3 * s_ns;
    o.cap_ns = 20 * s_ns;
    o.analysis.tracker.closed_timeout_ns = 1 * s_ns;
    return o;
}

std::vector<IntervalReport> run_all(LiveCapture& live) {
    std::vector<IntervalReport> out;
    IntervalReport r;
    while (live.next(r))
        out.push_back(r);
    return out;
}

}  // namespace

TEST_CASE("tracker: take_finished moves finished sessions out, finish() the rest") {
    std::vector<Segment> v = scenario();
    std::stable_sort(v.begin(), v.end(),
                     [](const Segment& a, const Segment& b) { return a.time < b.time; });
    TrackerOptions o;
    o.closed_timeout_ns = 1 * s_ns;
    Tracker whole(o);
    Tracker parts(o);
    std::vector<Session> taken;
    std::vector<LossEvent> taken_events;
    std::size_t taken_before_finish = 0;
    for (const Segment& s : v) {
        whole.feed(s);
        parts.feed(s);
        parts.take_finished(taken, taken_events);
        CHECK(parts.sessions().empty());
        CHECK(parts.events().empty());
    }
    taken_before_finish = taken.size();
    // Flows 1 and 2 closed and expired meanwhile; 3 and 4 are still open.
    CHECK(taken_before_finish == 2);
    CHECK(parts.open_sessions() == 2);
    whole.finish();
    parts.finish();
    parts.take_finished(taken, taken_events);
    std::sort(taken.begin(), taken.end(),
              [](const Session& a, const Session& b) { return a.id < b.id; });
    REQUIRE(taken.size() == whole.sessions().size());
    for (std::size_t i = 0; i < taken.size(); ++i) {
        CHECK(taken[i].id == whole.sessions()[i].id);
        CHECK(taken[i].packets == whole.sessions()[i].packets);
    }
    CHECK(taken_events.size() == whole.events().size());
}

TEST_CASE("tracker: judge_open judges a copy and leaves the instance going") {
    std::vector<Segment> v;
    Flow f(v);
    f.handshake();
    f.c(101, 100);   // bytes 1..100 unseen so far
    f.s(1, 0, 201);  // acked: acked_unseen once judged
    std::vector<Segment> later;
    Flow g = f;
    g.out = &later;
    g.c(201, 100);
    g.s(1, 0, 301);

    Tracker t;
    for (const Segment& s : v)
        t.feed(s);
    std::vector<Session> judged;
    std::vector<LossEvent> events;
    std::size_t open_seen = 0;
    t.for_each_open([&](const Tracker::OpenView& view) {
        ++open_seen;
        CHECK(view.session.id == 0);
        CHECK_FALSE(view.closed);
        CHECK(view.last_time == v.back().time);
    });
    CHECK(open_seen == 1);
    t.judge_open([](const Session&) { return true; }, judged, events);
    REQUIRE(judged.size() == 1);
    CHECK(judged[0].packets == v.size());
    std::vector<LossEvent> loss;
    for (const LossEvent& e : events)
        if (is_loss(e.kind)) loss.push_back(e);
    REQUIRE(loss.size() == 1);  // besides Wireshark's flags of the same packets
    CHECK(loss[0].kind == EventKind::acked_unseen);
    CHECK(loss[0].missing_bytes == 100);
    // Nothing changed: the instance is open and ends as it would have without the judgement.
    CHECK(t.open_sessions() == 1);
    CHECK(t.sessions().empty());
    CHECK(t.clock_ns() == v.back().time.ns);
    for (const Segment& s : later)
        t.feed(s);
    t.finish();
    std::vector<Segment> all = v;
    all.insert(all.end(), later.begin(), later.end());
    const capgap::test::Result direct = capgap::test::track(all);
    REQUIRE(t.sessions().size() == 1);
    CHECK(t.sessions()[0].packets == direct.sessions[0].packets);
    REQUIRE(t.events().size() == direct.events.size());
    for (std::size_t i = 0; i < direct.events.size(); ++i) {
        CHECK(t.events()[i].kind == direct.events[i].kind);
        CHECK(t.events()[i].missing_bytes == direct.events[i].missing_bytes);
    }
    // A picker that takes nothing judges nothing.
    std::vector<Session> none;
    Tracker u;
    for (const Segment& s : v)
        u.feed(s);
    u.judge_open([](const Session&) { return false; }, none, events);
    CHECK(none.empty());
}

TEST_CASE("live: intervals judge their own sessions once they had the chance to show loss") {
    capgap::test::TempDir dir;
    const std::string file = dir.file("scenario.pcap");
    write_pcap(file, scenario());
    LiveCapture live(scenario_options(file));
    const std::vector<IntervalReport> reports = run_all(live);

    // One report per interval from the first packet's to the last one's, in order.
    REQUIRE(reports.size() == 5);
    for (std::size_t i = 0; i < reports.size(); ++i) {
        CHECK(reports[i].begin.ns == t0 + static_cast<std::int64_t>(i) * 10 * s_ns);
        CHECK(reports[i].end.ns == reports[i].begin.ns + 10 * s_ns);
        CHECK(reports[i].final == (i + 1 == reports.size()));
    }
    const IntervalReport& a = reports[0];
    CHECK(a.report.summary.total_sessions == 3);  // flows 1, 2, 3
    // Flow 1 only: flow 2's hole was filled after the interval's end, before its report.
    CHECK(a.report.summary.bad_confirmed == 1);
    CHECK(a.still_open == 0);  // flow 3 was idle past the grace: judged, not marked
    for (const SessionRow& row : a.report.sessions)
        CHECK(row.bad == (row.session.client.port == 40001));

    const IntervalReport& b = reports[1];
    CHECK(b.report.summary.total_sessions == 1);  // flow 4
    CHECK(b.report.summary.bad_confirmed == 0);
    CHECK(b.still_open == 1);  // still talking at the cap
    for (std::size_t i = 2; i < reports.size(); ++i)
        CHECK(reports[i].report.summary.total_sessions == 0);

    // Every packet counted in exactly one interval.
    std::uint64_t packets = 0;
    for (const IntervalReport& r : reports)
        packets += r.packets;
    CHECK(packets == scenario().size());
    // Flow 4's end (at the final flush) was not reported a second time.
    const LiveTotals t = live.totals();
    CHECK(t.intervals == 5);
    CHECK(t.sessions == 4);
    CHECK(t.bad_confirmed == 1);
    CHECK(t.good == 3);
    CHECK(t.still_open == 1);
    CHECK(t.packets == scenario().size());
    CHECK(t.missing_bytes_c2s == 100);
    CHECK(t.open_flows == 0);
    CHECK_FALSE(t.host.known);  // a classic pcap carries no drop figures
}

TEST_CASE("live: the intervals add up to the whole-file analysis") {
    capgap::test::TempDir dir;
    const std::string file = dir.file("scenario.pcap");
    write_pcap(file, scenario());
    Options whole_opt;
    whole_opt.tracker.closed_timeout_ns = 1 * s_ns;
    const Report whole = analyze(std::vector<std::string>{file}, whole_opt);
    // A grace and a cap longer than the capture: every session judged at its end, as the
    // whole-file analysis judges it, so the verdicts agree too.
    for (std::int64_t interval : {1 * s_ns, 7 * s_ns, 60 * s_ns}) {
        LiveOptions o = scenario_options(file);
        o.interval_ns = interval;
        o.grace_ns = 3600 * s_ns;
        o.cap_ns = 7200 * s_ns;
        LiveCapture live(o);
        std::uint64_t sessions = 0, bad = 0, bad_ws = 0;
        std::vector<std::uint64_t> ids;
        for (const IntervalReport& r : run_all(live)) {
            sessions += r.report.summary.total_sessions;
            bad += r.report.summary.bad_confirmed;
            bad_ws += r.report.summary.bad_wireshark;
            CHECK(r.report.summary.before_window == 0);
            CHECK(r.report.summary.after_window == 0);
            for (const SessionRow& row : r.report.sessions) {
                // Each session in the interval of its SYN.
                CHECK(row.session.syn_time >= r.begin);
                CHECK(row.session.syn_time < r.end);
                ids.push_back(row.session.id);
            }
        }
        CAPTURE(interval);
        CHECK(sessions == whole.summary.total_sessions);
        CHECK(bad == whole.summary.bad_confirmed);
        CHECK(bad_ws == whole.summary.bad_wireshark);
        std::sort(ids.begin(), ids.end());
        CHECK(std::adjacent_find(ids.begin(), ids.end()) == ids.end());  // none twice
    }
}

TEST_CASE("live: stop() before reading flushes nothing; a missing interface is named") {
    capgap::test::TempDir dir;
    const std::string file = dir.file("scenario.pcap");
    write_pcap(file, scenario());
    LiveCapture live(scenario_options(file));
    live.stop();
    CHECK(live.stopped());
    IntervalReport r;
    CHECK_FALSE(live.next(r));  // nothing was captured: no interval to report

    LiveOptions o;
    o.interfaces = {"capgap-no-such0"};
    try {
        LiveCapture bad(o);
        FAIL("opened a missing interface");
    } catch (const capgap::error& e) {
        const std::string what = e.what();
        CHECK(what.find("capgap-no-such0") != std::string::npos);
        // Without the capture permission libpcap cannot tell a missing interface; either
        // way the message says what to do.
        const bool clear = what.find("no such interface") != std::string::npos ||
                           what.find("no permission") != std::string::npos;
        CHECK(clear);
    }
}

TEST_CASE("live: the text and JSON lines carry the window, verdicts and drops") {
    capgap::test::TempDir dir;
    const std::string file = dir.file("scenario.pcap");
    write_pcap(file, scenario());
    LiveCapture live(scenario_options(file));
    const std::vector<IntervalReport> reports = run_all(live);
    REQUIRE(!reports.empty());
    const std::string text = reports[0].to_text();
    CHECK(text.find('\n') == std::string::npos);
    CHECK(text.find("sessions 3") != std::string::npos);
    CHECK(text.find("bad 1") != std::string::npos);
    CHECK(text.find("host drops unknown") != std::string::npos);
    const std::string json = reports[1].to_json();
    CHECK(json.find('\n') == std::string::npos);
    CHECK(json.find("\"still_open\":1") != std::string::npos);
    CHECK(json.find("\"host_drops\":{\"known\":false}") != std::string::npos);
    CHECK(reports.back().to_text().find("(final)") != std::string::npos);
}
