// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
#pragma once
// Private: arithmetic on capture times. They come from files and can be anything: differences
// and sums saturate instead of overflowing.

#include <cstdint>
#include <limits>

namespace capgap::detail {

inline std::int64_t sat_sub(std::int64_t a, std::int64_t b) {
    std::int64_t r;
    if (!__builtin_sub_overflow(a, b, &r)) return r;
    return b < 0 ? std::numeric_limits<std::int64_t>::max()
                 : std::numeric_limits<std::int64_t>::min();
}

inline std::int64_t sat_add(std::int64_t a, std::int64_t b) {
    std::int64_t r;
    if (!__builtin_add_overflow(a, b, &r)) return r;
    return b > 0 ? std::numeric_limits<std::int64_t>::max()
                 : std::numeric_limits<std::int64_t>::min();
}

// The start of step i from origin (origin + i * step), saturating: i * step alone may pass
// 2^63 when origin is far below zero, though the sum is in range.
inline std::int64_t step_start(std::int64_t origin, std::uint64_t i, std::int64_t step) {
    std::uint64_t offset;
    if (__builtin_mul_overflow(i, static_cast<std::uint64_t>(step), &offset))
        return std::numeric_limits<std::int64_t>::max();
    const std::uint64_t room =
        static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) -
        static_cast<std::uint64_t>(origin);  // modulo 2^64: exact
    if (offset > room) return std::numeric_limits<std::int64_t>::max();
    return static_cast<std::int64_t>(static_cast<std::uint64_t>(origin) + offset);
}

}  // namespace capgap::detail
