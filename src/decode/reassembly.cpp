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
    return static_cast<std::size_t>(hash_mix(h, std::uint64_t{k.proto} << 32 | k.id));
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
    held_bytes_ -= it->second.bytes.size();
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

// Merges [b, e) into the sorted, disjoint ranges `r`.
void Reassembler::merge(std::vector<Range>& r, std::uint32_t b, std::uint32_t e) {
    auto pos = std::lower_bound(r.begin(), r.end(), b,
                                [](const Range& x, std::uint32_t v) { return x.second < v; });
    auto last = pos;
    while (last != r.end() && last->first <= e) {
        b = std::min(b, last->first);
        e = std::max(e, last->second);
        ++last;
    }
    pos = r.erase(pos, last);
    r.insert(pos, {b, e});
}

Decoded Reassembler::add(const IpFragment& piece, Timestamp time, Segment& out, IngestStats& stats,
                         EncapInfo* encap, TunnelPath* tunnels) {
    expire(time, stats);
    const std::uint32_t end = piece.offset + piece.length;
    if (end > max_payload) return Decoded::bad_ip_header;

    const Key key{piece.src, piece.dst, piece.id, piece.proto};
    auto it = datagrams_.find(key);
    if (it == datagrams_.end()) {
        if (!order_.empty() && datagrams_.size() >= limits_.max_pending)
            drop(datagrams_.find(order_.begin()->second), true, stats);
        it = datagrams_.emplace(key, Datagram{}).first;
        it->second.serial = next_serial_++;
        it->second.first = time;
        it->second.keep = piece.proto == 6 ? head_size : max_payload;
        it->second.depth = piece.depth;
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

    // Kept bytes: the first copy of each byte wins, so only the gaps between the captured
    // ranges are written.
    const std::uint32_t cap_end = std::min(piece.offset + piece.captured, d.keep);
    if (piece.offset < cap_end) {
        if (d.bytes.size() < cap_end) {
            held_bytes_ += cap_end - d.bytes.size();
            d.bytes.resize(cap_end);
        }
        std::uint32_t at = piece.offset;
        const auto copy = [&](std::uint32_t b, std::uint32_t e) {
            std::copy(piece.data + (b - piece.offset), piece.data + (e - piece.offset),
                      d.bytes.begin() + b);
        };
        for (const Range& x : d.captured) {
            if (x.second <= at) continue;
            if (x.first >= cap_end) break;
            if (x.first > at) copy(at, x.first);
            at = std::max(at, x.second);
            if (at >= cap_end) break;
        }
        if (at < cap_end) copy(at, cap_end);
        merge(d.captured, piece.offset, cap_end);
    }
    d.uncaptured += piece.length - piece.captured;
    if (piece.length > 0) merge(d.ranges, piece.offset, end);

    const bool complete = d.have_total && d.ranges.size() == 1 && d.ranges[0].first == 0 &&
                          d.ranges[0].second >= d.total;
    if (!complete) {
        ++d.pieces;
        ++stats.skipped_ip_fragment;
        if (d.ranges.size() > limits_.max_ranges || d.captured.size() > limits_.max_ranges) {
            drop(it, true, stats);
        } else {
            // Room under max_bytes: the oldest others go first.
            while (held_bytes_ > limits_.max_bytes && order_.begin()->first != d.serial)
                drop(datagrams_.find(order_.begin()->second), true, stats);
        }
        return Decoded::tcp_fragment;
    }

    // Complete: the captured bytes run from the start to the first one missing.
    std::uint32_t prefix = 0;
    if (!d.captured.empty() && d.captured[0].first == 0)
        prefix = std::min(d.captured[0].second, d.total);
    // The held pieces stay under skipped_ip_fragment; this one is the datagram.
    const std::uint32_t total = d.total;
    const std::uint32_t uncaptured = d.uncaptured;
    const unsigned depth = d.depth;
    const std::vector<std::uint8_t> bytes = std::move(d.bytes);
    held_bytes_ -= bytes.size();
    order_.erase(d.serial);
    datagrams_.erase(it);

    if (key.proto == 6) {
        const Decoded result = decode_tcp_header(bytes.data(), prefix, 0, total, out);
        if (result == Decoded::tcp) {
            out.src.addr = key.src;
            out.dst.addr = key.dst;
            out.truncated_bytes = std::min(out.payload_len, uncaptured);
        }
        return result;
    }
    // A tunnel: decode what it carries as if it had come whole. A fragment inside (the inner
    // packet fragmented too) points into `bytes`, alive until the nested add returns.
    IpFragment inner;
    const Decoded result = decode_reassembled(bytes.data(), prefix, total, key.proto, key.src,
                                              key.dst, depth, out, &inner, encap, tunnels);
    if (result == Decoded::tcp_fragment) return add(inner, time, out, stats, encap, tunnels);
    return result;
}

}  // namespace capgap::detail
