// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
#pragma once
// Private: the default verdict's state changes for a packet of the tracker's general path
// (docs/counting-rules.md sections 4 and 5): where each direction's space starts, what a packet's
// data reveals or fills, what an ACK of the peer covers, and the ACK a SYN-SENT client may still
// reject. The holes and runs themselves are kept by track/gaps.hpp; header prediction
// (tracker.cpp) takes a shortcut past all of this for packets that need none of it.

#include <algorithm>
#include <cstdint>

#include <capgap/segment.hpp>
#include <capgap/time.hpp>
#include <capgap/tracker.hpp>

#include "track/gaps.hpp"
#include "track/instance.hpp"
#include "track/seq_space.hpp"

namespace capgap::detail {

// The operations, bound to the tracker's options (the caps and the reorder window).
struct DefaultVerdict {
    const TrackerOptions& opt;
    // Set when an ACK covers bytes never seen (an ACK above a hole: the diagnosis's gap-ACK
    // ratio); may be null.
    bool* ack_above_hole = nullptr;

    void sequence(Instance& in, int d, const Segment& seg) const {
        DirState& x = in.dir[d];
        DirState& y = in.dir[1 - d];
        const bool rst = seg.has(tcp_flags::rst);
        const bool ack = seg.has(tcp_flags::ack);

        // The ACK a SYN-SENT endpoint rejects with a RST covers nothing (section 5).
        if (x.pending_set) {
            if (rst && !ack && seg.seq == in.pending[d].ack) {
                x.pending_set = false;
            } else {
                apply_pending(in, d);
            }
        }

        if (rst) {
            // A RST reveals nothing and is no evidence; it only places a start.
            if (x.start_kind == Start::none) {
                x.start = x.lift.commit(seg.seq);
                x.frontier = x.highest = x.start;
                x.start_kind = Start::provisional;
            }
            return;
        }

        data(x, seg);

        if (!ack) return;
        // Server start without a SYN-ACK: the client's first ACK minus one (section 5).
        if (d == 0 && in.has_syn && !x.sender.sent_non_rst_ack && y.start_kind != Start::fixed) {
            const std::int64_t s =
                y.lift.anchored() ? y.lift.peek(seg.ack - 1) : y.lift.commit(seg.ack - 1);
            if (y.start_kind == Start::none) {
                y.start = y.frontier = y.highest = s;
                y.start_kind = Start::fixed;
                y.synack_phantom = true;
            } else if (s < y.start) {
                lower_start(y, s, seg);
                y.start_kind = Start::fixed;
                y.synack_phantom = true;
            }
        }
        if (y.start_kind == Start::none) return;
        if (d == 1 && in.has_syn && !y.sender.sent_ack_flag) {
            // The client is still in SYN-SENT: hold the ACK until its next packet.
            if (y.pending_set) apply_pending(in, 1 - d);
            y.pending_set = true;
            in.pending[1 - d] = PendingAck{seg.ack, seg.frame, seg.time};
            return;
        }
        cover(y, y.lift.peek(seg.ack), seg.frame, seg.time);
    }

    void apply_pending(Instance& in, int d) const {
        DirState& x = in.dir[d];
        if (!x.pending_set) return;
        x.pending_set = false;
        if (x.start_kind == Start::none) return;
        const PendingAck& p = in.pending[d];
        cover(x, x.lift.peek(p.ack), p.frame, p.time);
    }

    void add_hole(DirState& x, const Hole& h) const {
        if (x.gaps_for_write().add_hole(h, opt.max_holes_per_direction)) x.hole_cap_hit = true;
    }

    // Makes [s, old start) part of the space, as a hole revealed by this packet.
    void lower_start(DirState& x, std::int64_t s, const Segment& seg) const {
        add_hole(x, Hole{s, x.start, false, seg.frame, seg.time});
        x.start = s;
    }

    void data(DirState& x, const Segment& seg) const {
        const bool syn = seg.has(tcp_flags::syn);
        std::int64_t s = x.lift.commit(seg.seq);
        const std::int64_t e = s + seg.payload_len + phantoms(seg.flags);
        if (x.start_kind == Start::none) {
            x.start = x.frontier = x.highest = s;
            x.start_kind = syn ? Start::fixed : Start::provisional;
        } else if (s < x.start) {
            if (x.start_kind == Start::fixed && !syn) {
                s = x.start;  // bytes below the ISN belong to no connection
            } else {
                // An earlier byte than a provisional start (or a late SYN): the numbers
                // between this packet and the old start were not seen.
                if (e < x.start) add_hole(x, Hole{e, x.start, false, seg.frame, seg.time});
                x.start = s;
                if (syn) x.start_kind = Start::fixed;
            }
        }
        if (e > s) fill(x, s, std::min(e, x.frontier), seg);
        if (s > x.frontier) add_hole(x, Hole{x.frontier, s, false, seg.frame, seg.time});
        x.frontier = std::max(x.frontier, e);
        x.highest = x.seen_data ? std::max(x.highest, e) : e;
        x.seen_data = true;
        if (seg.payload_len > 0 || syn || seg.has(tcp_flags::fin)) {
            x.max_content_seq = x.has_content ? std::max(x.max_content_seq, s) : s;
            x.has_content = true;
        }
        if (seg.has(tcp_flags::fin)) x.fin_seen = true;
    }

    // Data seen in [b, e): resolves the parts of holes it fills.
    void fill(DirState& x, std::int64_t b, std::int64_t e, const Segment& seg) const {
        if (b >= e || !x.gaps || x.gaps->holes.empty()) return;
        if (x.gaps->fill(b, e, seg.frame, seg.time, opt.reorder_window_ns,
                         opt.max_holes_per_direction))
            x.hole_cap_hit = true;
    }

    // Does an ACK up to `a` cover bytes never seen and not covered before?
    static bool reveals(const DirState& x, std::int64_t a) {
        if (a > x.frontier) return true;
        if (!x.gaps) return false;
        const auto& holes = x.gaps->holes;
        for (std::size_t i = x.gaps->acked_below; i < holes.size() && holes[i].begin < a; ++i)
            if (!holes[i].acked) return true;
        return false;
    }

    // An ACK from the peer covers [start, a): unacked holes below `a` become acked now.
    void cover(DirState& x, std::int64_t a, std::uint64_t frame, Timestamp time) const {
        if (a <= x.start) return;
        if (ack_above_hole != nullptr && reveals(x, a)) *ack_above_hole = true;
        if (x.gaps && x.gaps->cover(a, frame, time, opt.max_holes_per_direction))
            x.hole_cap_hit = true;
        if (a > x.frontier) {
            add_hole(x, Hole{x.frontier, a, true, frame, time});
            x.frontier = a;
        }
    }
};

}  // namespace capgap::detail
