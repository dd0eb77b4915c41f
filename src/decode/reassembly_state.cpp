// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// The reassembler's waiting datagrams in the flow state (docs/state-format.md, "Fragments").

#include <cstddef>
#include <cstdint>
#include <string>

#include "core/state_io.hpp"
#include "decode/reassembly.hpp"

namespace capgap::detail {

namespace {

template <class IO, class V>
void state_ranges(IO& io, V& ranges) {
    state_vector(io, ranges, 8, [&](auto& r) {
        io(r.first);
        io(r.second);
    });
}

}  // namespace

void Reassembler::save(StateWriter& out) const {
    out.tag(state_tag("FRAG"));
    out(next_serial_);
    out.count(order_.size(), 0);
    for (const auto& entry : order_) {  // oldest first
        const Key& k = entry.second;
        const Datagram& d = datagrams_.at(k);
        out(k.src);
        out(k.dst);
        out(k.id);
        out(k.proto);
        out(d.serial);
        out(d.first);
        out(d.pieces);
        out(d.total);
        out(d.have_total);
        out(d.uncaptured);
        out(d.keep);
        out(static_cast<std::uint32_t>(d.depth));
        out(std::string(d.bytes.begin(), d.bytes.end()));
        state_ranges(out, d.captured);
        state_ranges(out, d.ranges);
    }
}

void Reassembler::restore(StateReader& in) {
    in.tag(state_tag("FRAG"));
    in(next_serial_);
    const std::size_t n = in.count(60);
    for (std::size_t i = 0; i < n; ++i) {
        const std::size_t start = in.offset();
        Key k;
        in(k.src);
        in(k.dst);
        in(k.id);
        in(k.proto);
        Datagram d;
        in(d.serial);
        in(d.first);
        in(d.pieces);
        in(d.total);
        in(d.have_total);
        in(d.uncaptured);
        in(d.keep);
        std::uint32_t depth = 0;
        in(depth);
        d.depth = depth;
        std::string bytes;
        in(bytes);
        d.bytes.assign(bytes.begin(), bytes.end());
        state_ranges(in, d.captured);
        state_ranges(in, d.ranges);
        // What add() relies on: ranges sorted and disjoint, the captured ones within the bytes.
        bool ok =
            d.bytes.size() <= d.keep && d.keep <= 65535 && d.serial < next_serial_ && depth <= 64;
        for (const auto* v : {&d.captured, &d.ranges}) {
            std::uint32_t prev = 0;
            for (const Range& r : *v) {
                ok = ok && r.first < r.second && r.first >= prev;
                prev = r.second;
            }
        }
        for (const Range& r : d.captured)
            ok = ok && r.second <= d.bytes.size();
        if (!ok) in.fail_at(start, "a waiting datagram is inconsistent");
        if (order_.count(d.serial) != 0 || datagrams_.count(k) != 0)
            in.fail_at(start, "a waiting datagram appears twice");
        held_bytes_ += d.bytes.size();
        order_.emplace(d.serial, k);
        datagrams_.emplace(k, std::move(d));
    }
}

}  // namespace capgap::detail
