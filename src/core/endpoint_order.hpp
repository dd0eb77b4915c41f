// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
#pragma once
// Private: the order of two endpoints as FlowKey puts them (Endpoint's operator<), computed
// without branches. The tracker orders every packet's endpoints to find its flow; which comes
// first follows the packet's direction, which changes from packet to packet in no pattern, so
// the comparisons of operator< were mispredicted for about half of the packets.

#include <cstdint>

#include <capgap/flow_key.hpp>

namespace capgap::detail {

// a < b, as Endpoint's operator<: by family (IPv4 first), the address's bytes, then the port.
// `&` and `|` rather than `&&` and `||`, so that every comparison is made and none branches.
inline bool endpoint_less(const Endpoint& a, const Endpoint& b) noexcept {
    const std::uint64_t a0 = load_big_endian64(a.addr.bytes.data());
    const std::uint64_t b0 = load_big_endian64(b.addr.bytes.data());
    const std::uint64_t a1 = load_big_endian64(a.addr.bytes.data() + 8);
    const std::uint64_t b1 = load_big_endian64(b.addr.bytes.data() + 8);
    bool less = a.port < b.port;
    less = (a1 < b1) | ((a1 == b1) & less);
    less = (a0 < b0) | ((a0 == b0) & less);
    return (a.addr.v6 < b.addr.v6) | ((a.addr.v6 == b.addr.v6) & less);
}

// `first ? a : b` for pointers, without a branch (compilers may turn a conditional into one).
template <class T>
inline const T* pick(bool first, const T* a, const T* b) noexcept {
    const auto x = reinterpret_cast<std::uintptr_t>(a), y = reinterpret_cast<std::uintptr_t>(b);
    const std::uintptr_t all = std::uintptr_t{0} - static_cast<std::uintptr_t>(first);
    return reinterpret_cast<const T*>((x & all) | (y & ~all));
}

}  // namespace capgap::detail
