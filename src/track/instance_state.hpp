// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// An open instance in the flow state (docs/state-format.md, "Instance"): every field, in the
// order written, by one visitor for writing (const structures, StateWriter) and reading
// (StateReader). A field added to Instance, DirState, Gaps or the Wireshark state belongs
// here too, with the format's version raised.

#pragma once

#include <cstddef>
#include <iterator>
#include <memory>
#include <type_traits>
#include <vector>

#include <capgap/loss_event.hpp>
#include <capgap/session.hpp>
#include <capgap/tracker.hpp>

#include "core/session_io.hpp"
#include "core/state_io.hpp"
#include "track/gaps.hpp"
#include "track/instance.hpp"
#include "track/seq_space.hpp"
#include "track/wireshark_state.hpp"

namespace capgap::detail {

template <class IO, class H>
void state_hole(IO& io, H& h) {
    io.seq_range(h.begin, h.end);
    io(h.acked);
    io(h.frame);
    io(h.time);
}

template <class IO, class R>
void state_run(IO& io, R& r) {
    io.seq_range(r.begin, r.end);
    io.enumeration(r.kind, std::size(event_kinds));
    io(r.late_filled);
    io(r.frame);
    io(r.time);
}

template <class IO, class G>
void state_gaps(IO& io, G& g) {
    state_vector(io, g.holes, 33, [&](auto& h) { state_hole(io, h); });
    if constexpr (std::is_same_v<IO, StateReader>) {
        std::uint64_t below = 0;
        const std::size_t at = io.offset();
        io(below);
        if (below > g.holes.size()) io.fail_at(at, "acked holes beyond the holes");
        g.acked_below = static_cast<std::size_t>(below);
    } else {
        io(static_cast<std::uint64_t>(g.acked_below));
    }
    state_vector(io, g.runs, 34, [&](auto& r) { state_run(io, r); });
    io(g.loss_run);
}

template <class IO, class W>
void state_wireshark(IO& io, W& w) {
    io(w.next);
    io(w.mstba);
    io(w.last_ack);
    io(w.flags_kept);
    io(w.window);
    io(w.next_set);
    io(w.mstba_set);
    io(w.window_known);
    io(w.last_ack_set);
    io(w.ack_lost_quiet);
}

template <class IO, class D>
void state_direction(IO& io, D& d) {
    SeqLifter::state(io, d.lift);
    io.seq(d.start);
    io.seq(d.highest);
    io.seq(d.frontier);
    io.seq(d.max_content_seq);
    bool has_gaps = d.gaps != nullptr;
    io(has_gaps);
    if constexpr (std::is_same_v<IO, StateReader>) {
        d.gaps.reset();
        const std::size_t at = io.offset();
        if (has_gaps) state_gaps(io, d.gaps_for_write());
        // Holes and runs lie at or after the direction's start (their offsets count from it).
        if (has_gaps) {
            for (const auto& h : d.gaps->holes)
                if (h.begin < d.start) io.fail_at(at, "a hole begins before its direction");
            for (const auto& r : d.gaps->runs)
                if (r.begin < d.start) io.fail_at(at, "a run begins before its direction");
        }
    } else {
        if (has_gaps) state_gaps(io, *d.gaps);
    }
    io.enumeration(d.start_kind, 3);
    io(d.synack_phantom);
    io(d.seen_data);
    io(d.fin_seen);
    io(d.has_content);
    io(d.hole_cap_hit);
    io(d.pending_set);
    state_wireshark(io, d.ws);
    io(d.sender.packets);
    io(d.sender.bytes);
    io(d.sender.truncated_bytes);
    io(d.sender.sent_non_syn);
    io(d.sender.sent_ack_flag);
    io(d.sender.sent_non_rst_ack);
    for (auto& r : d.recent) {
        io(r.time_ns);
        io(r.seq);
        io(r.ack);
        io(r.len);
        io(r.window);
        io(r.checksum);
        io(r.flags);
        io(r.valid);
    }
}

// The instance but its key, which the caller writes first (the flow table is keyed by it).
template <class IO, class I>
void state_instance(IO& io, I& in) {
    io(in.dir_from[0]);
    io(in.dir_from[1]);
    if constexpr (std::is_same_v<IO, StateReader>) {
        if (in.dir_from[0] > 1 || in.dir_from[1] > 1) io.fail("a direction is not 0 or 1");
    }
    io(in.has_syn);
    io(in.has_synack);
    io(in.answered);
    io(in.ended_after_answer);
    io(in.rst_or_fin);
    io(in.rst_seen);
    io(in.fin_from[0]);
    io(in.fin_from[1]);
    io(in.last_time);
    state_direction(io, in.dir[0]);
    state_direction(io, in.dir[1]);
    state_session(io, in.s);
    io(in.client_isn);
    io(in.syn_end);
    io(in.server_isn);
    io(in.synack_ack);
    for (auto& p : in.pending) {
        io(p.ack);
        io(p.frame);
        io(p.time);
    }
    // ws_events: the list, empty when the instance has none.
    if constexpr (std::is_same_v<IO, StateReader>) {
        std::vector<LossEvent> ws;
        state_vector(io, ws, 80, [&](auto& e) { state_event(io, e); });
        in.ws_events.reset();
        if (!ws.empty()) in.ws_events.for_write() = std::move(ws);
    } else {
        std::vector<LossEvent> none;
        state_vector(io, in.ws_events ? *in.ws_events : none, 80,
                     [&](auto& e) { state_event(io, e); });
    }
}

template <class IO, class C>
void state_counters(IO& io, C& c) {
#define CAPGAP_STATE_COUNTER(name, group, description) io(c.name);
    CAPGAP_TRACKER_COUNTERS(CAPGAP_STATE_COUNTER)
#undef CAPGAP_STATE_COUNTER
}

}  // namespace capgap::detail
