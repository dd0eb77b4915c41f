// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// A Session's and a LossEvent's fields, in the order the flow state (docs/state-format.md,
// "Instance") and the report's bytes (docs/state-format.md, "Report") both write them, by one
// visitor for writing and reading (core/state_io.hpp). A field added to Session belongs here, with
// both formats' versions raised.

#pragma once

#include <cstdint>
#include <iterator>
#include <type_traits>

#include <capgap/loss_event.hpp>
#include <capgap/session.hpp>

#include "core/state_io.hpp"

namespace capgap::detail {

template <class IO, class S>
void state_session(IO& io, S& s) {
    io(s.id);
    io(s.client);
    io(s.server);
    io.enumeration(s.category, std::size(session_categories));
    io(s.syn_frame);
    io(s.syn_time);
    io(s.first_frame);
    io(s.first_time);
    io(s.last_time);
    io(s.packets);
    io(s.packets_c2s);
    io(s.bytes_c2s);
    io(s.bytes_s2c);
    io(s.truncated_bytes);
    io(s.syn_count);
    io(s.evicted);
    io(s.tunnel);
    io(s.vlan);
    io(s.interface);
    io(s.retransmissions);
    io(s.duplicates);
}

template <class IO, class E>
void state_event(IO& io, E& e) {
    io(e.session_id);
    io.enumeration(e.direction, std::size(directions));
    io.enumeration(e.kind, std::size(event_kinds));
    io(e.late_filled);
    io(e.frame);
    io(e.time);
    const std::size_t at = io.offset();
    io(e.seq_begin);
    io(e.seq_end);
    io(e.missing_bytes);
    if constexpr (std::is_same_v<IO, StateReader>) {
        constexpr auto most = static_cast<std::uint64_t>(max_state_seq);
        if (e.seq_begin > e.seq_end || e.seq_end > most ||
            e.missing_bytes > e.seq_end - e.seq_begin)
            io.fail_at(at, "an event's sequence range or missing bytes are out of range");
    }
    io(e.src);
    io(e.dst);
}

}  // namespace capgap::detail
