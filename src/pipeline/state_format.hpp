// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// The flow state's frame (docs/state-format.md, "Header") and its summary section, shared by
// FlowState (flow_state.cpp) and the Analyzer's suspend and resume (analyze.cpp).

#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "core/state_io.hpp"

namespace capgap::detail {

constexpr char state_magic[8] = {'C', 'A', 'P', 'G', 'A', 'P', 'F', 'S'};
constexpr std::size_t state_header_size = 32;

// A format in the flow state's frame: its magic, its version and what errors call it. The
// flow state is one; the report's bytes (report/report_bytes.cpp) another.
struct FrameFormat {
    const char* magic;  // 8 characters, no terminator needed
    std::uint32_t version;
    const char* what;  // "flow state"
};

// The header (magic, version, sizes, CRC-32s) followed by the body.
std::string frame_bytes(const FrameFormat& format, const std::string& body);
// Checks the header and the body's length and CRC-32; throws format_error naming `name`.
void check_frame(const FrameFormat& format, const std::string& bytes, const std::string& name);

// The flow state's frame.
std::string frame_state(const std::string& body);
void check_state(const std::string& bytes, const std::string& name);

// The first section of the body: what FlowState's accessors tell without reading the rest.
struct StateSummary {
    std::uint64_t chain = 0;
    std::uint32_t next_piece = 0;
    std::uint64_t frames = 0;
    std::uint64_t next_session_id = 0;
    bool clock_started = false;
    std::int64_t clock_ns = 0;
    std::uint64_t open_sessions = 0;
};

template <class IO, class S>
void state_summary(IO& io, S& s) {
    io.tag(state_tag("SUMM"));
    io(s.chain);
    io(s.next_piece);
    io(s.frames);
    io(s.next_session_id);
    io(s.clock_started);
    io(s.clock_ns);
    io(s.open_sessions);
}

}  // namespace capgap::detail
