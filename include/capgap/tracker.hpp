// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// @file
/// The session tracker and loss detector: segments in capture order in, session instances and
/// loss events out (docs/counting-rules.md sections 2 to 6), both verdict modes in one pass.
///
/// @code
/// capgap::Tracker t;
/// for (const capgap::Segment& s : segments) t.feed(s);
/// t.finish();
/// for (const capgap::Session& s : t.sessions()) { ... }
/// @endcode

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include <capgap/ingest_stats.hpp>
#include <capgap/loss_event.hpp>
#include <capgap/segment.hpp>
#include <capgap/session.hpp>

namespace capgap {

namespace detail {
struct ShardAccess;  // the sharded pipeline's access (src/track/shard.hpp)
class StateWriter;
class StateReader;
}  // namespace detail

/// Tracker settings; the defaults are the documented ones.
struct TrackerOptions {
    /// An ACK captured before its data is tap reordering, not loss, when the data follows
    /// within this many nanoseconds (docs/counting-rules.md section 5). Default 3 ms.
    std::int64_t reorder_window_ns = 3'000'000;
    /// Cap on unresolved holes kept per direction; past it the session is marked evicted.
    std::size_t max_holes_per_direction = 4096;
    /// A closed instance (RST, or FIN from each side, after it was answered: a refused
    /// attempt waits for its same-ISN retries until idle_timeout) idle this long (capture time) is
    /// finished and leaves the flow table; a later packet of its key starts a new instance,
    /// as rule 2.4 would for a packet outside its ranges. Default 5 s (Zeek's
    /// tcp_close_delay); 0 keeps closed instances to the end.
    std::int64_t closed_timeout_ns = 5'000'000'000;
    /// An open instance idle this long is finished and leaves the table (later packets form
    /// a partial instance). Default 15 minutes; 0 never expires idle instances.
    std::int64_t idle_timeout_ns = 900'000'000'000;
    /// Cap on instances open at once; past it the least recently active tenth is finished
    /// early and marked evicted. Bounds memory on SYN floods and scans (about 0.5 KB each).
    std::size_t max_open_flows = 1'000'000;
    /// The tracker's clock (the capture time that closed_timeout and idle_timeout count
    /// from: the latest time accepted) ignores a segment dated more than this ahead of it or
    /// behind it: a corrupt timestamp years ahead must not expire every open flow. Such a
    /// segment is tracked as usual and counted (timestamp_jumps_forward, timestamp_steps_back).
    /// Default 1 hour, well above the default timeouts; 0: no limit (the clock is the latest
    /// time seen).
    std::int64_t clock_jump_limit_ns = 3'600'000'000'000;
    /// The clock follows a jump or step beyond clock_jump_limit_ns that persists (a capture
    /// that really continues at the other time: a host suspended, files concatenated) once
    /// this many segments in a row lie beyond the limit, each within the limit of the latest
    /// of them; it moves to the latest of them (counted under timestamp_jumps_followed).
    /// Default 4; 0 or 1 follows every jump at once.
    std::uint32_t clock_confirm_packets = 4;
    /// Two segments of one direction identical in seq, ack, flags, length, window and TCP
    /// checksum within this many nanoseconds are one packet seen twice (SPAN duplicates).
    std::int64_t duplicate_window_ns = 1'000'000;
    /// Drop such duplicates before tracking (they are counted either way, never loss).
    bool drop_duplicates = false;
    /// Header prediction: the common packet (a pure ACK or in-order data of an established
    /// instance, with nothing unseen, held back or flagged) takes a short path with the same
    /// effects as the general one. false sends every packet down the general path: the
    /// results are identical, only slower (tests compare the two).
    bool header_prediction = true;
};

/// What the tracker counted besides sessions and events: the members listed in
/// CAPGAP_TRACKER_COUNTERS (duplicate_packets, flows_evicted, ...), each described there.
/// Analyzer::finish copies them into the IngestStats members of the same names.
struct TrackerCounters {
    CAPGAP_TRACKER_COUNTERS(CAPGAP_DETAIL_COUNTER_FIELD)
};

/// What the tracker did with one segment.
enum class FeedResult : std::uint8_t {
    new_session,        ///< the segment started a new instance (SYN, SYN-ACK, or partial)
    joined,             ///< the segment joined the open instance of its key
    stale_synack,       ///< a SYN-ACK with a stale ISN: counted, ignored for sequence analysis
    duplicate,          ///< an exact duplicate: counted as a packet, ignored for sequence analysis
    dropped_duplicate,  ///< an exact duplicate dropped (drop_duplicates)
};

/// One packet and the instance the tracker gave it (Tracker::record_attribution).
struct Attribution {
    std::uint64_t frame = no_frame;         ///< the segment's frame
    std::uint64_t session_id = no_session;  ///< the instance it was counted in
};
/// What the batch feed can say of each segment (Tracker::feed with `marks`), as bits.
namespace feed_marks {
constexpr std::uint8_t duplicate = 1;       ///< an exact duplicate (dropped or kept)
constexpr std::uint8_t retransmission = 2;  ///< payload all seen before, filling no hole
constexpr std::uint8_t ack_above_hole = 4;  ///< an ACK covering bytes never seen
}  // namespace feed_marks

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

    /// Processes `count` segments in order, as `feed` on each would; faster on captures with
    /// many open flows, because the flow state of the segments ahead is fetched from memory
    /// while the current one is processed.
    void feed(const Segment* segments, std::size_t count);
    /// The same, and sets marks[i] to the feed_marks bits of segment i.
    void feed(const Segment* segments, std::size_t count, std::uint8_t* marks);

    /// Closes every open instance (classifying what is still unresolved). Call once at the end.
    void finish();
    /// Ends a piece of a chain instead (flow_state.hpp): the instances finished so far are
    /// ordered by id and their events by id and frame, ready to take; the open ones stay.
    void suspend();
    /// Writes the open instances, the clock, the counters and the next id (the tracker part
    /// of docs/state-format.md).
    void save(detail::StateWriter& out) const;
    /// Reads what save() wrote, before the first segment. @throws format_error
    void restore(detail::StateReader& in);

    /// Instances finished so far, ordered by id after finish().
    const std::vector<Session>& sessions() const;
    /// Events of the finished instances (ordered by session id, then frame, after finish()).
    const std::vector<LossEvent>& events() const;
    /// Moves the results out (after finish()).
    std::vector<Session> take_sessions();
    std::vector<LossEvent> take_events();

    /// While `out` is set, every segment fed appends its frame and the id of the instance it
    /// was attributed to (duplicates included, dropped ones too) to `*out`, in feed order; the
    /// extraction pass (extract.hpp) reads the capture again with it to find each session's
    /// packets. nullptr (the default) turns it off; unset, it costs one predictable branch
    /// per segment.
    void record_attribution(std::vector<Attribution>* out);
    /// Instances started so far (the next instance's id).
    std::uint64_t sessions_started() const;

    /// Instances currently open (memory use grows with this).
    std::size_t open_sessions() const;

    // ---- continuous measurement (live.hpp): results taken out as they come -----------------

    /// Moves the instances finished so far and their events out, appending them to
    /// `sessions` and `events` (in the order they were finished), and forgets them: a tracker
    /// that runs for days keeps only its open instances. Allowed before and after finish().
    void take_finished(std::vector<Session>& sessions, std::vector<LossEvent>& events);
    /// What for_each_open shows of an open instance.
    struct OpenView {
        const Session& session;  ///< identity and times (counters are filled in at its end)
        Timestamp last_time;     ///< its latest packet
        bool closed = false;     ///< RST, or FIN from each side: finished closed_timeout later
    };
    /// Calls `fn` for every instance open now (in no particular order).
    void for_each_open(const std::function<void(const OpenView&)>& fn) const;
    /// Judges the open instances `select` picks as if they ended now (their ACKs held back
    /// applied, their holes classified) and appends the sessions and events to `sessions`
    /// and `events`, without ending them: they go on, and are finished as usual later. Works on
    /// copies; the tracker and its counters do not change.
    void judge_open(const std::function<bool(const Session&)>& select,
                    std::vector<Session>& sessions, std::vector<LossEvent>& events) const;
    /// The tracker's clock (the latest capture time accepted, see clock_jump_limit_ns), in
    /// nanoseconds since the epoch; 0 before the first segment.
    std::int64_t clock_ns() const;
    /// Counters so far.
    const TrackerCounters& counters() const;
    /// False until the first segment started the clock.
    bool clock_started() const;

  private:
    friend struct detail::ShardAccess;
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace capgap
