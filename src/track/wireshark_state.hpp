// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
#pragma once
// Private: the Wireshark verdict (docs/counting-rules.md section 6). One side's state as
// packet-tcp.c keeps it for the two flags capgap reports: 32-bit sequence numbers with explicit
// "unset", compared in RFC 1982 order, beside (never mixed with) the default verdict's 64-bit
// space.

#include <cstddef>
#include <cstdint>

#include <capgap/segment.hpp>

#include "track/seq_space.hpp"

namespace capgap::detail {

// One side of a connection: what its own packets left behind.
struct WiresharkState {
    std::uint32_t next = 0;        // nextseq: the highest end this side sent
    std::uint32_t mstba = 0;       // maxseqtobeacked
    std::uint32_t last_ack = 0;    // the ACK number this side sent last
    std::uint32_t flags_kept = 0;  // flags kept as events for this side's data
    std::uint16_t window = 0;
    bool next_set = false;
    bool mstba_set = false;
    bool window_known = false;
    bool last_ack_set = false;
    bool ack_lost_quiet = false;  // an ACKed-unseen flag on this side's data was raised

    // Flags are per packet: past the cap the verdict is settled (it has flags) and only the
    // detail would grow with the packets. Counts a flag on this side's data and returns true
    // while under `max_flags`; false at the cap (the caller marks the direction instead).
    bool keep_flag(std::size_t max_flags) {
        if (flags_kept >= max_flags) return false;
        ++flags_kept;
        return true;
    }
};

// The flags one packet raises.
struct WiresharkFlags {
    bool lost = false;      // "previous segment not captured", on the sender's data
    bool ack_lost = false;  // "ACKed unseen segment", on the peer's data
};

// What the sender's packet leaves in its state once the checks are made: the ACK it sent
// last, its highest end (nextseq), maxseqtobeacked and its window. `end` is the packet's end,
// SYN and FIN included.
inline void advance_wire(WiresharkState& w, const Segment& seg, std::uint32_t end, bool ack,
                         bool rst) {
    if (ack) {
        if (w.last_ack_set && seg.ack != w.last_ack) w.ack_lost_quiet = false;
        w.last_ack = seg.ack;
        w.last_ack_set = true;
    }
    if (!rst) {
        if (!w.next_set || seq_gt(end, w.next)) {
            w.next = end;
            w.next_set = true;
        }
        if (!w.mstba_set) {
            w.mstba = end;
            w.mstba_set = true;
        } else if (seg.seq == w.mstba) {
            w.mstba = w.next;
        }
    }
    w.window = seg.window;
    w.window_known = true;
}

// Checks a packet of the side `own` against both sides' states, then moves `own` on. `end` is
// the packet's end, SYN and FIN included.
inline WiresharkFlags wireshark_check(WiresharkState& own, WiresharkState& peer, const Segment& seg,
                                      std::uint32_t end) {
    WiresharkFlags f;
    const bool rst = seg.has(tcp_flags::rst);
    if (!rst && own.next_set && seq_gt(seg.seq, own.next)) {
        const bool zero_window_probe =
            seg.payload_len == 1 && seg.seq == own.next && peer.window_known && peer.window == 0;
        if (!zero_window_probe) f.lost = true;
    }
    if (seg.has(tcp_flags::ack) && peer.mstba_set && seq_gt(seg.ack, peer.mstba)) {
        // Wireshark flags one unseen segment once: it moves maxseqtobeacked up to nextseq, and
        // when that changes nothing, stays quiet until the data's sender ACKs anew
        // (packet-tcp.c uses its dup-ACK counter for this). Verdicts are not affected.
        if (peer.next_set && peer.mstba > peer.next) {  // plain compare, as packet-tcp.c
            peer.mstba = peer.next;
            f.ack_lost = true;
        } else if (!peer.ack_lost_quiet) {
            peer.ack_lost_quiet = true;
            f.ack_lost = true;
        }
    }
    advance_wire(own, seg, end, seg.has(tcp_flags::ack), rst);
    return f;
}

// True when a packet of `own` raises no flag because it neither jumps past what `own` sent
// nor ACKs beyond what the peer sent (header prediction's condition: stricter than the checks,
// since `own` must have sent before).
inline bool wireshark_in_order(const WiresharkState& own, const WiresharkState& peer,
                               const Segment& seg) {
    if (!own.next_set || seq_gt(seg.seq, own.next)) return false;
    return !(peer.mstba_set && seq_gt(seg.ack, peer.mstba));
}

}  // namespace capgap::detail
