// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
#pragma once
// Private to the pipeline: the sharded tracker of Options::threads (docs/architecture.md,
// "Threads"). The Analyzer decodes on the reading thread as always and hands its batches of
// segments here instead of to its one Tracker; each segment goes, by the hash of its
// direction-independent flow key, to one of N trackers running on threads of their own, so
// each flow (both directions, every instance of a reused port) stays on one tracker. The
// clock runs here, once, over every segment in capture order; finish() puts the shards'
// sessions, events and counters back together as one tracker would have made them.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include <capgap/ingest_stats.hpp>
#include <capgap/loss_event.hpp>
#include <capgap/report.hpp>
#include <capgap/segment.hpp>
#include <capgap/session.hpp>
#include <capgap/tracker.hpp>

namespace capgap::detail {

class TimelineAccumulator;

// What the shards found, as one tracker's finish() would give it, with its sessions already in
// report rows for detail::match_rows (every other field of a row is left at its default).
struct ShardedResult {
    std::vector<SessionRow> rows;   // session ids 0..n-1, in order of first frame
    std::vector<LossEvent> events;  // by session id, then frame
    TrackerCounters counters;
};

class ShardedTracker {
  public:
    // `shards` trackers (at least 2) with `options`; the max_open_flows cap is split evenly
    // between them. `marks`: keep the feed_marks the timeline needs.
    ShardedTracker(const TrackerOptions& options, unsigned shards, bool marks);
    ~ShardedTracker();  // stops the threads (results are dropped unless finish() ran)
    ShardedTracker(const ShardedTracker&) = delete;
    ShardedTracker& operator=(const ShardedTracker&) = delete;

    // Takes `count` segments in capture order: runs the clock over them and sends each to its
    // shard. Blocks while that shard's queue is full.
    void feed(const Segment* segs, std::size_t count);
    // Instances started so far by the shards (from batches they finished; for the progress).
    std::uint64_t sessions_started() const;
    // Waits for the shards and merges their results; the feed_marks go into `timeline` when
    // set. Rethrows what a shard's thread threw. Call once.
    ShardedResult finish(TimelineAccumulator* timeline);

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace capgap::detail
