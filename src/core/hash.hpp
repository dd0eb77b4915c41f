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

// The mix of one endpoint: its address's two words, then its port and family.
inline std::uint64_t endpoint_mix(const Endpoint& e) noexcept {
    std::uint64_t h = hash_mix(hash_seed, hash_load64(e.addr.bytes.data()));
    h = hash_mix(h, hash_load64(e.addr.bytes.data() + 8));
    return hash_mix(h, static_cast<std::uint64_t>(e.port) | std::uint64_t{e.addr.v6} << 16);
}

// hash_value(FlowKey(a, b, tunnel)): the same for both directions. The endpoints' mixes are
// summed rather than the endpoints put in order first: the order is a comparison whose
// outcome changes with each packet's direction, a branch the processor mispredicts for half
// of the packets, and the two mixes are computed side by side.
inline std::uint64_t flow_hash(const Endpoint& a, const Endpoint& b,
                               std::uint32_t tunnel) noexcept {
    std::uint64_t h = hash_mix(endpoint_mix(a) + endpoint_mix(b), tunnel);
    h ^= h >> 32;
    return h;
}

}  // namespace capgap::detail
