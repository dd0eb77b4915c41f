// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// Flow expiry (docs/counting-rules.md, "Time and flow expiry") is found through a queue of due
// times rather than a walk of the whole table (track/tracker.cpp, sweep()). These tests hold
// it to the rule itself: at every sweep, every instance closed for closed_timeout or idle for
// idle_timeout is finished, and no other. A model of the rule runs beside the tracker over
// random traffic, including packets dated before the ones already seen (an instance's
// last_time then goes back, and with it the time it expires).

#include <doctest/doctest.h>

#include <capgap/tracker.hpp>

#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

#include "support/flow_builder.hpp"

using namespace capgap;
using capgap::test::Flow;

namespace {

constexpr std::int64_t ms = 1'000'000;
constexpr std::int64_t second = 1000 * ms;

// The rule, for flows the model knows: last packet time and whether closed by FINs.
struct ModelFlow {
    bool open = false;    // an instance is open in the tracker
    bool closed = false;  // both FINs seen, after the handshake
    bool dead = false;    // expired: never used again
    std::int64_t last = 0;
};

struct Model {
    TrackerOptions opt;
    std::int64_t now = 0;
    std::int64_t next_sweep = 0;
    bool started = false;
    std::vector<ModelFlow> flows;

    std::int64_t interval() const {
        return std::max<std::int64_t>(std::min(opt.closed_timeout_ns, opt.idle_timeout_ns) / 8,
                                      second);
    }
    // A segment dated `t` arrives: the clock (within its limit: never moves back), the sweep.
    void clock(std::int64_t t) {
        if (!started) {
            started = true;
            now = t;
            next_sweep = t + interval();
            return;
        }
        now = std::max(now, t);
        if (now < next_sweep) return;
        next_sweep = now + interval();
        for (ModelFlow& f : flows) {
            if (!f.open) continue;
            const std::int64_t idle = now - f.last;
            if ((f.closed && idle >= opt.closed_timeout_ns) || idle >= opt.idle_timeout_ns) {
                f.open = false;
                f.dead = true;
            }
        }
    }
    std::size_t open_count() const {
        return static_cast<std::size_t>(
            std::count_if(flows.begin(), flows.end(), [](const ModelFlow& f) { return f.open; }));
    }
};

void random_traffic(std::uint32_t seed, bool steps_back) {
    std::mt19937 rng(seed);
    TrackerOptions opt;
    opt.closed_timeout_ns = 5 * second;
    opt.idle_timeout_ns = 20 * second;
    Tracker tracker(opt);
    Model model;
    model.opt = opt;

    constexpr int n = 60;
    std::vector<Segment> sink;
    std::vector<Flow> flows;
    flows.reserve(n);
    for (int i = 0; i < n; ++i) {
        flows.emplace_back(sink);
        flows.back().client = test::endpoint(static_cast<std::uint8_t>(1 + i % 200),
                                             static_cast<std::uint16_t>(30000 + i));
    }
    model.flows.resize(n);
    std::vector<std::size_t> model_of(n);  // flow slot -> its model entry
    for (std::size_t k = 0; k < model_of.size(); ++k)
        model_of[k] = k;
    std::uint16_t next_port = 50000;
    std::vector<std::uint32_t> sent(n, 1);  // next client payload byte
    std::vector<int> stage(n, 0);           // 0 new, 1 established, 2 client FIN, 3 closed

    std::int64_t t = 1'700'000'000 * second;
    std::uint64_t frame = 0;
    std::size_t checks = 0, expired_seen = 0;
    for (int step = 0; step < 6000; ++step) {
        const int i = static_cast<int>(rng() % n);
        const auto ui = static_cast<std::size_t>(i);
        if (model.flows[model_of[ui]].dead) {
            // Expired: the slot takes a new connection from another port.
            const Endpoint client =
                test::endpoint(static_cast<std::uint8_t>(1 + i % 200), next_port++);
            flows[ui] = Flow(sink);
            flows[ui].client = client;
            model_of[ui] = model.flows.size();
            model.flows.emplace_back();
            stage[ui] = 0;
            sent[ui] = 1;
        }
        t += static_cast<std::int64_t>(rng() % 400) * ms;
        // Now and then a packet dated up to 4 s before the clock (well within its limit).
        std::int64_t at = t;
        if (steps_back && rng() % 8 == 0) at = t - static_cast<std::int64_t>(rng() % 4000) * ms;

        Flow& f = flows[ui];
        sink.clear();
        switch (stage[ui]) {
            case 0:
                f.syn();
                f.synack();
                f.c(1, 0);
                stage[ui] = 1;
                break;
            case 1:
                if (rng() % 6 == 0) {
                    f.c(sent[ui], 0, 1, tcp_flags::fin);
                    stage[ui] = 2;
                } else {
                    f.c(sent[ui], 100);
                    sent[ui] += 100;
                }
                break;
            case 2:
                f.s(1, 0, sent[ui] + 1, tcp_flags::fin);
                stage[ui] = 3;
                break;
            default:
                // After the close: the client's last ACK again (a duplicate, still activity).
                f.c(sent[ui] + 1, 0, 2);
                break;
        }
        for (Segment& s : sink) {
            s.frame = ++frame;
            s.time = Timestamp{at};
            model.clock(at);
            ModelFlow& m = model.flows[model_of[ui]];
            // Expired by this very sweep: the packet starts a new instance, not closed.
            if (m.dead && !m.open) m.closed = false;
            const std::size_t before = tracker.open_sessions();
            tracker.feed(s);
            if (stage[ui] == 3 && !m.dead) m.closed = true;
            m.open = true;
            m.last = at;  // the packet's own time, earlier or not
            ++checks;
            if (tracker.open_sessions() < before) ++expired_seen;
            REQUIRE(tracker.open_sessions() == model.open_count());
        }
    }
    // The test reached what it is about: many checks, and instances expired along the way.
    CHECK(checks > 5000);
    CHECK(expired_seen > 10);
    CHECK(tracker.counters().flows_closed_expired > 0);
    CHECK(tracker.counters().flows_idle_expired > 0);
}

}  // namespace

TEST_CASE("expiry: at every sweep exactly the instances closed or idle for their timeout") {
    for (std::uint32_t seed = 1; seed <= 8; ++seed) {
        CAPTURE(seed);
        random_traffic(seed, false);
    }
}

TEST_CASE("expiry: a packet dated earlier moves the instance's expiry earlier") {
    for (std::uint32_t seed = 1; seed <= 8; ++seed) {
        CAPTURE(seed);
        random_traffic(seed, true);
    }
}

TEST_CASE("expiry: closing brings the closed timeout forward of the idle one") {
    TrackerOptions opt;
    opt.closed_timeout_ns = 5 * second;
    opt.idle_timeout_ns = 600 * second;
    Tracker tracker(opt);
    std::vector<Segment> v;
    Flow a(v), b(v);
    b.client = test::endpoint(9, 41000);
    a.handshake();
    a.c(1, 100);
    a.c(101, 0, 1, tcp_flags::fin);
    a.s(1, 0, 102, tcp_flags::fin);  // closed at this packet's time
    const std::int64_t closed_at = v.back().time.ns;
    for (const Segment& s : v)
        tracker.feed(s);
    REQUIRE(tracker.open_sessions() == 1);
    // Another flow's packets move the clock on, one second at a time.
    b.t_ns = closed_at;
    b.step_ns = second;
    std::vector<Segment> later;
    b.out = &later;
    b.handshake();
    for (int k = 0; k < 10; ++k)
        b.c(1 + 10 * static_cast<std::uint32_t>(k), 10);
    std::size_t open_after_close = 0;
    for (const Segment& s : later) {
        tracker.feed(s);
        if (s.time.ns - closed_at < 5 * second) {
            CHECK(tracker.open_sessions() == 2);  // a's closed timeout not reached: still open
        } else if (s.time.ns - closed_at >= 5 * second + second) {
            CHECK(tracker.open_sessions() == 1);  // a sweep since: a is finished, b open
            ++open_after_close;
        }
    }
    CHECK(open_after_close > 0);
    CHECK(tracker.counters().flows_closed_expired == 1);
}
