// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
#pragma once
// Private: one direction's hole/run interval set, the bookkeeping behind the default verdict
// (docs/counting-rules.md sections 4 and 5), in the lifted 64-bit numbers of track/seq_space.hpp.
//
// A hole is a range below the direction's frontier not seen yet: unacked (revealed by a later
// number) or acked (revealed or covered by an ACK of the peer, with that ACK's frame and time).
// Data that fills part of a hole resolves that part into a run: reordered when no ACK covered
// it, acked_before_data when the ACK came within the reorder window, a late-filled
// acked_unseen otherwise. At the end the holes left become runs too (gap_unacked or
// acked_unseen) and adjacent runs alike merge, one event per run.
//
// The set knows nothing of packets or sessions: the caller passes the caps, the reorder window
// and the frame and time that reveal or fill, and each operation returns true when a cap
// stopped it, so that the caller marks the direction (its session is reported evicted).

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include <boost/container/small_vector.hpp>

#include <capgap/loss_event.hpp>
#include <capgap/time.hpp>

#include "track/capture_time.hpp"

namespace capgap::detail {

// A range not seen yet.
struct Hole {
    std::int64_t begin;
    std::int64_t end;
    bool acked;           // covered by an ACK of the peer
    std::uint64_t frame;  // the packet that revealed it, or the first ACK covering it
    Timestamp time;
};

// A classified run of sequence numbers.
struct Run {
    std::int64_t begin;
    std::int64_t end;
    EventKind kind;
    bool late_filled;
    std::uint64_t frame;
    Timestamp time;
};

// Extends `last` by `r` when r starts where `last` ends and is of the same kind and lateness,
// keeping the earlier frame and its time: one event per maximal run of one class. Otherwise
// changes nothing and returns false.
inline bool merge_run(Run& last, const Run& r) {
    if (last.end != r.begin || last.kind != r.kind || last.late_filled != r.late_filled)
        return false;
    last.end = r.end;
    if (r.frame < last.frame) {
        last.frame = r.frame;
        last.time = r.time;
    }
    return true;
}

// Most directions never have a hole or a run, so the tracker allocates this with the first
// one. A direction with one usually has one or two holes: they live in the set itself.
struct Gaps {
    boost::container::small_vector<Hole, 2> holes;  // sorted, disjoint, below the frontier
    std::size_t acked_below = 0;  // holes[0, acked_below) are all acked: cover() starts there
    std::vector<Run> runs;        // resolved runs, in the order they were resolved
    bool loss_run = false;        // one of them is a (late-filled) acked_unseen

    // Adds a hole disjoint from the others. At `max_holes` it is dropped instead.
    [[nodiscard]] bool add_hole(const Hole& h, std::size_t max_holes) {
        if (holes.size() >= max_holes) return true;
        auto pos = std::lower_bound(holes.begin(), holes.end(), h.begin,
                                    [](const Hole& a, std::int64_t b) { return a.begin < b; });
        const std::size_t at = static_cast<std::size_t>(pos - holes.begin());
        if (!h.acked && at <= acked_below) {
            acked_below = at;
        } else if (at < acked_below) {
            ++acked_below;
        }
        holes.insert(pos, h);
        return false;
    }

    // Data seen in [b, e) at (frame, time): resolves the parts of holes it fills. Only the
    // holes overlapping [b, e) are touched (found by binary search): with thousands of holes,
    // rebuilding the list per packet made a capture with jumping sequence numbers quadratic.
    [[nodiscard]] bool fill(std::int64_t b, std::int64_t e, std::uint64_t frame, Timestamp time,
                            std::int64_t reorder_window_ns, std::size_t max_holes) {
        if (b >= e || holes.empty()) return false;
        bool capped = false;
        // Holes are sorted and disjoint, so their ends are sorted too.
        const auto first = std::partition_point(holes.begin(), holes.end(),
                                                [b](const Hole& h) { return h.end <= b; });
        auto last = first;
        while (last != holes.end() && last->begin < e)
            ++last;
        if (first == last) return false;
        Hole pieces[2];  // what stays unseen: left of b in the first, right of e in the last
        std::size_t kept = 0;
        for (auto it = first; it != last; ++it) {
            const Hole& h = *it;
            const std::int64_t fb = std::max(h.begin, b), fe = std::min(h.end, e);
            if (h.begin < fb) pieces[kept++] = Hole{h.begin, fb, h.acked, h.frame, h.time};
            Run r{fb, fe, EventKind::reordered, false, frame, time};
            if (h.acked) {
                if (sat_sub(time.ns, h.time.ns) <= reorder_window_ns) {
                    r.kind = EventKind::acked_before_data;
                } else {
                    r.kind = EventKind::acked_unseen;
                    r.late_filled = true;
                    r.frame = h.frame;  // the ACK revealed it
                    r.time = h.time;
                }
            }
            if (add_run(r, max_holes)) capped = true;
            if (fe < h.end) pieces[kept++] = Hole{fe, h.end, h.acked, h.frame, h.time};
        }
        // Replace [first, last) by the kept pieces (one hole split in two grows the list).
        const std::size_t at = static_cast<std::size_t>(first - holes.begin());
        const std::size_t overlapped = static_cast<std::size_t>(last - first);
        acked_below = std::min(acked_below, at);
        if (kept > overlapped) {
            holes[at] = pieces[0];
            if (holes.size() >= max_holes) {
                // Data inside a hole splits it; at the cap the right piece is forgotten (never
                // reported as loss), rather than the list growing.
                capped = true;
            } else {
                holes.insert(holes.begin() + static_cast<std::ptrdiff_t>(at) + 1, pieces[1]);
            }
        } else {
            for (std::size_t i = 0; i < kept; ++i)
                holes[at + i] = pieces[i];
            holes.erase(holes.begin() + static_cast<std::ptrdiff_t>(at + kept),
                        holes.begin() + static_cast<std::ptrdiff_t>(at + overlapped));
        }
        return capped;
    }

    // Keeps a resolved run, merged with the previous one when adjacent and alike (as
    // final_runs would merge them), and within `max_runs`, so that a connection whose data
    // arrives in a million pieces does not keep a million runs. Past the cap only a first
    // loss run is still kept, so the verdict never changes.
    [[nodiscard]] bool add_run(const Run& r, std::size_t max_runs) {
        if (!runs.empty() && merge_run(runs.back(), r)) return false;
        const bool loss = is_loss(r.kind);
        bool capped = false;
        if (runs.size() >= max_runs) {
            capped = true;
            if (!loss || loss_run) return capped;
        }
        loss_run = loss_run || loss;
        runs.push_back(r);
        return capped;
    }

    // An ACK at (frame, time) covers everything below `a`: the unacked holes there become
    // acked now. A hole that `a` cuts is split, unless that would pass `max_holes`: then it
    // stays whole and unacked.
    [[nodiscard]] bool cover(std::int64_t a, std::uint64_t frame, Timestamp time,
                             std::size_t max_holes) {
        bool capped = false;
        std::size_t i = acked_below;
        for (; i < holes.size() && holes[i].begin < a; ++i) {
            if (holes[i].acked) continue;
            if (holes[i].end > a) {  // only the part below `a` is covered: split it off
                if (holes.size() >= max_holes) {
                    capped = true;
                    break;
                }
                const Hole rest{a, holes[i].end, false, holes[i].frame, holes[i].time};
                holes[i].end = a;
                // The insertion may reallocate: index again below, never hold a reference.
                holes.insert(holes.begin() + static_cast<std::ptrdiff_t>(i) + 1, rest);
            }
            holes[i].acked = true;
            holes[i].frame = frame;
            holes[i].time = time;
        }
        acked_below = i;  // everything below `a` is acked now (or i is the capped hole)
        return capped;
    }

    // The classification at the end: the holes left join the runs (acked_unseen when an ACK
    // covered them, gap_unacked otherwise), and adjacent runs alike merge. In order of
    // sequence number. Consumes the runs.
    std::vector<Run> final_runs() {
        for (const Hole& h : holes) {
            runs.push_back(Run{h.begin, h.end,
                               h.acked ? EventKind::acked_unseen : EventKind::gap_unacked, false,
                               h.frame, h.time});
        }
        std::sort(runs.begin(), runs.end(),
                  [](const Run& a, const Run& b) { return a.begin < b.begin; });
        std::vector<Run> merged;
        for (const Run& r : runs) {
            if (merged.empty() || !merge_run(merged.back(), r)) merged.push_back(r);
        }
        return merged;
    }
};

}  // namespace capgap::detail
