// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
#pragma once
// Private: all sequence-number arithmetic. 32-bit comparisons (RFC 1982) for the Wireshark
// verdict, and lifting of 32-bit numbers into a 64-bit space for the default verdict.

#include <cstdint>

#include <capgap/segment.hpp>

namespace capgap::detail {

// The sequence numbers a segment's SYN and FIN flags occupy beyond its payload.
constexpr std::uint32_t phantoms(std::uint8_t flags) {
    return ((flags & tcp_flags::syn) ? 1u : 0u) + ((flags & tcp_flags::fin) ? 1u : 0u);
}

// a > b in 32-bit sequence space (RFC 1982): true when a is less than 2^31 ahead of b.
constexpr bool seq_gt(std::uint32_t a, std::uint32_t b) {
    return static_cast<std::int32_t>(a - b) > 0;
}

// Lifts a direction's 32-bit sequence numbers into signed 64-bit offsets from the first value
// it saw, choosing for each value the lift nearest to the reference (the last value committed).
// Limit: a jump of 2^31 or more between two captured packets of one direction is ambiguous and
// is taken as a step backwards; nothing in the capture can tell the two apart.
class SeqLifter {
  public:
    bool anchored() const { return anchored_; }

    // The lift of v, without moving the reference. Anchors on the first value.
    std::int64_t peek(std::uint32_t v) const {
        if (!anchored_) return 0;
        const std::uint32_t ref32 = anchor_ + static_cast<std::uint32_t>(ref_);
        return ref_ + static_cast<std::int32_t>(v - ref32);
    }

    // The lift of v; the reference moves to it (use for the direction's own sequence numbers).
    std::int64_t commit(std::uint32_t v) {
        if (!anchored_) {
            anchored_ = true;
            anchor_ = v;
            ref_ = 0;
            return 0;
        }
        ref_ = peek(v);
        return ref_;
    }

    // The 32-bit number of a lifted offset.
    std::uint32_t wire(std::int64_t lifted) const {
        return anchor_ + static_cast<std::uint32_t>(lifted);
    }

    // The flow state's fields (core/state_io.hpp): `self` is a SeqLifter, const when written.
    template <class IO, class Self>
    static void state(IO& io, Self& self) {
        io(self.anchored_);
        io(self.anchor_);
        io.seq(self.ref_);
    }

  private:
    bool anchored_ = false;
    std::uint32_t anchor_ = 0;
    std::int64_t ref_ = 0;
};

}  // namespace capgap::detail
