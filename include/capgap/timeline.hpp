// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// @file
/// The per-packet timeline the Analyzer keeps for the diagnosis (docs/diagnosis.md): counts in
/// fixed base buckets and the peak traffic in 1 ms and 10 ms windows. Buckets add, so the
/// timelines of independent captures merge (merge_reports).

#include <cstdint>
#include <vector>

namespace capgap {

/// What one base bucket counts.
struct TimelineCounts {
    std::uint64_t packets = 0;          ///< records read (every packet, TCP or not)
    std::uint64_t bytes = 0;            ///< their on-wire bytes (the record's original length)
    std::uint64_t segments = 0;         ///< of which decoded TCP segments
    std::uint64_t data_segments = 0;    ///< of which with payload
    std::uint64_t acks = 0;             ///< segments with the ACK flag
    std::uint64_t acks_above_hole = 0;  ///< of which covering bytes never seen (gap-ACK ratio)
    std::uint64_t retransmissions = 0;  ///< payload already seen, filling no hole (network loss)
    std::uint64_t duplicates = 0;       ///< exact duplicates (SPAN copies)

    TimelineCounts& operator+=(const TimelineCounts& o);
    friend bool operator==(const TimelineCounts& a, const TimelineCounts& b);
    friend bool operator!=(const TimelineCounts& a, const TimelineCounts& b) { return !(a == b); }
};

/// Base buckets from `origin_ns`, each `base_ns` wide. The base starts at 10 ms and grows
/// tenfold whenever the buckets would pass max_buckets, so memory stays bounded.
struct Timeline {
    /// Most base buckets kept; past it the base grows tenfold.
    static constexpr std::size_t max_buckets = 1 << 16;
    /// The first base width (10 ms).
    static constexpr std::int64_t first_base_ns = 10'000'000;

    std::int64_t base_ns = 0;    ///< bucket width; 0: no timeline (off, or nothing read)
    std::int64_t origin_ns = 0;  ///< start of bucket 0, a multiple of base_ns since the epoch
    std::vector<TimelineCounts> buckets;
    std::uint64_t peak_bytes_1ms = 0;   ///< most bytes in one fixed 1 ms window
    std::uint64_t peak_bytes_10ms = 0;  ///< most bytes in one fixed 10 ms window

    bool empty() const { return base_ns == 0; }
    /// Makes the base `new_base_ns` (a multiple of the current one), adding buckets together.
    void coarsen(std::int64_t new_base_ns);
    /// The bucket for time `ns`, growing the base or the vector as needed. Times before the
    /// origin land in bucket 0.
    TimelineCounts& at(std::int64_t ns);
    /// Adds another timeline (bucket by bucket, on the coarser of the two bases; peaks: max).
    void merge(const Timeline& other);
    /// Sum over all buckets.
    TimelineCounts total() const;
    /// True for a width and origin a timeline can have: width 0 (none) with origin 0, or a
    /// width of 10 ms times a power of ten with an origin on a multiple of it (a flow state's
    /// grid is checked with it on load).
    static bool valid_grid(std::int64_t base_ns, std::int64_t origin_ns);

    friend bool operator==(const Timeline& a, const Timeline& b);
    friend bool operator!=(const Timeline& a, const Timeline& b) { return !(a == b); }
};

}  // namespace capgap
