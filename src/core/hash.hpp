// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
#pragma once
// Private: the flow key hash, inline, and computable from the two endpoints without building
// a FlowKey (the tracker hashes every packet's endpoints where the segment holds them).

#include <cstdint>
#include <cstring>

#include <capgap/flow_key.hpp>

namespace capgap::detail {

inline std::uint64_t hash_load64(const std::uint8_t* p) {
    std::uint64_t v;
    std::memcpy(&v, p, 8);
    return v;
}

inline std::uint64_t hash_mix(std::uint64_t h, std::uint64_t v) {
    h ^= v;
    h *= 0x9e3779b97f4a7c15ULL;
    h ^= h >> 29;
    return h;
}

// hash_value(FlowKey(lo, hi, tunnel)) for endpoints already in the key's order (lo < hi or
// equal).
inline std::uint64_t flow_hash(const Endpoint& lo, const Endpoint& hi,
                               std::uint32_t tunnel) noexcept {
    std::uint64_t h = 0x243f6a8885a308d3ULL;
    h = hash_mix(h, hash_load64(lo.addr.bytes.data()));
    h = hash_mix(h, hash_load64(lo.addr.bytes.data() + 8));
    h = hash_mix(h, hash_load64(hi.addr.bytes.data()));
    h = hash_mix(h, hash_load64(hi.addr.bytes.data() + 8));
    h = hash_mix(
        h, static_cast<std::uint64_t>(lo.port) << 32 | static_cast<std::uint64_t>(hi.port) << 16 |
               static_cast<std::uint64_t>(lo.addr.v6) << 1 |
               static_cast<std::uint64_t>(hi.addr.v6) | static_cast<std::uint64_t>(tunnel) << 2);
    h ^= h >> 32;
    return h;
}

}  // namespace capgap::detail
