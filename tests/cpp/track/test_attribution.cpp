// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// The attribution hook (Tracker::record_attribution), which extraction relies on: every
// segment's frame with the instance it was counted in, also when a 4-tuple is reused.

#include <doctest/doctest.h>

#include <capgap/tracker.hpp>

#include <vector>

#include "support/flow_builder.hpp"

using namespace capgap;
using capgap::test::Flow;

namespace {

// Two connections on one 4-tuple: the first closes with a FIN from each side, the second
// starts with a new SYN (new ISNs). Frames 1-6 are the first's, 7-10 the second's, and
// frame 10 is an exact duplicate of frame 9 (the second handshake's ACK).
std::vector<Segment> reused() {
    std::vector<Segment> segs;
    Flow f(segs);
    f.handshake();                 // 1, 2, 3
    f.c(1, 0, 1, tcp_flags::fin);  // 4
    f.s(1, 0, 2, tcp_flags::fin);  // 5
    f.c(2, 0, 2);                  // 6
    f.cisn = 70'000;
    f.sisn = 90'000;
    f.handshake();  // 7, 8, 9
    Segment dup = segs.back();
    dup.frame = 10;
    dup.time.ns += 1000;
    segs.push_back(dup);
    return segs;
}

}  // namespace

TEST_CASE("attribution: each frame with its instance, port reuse and duplicates included") {
    const std::vector<Segment> segs = reused();
    const std::vector<std::uint64_t> want = {0, 0, 0, 0, 0, 0, 1, 1, 1, 1};
    for (const bool batch : {false, true}) {
        Tracker t;
        std::vector<Attribution> got;
        t.record_attribution(&got);
        if (batch) {
            t.feed(segs.data(), segs.size());
        } else {
            for (const Segment& s : segs)
                t.feed(s);
        }
        REQUIRE(got.size() == segs.size());
        for (std::size_t i = 0; i < segs.size(); ++i) {
            CHECK(got[i].frame == segs[i].frame);
            CHECK(got[i].session_id == want[i]);
        }
        CHECK(t.sessions_started() == 2);
        // Switched off, nothing more is recorded.
        t.record_attribution(nullptr);
        Segment late = segs.back();
        late.frame = 11;
        late.time.ns += 1'000'000;
        t.feed(late);
        CHECK(got.size() == segs.size());
        t.finish();
        REQUIRE(t.sessions().size() == 2);
        // As many packets attributed to each instance as the instance counts.
        CHECK(t.sessions()[0].packets == 6);
        CHECK(t.sessions()[1].packets == 5);  // 4 attributed above, then the late one
    }
}

TEST_CASE("attribution: a dropped duplicate is attributed to its instance too") {
    const std::vector<Segment> segs = reused();
    TrackerOptions o;
    o.drop_duplicates = true;
    Tracker t(o);
    std::vector<Attribution> got;
    t.record_attribution(&got);
    std::vector<FeedResult> results;
    for (const Segment& s : segs)
        results.push_back(t.feed(s));
    CHECK(results.back() == FeedResult::dropped_duplicate);
    REQUIRE(got.size() == segs.size());
    CHECK(got.back().frame == 10);
    CHECK(got.back().session_id == 1);
    CHECK(t.counters().duplicates_dropped == 1);
}
