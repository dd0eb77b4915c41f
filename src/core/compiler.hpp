// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
#pragma once
// Private: the few compiler and system hints the hot paths use, in one place. Each one
// changes speed, never results; the fallbacks are plain C++.

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

#include <cstddef>
#include <cstdint>

#if defined(__linux__)
#include <sys/mman.h>
#include <unistd.h>
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

// Asks the system to map the whole pages in [p, p + bytes) for writing now, in one call, rather
// than on a fault at each page's first write: 250,000 report rows (48 MB) took 24 ms to
// construct page by page and 15 ms with this first. Where the system cannot (other systems,
// Linux before 5.14), the pages are mapped on first write, as without it.
inline void map_for_writing(void* p, std::size_t bytes) {
#if defined(__linux__) && defined(MADV_POPULATE_WRITE)
    static const auto page = static_cast<std::uintptr_t>(sysconf(_SC_PAGESIZE));
    const auto at = reinterpret_cast<std::uintptr_t>(p);
    const std::uintptr_t begin = (at + page - 1) & ~(page - 1), end = (at + bytes) & ~(page - 1);
    // A few megabytes a call: the call holds the process's memory map for reading, and
    // another thread's mmap (a new block of memory) would wait for the whole range.
    constexpr std::uintptr_t step = std::uintptr_t{4} << 20;
    for (std::uintptr_t at_page = begin; at_page < end; at_page += step) {
        const std::uintptr_t n = end - at_page < step ? end - at_page : step;
        (void)madvise(reinterpret_cast<void*>(at_page), n, MADV_POPULATE_WRITE);
    }
#else
    (void)p;
    (void)bytes;
#endif
}

}  // namespace capgap::detail
