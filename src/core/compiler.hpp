// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
#pragma once
// Private: the few compiler hints the hot paths use, in one place. Each one changes speed,
// never results; the fallbacks are plain C++.

#if defined(__GNUC__)
/// Inline even where the compiler's heuristics would not (small per-packet decoders).
#define CAPGAP_ALWAYS_INLINE [[gnu::always_inline]] inline
/// Keep out of line: rare paths stay out of the hot loop's instruction cache.
#define CAPGAP_NOINLINE [[gnu::noinline]]
/// A condition that is almost always false (a hook that is off): laid out as the fall-through.
#define CAPGAP_UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define CAPGAP_ALWAYS_INLINE inline
#define CAPGAP_NOINLINE
#define CAPGAP_UNLIKELY(x) (x)
#endif

namespace capgap::detail {

// A hint to fetch the cache line at `p` (it changes nothing else). Written as an asm statement
// where possible: GCC removes a loop whose only effect is __builtin_prefetch calls.
inline void prefetch_line(const void* p) {
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
    asm volatile("prefetcht0 %0" : : "m"(*static_cast<const char*>(p)));
#elif defined(__GNUC__)
    __builtin_prefetch(p);
#else
    (void)p;
#endif
}

}  // namespace capgap::detail
