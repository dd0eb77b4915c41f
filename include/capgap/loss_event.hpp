// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// @file
/// Loss events: classified runs of a direction's sequence space (docs/counting-rules.md section 5),
/// and the Wireshark flags (section 6) that the compatibility verdict uses.

#include <cstdint>
#include <string_view>

#include <capgap/flow_key.hpp>
#include <capgap/session.hpp>
#include <capgap/time.hpp>
#include <capgap/vocabulary.hpp>

namespace capgap {

/// The event kinds, one `X(name, description)` line each (see vocabulary.hpp).
#define CAPGAP_EVENT_KINDS(X)                                                              \
    X(acked_unseen, "never seen (or seen too late), some ACK covered it: capture loss")    \
    X(gap_unacked, "never seen, no ACK covered it: data and ACK missed, or capture ended") \
    X(control_missing, "only a SYN-ACK or FIN phantom number is missing: capture loss")    \
    X(acked_before_data,                                                                   \
      "filled_late: ACK captured before its data, within the reorder window: not loss")    \
    X(reordered, "filled_late: seen before any ACK after a later number: not loss")        \
    X(ws_lost_segment, "a packet Wireshark flags \"previous segment not captured\"")       \
    X(ws_ack_lost_segment, "a packet Wireshark flags \"ACKed unseen segment\"")

/// What a run of sequence numbers (or a flagged packet) is.
enum class EventKind : std::uint8_t { CAPGAP_EVENT_KINDS(CAPGAP_DETAIL_ENUMERATOR) };

/// Every event kind with its name, in enum order.
inline constexpr Named<EventKind> event_kinds[] = {
#define CAPGAP_DETAIL_ROW(name, description) {EventKind::name, #name, description},
    CAPGAP_EVENT_KINDS(CAPGAP_DETAIL_ROW)
#undef CAPGAP_DETAIL_ROW
};
static_assert(detail::in_enum_order(event_kinds), "rows in enum order");

/// The snake_case name, e.g. "acked_unseen", "filled_late/reordered" is written "reordered".
const char* to_string(EventKind k);
/// Parses a name written by to_string; returns false when unknown.
bool parse_event_kind(std::string_view name, EventKind& out);

/// True for the kinds that make a session bad in the default (`confirmed`) mode.
inline bool is_loss(EventKind k) {
    return k == EventKind::acked_unseen || k == EventKind::gap_unacked ||
           k == EventKind::control_missing;
}
/// True for the Wireshark flags, which decide the `wireshark` mode verdict.
inline bool is_wireshark_flag(EventKind k) {
    return k == EventKind::ws_lost_segment || k == EventKind::ws_ack_lost_segment;
}

/// One loss event.
///
/// For runs of sequence numbers, [seq_begin, seq_end) are offsets from the sending
/// direction's start (the ISN when the SYN or SYN-ACK was seen). For Wireshark flags the range
/// is empty and `frame` is the flagged packet.
struct LossEvent {
    std::uint64_t session_id = no_session;  ///< the instance (no_session: join by key and time)
    Direction direction = Direction::c2s;   ///< c2s: the client sent the missing bytes
    EventKind kind = EventKind::acked_unseen;
    bool late_filled = false;        ///< acked_unseen whose data came later than the reorder window
    std::uint64_t frame = no_frame;  ///< the packet that revealed the event
    Timestamp time;                  ///< its time
    std::uint64_t seq_begin = 0;     ///< first number of the run (relative)
    std::uint64_t seq_end = 0;       ///< one past the last number of the run (relative)
    std::uint64_t missing_bytes = 0;  ///< payload bytes in the run (phantoms excluded)
    Endpoint src;                     ///< sender of the revealing packet (the CSV join uses it)
    Endpoint dst;                     ///< receiver of the revealing packet

    friend bool operator==(const LossEvent& a, const LossEvent& b);
    friend bool operator!=(const LossEvent& a, const LossEvent& b) { return !(a == b); }
};

}  // namespace capgap
