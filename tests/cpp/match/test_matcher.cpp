// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// Matcher tests on hand-built sessions and events (no tracker involved).
#include <doctest/doctest.h>

#include <capgap/errors.hpp>
#include <capgap/matcher.hpp>

#include <vector>

using namespace capgap;

namespace {

constexpr std::int64_t sec = 1'000'000'000;
const Timestamp first{1'700'000'000 * sec};

Endpoint ep(const char* addr, std::uint16_t port) {
    return Endpoint{IpAddress::parse(addr), port};
}

Session make_session(std::uint64_t id, std::int64_t syn_ns,
                     SessionCategory cat = SessionCategory::complete,
                     const char* server = "10.0.0.2", std::uint16_t sport = 80,
                     std::uint16_t cport = 40000) {
    Session s;
    s.id = id;
    s.client = ep("10.0.0.1", cport);
    s.server = ep(server, sport);
    s.category = cat;
    if (cat != SessionCategory::partial && cat != SessionCategory::synack_only) {
        s.syn_frame = id + 1;
        s.syn_time = Timestamp{syn_ns};
    }
    s.first_frame = id + 1;
    s.first_time = Timestamp{syn_ns};
    s.last_time = Timestamp{syn_ns + sec};
    s.packets = 1;
    return s;
}

LossEvent make_event(std::uint64_t session, EventKind kind, std::int64_t t_ns,
                     std::uint64_t missing = 0) {
    LossEvent e;
    e.session_id = session;
    e.kind = kind;
    e.time = Timestamp{t_ns};
    e.frame = static_cast<std::uint64_t>(t_ns % 1000) + 1;
    e.missing_bytes = missing;
    return e;
}

IngestStats stats_at(Timestamp t) {
    IngestStats st;
    st.have_time = true;
    st.first_time = t;
    st.last_time = t;
    st.packets_read = 7;
    return st;
}

}  // namespace

TEST_CASE("ServerFilter parses IPv4, IPv6, prefixes and ports") {
    auto f = ServerFilter::parse("10.0.0.0/8");
    CHECK(f.prefix == 8);
    CHECK(!f.port);
    CHECK(f.matches(ep("10.200.3.4", 1)));
    CHECK(!f.matches(ep("11.0.0.1", 1)));
    CHECK(!f.matches(ep("::a00:1", 1)));

    auto host = ServerFilter::parse("10.1.1.1:443");
    CHECK(host.prefix == 32);
    REQUIRE(host.port);
    CHECK(*host.port == 443);
    CHECK(host.matches(ep("10.1.1.1", 443)));
    CHECK(!host.matches(ep("10.1.1.1", 80)));
    CHECK(!host.matches(ep("10.1.1.2", 443)));

    auto host_bits = ServerFilter::parse("10.1.1.77/25:80");
    CHECK(host_bits.matches(ep("10.1.1.1", 80)));
    CHECK(!host_bits.matches(ep("10.1.1.200", 80)));

    auto v6 = ServerFilter::parse("2001:db8::/32");
    CHECK(v6.prefix == 32);
    CHECK(!v6.port);
    CHECK(v6.matches(ep("2001:db8:ffff::1", 9)));
    CHECK(!v6.matches(ep("2001:db9::1", 9)));
    CHECK(!v6.matches(ep("32.1.13.184", 9)));

    auto v6host = ServerFilter::parse("[2001:db8::1]:443");
    CHECK(v6host.prefix == 128);
    CHECK(v6host.matches(ep("2001:db8::1", 443)));
    CHECK(!v6host.matches(ep("2001:db8::2", 443)));

    auto v6net = ServerFilter::parse("[2001:db8::/32]:443");
    CHECK(v6net.matches(ep("2001:db8:1::5", 443)));
    CHECK(!v6net.matches(ep("2001:db8:1::5", 80)));

    auto single_v6 = ServerFilter::parse("2001:db8::1");
    CHECK(single_v6.prefix == 128);

    for (const char* bad : {"", "10.0.0.0/33", "1.2.3.4:70000", "1.2.3.4:", "[::1", "[::1]x",
                            "2001:db8::/129", "bogus", "1.2.3.4/", "[::1]:http"}) {
        CAPTURE(bad);
        CHECK_THROWS_AS(ServerFilter::parse(bad), parse_error);
    }
}

TEST_CASE("window is half-open: t0 included, t1 excluded, on the first SYN") {
    MatchOptions opt;
    opt.window = TimeWindow::parse("10,20");
    const std::int64_t t0 = first.ns + 10 * sec, t1 = first.ns + 20 * sec;
    std::vector<Session> s = {make_session(0, t0 - 1), make_session(1, t0), make_session(2, t1 - 1),
                              make_session(3, t1)};
    Report r = Matcher(opt).match(s, {}, stats_at(first));
    CHECK(r.summary.total_sessions == 2);
    CHECK(r.summary.before_window == 1);
    CHECK(r.summary.after_window == 1);
    REQUIRE(r.sessions.size() == 2);
    CHECK(r.sessions[0].session.id == 1);
    CHECK(r.sessions[1].session.id == 2);
    CHECK(r.ingest.packets_read == 7);
}

TEST_CASE("absolute window bounds and relative bounds without a time") {
    MatchOptions opt;
    opt.window = TimeWindow::parse("1700000010,");
    std::vector<Session> s = {make_session(0, first.ns + 9 * sec),
                              make_session(1, first.ns + 10 * sec)};
    Report r = Matcher(opt).match(s, {}, stats_at(first));
    CHECK(r.summary.total_sessions == 1);
    CHECK(r.summary.before_window == 1);

    MatchOptions rel;
    rel.window = TimeWindow::parse("5,10");
    IngestStats none;  // have_time false: relative bounds count from 0
    Report r2 = Matcher(rel).match({make_session(0, 5 * sec), make_session(1, 10 * sec)}, {}, none);
    CHECK(r2.summary.total_sessions == 1);
    CHECK(r2.summary.after_window == 1);
}

TEST_CASE("verdicts: confirmed, wireshark, data missing and control only") {
    const std::int64_t t = first.ns + sec;
    std::vector<Session> s = {make_session(0, t), make_session(1, t), make_session(2, t),
                              make_session(3, t), make_session(4, t)};
    std::vector<LossEvent> e = {
        make_event(0, EventKind::acked_unseen, t + 1, 100),
        make_event(0, EventKind::ws_ack_lost_segment, t + 1),
        make_event(1, EventKind::control_missing, t + 2),
        make_event(2, EventKind::ws_lost_segment, t + 3),
        make_event(2, EventKind::reordered, t + 3, 50),
        make_event(3, EventKind::acked_before_data, t + 4, 10),
        make_event(4, EventKind::gap_unacked, t + 5, 20),
        make_event(4, EventKind::acked_unseen, t + 6, 30),
    };
    e[7].late_filled = true;
    e[7].direction = Direction::s2c;

    Report r = Matcher().match(s, e, stats_at(first));
    const Summary& m = r.summary;
    CHECK(m.total_sessions == 5);
    CHECK(m.bad_confirmed == 3);
    CHECK(m.bad_wireshark == 2);
    CHECK(m.bad_sessions == 3);
    CHECK(m.mode == Mode::confirmed);
    CHECK(m.bad_data_missing == 2);
    CHECK(m.bad_control_only == 1);
    CHECK(m.wireshark_only == 1);
    CHECK(m.confirmed_only == 2);
    CHECK(m.percentage == doctest::Approx(60.0));
    CHECK(m.unmatched_events == 0);

    REQUIRE(r.sessions.size() == 5);
    CHECK(r.sessions[0].bad);
    CHECK(r.sessions[0].bad_wireshark);
    CHECK(r.sessions[0].events == 1);
    CHECK(r.sessions[0].missing_bytes == 100);
    CHECK(r.sessions[0].data_missing);
    CHECK(r.sessions[1].bad);
    CHECK(!r.sessions[1].data_missing);
    CHECK(!r.sessions[2].bad);
    CHECK(r.sessions[2].bad_wireshark);
    CHECK(r.sessions[2].missing_bytes == 0);
    CHECK(!r.sessions[3].bad);
    CHECK(r.sessions[4].events == 2);
    CHECK(r.sessions[4].missing_bytes == 50);
    CHECK(r.events.size() == 8);

    // Tallies by kind and direction, non-zero only.
    std::uint64_t total = 0;
    bool saw_late = false;
    for (const EventTally& tl : r.tallies) {
        total += tl.count;
        if (tl.kind == EventKind::acked_unseen && tl.direction == Direction::s2c) {
            CHECK(tl.count == 1);
            CHECK(tl.missing_bytes == 30);
            CHECK(tl.late_filled == 1);
            saw_late = true;
        }
        if (tl.kind == EventKind::acked_unseen && tl.direction == Direction::c2s) {
            CHECK(tl.missing_bytes == 100);
            CHECK(tl.late_filled == 0);
        }
    }
    CHECK(saw_late);
    CHECK(total == 8);

    MatchOptions ws;
    ws.mode = Mode::wireshark;
    Report rw = Matcher(ws).match(s, e, stats_at(first));
    CHECK(rw.summary.bad_sessions == 2);
    CHECK(rw.summary.mode == Mode::wireshark);
    CHECK(rw.summary.bad_confirmed == 3);
}

TEST_CASE("events_in_window_only counts only events inside the window") {
    MatchOptions opt;
    opt.window = TimeWindow::parse("0,10");
    const std::int64_t t = first.ns + 5 * sec;
    std::vector<Session> s = {make_session(0, t)};
    std::vector<LossEvent> e = {make_event(0, EventKind::acked_unseen, first.ns + 11 * sec, 5)};
    CHECK(Matcher(opt).match(s, e, stats_at(first)).summary.bad_sessions == 1);
    opt.events_in_window_only = true;
    Report r = Matcher(opt).match(s, e, stats_at(first));
    CHECK(r.summary.bad_sessions == 0);
    CHECK(r.events.empty());
    CHECK(r.summary.unmatched_events == 0);
}

TEST_CASE("key and time join: latest instance at or before the event") {
    const std::int64_t a = first.ns + 10 * sec, b = first.ns + 20 * sec;
    std::vector<Session> s = {make_session(0, a), make_session(1, b)};
    auto keyed = [&](std::int64_t t, bool reversed) {
        LossEvent e = make_event(no_session, EventKind::acked_unseen, t, 1);
        e.src = s[0].client;
        e.dst = s[0].server;
        if (reversed) std::swap(e.src, e.dst);
        return e;
    };
    std::vector<LossEvent> e = {keyed(a + 5 * sec, false), keyed(b, true), keyed(a - 1, false)};
    LossEvent other = keyed(b + 1, false);
    other.dst.port = 81;
    e.push_back(other);

    Report r = Matcher().match(s, e, stats_at(first));
    CHECK(r.summary.unmatched_events == 2);
    REQUIRE(r.events.size() == 2);
    CHECK(r.events[0].session_id == 0);
    CHECK(r.events[1].session_id == 1);
    CHECK(r.summary.bad_sessions == 2);
}

TEST_CASE("key join skips instances without a SYN") {
    // Only instances with a SYN frame are join targets.
    const std::int64_t t = first.ns + sec;
    Session p = make_session(0, t, SessionCategory::partial);
    LossEvent e = make_event(no_session, EventKind::acked_unseen, t + 1, 1);
    e.src = p.client;
    e.dst = p.server;
    Report r = Matcher().match({p}, {e}, stats_at(first));
    CHECK(r.summary.unmatched_events == 1);
    CHECK(r.summary.partial == 1);
    CHECK(r.summary.total_sessions == 0);
}

TEST_CASE("events of sessions outside the window or filter are not unmatched") {
    MatchOptions opt;
    opt.window = TimeWindow::parse("10,");
    std::vector<Session> s = {make_session(0, first.ns + sec),
                              make_session(1, first.ns + 11 * sec)};
    LossEvent keyed = make_event(no_session, EventKind::acked_unseen, first.ns + 2 * sec, 1);
    keyed.src = s[0].client;
    keyed.dst = s[0].server;
    std::vector<LossEvent> e = {make_event(0, EventKind::acked_unseen, first.ns + 2 * sec, 1),
                                keyed, make_event(99, EventKind::gap_unacked, first.ns, 1)};
    Report r = Matcher(opt).match(s, e, stats_at(first));
    CHECK(r.summary.total_sessions == 1);
    CHECK(r.summary.bad_sessions == 0);
    CHECK(r.summary.unmatched_events == 1);  // only the event of unknown id 99
    CHECK(r.events.empty());
}

TEST_CASE("server and port filters") {
    const std::int64_t t = first.ns + sec;
    std::vector<Session> s = {make_session(0, t, SessionCategory::complete, "10.0.0.2", 80),
                              make_session(1, t, SessionCategory::complete, "10.0.0.2", 443),
                              make_session(2, t, SessionCategory::complete, "192.168.1.1", 443),
                              make_session(3, t, SessionCategory::complete, "2001:db8::5", 443)};
    MatchOptions opt;
    opt.servers = {ServerFilter::parse("10.0.0.0/8")};
    Report r = Matcher(opt).match(s, {}, stats_at(first));
    CHECK(r.summary.total_sessions == 2);
    CHECK(r.summary.filtered_out == 2);

    opt.ports = {443};
    r = Matcher(opt).match(s, {}, stats_at(first));
    CHECK(r.summary.total_sessions == 1);
    CHECK(r.sessions.at(0).session.id == 1);

    MatchOptions v6;
    v6.servers = {ServerFilter::parse("[2001:db8::/32]:443"), ServerFilter::parse("192.168.1.1")};
    r = Matcher(v6).match(s, {}, stats_at(first));
    CHECK(r.summary.total_sessions == 2);
    CHECK(r.sessions.at(0).session.id == 2);
    CHECK(r.sessions.at(1).session.id == 3);
}

TEST_CASE("categories are counted separately") {
    MatchOptions opt;
    opt.window = TimeWindow::parse("0,100");
    const std::int64_t t = first.ns + sec;
    std::vector<Session> s = {make_session(0, t, SessionCategory::complete),
                              make_session(1, t, SessionCategory::syn_only),
                              make_session(2, t, SessionCategory::one_sided),
                              make_session(3, t, SessionCategory::synack_only),
                              make_session(4, t, SessionCategory::partial),
                              make_session(5, t, SessionCategory::partial),
                              make_session(6, first.ns + 200 * sec, SessionCategory::partial)};
    s[0].evicted = true;
    Report r = Matcher(opt).match(s, {}, stats_at(first));
    const Summary& m = r.summary;
    CHECK(m.total_sessions == 3);
    CHECK(m.syn_only == 1);
    CHECK(m.one_sided == 1);
    CHECK(m.synack_only == 1);
    CHECK(m.partial == 2);
    CHECK(m.evicted == 1);
    CHECK(m.bad_sessions == 0);
    CHECK(m.percentage == 0.0);
}

TEST_CASE("unsorted sparse session ids, events sorted by session then frame") {
    const std::int64_t t = first.ns + sec;
    std::vector<Session> s = {make_session(50, t), make_session(7, t)};
    std::vector<LossEvent> e = {make_event(50, EventKind::acked_unseen, t + 9, 1),
                                make_event(7, EventKind::acked_unseen, t + 5, 1),
                                make_event(7, EventKind::gap_unacked, t + 2, 1)};
    Report r = Matcher().match(s, e, stats_at(first));
    REQUIRE(r.sessions.size() == 2);
    CHECK(r.sessions[0].session.id == 7);
    CHECK(r.sessions[1].session.id == 50);
    REQUIRE(r.events.size() == 3);
    CHECK(r.events[0].session_id == 7);
    CHECK(r.events[0].frame < r.events[1].frame);
    CHECK(r.events[2].session_id == 50);
    CHECK(r.sessions[0].events == 2);
}

TEST_CASE("no sessions: percentage and interval are zero") {
    Report r = Matcher().match({}, {}, IngestStats{});
    CHECK(r.summary.total_sessions == 0);
    CHECK(r.summary.percentage == 0.0);
    CHECK(r.summary.ci95_low == 0.0);
    CHECK(r.summary.ci95_high == 0.0);
}

TEST_CASE("include_excluded: rows for partial and synack_only instances and unmatched events") {
    MatchOptions opt;
    opt.window = TimeWindow::parse("0,100");
    const std::int64_t t = first.ns + sec;
    std::vector<Session> s = {make_session(0, t, SessionCategory::complete),
                              make_session(1, t, SessionCategory::synack_only),
                              make_session(2, t, SessionCategory::partial),
                              make_session(3, first.ns + 200 * sec, SessionCategory::partial),
                              make_session(4, t, SessionCategory::partial, "10.9.9.9", 81)};
    opt.ports = {80};  // session 4 is filtered out, session 3 is after the window
    const std::vector<LossEvent> e = {make_event(0, EventKind::gap_unacked, t + 5, 10),
                                      make_event(2, EventKind::acked_unseen, t + 3, 7),
                                      make_event(99, EventKind::acked_unseen, t + 2, 1),
                                      make_event(3, EventKind::acked_unseen, t + 1, 1)};
    const Report counted = Matcher(opt).match(s, e, stats_at(first));
    CHECK(counted.sessions.size() == 1);
    CHECK(counted.events.size() == 1);

    opt.include_excluded = true;
    const Report all = Matcher(opt).match(s, e, stats_at(first));
    // The headline and the tallies are those of the default.
    CHECK(all.summary.total_sessions == 1);
    CHECK(all.summary.bad_sessions == 1);
    CHECK(all.summary.bad_confirmed == 1);
    CHECK(all.summary.partial == 1);
    CHECK(all.summary.synack_only == 1);
    CHECK(all.summary.unmatched_events == 1);
    CHECK(all.summary.filtered_out == 1);
    REQUIRE(all.tallies.size() == 1);
    CHECK(all.tallies[0].kind == EventKind::gap_unacked);
    CHECK(all.tallies[0].count == 1);
    // Rows: the counted session, then the synack_only and the partial instance in the window.
    REQUIRE(all.sessions.size() == 3);
    CHECK(all.sessions[0].session.id == 0);
    CHECK(all.sessions[1].session.category == SessionCategory::synack_only);
    CHECK_FALSE(all.sessions[1].bad);
    CHECK(all.sessions[2].session.id == 2);
    CHECK(all.sessions[2].session.category == SessionCategory::partial);
    CHECK(all.sessions[2].bad);  // judged as any session, not counted
    CHECK(all.sessions[2].missing_bytes == 7);
    // Events: by session, then the unmatched one (no session) last; session 3's is dropped.
    REQUIRE(all.events.size() == 3);
    CHECK(all.events[0].session_id == 0);
    CHECK(all.events[1].session_id == 2);
    CHECK(all.events[2].session_id == no_session);
    CHECK(all.events[2].missing_bytes == 1);
}
