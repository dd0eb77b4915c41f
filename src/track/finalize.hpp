// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
#pragma once
// Private: the end of an instance (docs/counting-rules.md sections 3 and 5): its session's counters
// and category, and its events, one per classified run of each direction, then the Wireshark flags
// it raised.

#include <algorithm>
#include <cstdint>
#include <vector>

#include <capgap/loss_event.hpp>
#include <capgap/session.hpp>
#include <capgap/tracker.hpp>

#include "track/default_verdict.hpp"
#include "track/gaps.hpp"
#include "track/instance.hpp"

namespace capgap::detail {

// Appends the events of direction d's runs to `events` and frees its holes and runs.
inline void classify(Instance& in, int d, std::vector<LossEvent>& events) {
    DirState& x = in.dir[d];
    if (!x.gaps) return;                                   // no hole, no run: no event
    const std::vector<Run> merged = x.gaps->final_runs();  // one event per run
    const Endpoint& src = d == 0 ? in.s.client : in.s.server;
    const Endpoint& dst = d == 0 ? in.s.server : in.s.client;
    for (const Run& r : merged) {
        LossEvent e;
        e.session_id = in.s.id;
        e.direction = d == 0 ? Direction::c2s : Direction::s2c;
        e.kind = r.kind;
        e.late_filled = r.late_filled;
        e.frame = r.frame;
        e.time = r.time;
        e.seq_begin = static_cast<std::uint64_t>(r.begin - x.start);
        e.seq_end = static_cast<std::uint64_t>(r.end - x.start);
        e.src = src;
        e.dst = dst;
        std::int64_t payload = r.end - r.begin;
        if (is_loss(r.kind)) {
            // Phantom numbers: the SYN-ACK's, and a FIN the capture missed.
            if (x.synack_phantom && r.begin == x.start) --payload;
            const bool missing_fin = r.end - r.begin == 1 && r.end == x.frontier && !x.fin_seen &&
                                     !(x.has_content && x.max_content_seq >= r.begin);
            if (missing_fin) payload = 0;
            if (payload == 0) e.kind = EventKind::control_missing;
        }
        e.missing_bytes = static_cast<std::uint64_t>(std::max<std::int64_t>(payload, 0));
        events.push_back(e);
    }
    x.gaps.reset();
}

// Ends an instance: the ACKs still held back are applied, the session is filled in and
// appended to `sessions`, its events to `events`.
inline void finalize(Instance& in, const DefaultVerdict& verdict, TrackerCounters& counters,
                     std::vector<Session>& sessions, std::vector<LossEvent>& events) {
    verdict.apply_pending(in, 0);
    verdict.apply_pending(in, 1);
    Session& s = in.s;
    const DirState::Sender& c2s = in.dir[0].sender;
    const DirState::Sender& s2c = in.dir[1].sender;
    s.last_time = in.last_time;
    s.packets = c2s.packets + s2c.packets;
    s.packets_c2s = c2s.packets;
    s.bytes_c2s = c2s.bytes;
    s.bytes_s2c = s2c.bytes;
    s.truncated_bytes = c2s.truncated_bytes + s2c.truncated_bytes;
    const bool both = c2s.packets > 0 && s2c.packets > 0;
    if (in.has_syn) {
        if (both) {
            s.category = SessionCategory::complete;
        } else if (!c2s.sent_non_syn) {
            s.category = SessionCategory::syn_only;
        } else {
            s.category = SessionCategory::one_sided;
        }
    } else {
        s.category = in.has_synack ? SessionCategory::synack_only : SessionCategory::partial;
    }
    for (int d = 0; d < 2; ++d) {
        if (in.dir[d].sender.packets == 0) continue;  // a direction never seen has no events
        if (in.dir[d].hole_cap_hit) {
            s.evicted = true;
            ++counters.holes_cap_hit;
        }
        classify(in, d, events);
    }
    if (in.ws_events) events.insert(events.end(), in.ws_events->begin(), in.ws_events->end());
    sessions.push_back(s);
}

}  // namespace capgap::detail
