// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// Tracker behaviour beyond the section 8 table: duplicates, the flow table's timeouts and
// caps, attribution details.

#include <doctest/doctest.h>

#include <algorithm>
#include <random>
#include <vector>

#include "support/flow_builder.hpp"

using namespace capgap;
using capgap::test::Flow;
using capgap::test::track;

TEST_CASE("tracker: SPAN duplicates are counted, never loss, and can be dropped") {
    std::vector<Segment> v;
    Flow f(v);
    f.handshake();
    f.step_ns = 10'000;  // 10 us apart: the second copy of each is a duplicate
    for (std::uint32_t i = 0; i < 5; ++i) {
        f.c(1 + 100 * i, 100).checksum = static_cast<std::uint16_t>(i + 1);
        f.c(1 + 100 * i, 100).checksum = static_cast<std::uint16_t>(i + 1);
    }
    f.s(1, 0, 501);
    SUBCASE("counted") {
        Tracker t;
        for (const auto& s : v)
            t.feed(s);
        t.finish();
        CHECK(t.counters().duplicate_packets == 5);
        CHECK(t.counters().duplicates_dropped == 0);
        CHECK(t.sessions()[0].packets == v.size());
        for (const auto& e : t.events())
            CHECK_FALSE(is_loss(e.kind));
        for (const auto& e : t.events())
            CHECK_FALSE(is_wireshark_flag(e.kind));
    }
    SUBCASE("dropped") {
        TrackerOptions o;
        o.drop_duplicates = true;
        Tracker t(o);
        for (const auto& s : v)
            t.feed(s);
        t.finish();
        CHECK(t.counters().duplicates_dropped == 5);
        CHECK(t.sessions()[0].packets == v.size() - 5);
    }
}

TEST_CASE("tracker: a resend with another checksum, or later than the window, is no duplicate") {
    std::vector<Segment> v;
    Flow f(v);
    f.handshake();
    f.c(1, 100).checksum = 7;
    f.step_ns = 10'000;
    f.c(1, 100).checksum = 8;  // same numbers, other checksum: a retransmission
    f.step_ns = 5'000'000;
    f.c(1, 100).checksum = 8;  // same again, 5 ms later: beyond the 1 ms window
    Tracker t;
    for (const auto& s : v)
        t.feed(s);
    t.finish();
    CHECK(t.counters().duplicate_packets == 0);
}

TEST_CASE("tracker: closed instances leave the table after closed_timeout") {
    std::vector<Segment> v;
    Flow f(v);
    f.handshake();
    f.c(1, 100);
    f.s(1, 0, 101);
    f.raw(true, f.cisn + 101, 0, tcp_flags::rst, 0);
    TrackerOptions o;
    o.closed_timeout_ns = 2'000'000'000;
    Tracker t(o);
    for (const auto& s : v)
        t.feed(s);
    CHECK(t.open_sessions() == 1);
    // Another connection's packets move the clock past the timeout.
    std::vector<Segment> w;
    Flow g(w);
    g.client = test::endpoint(3, 50000);
    g.t_ns = f.t_ns + 3'000'000'000;
    g.syn();
    g.t_ns += 3'000'000'000;
    g.syn();
    for (const auto& s : w)
        t.feed(s);
    CHECK(t.open_sessions() == 1);
    CHECK(t.counters().flows_closed_expired == 1);
    // A late packet of the finished connection now forms a partial instance.
    f.t_ns = g.t_ns;
    std::vector<Segment> late;
    f.out = &late;
    f.s(1, 0, 101);
    t.feed(late.back());
    t.finish();
    REQUIRE(t.sessions().size() == 3);
    CHECK(t.sessions()[0].packets == v.size());
    CHECK(t.sessions()[2].category == SessionCategory::partial);
}

TEST_CASE("tracker: idle open instances expire after idle_timeout, the rest at the end") {
    std::vector<Segment> v;
    Flow f(v);
    f.handshake();
    f.c(1, 100);
    TrackerOptions o;
    o.idle_timeout_ns = 10'000'000'000;
    o.closed_timeout_ns = 0;
    Tracker t(o);
    for (const auto& s : v)
        t.feed(s);
    Flow g(v);
    g.client = test::endpoint(3, 50000);
    g.t_ns = f.t_ns + 20'000'000'000;
    g.syn();
    g.t_ns += 2'000'000'000;
    g.syn();
    t.feed(v[v.size() - 2]);
    t.feed(v.back());
    CHECK(t.counters().flows_idle_expired == 1);
    CHECK(t.open_sessions() == 1);
    t.finish();
    CHECK(t.sessions().size() == 2);
    CHECK_FALSE(t.sessions()[0].evicted);
}

TEST_CASE("tracker: max_open_flows bounds the table and marks evicted sessions") {
    TrackerOptions o;
    o.max_open_flows = 100;
    Tracker t(o);
    std::vector<Segment> v;
    Flow f(v);
    for (std::uint16_t p = 0; p < 1000; ++p) {  // a SYN flood from 1000 ports
        f.client = test::endpoint(9, static_cast<std::uint16_t>(20000 + p));
        f.syn();
    }
    for (const auto& s : v) {
        t.feed(s);
        CHECK(t.open_sessions() <= 100);
    }
    t.finish();
    CHECK(t.sessions().size() == 1000);
    CHECK(t.counters().flows_evicted >= 900);
    CHECK(t.counters().open_flows_peak == 100);
    std::size_t evicted = 0;
    for (const auto& s : t.sessions())
        evicted += s.evicted ? 1 : 0;
    CHECK(evicted == t.counters().flows_evicted);
    CHECK_FALSE(t.sessions().back().evicted);  // the newest stay open to the end
}

TEST_CASE("tracker: the hole cap marks the session evicted instead of growing") {
    TrackerOptions o;
    o.max_holes_per_direction = 8;
    std::vector<Segment> v;
    Flow f(v);
    f.handshake();
    for (std::uint32_t i = 0; i < 100; ++i)
        f.c(1 + 200 * i, 100);  // a hole after each
    auto r = track(v, o);
    REQUIRE(r.sessions.size() == 1);
    CHECK(r.sessions[0].evicted);
    CHECK(r.bad(0));
    // Wireshark flags one packet per gap: past the cap they are not kept either, and the
    // Wireshark verdict stands.
    CHECK(r.bad_ws(0));
    CHECK(r.count(0, EventKind::ws_lost_segment, Direction::c2s) == 8);
}

TEST_CASE("tracker: data splitting holes stays within the hole cap") {
    // Client bytes 1..10000 are missed, then ten-byte pieces inside them arrive: each splits
    // the hole in two. Uncapped that is 10 holes; at a cap of 4 the list stops growing.
    std::vector<Segment> v;
    Flow f(v);
    f.handshake();
    f.c(10001, 100);
    for (std::uint32_t k = 1; k <= 9; ++k)
        f.c(1 + 1000 * k, 10);
    const auto full = track(v);
    CHECK(full.count(0, EventKind::gap_unacked, Direction::c2s) == 10);
    CHECK_FALSE(full.sessions[0].evicted);
    TrackerOptions o;
    o.max_holes_per_direction = 4;
    const auto capped = track(v, o);
    CHECK(capped.count(0, EventKind::gap_unacked, Direction::c2s) == 4);
    CHECK(capped.sessions[0].evicted);
    CHECK(capped.bad(0));
}

TEST_CASE("tracker: resolved runs stay within the cap, the verdict does not change") {
    TrackerOptions o;
    o.max_holes_per_direction = 4;
    std::vector<Segment> v;
    Flow f(v);
    f.step_ns = 10'000;  // 10 us: all of it well within the reorder window
    f.handshake();
    for (std::uint32_t i = 20; i-- > 0;)
        f.c(1 + 100 * i, 100);  // 20 segments in reverse order: each one fills a piece
    f.s(1, 0, 2001);
    Tracker t(o);
    for (const auto& s : v)
        t.feed(s);
    t.finish();
    REQUIRE(t.sessions().size() == 1);
    CHECK(t.sessions()[0].evicted);  // the detail was capped: said so
    CHECK(t.counters().holes_cap_hit == 1);
    for (const auto& e : t.events())
        CHECK_FALSE(is_loss(e.kind));  // reordering only: good, as without the cap

    // A late-filled loss past the cap is still kept: the session is bad, as without the cap.
    std::vector<Segment> w = v;
    Flow g(w);
    g.t_ns = w.back().time.ns + 50'000'000;  // 50 ms later
    g.frame = w.back().frame;
    const std::uint32_t late = 2001;
    g.c(late + 100, 100);  // 2001..2100 missing
    g.s(1, 0, 2201);       // ACKed: a hole acked
    g.t_ns += 50'000'000;
    g.c(late, 100);  // filled long after its ACK: late-filled acked_unseen
    const auto r = track(w, o);
    CHECK(r.bad(0));
    CHECK(r.sessions[0].evicted);
}

TEST_CASE("tracker: events carry the session id and the sender of the missing bytes") {
    std::vector<Segment> v;
    Flow f(v);
    f.handshake();
    f.s(1, 100);
    f.s(201, 100);  // 101..200 missed
    f.c(1, 0, 301);
    auto r = track(v);
    const LossEvent* e = r.first(0, EventKind::acked_unseen);
    REQUIRE(e != nullptr);
    CHECK(e->session_id == 0);
    CHECK(e->direction == Direction::s2c);
    CHECK(e->src == f.server);
    CHECK(e->dst == f.client);
    CHECK(e->frame == 6);
    CHECK(e->seq_begin == 101);
    CHECK(e->seq_end == 201);
}

TEST_CASE("tracker: reorder_window decides between acked_before_data and late acked_unseen") {
    std::vector<Segment> v;
    Flow f(v);
    f.handshake();
    f.step_ns = 2'000'000;
    f.s(1, 0, 101);  // ACK first
    f.c(1, 100);     // data 2 ms later
    TrackerOptions narrow;
    narrow.reorder_window_ns = 1'000'000;
    CHECK_FALSE(track(v).bad(0));
    auto r = track(v, narrow);
    CHECK(r.bad(0));
    REQUIRE(r.first(0, EventKind::acked_unseen) != nullptr);
    CHECK(r.first(0, EventKind::acked_unseen)->late_filled);
}

TEST_CASE("tracker: a refused attempt stays past closed_timeout, so a late retry joins it") {
    std::vector<Segment> v;
    Flow f(v);
    f.syn();
    f.raw(false, 0, f.cisn + 1, tcp_flags::rst | tcp_flags::ack, 0);
    f.wait_ms(9000);  // beyond the 5 s closed timeout
    Flow g(v);        // other traffic moves the clock meanwhile
    g.client = test::endpoint(3, 50000);
    g.t_ns = f.t_ns - 1'000'000'000;
    g.syn();
    f.syn();  // the retry, same ISN
    TrackerOptions o;
    o.closed_timeout_ns = 5'000'000'000;
    auto r = track(v, o);
    REQUIRE(r.sessions.size() == 2);
    CHECK(r.sessions[0].syn_count == 2);
}

TEST_CASE("tracker: feeding a batch gives exactly what feeding one by one gives") {
    // Interleaved flows with a drop, a reordering, a duplicate, closes and port reuse, on a
    // table small enough that batches see evictions, sweeps and growth in the middle.
    std::vector<Segment> v;
    std::vector<Flow> flows;
    for (std::uint16_t i = 0; i < 300; ++i) {
        flows.emplace_back(v);
        flows.back().client = test::endpoint(static_cast<std::uint8_t>(1 + i % 7),
                                             static_cast<std::uint16_t>(30000 + i % 120));
        flows.back().cisn = 1000u + 7919u * i;
    }
    std::int64_t t = 1'700'000'000'000'000'000;
    for (int step = 0; step < 12; ++step) {
        for (std::size_t i = 0; i < flows.size(); ++i) {
            Flow& f = flows[i];
            f.t_ns = (t += 2'000'000);
            f.step_ns = 0;
            switch (step) {
                case 0:
                    f.syn();
                    break;
                case 1:
                    f.synack();
                    break;
                case 2:
                    f.c(1, 0);
                    break;
                case 3:
                    f.c(1, 100);
                    break;
                case 4:
                    if (i % 5 != 0) f.c(101, 100);
                    break;  // every fifth drops this one
                case 5:
                    f.c(201, 100);
                    break;
                case 6:
                    f.s(1, 0, 301);
                    if (i % 9 == 0) v.push_back(v.back());  // a SPAN duplicate
                    break;
                case 7:
                    if (i % 4 == 0) f.c(301, 0);
                    break;
                case 8:
                    f.s(1, 500, 301);
                    break;
                case 9:
                    f.c(301, 0, 501, tcp_flags::fin);
                    break;
                case 10:
                    f.s(501, 0, 302, tcp_flags::fin);
                    break;
                default:
                    if (i % 3 == 0) f.c(302, 0, 502);
                    break;
            }
        }
    }
    std::uint64_t frame = 0;
    for (Segment& s : v)
        s.frame = ++frame;
    TrackerOptions expiring;  // closed instances leave the table between batches
    expiring.closed_timeout_ns = 100'000'000;
    TrackerOptions crowded;  // the cap evicts in the middle of batches
    crowded.max_open_flows = 150;
    for (const TrackerOptions& o : {expiring, crowded}) {
        const test::Result one = test::track(v, o);
        REQUIRE(one.sessions.size() >= 300);
        for (std::size_t batch : {std::size_t{1}, std::size_t{7}, std::size_t{64}, v.size()}) {
            CAPTURE(batch);
            Tracker tr(o);
            for (std::size_t i = 0; i < v.size(); i += batch)
                tr.feed(v.data() + i, std::min(batch, v.size() - i));
            tr.finish();
            CHECK(tr.sessions() == one.sessions);
            CHECK(tr.events() == one.events);
            CHECK(tr.counters().duplicate_packets > 0);
            if (o.max_open_flows == crowded.max_open_flows) {
                CHECK(tr.counters().flows_evicted > 0);
            } else {
                CHECK(tr.counters().flows_closed_expired > 0);
            }
        }
    }
}

TEST_CASE("tracker: ACKs and fills in any order leave no hole wrongly unacked") {
    // Server holes 0..100 (from the start the client's ACK places, phantom SYN-ACK byte
    // included), 101..200, 301..400, 501..600. An ACK of 350 covers the first two and half
    // the third; data then fills all of 101..200 within the reorder window, which removes a
    // hole below the unacked rest of the third; a final ACK of 701 must cover that rest and
    // the fourth.
    std::vector<Segment> v;
    Flow f(v);
    f.syn();
    f.c(1, 0);  // no SYN-ACK seen: the server's start is placed by the client's ACK
    f.s(101, 0, 1);
    f.s(201, 100);
    f.s(401, 100);
    f.s(601, 100);
    f.c(1, 0, 350);
    f.s(101, 100);  // 1 ms after the ACK: acked_before_data, not loss
    f.c(1, 0, 701);
    const auto r = track(v);
    std::uint64_t unseen = 0, unacked = 0;
    for (const auto& e : r.events) {
        if (e.direction != Direction::s2c) continue;
        if (e.kind == EventKind::acked_unseen) unseen += e.missing_bytes;
        if (e.kind == EventKind::gap_unacked) unacked += e.missing_bytes;
    }
    CHECK(unacked == 0);
    CHECK(unseen == 100 + 100 + 100);  // 1..100, 301..400, 501..600
    CHECK(r.count(0, EventKind::acked_before_data, Direction::s2c) == 1);
}

TEST_CASE("tracker: header prediction changes nothing") {
    // Random conversations (drops, reorderings, duplicates, ACKs of unseen data, zero windows,
    // missed handshake packets, FIN and RST closes, sequence numbers across 2^32), interleaved,
    // tracked with and without header prediction: the sessions and events must be the same.
    std::mt19937 rng(20261127);
    auto chance = [&rng](int percent) {
        return std::uniform_int_distribution<int>(0, 99)(rng) < percent;
    };
    auto pick = [&rng](std::uint32_t lo, std::uint32_t hi) {
        return std::uniform_int_distribution<std::uint32_t>(lo, hi)(rng);
    };
    std::vector<Segment> all;
    for (int conn = 0; conn < 800; ++conn) {
        std::vector<Segment> v;
        Flow f(v);
        f.client = test::endpoint(static_cast<std::uint8_t>(1 + conn % 5),
                                  static_cast<std::uint16_t>(30000 + conn % 50));
        f.cisn = chance(30) ? 0xffffffffu - pick(0, 3000) : pick(0, 0xffffffffu);
        f.sisn = chance(30) ? 0xffffffffu - pick(0, 3000) : pick(0, 0xffffffffu);
        // Half of them within a second (keys reused while open), half over 20 seconds.
        const std::uint32_t spread_ms = conn % 2 == 0 ? 1'000 : 20'000;
        f.t_ns = 1'700'000'000'000'000'000 + std::int64_t{pick(0, spread_ms)} * 1'000'000;
        f.step_ns = std::int64_t{pick(1, 3000)} * 1'000;
        if (!chance(10)) f.syn();
        if (!chance(10)) f.synack();
        std::uint32_t cnext = 1, snext = 1;  // relative next numbers
        // Some servers keep ACKing client data the tap never saw (Wireshark flags it once, and
        // again after the client ACKs anew).
        const std::uint32_t unseen = chance(15) ? pick(1, 3000) : 0;
        const int rounds = static_cast<int>(pick(1, 8));
        for (int r = 0; r < rounds; ++r) {
            for (std::uint32_t k = pick(0, 4); k > 0; --k) {
                const std::uint32_t len = chance(20) ? 0 : pick(1, 1460);
                if (chance(6)) {  // lost on the way to the tap
                    cnext += len;
                    continue;
                }
                f.c(cnext, len, snext).window = static_cast<std::uint16_t>(chance(5) ? 0 : 65535);
                if (chance(5) && cnext > 1) {  // resent, repacketised, with new bytes after
                    const std::uint32_t back = pick(1, std::min<std::uint32_t>(cnext - 1, 500));
                    const std::uint32_t more = pick(1, 500);
                    f.c(cnext - back, back + len + more, snext);
                    cnext += more;
                }
                cnext += len;
            }
            f.s(snext, 0, cnext + unseen + (chance(4) ? pick(1, 3000) : 0));
            for (std::uint32_t k = pick(0, 6); k > 0; --k) {
                const std::uint32_t len = pick(1, 1460);
                if (chance(6)) {
                    snext += len;
                    continue;
                }
                f.s(snext, len, cnext + unseen);
                snext += len;
            }
            if (!chance(15)) f.c(cnext, 0, snext);
        }
        if (chance(50)) {
            if (!chance(20)) f.c(cnext, 0, snext, tcp_flags::fin);  // or the tap missed it
            f.s(snext, 0, cnext + 1, tcp_flags::fin);
            f.c(cnext + 1, 0, snext + 1);
        } else if (chance(50)) {
            f.c(cnext, 0, snext, tcp_flags::rst);
        }
        // Taps reorder neighbours and see some packets twice.
        for (std::size_t i = 0; i + 1 < v.size(); ++i) {
            if (chance(4)) std::swap(v[i], v[i + 1]);
            if (chance(3)) v.insert(v.begin() + static_cast<std::ptrdiff_t>(i), v[i]);
        }
        all.insert(all.end(), v.begin(), v.end());
    }
    std::stable_sort(all.begin(), all.end(),
                     [](const Segment& a, const Segment& b) { return a.time.ns < b.time.ns; });
    std::uint64_t frame = 0;
    for (Segment& s : all)
        s.frame = ++frame;

    TrackerOptions fast_close;  // closed instances leave early: "answered" decides which
    fast_close.closed_timeout_ns = 1'000'000;
    for (const TrackerOptions& opt : {TrackerOptions{}, fast_close}) {
        auto run = [&all](TrackerOptions o, bool batch) {
            Tracker t(o);
            if (batch) {
                t.feed(all.data(), all.size());
            } else {
                for (const Segment& s : all)
                    t.feed(s);
            }
            t.finish();
            return t;
        };
        TrackerOptions general = opt;
        general.header_prediction = false;
        const Tracker expected = run(general, false);
        REQUIRE(expected.sessions().size() >= 800);
        const test::Result r{expected.sessions(), expected.events()};
        int lossy = 0, flagged = 0;
        for (const Session& s : r.sessions) {
            lossy += r.bad(s.id) ? 1 : 0;
            flagged += r.bad_ws(s.id) ? 1 : 0;
        }
        CHECK(lossy > 80);  // the test covers both kinds of verdict, and good sessions too
        CHECK(flagged > 80);
        CHECK(lossy < 720);

        for (const bool batch : {false, true}) {
            CAPTURE(batch);
            const Tracker predicted = run(opt, batch);
            CHECK(predicted.sessions() == expected.sessions());
            CHECK(predicted.events() == expected.events());
            const TrackerCounters& a = predicted.counters();
            const TrackerCounters& b = expected.counters();
            CHECK(a.duplicate_packets == b.duplicate_packets);
            CHECK(a.flows_closed_expired == b.flows_closed_expired);
            CHECK(a.flows_idle_expired == b.flows_idle_expired);
            CHECK(a.open_flows_peak == b.open_flows_peak);
        }
    }
}

TEST_CASE("tracker: header prediction follows the sequence space past 2^31 bytes") {
    // 40,000 in-order 64,000-byte segments (2.56 GB, past half the sequence space), then one
    // lost segment: the gap is found where it is, with or without header prediction.
    std::vector<Segment> v;
    Flow f(v);
    f.step_ns = 10'000;
    f.handshake();
    std::uint32_t next = 1;
    constexpr std::uint32_t len = 64'000;
    for (int i = 0; i < 40'000; ++i) {
        f.c(next, len);
        next += len;
        if (i % 10 == 9) f.s(1, 0, next);
    }
    const std::uint32_t lost = next;
    next += len;  // lost
    f.c(next, len);
    next += len;
    f.s(1, 0, next);
    f.c(next, 0, 1, tcp_flags::fin);
    f.s(1, 0, next + 1, tcp_flags::fin);

    for (const bool prediction : {true, false}) {
        CAPTURE(prediction);
        TrackerOptions opt;
        opt.header_prediction = prediction;
        const test::Result r = test::track(v, opt);
        REQUIRE(r.sessions.size() == 1);
        CHECK(r.sessions[0].bytes_c2s == std::uint64_t{40'001} * len);
        const LossEvent* e = r.first(0, EventKind::acked_unseen);
        REQUIRE(e != nullptr);
        CHECK(e->seq_begin == lost);  // relative to the ISN, as events count
        CHECK(e->seq_end == std::uint64_t{lost} + len);
        CHECK(e->missing_bytes == len);
    }
}
