// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// @file
/// The session tracker and loss detector: segments in capture order in, session instances and
/// loss events out (SEMANTICS.md sections 2 to 6), both verdict modes in one pass.
///
/// @code
/// capgap::Tracker t;
/// for (const capgap::Segment& s : segments) t.feed(s);
/// t.finish();
/// for (const capgap::Session& s : t.sessions()) { ... }
/// @endcode

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include <capgap/loss_event.hpp>
#include <capgap/segment.hpp>
#include <capgap/session.hpp>

namespace capgap {

/// Tracker settings; the defaults are the documented ones.
struct TrackerOptions {
    /// An ACK captured before its data is tap reordering, not loss, when the data follows
    /// within this many nanoseconds (SEMANTICS.md section 5). Default 3 ms.
    std::int64_t reorder_window_ns = 3'000'000;
    /// Cap on unresolved holes kept per direction; past it the session is marked evicted.
    std::size_t max_holes_per_direction = 4096;
};

/// What the tracker did with one segment.
enum class FeedResult : std::uint8_t {
    new_session,     ///< the segment started a new instance (SYN, SYN-ACK, or partial)
    joined,          ///< the segment joined the open instance of its key
    stale_synack,    ///< a SYN-ACK with a stale ISN: counted, ignored for sequence analysis
};

/// Tracks TCP session instances and classifies each direction's sequence space.
class Tracker {
public:
    explicit Tracker(TrackerOptions options = {});
    ~Tracker();
    Tracker(Tracker&&) noexcept;
    Tracker& operator=(Tracker&&) noexcept;
    Tracker(const Tracker&) = delete;
    Tracker& operator=(const Tracker&) = delete;

    /// Processes one segment. Segments must come in capture order.
    FeedResult feed(const Segment& segment);

    /// Closes every open instance (classifying what is still unresolved). Call once at the end.
    void finish();

    /// Instances finished so far, ordered by id after finish().
    const std::vector<Session>& sessions() const;
    /// Events of the finished instances (ordered by session id, then frame, after finish()).
    const std::vector<LossEvent>& events() const;
    /// Moves the results out (after finish()).
    std::vector<Session> take_sessions();
    std::vector<LossEvent> take_events();

    /// Instances currently open (memory use grows with this).
    std::size_t open_sessions() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace capgap
