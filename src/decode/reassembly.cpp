// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// IPv4/IPv6 fragment reassembly up to the TCP header; see reassembly.hpp.

#include "decode/reassembly.hpp"

#include <algorithm>

#include "core/hash.hpp"

namespace capgap::detail {

namespace {

// Largest payload an IPv4 or (non-jumbo) IPv6 datagram can have.
constexpr std::uint32_t max_payload = 65535;

}  // namespace

std::size_t Reassembler::KeyHash::operator()(const Key& k) const noexcept {
    const std::uint64_t h = hash_mix_address(hash_mix_address(hash_seed, k.src), k.dst);
    return static_cast<std::size_t>(hash_mix(h, k.id));
}

void Reassembler::drop(std::unordered_map<Key, Datagram, KeyHash>::iterator it, bool evicted,
                       IngestStats& stats) {
    const std::uint32_t pieces = it->second.pieces;
    stats.skipped_ip_fragment -= pieces;
    if (evicted) {
        stats.skipped_fragment_evicted += pieces;
    } else {
        stats.skipped_fragment_incomplete += pieces;
    }
    order_.erase(it->second.serial);
    datagrams_.erase(it);
}

void Reassembler::expire(Timestamp now, IngestStats& stats) {
    while (!order_.empty()) {
        auto it = datagrams_.find(order_.begin()->second);
        if (now.ns - it->second.first.ns <= limits_.timeout_ns) return;
        drop(it, false, stats);
    }
}

void Reassembler::flush(IngestStats& stats) {
    while (!order_.empty())
        drop(datagrams_.find(order_.begin()->second), false, stats);
}

Decoded Reassembler::add(const IpFragment& piece, Timestamp time, Segment& out,
                         IngestStats& stats) {
    expire(time, stats);
    const std::uint32_t end = piece.offset + piece.length;
    if (end > max_payload) return Decoded::bad_ip_header;

    const Key key{piece.src, piece.dst, piece.id};
    auto it = datagrams_.find(key);
    if (it == datagrams_.end()) {
        if (!order_.empty() && datagrams_.size() >= limits_.max_pending)
            drop(datagrams_.find(order_.begin()->second), true, stats);
        it = datagrams_.emplace(key, Datagram{}).first;
        it->second.serial = next_serial_++;
        it->second.first = time;
        order_.emplace(it->second.serial, key);
    }
    Datagram& d = it->second;

    // The last piece fixes the length; a second, different end or data beyond it is bogus.
    if (!piece.more) {
        if (d.have_total && d.total != end) return Decoded::bad_ip_header;
        if (!d.ranges.empty() && d.ranges.back().second > end) return Decoded::bad_ip_header;
        d.have_total = true;
        d.total = end;
    } else if (d.have_total && end > d.total) {
        return Decoded::bad_ip_header;
    }

    // Head bytes: the first copy of each byte wins.
    const std::uint32_t head_end = std::min(piece.offset + piece.captured, head_size);
    for (std::uint32_t i = piece.offset; i < head_end; ++i) {
        const std::uint64_t bit = std::uint64_t{1} << i;
        if ((d.head_mask & bit) == 0) {
            d.head_mask |= bit;
            d.head[i] = piece.data[i - piece.offset];
        }
    }
    d.uncaptured += piece.length - piece.captured;

    // Merge [offset, end) into the sorted, disjoint ranges.
    if (piece.length > 0) {
        auto& r = d.ranges;
        auto pos = std::lower_bound(r.begin(), r.end(), piece.offset,
                                    [](const std::pair<std::uint32_t, std::uint32_t>& x,
                                       std::uint32_t v) { return x.second < v; });
        std::uint32_t b = piece.offset;
        std::uint32_t e = end;
        auto last = pos;
        while (last != r.end() && last->first <= e) {
            b = std::min(b, last->first);
            e = std::max(e, last->second);
            ++last;
        }
        pos = r.erase(pos, last);
        r.insert(pos, {b, e});
    }

    const bool complete = d.have_total && d.ranges.size() == 1 && d.ranges[0].first == 0 &&
                          d.ranges[0].second >= d.total;
    if (!complete) {
        ++d.pieces;
        ++stats.skipped_ip_fragment;
        if (d.ranges.size() > limits_.max_ranges) drop(it, true, stats);
        return Decoded::tcp_fragment;
    }

    // Complete: decode the TCP header from the contiguous captured head.
    std::uint32_t prefix = 0;
    while (prefix < head_size && prefix < d.total && ((d.head_mask >> prefix) & 1) != 0)
        ++prefix;
    const Decoded result = decode_tcp_header(d.head, prefix, 0, d.total, out);
    if (result == Decoded::tcp) {
        out.src.addr = key.src;
        out.dst.addr = key.dst;
        out.truncated_bytes = std::min(out.payload_len, d.uncaptured);
    }
    // The held pieces stay under skipped_ip_fragment; this one is the datagram.
    order_.erase(d.serial);
    datagrams_.erase(it);
    return result;
}

}  // namespace capgap::detail
