// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
#pragma once
// Private: the project's one hash mixer, and the hashes built on it. The flow key hash is
// inline and computable from the two endpoints without building a FlowKey (the tracker hashes
// every packet's endpoints where the segment holds them); tunnel paths, fragment keys and the
// Python binding's address hash mix their fields with the same hash_mix.

#include <cstdint>
#include <cstring>

#include <capgap/flow_key.hpp>

namespace capgap::detail {

inline std::uint64_t hash_load64(const std::uint8_t* p) {
    std::uint64_t v;
    std::memcpy(&v, p, 8);
    return v;
}

// Where a hash starts before its first hash_mix.
constexpr std::uint64_t hash_seed = 0x243f6a8885a308d3ULL;

// Mixes one 64-bit word into the hash `h`.
inline std::uint64_t hash_mix(std::uint64_t h, std::uint64_t v) {
    h ^= v;
    h *= 0x9e3779b97f4a7c15ULL;
    h ^= h >> 29;
    return h;
}

// Mixes an address into `h`: its 16 bytes as two words, the second with the family.
inline std::uint64_t hash_mix_address(std::uint64_t h, const IpAddress& a) noexcept {
    h = hash_mix(h, hash_load64(a.bytes.data()));
    return hash_mix(h, hash_load64(a.bytes.data() + 8) ^ std::uint64_t{a.v6});
}

// hash_value(FlowKey(lo, hi, tunnel)) for endpoints already in the key's order (lo < hi or
// equal).
inline std::uint64_t flow_hash(const Endpoint& lo, const Endpoint& hi,
                               std::uint32_t tunnel) noexcept {
    std::uint64_t h = hash_seed;
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

// The flow hash of a packet between `a` and `b`, in either direction.
inline std::uint64_t flow_hash_either_way(const Endpoint& a, const Endpoint& b,
                                          std::uint32_t tunnel) noexcept {
    return a < b ? flow_hash(a, b, tunnel) : flow_hash(b, a, tunnel);
}

}  // namespace capgap::detail
