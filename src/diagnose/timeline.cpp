// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// The timeline's base buckets: growth, coarsening and merging (the per-packet accumulator is
// diagnose/accumulator.hpp).

#include <capgap/timeline.hpp>

#include <algorithm>

#include "track/capture_time.hpp"

namespace capgap {

namespace {

// Saturated or absurd times are bucketed as if at +-2^62 ns.
constexpr std::int64_t far_ns = std::int64_t{1} << 62;

// Largest base: past 10^4 s buckets (2^16 of them: about 20 years) later times share the last.
constexpr std::int64_t largest_base_ns = 10'000'000'000'000;

std::int64_t floor_to(std::int64_t ns, std::int64_t base) {
    std::int64_t q = ns / base;
    if (ns % base != 0 && ns < 0) --q;
    return q * base;
}

}  // namespace

TimelineCounts& TimelineCounts::operator+=(const TimelineCounts& o) {
    packets += o.packets;
    bytes += o.bytes;
    segments += o.segments;
    data_segments += o.data_segments;
    acks += o.acks;
    acks_above_hole += o.acks_above_hole;
    retransmissions += o.retransmissions;
    duplicates += o.duplicates;
    return *this;
}

bool operator==(const TimelineCounts& a, const TimelineCounts& b) {
    return a.packets == b.packets && a.bytes == b.bytes && a.segments == b.segments &&
           a.data_segments == b.data_segments && a.acks == b.acks &&
           a.acks_above_hole == b.acks_above_hole && a.retransmissions == b.retransmissions &&
           a.duplicates == b.duplicates;
}

bool operator==(const Timeline& a, const Timeline& b) {
    return a.base_ns == b.base_ns && a.origin_ns == b.origin_ns && a.buckets == b.buckets &&
           a.peak_bytes_1ms == b.peak_bytes_1ms && a.peak_bytes_10ms == b.peak_bytes_10ms;
}

void Timeline::coarsen(std::int64_t new_base_ns) {
    if (base_ns == 0 || new_base_ns <= base_ns) return;
    const std::int64_t new_origin = floor_to(origin_ns, new_base_ns);
    std::vector<TimelineCounts> out;
    for (std::size_t i = 0; i < buckets.size(); ++i) {
        const std::int64_t start = detail::step_start(origin_ns, i, base_ns);
        const auto j = static_cast<std::size_t>((start - new_origin) / new_base_ns);
        if (j >= out.size()) out.resize(j + 1);
        out[j] += buckets[i];
    }
    buckets = std::move(out);
    base_ns = new_base_ns;
    origin_ns = new_origin;
}

TimelineCounts& Timeline::at(std::int64_t ns) {
    // Saturated or absurd times (a file may carry any) are bucketed as if at +-2^62 ns (1823,
    // 2116), so that no bucket arithmetic can overflow.
    ns = std::clamp(ns, -far_ns, far_ns);
    if (base_ns == 0) {
        base_ns = first_base_ns;
        origin_ns = floor_to(ns, base_ns);
    }
    if (ns < origin_ns) ns = origin_ns;
    auto idx = static_cast<std::uint64_t>(ns) - static_cast<std::uint64_t>(origin_ns);
    idx /= static_cast<std::uint64_t>(base_ns);
    while (idx >= max_buckets && base_ns < largest_base_ns) {
        coarsen(base_ns * 10);
        idx = (static_cast<std::uint64_t>(ns) - static_cast<std::uint64_t>(origin_ns)) /
              static_cast<std::uint64_t>(base_ns);
    }
    if (idx >= max_buckets) idx = max_buckets - 1;
    if (idx >= buckets.size()) buckets.resize(idx + 1);
    return buckets[idx];
}

void Timeline::merge(const Timeline& other) {
    if (other.empty()) return;
    peak_bytes_1ms = std::max(peak_bytes_1ms, other.peak_bytes_1ms);
    peak_bytes_10ms = std::max(peak_bytes_10ms, other.peak_bytes_10ms);
    Timeline o = other;
    if (empty()) {
        base_ns = o.base_ns;
        origin_ns = o.origin_ns;
    }
    const std::int64_t base = std::max(base_ns, o.base_ns);
    coarsen(base);
    o.coarsen(base);
    for (std::size_t i = 0; i < o.buckets.size(); ++i) {
        if (o.buckets[i] == TimelineCounts{}) continue;
        at(detail::step_start(o.origin_ns, i, o.base_ns)) += o.buckets[i];
    }
}

bool Timeline::valid_grid(std::int64_t base_ns, std::int64_t origin_ns) {
    if (base_ns == 0) return origin_ns == 0;
    std::int64_t b = first_base_ns;
    while (b < base_ns && b < largest_base_ns)
        b *= 10;
    return b == base_ns && origin_ns % base_ns == 0 && origin_ns > -far_ns - base_ns &&
           origin_ns <= far_ns;
}

TimelineCounts Timeline::total() const {
    TimelineCounts t;
    for (const TimelineCounts& b : buckets)
        t += b;
    return t;
}

}  // namespace capgap
