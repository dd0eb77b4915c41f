// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
#pragma once
// Private to the capture readers (pcap_source.cpp, pcap_block_reader.cpp, pcapng_reader.cpp):
// one packet as any of them hands it over, and what they share.

#include <cstdint>
#include <cstdio>
#include <memory>

namespace capgap::detail {

// The fields of one packet, whichever reader produced it.
struct Packet {
    const std::uint8_t* data = nullptr;
    std::uint32_t caplen = 0;
    std::uint32_t len = 0;
    int link_type = 0;
    std::int64_t ns = 0;
    std::uint32_t interface = 0;  // pcapng interface id (the pcapng reader only)
};

struct FileCloser {
    void operator()(std::FILE* f) const noexcept { std::fclose(f); }
};
using FilePtr = std::unique_ptr<std::FILE, FileCloser>;

// libpcap's largest snapshot length (MAXIMUM_SNAPLEN).
constexpr int snaplen_max = 262144;

// seconds * 1e9 + ns, saturating: a file may carry any timestamp, and times past 2262 do not
// fit in int64 nanoseconds (they are kept at the largest value rather than wrapping).
inline std::int64_t seconds_to_ns(std::int64_t seconds, std::int64_t ns) {
    std::int64_t r;
    if (__builtin_mul_overflow(seconds, std::int64_t{1000000000}, &r) ||
        __builtin_add_overflow(r, ns, &r))
        return seconds < 0 ? INT64_MIN : INT64_MAX;
    return r;
}

}  // namespace capgap::detail
