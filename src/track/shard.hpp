// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
#pragma once
// Private: a Tracker as one shard of the sharded pipeline (pipeline/parallel.cpp,
// docs/architecture.md "Threads"). The pipeline runs the tracker's clock once over every
// segment in capture order (track/clock.hpp); a shard gets its own segments, each with the
// clock's value after it and whether the clock took its time, and the sweeps, which are global
// events, at their place among its segments. The shard keeps what the pipeline needs to put
// the shards' results back together exactly: the changes of its open count by frame (for
// open_flows_peak), the times of the segments the timeline marks, and the first frame of each
// instance (its place among all the shards' instances).

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include <capgap/segment.hpp>
#include <capgap/tracker.hpp>

namespace capgap::detail {

// The shard's open count changed by `delta` at `frame`: +1 when the segment of that frame
// inserted a key, -k when a sweep or an eviction before it finished k instances. Sorted by
// (frame, delta), removals come before the insert of their frame, as in one tracker.
struct OpenChange {
    std::uint64_t frame;
    std::int64_t delta;
};

// A segment with feed_marks (a duplicate, a retransmission, an ACK above a hole): its time
// and marks, added to the timeline once every packet was read.
struct MarkedTime {
    std::int64_t ns;
    std::uint8_t marks;
};

// A sweep of the flow table: before the shard's segment `pos` of the batch (pos == count:
// after the last), with the clock at `now_ns`, due at the segment of `frame`.
struct SweepMark {
    std::uint32_t pos;
    std::int64_t now_ns;
    std::uint64_t frame;
};

// What crosses from the reading thread to a shard's thread: up to `capacity` segments in
// capture order with the clock after each, and the sweeps among them.
struct ShardBatch {
    static constexpr std::size_t capacity = 256;
    Segment segs[capacity];
    std::uint64_t hash[capacity];  // each segment's flow hash (detail::flow_hash)
    std::int64_t now_ns[capacity];
    bool on_time[capacity];
    std::uint32_t count = 0;
    std::vector<SweepMark> sweeps;  // by pos
    bool last = false;              // the end of the input: nothing follows

    void clear() {
        count = 0;
        sweeps.clear();
        last = false;
    }
};

// A shard's finished sessions, in the order they finished, in blocks: the tracker hands its
// list over whole when it is full (`block` sessions), and starts another. No list grows by
// copying itself: a shard of the benchmark capture finishes 234,000 sessions (41 MB), and
// growing one list page-faulted twice that and copied it, on the busier of the two threads.
struct SessionBlocks {
    static constexpr std::size_t block = 4096;  // sessions: about 720 KB
    std::vector<std::vector<Session>> blocks;

    std::size_t size() const {
        std::size_t n = 0;
        for (const auto& b : blocks)
            n += b.size();
        return n;
    }
    // Calls f(Session&) for the sessions [begin, end) of the blocks put end to end.
    template <class F>
    void for_range(std::size_t begin, std::size_t end, F&& f) {
        std::size_t first = 0;  // the index of the block's first session
        for (auto& b : blocks) {
            const std::size_t from = std::max(begin, first), to = std::min(end, first + b.size());
            for (std::size_t i = from; i < to; ++i)
                f(b[i - first]);
            first += b.size();
        }
    }
};

// Makes `t` a shard: it keeps the records above in `open_log` and (when not null) `marked`,
// the first frame of each instance, by id, in `starts`, and hands its finished sessions over
// to `finished` in blocks while it runs. Its finish() leaves the last of them in its
// sessions(), all in the order they finished: the pipeline places them by `starts`.
void make_shard(Tracker& t, std::vector<OpenChange>* open_log, std::vector<MarkedTime>* marked,
                std::vector<std::uint64_t>* starts, SessionBlocks* finished);

// Feeds a batch to a shard made by make_shard.
void feed_shard(Tracker& t, const ShardBatch& batch);

}  // namespace capgap::detail
