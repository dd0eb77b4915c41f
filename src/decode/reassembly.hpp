// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
#pragma once
// Private: IPv4/IPv6 fragment reassembly, far enough to read a TCP header and the payload
// length of a fragmented TCP datagram.
//
// Only what the tracker needs is kept: the first 60 bytes of the datagram's payload (room for
// the longest TCP header), which byte ranges have arrived, the total length once the last
// piece is seen, and the captured-byte shortfall. Memory is bounded by `max_pending`
// datagrams, each with at most `max_ranges` disjoint ranges.
//
// A completed datagram is emitted at the frame and time of the piece that completes it (the
// last to arrive), as Wireshark numbers a reassembled packet at its last fragment.
//
// Counting (keeps IngestStats' invariant packets_read == decoded + filtered_out + skipped):
// the reassembler counts the pieces it holds itself, under skipped_ip_fragment, and add()
// then returns tcp_fragment (nothing left for the caller to count); the piece that completes
// a datagram is the decoded packet (add() returns tcp, the caller counts it). When a datagram
// is given up, its held pieces move from skipped_ip_fragment to skipped_fragment_incomplete
// (timed out, or still pending at flush()) or to skipped_fragment_evicted (dropped to make
// room under max_pending, or split into too many ranges).
// Overlapping pieces are accepted; the bytes that arrived first win.

#include <cstddef>
#include <cstdint>
#include <map>
#include <unordered_map>
#include <vector>

#include <capgap/ingest_stats.hpp>
#include <capgap/time.hpp>

#include "decode/decode.hpp"

namespace capgap::detail {

struct ReassemblyLimits {
    std::size_t max_pending = 4096;            ///< datagrams held at once; the oldest is evicted
    std::int64_t timeout_ns = 30'000'000'000;  ///< capture time from a datagram's first piece
    std::size_t max_ranges = 64;  ///< disjoint byte ranges per datagram before it is evicted
};

class Reassembler {
  public:
    explicit Reassembler(ReassemblyLimits limits = {}) : limits_(limits) {}

    /// Adds one piece seen at `time`. Returns tcp with `out` filled (addresses, ports, flags,
    /// on-wire payload length, truncated bytes; not frame/time) when the piece completes its
    /// datagram; tcp_fragment when it is held (and counted); bad_ip_header when the piece is
    /// inconsistent (beyond 65535 bytes, or a second, different end); or what decoding the
    /// completed head gives (bad_tcp_header, truncated_header). Drops caused by this call are
    /// counted in `stats` (see the file comment).
    Decoded add(const IpFragment& piece, Timestamp time, Segment& out, IngestStats& stats);

    /// Gives up every pending datagram (end of capture): skipped_fragment_incomplete.
    void flush(IngestStats& stats);

    /// Datagrams waiting for pieces.
    std::size_t pending() const { return datagrams_.size(); }

  private:
    static constexpr std::uint32_t head_size = 60;

    struct Key {
        IpAddress src;
        IpAddress dst;
        std::uint32_t id = 0;
        friend bool operator==(const Key& a, const Key& b) {
            return a.id == b.id && a.src == b.src && a.dst == b.dst;
        }
    };
    struct KeyHash {
        std::size_t operator()(const Key& k) const noexcept;
    };
    struct Datagram {
        std::uint64_t serial = 0;  // creation order, for eviction and timeouts
        Timestamp first;           // time of the first piece
        std::uint32_t pieces = 0;  // pieces held (counted under skipped_ip_fragment)
        std::uint32_t total = 0;   // payload length once the last piece is seen
        bool have_total = false;
        std::uint32_t uncaptured = 0;  // on-wire bytes of the pieces the snaplen cut
        std::uint64_t head_mask = 0;   // which of the head bytes were captured
        std::uint8_t head[head_size] = {};
        std::vector<std::pair<std::uint32_t, std::uint32_t>> ranges;  // sorted, disjoint [b, e)
    };

    void drop(std::unordered_map<Key, Datagram, KeyHash>::iterator it, bool evicted,
              IngestStats& stats);
    void expire(Timestamp now, IngestStats& stats);

    ReassemblyLimits limits_;
    std::uint64_t next_serial_ = 0;
    std::unordered_map<Key, Datagram, KeyHash> datagrams_;
    std::map<std::uint64_t, Key> order_;  // serial -> key, oldest first
};

}  // namespace capgap::detail
