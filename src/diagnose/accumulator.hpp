// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
#pragma once
// Private: the Analyzer's per-packet timeline accumulator. Each packet adds to its base
// bucket (one compare on the cached bucket's bounds) and to the fixed 1 ms and 10 ms windows
// whose largest byte counts are the peaks. Everything else (sessions, events) is placed in
// time when the diagnosis is computed.

#include <cstdint>

#include <capgap/segment.hpp>
#include <capgap/timeline.hpp>
#include <capgap/tracker.hpp>

#include "core/compiler.hpp"
#include "track/capture_time.hpp"

namespace capgap::detail {

class TimelineAccumulator {
  public:
    // A record read: every packet, TCP or not, with its on-wire length.
    CAPGAP_ALWAYS_INLINE void packet(std::int64_t ns, std::uint32_t wire_len) {
        TimelineCounts& b = bucket(ns);
        ++b.packets;
        b.bytes += wire_len;
        ms1_.add(ns, wire_len, timeline_.peak_bytes_1ms);
        ms10_.add(ns, wire_len, timeline_.peak_bytes_10ms);
    }
    // A segment the tracker took, with its feed_marks.
    CAPGAP_ALWAYS_INLINE void segment(const Segment& seg, std::uint8_t marks) {
        TimelineCounts& b = bucket(seg.time.ns);
        ++b.segments;
        b.data_segments += seg.payload_len > 0 ? 1 : 0;
        b.acks += seg.has(tcp_flags::ack) ? 1 : 0;
        b.duplicates += (marks & feed_marks::duplicate) != 0 ? 1 : 0;
        b.retransmissions += (marks & feed_marks::retransmission) != 0 ? 1 : 0;
        b.acks_above_hole += (marks & feed_marks::ack_above_hole) != 0 ? 1 : 0;
    }
    // The feed_marks alone of a segment already counted by segment(seg, 0): the sharded
    // pipeline (pipeline/parallel.cpp) adds them once every packet was read. The base buckets
    // only ever merge whole (Timeline::coarsen), so counts added to the final buckets by time
    // equal counts added as the packets came.
    void marks(std::int64_t ns, std::uint8_t marks) {
        TimelineCounts& b = bucket(ns);
        b.duplicates += (marks & feed_marks::duplicate) != 0 ? 1 : 0;
        b.retransmissions += (marks & feed_marks::retransmission) != 0 ? 1 : 0;
        b.acks_above_hole += (marks & feed_marks::ack_above_hole) != 0 ? 1 : 0;
    }

    // The open 1 ms and 10 ms peak windows, carried in the flow state (docs/state-format.md,
    // "Timeline"): a window that straddles the end of a piece keeps counting in the next one.
    template <class IO>
    void state_windows(IO& io) {
        io(ms1_.start);
        io(ms1_.end);
        io(ms1_.bytes);
        io(ms10_.start);
        io(ms10_.end);
        io(ms10_.bytes);
    }
    // Buckets on a grid already chosen (a chain's earlier pieces: docs/state-format.md,
    // "TIME"), as one run over the whole capture would; base_ns 0, or a timeline already
    // started, leaves it as it is.
    void seed(std::int64_t base_ns, std::int64_t origin_ns) {
        if (base_ns == 0 || !timeline_.empty()) return;
        timeline_.base_ns = base_ns;
        timeline_.origin_ns = origin_ns;
    }
    Timeline take() {
        lo_ = 1;
        hi_ = 0;
        return std::move(timeline_);
    }

  private:
    // One fixed window size: the bytes of the current window, its start.
    template <std::int64_t Width>
    struct Window {
        std::int64_t start = 0;
        std::int64_t end = 0;  // start + Width; 0 before the first packet
        std::uint64_t bytes = 0;
        CAPGAP_ALWAYS_INLINE void add(std::int64_t ns, std::uint32_t n, std::uint64_t& peak) {
            if (ns >= end || ns < start) {
                // The window holding ns; the earliest times a file may carry keep INT64_MIN.
                if (__builtin_sub_overflow(ns, (ns % Width + Width) % Width, &start))
                    start = INT64_MIN;
                end = start > INT64_MAX - Width ? INT64_MAX : start + Width;
                bytes = 0;
            }
            bytes += n;
            if (bytes > peak) peak = bytes;
        }
    };

    CAPGAP_ALWAYS_INLINE TimelineCounts& bucket(std::int64_t ns) {
        if (ns >= lo_ && ns < hi_) return *current_;
        return locate(ns);
    }
    CAPGAP_NOINLINE TimelineCounts& locate(std::int64_t ns) {
        current_ = &timeline_.at(ns);
        const auto idx = static_cast<std::int64_t>(current_ - timeline_.buckets.data());
        lo_ = step_start(timeline_.origin_ns, static_cast<std::uint64_t>(idx), timeline_.base_ns);
        hi_ = sat_add(lo_, timeline_.base_ns);
        if (idx == 0) lo_ = INT64_MIN;                // earlier times land in bucket 0 as well
        if (hi_ >= std::int64_t{1} << 62) hi_ = lo_;  // clamped times: always look it up
        return *current_;
    }

    Timeline timeline_;
    TimelineCounts* current_ = nullptr;
    std::int64_t lo_ = 1, hi_ = 0;  // the cached bucket's times: none yet
    Window<1'000'000> ms1_;
    Window<10'000'000> ms10_;
};

}  // namespace capgap::detail
