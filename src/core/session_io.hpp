// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// A Session's fields, in the order the flow state (docs/state-format.md, "Instance") and the
// report's bytes (docs/state-format.md, "Report") both write them, by one visitor for writing
// and reading (core/state_io.hpp). A field added to Session belongs here, with both formats'
// versions raised.

#pragma once

#include <iterator>

#include <capgap/session.hpp>

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

}  // namespace capgap::detail
