// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
#pragma once
// Private: IPv4/IPv6 fragment reassembly: far enough to read the TCP header and the payload
// length of a fragmented TCP datagram, and whole for a datagram that may carry a tunnel (IP
// in IP, GRE, UDP), whose payload is then decoded as if it had not been fragmented.
//
// Only what is needed is kept: of a TCP datagram the first 60 bytes of its payload (room for
// the longest TCP header), of the others every captured byte; which byte ranges have arrived
// (on the wire and captured), the total length once the last piece is seen, and the
// captured-byte shortfall. Memory is bounded by `max_pending` datagrams and `max_bytes` held
// bytes, each datagram with at most `max_ranges` disjoint ranges.
//
// A snaplen that cut a piece leaves the datagram's captured bytes ending at the first byte
// missing: the payload is decoded with that as its captured length and the datagram's as its
// on-wire length, so what lies beyond counts as truncated bytes, never as loss.
//
// A completed datagram is emitted at the frame and time of the piece that completes it (the
// last to arrive), as Wireshark numbers a reassembled packet at its last fragment.
//
// Counting (keeps IngestStats' invariant packets_read == decoded + filtered_out + skipped):
// the reassembler counts the pieces it holds itself, under skipped_ip_fragment, and add()
// then returns tcp_fragment (nothing left for the caller to count); the piece that completes
// a datagram is the packet the datagram makes (add() returns what decoding it gives: tcp, or
// a reason the caller counts). When a datagram is given up, its held pieces move from
// skipped_ip_fragment to skipped_fragment_incomplete (timed out, or still pending at flush())
// or to skipped_fragment_evicted (dropped to make room under max_pending or max_bytes, or
// split into too many ranges).
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

class StateWriter;
class StateReader;

struct ReassemblyLimits {
    std::size_t max_pending = 4096;            ///< datagrams held at once; the oldest is evicted
    std::int64_t timeout_ns = 30'000'000'000;  ///< capture time from a datagram's first piece
    std::size_t max_ranges = 64;  ///< disjoint byte ranges per datagram before it is evicted
    std::size_t max_bytes = std::size_t{8} << 20;  ///< payload bytes held (>= 65535)
};

class Reassembler {
  public:
    explicit Reassembler(ReassemblyLimits limits = {}) : limits_(limits) {}

    /// Adds one piece seen at `time`. Returns tcp with `out` filled (addresses, ports, flags,
    /// on-wire payload length, truncated bytes; not frame/time) when the piece completes its
    /// datagram; tcp_fragment when it is held (and counted); bad_ip_header when the piece is
    /// inconsistent (beyond 65535 bytes, or a second, different end); or what decoding the
    /// completed datagram gives (bad_tcp_header, truncated_header, not_tcp, ...: `encap` and
    /// `tunnels` as decode_packet's, `tunnels` extended from the layers the piece came
    /// through). A fragment inside a completed datagram is added in turn. Drops caused by this
    /// call are counted in `stats` (see the file comment).
    Decoded add(const IpFragment& piece, Timestamp time, Segment& out, IngestStats& stats,
                EncapInfo* encap = nullptr, TunnelPath* tunnels = nullptr);

    /// Gives up every pending datagram (end of capture): skipped_fragment_incomplete.
    void flush(IngestStats& stats);

    /// Datagrams waiting for pieces.
    std::size_t pending() const { return datagrams_.size(); }

    // The datagrams waiting for more pieces, for the flow state (docs/state-format.md,
    // "Fragments"; decode/reassembly_state.cpp). restore() before the first piece.
    void save(StateWriter& out) const;
    void restore(StateReader& in);

  private:
    static constexpr std::uint32_t head_size = 60;
    using Range = std::pair<std::uint32_t, std::uint32_t>;  // [begin, end)

    struct Key {
        IpAddress src;
        IpAddress dst;
        std::uint32_t id = 0;
        std::uint8_t proto = 0;
        friend bool operator==(const Key& a, const Key& b) {
            return a.id == b.id && a.proto == b.proto && a.src == b.src && a.dst == b.dst;
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
        std::uint32_t uncaptured = 0;     // on-wire bytes of the pieces the snaplen cut
        std::uint32_t keep = 0;           // bytes kept: head_size for TCP, all for the others
        unsigned depth = 0;               // encapsulation layers outside the IP header
        std::vector<std::uint8_t> bytes;  // the kept bytes, valid where `captured` says
        std::vector<Range> captured;      // sorted, disjoint: captured bytes below `keep`
        std::vector<Range> ranges;        // sorted, disjoint: on-wire bytes that arrived
    };

    void drop(std::unordered_map<Key, Datagram, KeyHash>::iterator it, bool evicted,
              IngestStats& stats);
    void expire(Timestamp now, IngestStats& stats);
    static void merge(std::vector<Range>& r, std::uint32_t b, std::uint32_t e);

    ReassemblyLimits limits_;
    std::uint64_t next_serial_ = 0;
    std::unordered_map<Key, Datagram, KeyHash> datagrams_;
    std::map<std::uint64_t, Key> order_;  // serial -> key, oldest first
    std::size_t held_bytes_ = 0;          // sum of the datagrams' bytes.size()
};

}  // namespace capgap::detail
