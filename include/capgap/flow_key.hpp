// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// @file
/// Addresses, endpoints and the canonical flow key shared by both directions of a connection.

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <string_view>

#include <capgap/vocabulary.hpp>

namespace capgap {

namespace detail {
// Eight bytes as a big-endian number: comparing two of these orders the bytes
// lexicographically, as memcmp would, in one comparison.
inline std::uint64_t load_big_endian64(const std::uint8_t* p) noexcept {
    std::uint64_t v;
    std::memcpy(&v, p, 8);
#if defined(__GNUC__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    v = __builtin_bswap64(v);
#elif !defined(__GNUC__)
    v = 0;
    for (int i = 0; i < 8; ++i)
        v = (v << 8) | p[i];
#endif
    return v;
}
}  // namespace detail

/// An IPv4 or IPv6 address. IPv4 is stored in the first four bytes, the rest zero.
struct IpAddress {
    std::array<std::uint8_t, 16> bytes{};  ///< network byte order
    bool v6 = false;                       ///< false: IPv4 in bytes[0..3]

    /// An IPv4 address from its four bytes in network order.
    static IpAddress v4(const std::uint8_t* b4) {  // inline: the decoder's hot path
        IpAddress a;
        std::memcpy(a.bytes.data(), b4, 4);
        return a;
    }
    /// An IPv6 address from its sixteen bytes in network order.
    static IpAddress v6_from(const std::uint8_t* b16);
    /// Parses dotted IPv4 or RFC 4291 IPv6 text.
    /// @throws parse_error when the text is neither
    static IpAddress parse(std::string_view text);

    friend bool operator==(const IpAddress& a, const IpAddress& b) {
        // Two 64-bit compares rather than memcmp: this is on the per-packet path.
        std::uint64_t a0, a1, b0, b1;
        std::memcpy(&a0, a.bytes.data(), 8);
        std::memcpy(&a1, a.bytes.data() + 8, 8);
        std::memcpy(&b0, b.bytes.data(), 8);
        std::memcpy(&b1, b.bytes.data() + 8, 8);
        return ((a0 ^ b0) | (a1 ^ b1)) == 0 && a.v6 == b.v6;
    }
    friend bool operator!=(const IpAddress& a, const IpAddress& b) { return !(a == b); }
    friend bool operator<(const IpAddress& a, const IpAddress& b) {
        if (a.v6 != b.v6) return a.v6 < b.v6;
        // Lexicographic order of the bytes, as two big-endian 64-bit numbers.
        using detail::load_big_endian64;
        const std::uint64_t a0 = load_big_endian64(a.bytes.data());
        const std::uint64_t b0 = load_big_endian64(b.bytes.data());
        if (a0 != b0) return a0 < b0;
        return load_big_endian64(a.bytes.data() + 8) < load_big_endian64(b.bytes.data() + 8);
    }
};

/// "192.0.2.1" or "2001:db8::1" (RFC 5952 compressed form).
std::string to_string(const IpAddress& a);

/// A 64-bit hash of an address (equal addresses, equal hashes), e.g. for Python's hash().
std::size_t hash_value(const IpAddress& a) noexcept;

/// An address and a TCP port.
struct Endpoint {
    IpAddress addr;
    std::uint16_t port = 0;

    friend bool operator==(const Endpoint& a, const Endpoint& b) {
        return a.port == b.port && a.addr == b.addr;
    }
    friend bool operator!=(const Endpoint& a, const Endpoint& b) { return !(a == b); }
    friend bool operator<(const Endpoint& a, const Endpoint& b) {
        return a.addr != b.addr ? a.addr < b.addr : a.port < b.port;
    }
};

/// "192.0.2.1:80" or "[2001:db8::1]:80".
std::string to_string(const Endpoint& e);

/// A 64-bit hash of an endpoint (equal endpoints, equal hashes).
std::size_t hash_value(const Endpoint& e) noexcept;

/// The unordered endpoint pair of a connection: both directions give the same key.
///
/// @code
/// capgap::FlowKey k(client, server);
/// assert(k == capgap::FlowKey(server, client));
/// @endcode
struct FlowKey {
    Endpoint lo;               ///< the smaller endpoint
    Endpoint hi;               ///< the larger endpoint
    std::uint32_t tunnel = 0;  ///< outer tunnel context (Options::tunnel_key); 0: none

    FlowKey() = default;
    FlowKey(const Endpoint& a, const Endpoint& b, std::uint32_t tunnel_id = 0) : tunnel(tunnel_id) {
        const bool a_first = a < b;
        lo = a_first ? a : b;
        hi = a_first ? b : a;
    }

    friend bool operator==(const FlowKey& a, const FlowKey& b) {
        return a.lo == b.lo && a.hi == b.hi && a.tunnel == b.tunnel;
    }
    friend bool operator!=(const FlowKey& a, const FlowKey& b) { return !(a == b); }
    friend bool operator<(const FlowKey& a, const FlowKey& b) {
        if (a.lo != b.lo) return a.lo < b.lo;
        if (a.hi != b.hi) return a.hi < b.hi;
        return a.tunnel < b.tunnel;
    }
};

/// The directions, one `X(name, description)` line each (see vocabulary.hpp).
#define CAPGAP_DIRECTIONS(X)                                      \
    X(c2s, "client to server (the client sent the starting SYN)") \
    X(s2c, "server to client")

/// The direction of a packet or an event within a session: c2s, s2c.
enum class Direction : std::uint8_t { CAPGAP_DIRECTIONS(CAPGAP_DETAIL_ENUMERATOR) };

/// Every direction with its name, in enum order.
inline constexpr Named<Direction> directions[] = {
#define CAPGAP_DETAIL_ROW(name, description) {Direction::name, #name, description},
    CAPGAP_DIRECTIONS(CAPGAP_DETAIL_ROW)
#undef CAPGAP_DETAIL_ROW
};
static_assert(detail::in_enum_order(directions), "rows in enum order");

/// "c2s" or "s2c".
const char* to_string(Direction d);

/// A 64-bit hash of a flow key, equal for both directions.
std::size_t hash_value(const FlowKey& k) noexcept;

}  // namespace capgap

template <>
struct std::hash<capgap::FlowKey> {
    std::size_t operator()(const capgap::FlowKey& k) const noexcept {
        return capgap::hash_value(k);
    }
};
