// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// The hole/run interval set (track/gaps.hpp) on its own: splitting, the reorder window, the
// merge of runs, the caps, and ranges across the 2^32 wrap of the sequence numbers.

#include <doctest/doctest.h>

#include <cstdint>
#include <limits>
#include <vector>

#include "track/gaps.hpp"
#include "track/seq_space.hpp"

using capgap::EventKind;
using capgap::Timestamp;
using capgap::detail::Gaps;
using capgap::detail::Hole;
using capgap::detail::merge_run;
using capgap::detail::Run;
using capgap::detail::SeqLifter;

namespace {

constexpr std::size_t no_cap = std::numeric_limits<std::size_t>::max();
constexpr std::int64_t window = 3'000'000;  // the default reorder window, 3 ms

Timestamp at(std::int64_t ns) {
    return Timestamp{ns};
}

void check_hole(const Hole& h, std::int64_t begin, std::int64_t end, bool acked,
                std::uint64_t frame) {
    CHECK(h.begin == begin);
    CHECK(h.end == end);
    CHECK(h.acked == acked);
    CHECK(h.frame == frame);
}

void check_run(const Run& r, std::int64_t begin, std::int64_t end, EventKind kind, bool late_filled,
               std::uint64_t frame) {
    CHECK(r.begin == begin);
    CHECK(r.end == end);
    CHECK(r.kind == kind);
    CHECK(r.late_filled == late_filled);
    CHECK(r.frame == frame);
}

}  // namespace

TEST_CASE("gaps: data inside a hole splits it and resolves the middle as reordered") {
    Gaps g;
    CHECK_FALSE(g.add_hole(Hole{100, 200, false, 5, at(1000)}, no_cap));
    CHECK_FALSE(g.fill(120, 150, 9, at(2000), window, no_cap));
    REQUIRE(g.holes.size() == 2);
    check_hole(g.holes[0], 100, 120, false, 5);  // the pieces keep the revealing frame
    check_hole(g.holes[1], 150, 200, false, 5);
    REQUIRE(g.runs.size() == 1);
    check_run(g.runs[0], 120, 150, EventKind::reordered, false, 9);
    CHECK_FALSE(g.loss_run);

    // Data over two holes and what lies between resolves only the holes' parts.
    CHECK_FALSE(g.fill(110, 160, 11, at(3000), window, no_cap));
    REQUIRE(g.holes.size() == 2);
    check_hole(g.holes[0], 100, 110, false, 5);
    check_hole(g.holes[1], 160, 200, false, 5);
    REQUIRE(g.runs.size() == 3);
    check_run(g.runs[1], 110, 120, EventKind::reordered, false, 11);
    check_run(g.runs[2], 150, 160, EventKind::reordered, false, 11);

    // Data outside every hole, or empty, changes nothing.
    CHECK_FALSE(g.fill(0, 100, 12, at(4000), window, no_cap));
    CHECK_FALSE(g.fill(170, 170, 12, at(4000), window, no_cap));
    CHECK(g.holes.size() == 2);
    CHECK(g.runs.size() == 3);
}

TEST_CASE("gaps: an ACK covers the holes below it and splits the one it cuts") {
    Gaps g;
    CHECK_FALSE(g.add_hole(Hole{0, 50, false, 1, at(10)}, no_cap));
    CHECK_FALSE(g.add_hole(Hole{100, 200, false, 2, at(20)}, no_cap));
    CHECK_FALSE(g.cover(150, 7, at(70), no_cap));
    REQUIRE(g.holes.size() == 3);
    check_hole(g.holes[0], 0, 50, true, 7);  // acked: the ACK's frame and time from now on
    CHECK(g.holes[0].time == at(70));
    check_hole(g.holes[1], 100, 150, true, 7);
    check_hole(g.holes[2], 150, 200, false, 2);
    CHECK(g.acked_below == 2);

    // A later ACK leaves the acked holes as they were (first ACK's frame) and takes the rest.
    CHECK_FALSE(g.cover(300, 8, at(80), no_cap));
    check_hole(g.holes[0], 0, 50, true, 7);
    check_hole(g.holes[2], 150, 200, true, 8);
    CHECK(g.acked_below == 3);

    // An unacked hole added below the acked ones moves the scan's start back to it.
    Gaps h;
    CHECK_FALSE(h.add_hole(Hole{100, 200, true, 1, at(10)}, no_cap));
    CHECK(h.acked_below == 0);
    CHECK_FALSE(h.cover(200, 2, at(20), no_cap));
    CHECK(h.acked_below == 1);
    CHECK_FALSE(h.add_hole(Hole{0, 50, false, 3, at(30)}, no_cap));
    CHECK(h.acked_below == 0);
    CHECK_FALSE(h.cover(60, 4, at(40), no_cap));
    check_hole(h.holes[0], 0, 50, true, 4);
    check_hole(h.holes[1], 100, 200, true, 1);
}

TEST_CASE("gaps: acked data within the reorder window is acked_before_data, later acked_unseen") {
    Gaps g;
    CHECK_FALSE(g.add_hole(Hole{0, 100, true, 3, at(1'000'000)}, no_cap));
    // Exactly the window after the ACK: still tap reordering.
    CHECK_FALSE(g.fill(0, 50, 10, at(1'000'000 + window), window, no_cap));
    // One nanosecond later: the ACK saw data the capture had not, loss filled late.
    CHECK_FALSE(g.fill(50, 100, 11, at(1'000'001 + window), window, no_cap));
    CHECK(g.holes.empty());
    REQUIRE(g.runs.size() == 2);
    check_run(g.runs[0], 0, 50, EventKind::acked_before_data, false, 10);
    check_run(g.runs[1], 50, 100, EventKind::acked_unseen, true, 3);  // the ACK's frame
    CHECK(g.runs[1].time == at(1'000'000));
    CHECK(g.loss_run);
}

TEST_CASE("gaps: adjacent runs alike merge into one, keeping the earliest frame") {
    Run a{0, 10, EventKind::reordered, false, 20, at(200)};
    CHECK(merge_run(a, Run{10, 30, EventKind::reordered, false, 15, at(150)}));
    check_run(a, 0, 30, EventKind::reordered, false, 15);
    CHECK(a.time == at(150));
    CHECK(merge_run(a, Run{30, 40, EventKind::reordered, false, 99, at(990)}));
    check_run(a, 0, 40, EventKind::reordered, false, 15);
    CHECK_FALSE(merge_run(a, Run{41, 50, EventKind::reordered, false, 1, at(1)}));  // not adjacent
    CHECK_FALSE(merge_run(a, Run{40, 50, EventKind::acked_before_data, false, 1, at(1)}));
    CHECK_FALSE(merge_run(a, Run{40, 50, EventKind::reordered, true, 1, at(1)}));
    check_run(a, 0, 40, EventKind::reordered, false, 15);

    // add_run merges a run that continues the last one as it arrives ...
    Gaps g;
    CHECK_FALSE(g.add_hole(Hole{0, 300, false, 1, at(0)}, no_cap));
    CHECK_FALSE(g.fill(100, 200, 10, at(100), window, no_cap));
    CHECK_FALSE(g.fill(200, 250, 5, at(50), window, no_cap));
    REQUIRE(g.runs.size() == 1);
    check_run(g.runs[0], 100, 250, EventKind::reordered, false, 5);
    // ... and the final classification the ones that became adjacent out of order, then
    // turns the holes left into runs: unacked ones gap_unacked, acked ones acked_unseen.
    CHECK_FALSE(g.fill(0, 100, 12, at(120), window, no_cap));
    CHECK(g.runs.size() == 2);
    CHECK_FALSE(g.cover(280, 13, at(130), no_cap));
    const std::vector<Run> runs = g.final_runs();
    REQUIRE(runs.size() == 3);
    check_run(runs[0], 0, 250, EventKind::reordered, false, 5);
    check_run(runs[1], 250, 280, EventKind::acked_unseen, false, 13);
    check_run(runs[2], 280, 300, EventKind::gap_unacked, false, 1);
}

TEST_CASE("gaps: at the hole cap nothing grows, and the caller is told") {
    constexpr std::size_t cap = 2;
    Gaps g;
    CHECK_FALSE(g.add_hole(Hole{0, 10, false, 1, at(0)}, cap));
    CHECK_FALSE(g.add_hole(Hole{20, 30, false, 2, at(0)}, cap));
    CHECK(g.add_hole(Hole{40, 50, false, 3, at(0)}, cap));
    REQUIRE(g.holes.size() == 2);

    // Data inside a hole at the cap: the right piece is forgotten, the list does not grow.
    CHECK(g.fill(3, 5, 4, at(1), window, cap));
    REQUIRE(g.holes.size() == 2);
    check_hole(g.holes[0], 0, 3, false, 1);
    check_hole(g.holes[1], 20, 30, false, 2);
    // Data that only shrinks or removes holes is no cap hit.
    CHECK_FALSE(g.fill(0, 1, 5, at(1), window, cap));

    // An ACK cutting a hole at the cap leaves it whole and unacked, the ones below acked.
    CHECK(g.cover(25, 6, at(2), cap));
    check_hole(g.holes[0], 1, 3, true, 6);
    check_hole(g.holes[1], 20, 30, false, 2);
    CHECK(g.acked_below == 1);
}

TEST_CASE("gaps: at the run cap only a first loss run is still kept") {
    constexpr std::size_t cap = 2;
    Gaps g;
    CHECK_FALSE(g.add_run(Run{0, 10, EventKind::reordered, false, 1, at(0)}, cap));
    CHECK_FALSE(g.add_run(Run{20, 30, EventKind::acked_before_data, false, 2, at(0)}, cap));
    CHECK(g.add_run(Run{40, 50, EventKind::reordered, false, 3, at(0)}, cap));
    CHECK(g.runs.size() == 2);
    // Merging into the last run needs no room: no cap hit.
    CHECK_FALSE(g.add_run(Run{30, 35, EventKind::acked_before_data, false, 4, at(0)}, cap));
    CHECK(g.runs.size() == 2);
    CHECK(g.runs[1].end == 35);
    // The first loss run is kept past the cap, so the verdict does not change; a second not.
    CHECK(g.add_run(Run{60, 70, EventKind::acked_unseen, true, 5, at(0)}, cap));
    CHECK(g.runs.size() == 3);
    CHECK(g.loss_run);
    CHECK(g.add_run(Run{80, 90, EventKind::acked_unseen, true, 6, at(0)}, cap));
    CHECK(g.runs.size() == 3);
}

TEST_CASE("gaps: holes across the 2^32 wrap fill and cover into the right runs and bytes") {
    // The sender's numbers run 0xFFFFFE00 .. 0x00000200; lifted, they are 0 .. 0x400.
    SeqLifter lift;
    Gaps g;
    const std::int64_t s1 = lift.commit(0xFFFFFE00u);  // 256 bytes
    CHECK(s1 == 0);
    const std::int64_t frontier = s1 + 0x100;
    const std::int64_t s2 = lift.commit(0x00000100u);  // 256 bytes after an unseen 512
    CHECK(s2 == 0x300);
    CHECK_FALSE(g.add_hole(Hole{frontier, s2, false, 2, at(2'000)}, no_cap));
    CHECK(lift.wire(g.holes[0].begin) == 0xFFFFFF00u);
    CHECK(lift.wire(g.holes[0].end) == 0x00000100u);

    // The peer ACKs 0x00000000: half the hole, the part before the wrap.
    const std::int64_t a = lift.peek(0x00000000u);
    CHECK(a == 0x200);
    CHECK_FALSE(g.cover(a, 3, at(3'000), no_cap));
    REQUIRE(g.holes.size() == 2);
    check_hole(g.holes[0], 0x100, 0x200, true, 3);
    check_hole(g.holes[1], 0x200, 0x300, false, 2);

    // A retransmission from 0xFFFFFF80 over the wrap, 1 ms after the ACK.
    const std::int64_t s3 = lift.commit(0xFFFFFF80u);
    CHECK(s3 == 0x180);
    CHECK_FALSE(g.fill(s3, s3 + 0x100, 4, at(1'003'000), window, no_cap));
    const std::vector<Run> runs = g.final_runs();
    REQUIRE(runs.size() == 4);
    check_run(runs[0], 0x100, 0x180, EventKind::acked_unseen, false, 3);
    check_run(runs[1], 0x180, 0x200, EventKind::acked_before_data, false, 4);
    check_run(runs[2], 0x200, 0x280, EventKind::reordered, false, 4);
    check_run(runs[3], 0x280, 0x300, EventKind::gap_unacked, false, 2);
    CHECK(runs[0].end - runs[0].begin == 128);  // 0xFFFFFF00 .. 0xFFFFFF7F: missed bytes
    CHECK(runs[3].end - runs[3].begin == 128);  // 0x00000080 .. 0x000000FF
    CHECK(lift.wire(runs[1].end) == 0x00000000u);
    CHECK(lift.wire(runs[3].begin) == 0x00000080u);
}
