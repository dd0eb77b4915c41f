// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// @file
/// A TCP session instance (docs/counting-rules.md section 2).

#include <cstdint>
#include <limits>

#include <capgap/flow_key.hpp>
#include <capgap/time.hpp>
#include <capgap/vocabulary.hpp>

namespace capgap {

/// The session categories, one `X(name, description)` line each (see vocabulary.hpp).
#define CAPGAP_SESSION_CATEGORIES(X)                                                  \
    X(complete, "started by a pure SYN, packets in both directions: counted")         \
    X(syn_only, "only SYNs from the client, nothing back: counted, never bad")        \
    X(one_sided, "started by a SYN, packets in exactly one direction: counted")       \
    X(synack_only, "a SYN-ACK and no SYN it answers: not counted")                    \
    X(partial,                                                                        \
      "no SYN seen (capture started mid-stream, or reuse whose SYN was missed): not " \
      "counted")

/// Which kind of instance a session is; categories are mutually exclusive.
enum class SessionCategory : std::uint8_t { CAPGAP_SESSION_CATEGORIES(CAPGAP_DETAIL_ENUMERATOR) };

/// Every category with its name, in enum order.
inline constexpr Named<SessionCategory> session_categories[] = {
#define CAPGAP_DETAIL_ROW(name, description) {SessionCategory::name, #name, description},
    CAPGAP_SESSION_CATEGORIES(CAPGAP_DETAIL_ROW)
#undef CAPGAP_DETAIL_ROW
};
static_assert(detail::in_enum_order(session_categories), "rows in enum order");

/// "complete", "syn_only", "one_sided", "synack_only" or "partial".
const char* to_string(SessionCategory c);

/// True for the categories that enter the denominator (those started by a pure SYN).
inline bool is_counted(SessionCategory c) {
    return c == SessionCategory::complete || c == SessionCategory::syn_only ||
           c == SessionCategory::one_sided;
}

/// Marks a frame number or id that is not known.
constexpr std::uint64_t no_frame = 0;
/// Marks a session id that is not known (an event not yet attributed).
constexpr std::uint64_t no_session = std::numeric_limits<std::uint64_t>::max();

/// One session instance: the facts the tracker (or the CSV adapter) established.
///
/// Verdicts are not stored here: the Matcher derives them from the loss events, so the same
/// instance can be judged with or without window-scoped events.
struct Session {
    std::uint64_t id = 0;  ///< 0-based, in order of the instance's first packet
    Endpoint client;       ///< sender of the starting SYN (a guess for partial instances)
    Endpoint server;       ///< the other end
    SessionCategory category = SessionCategory::partial;
    std::uint64_t syn_frame = no_frame;    ///< frame of the first pure SYN (no_frame: none)
    Timestamp syn_time;                    ///< time of the first pure SYN (when syn_frame set)
    std::uint64_t first_frame = no_frame;  ///< first packet of the instance
    Timestamp first_time;                  ///< time of its first packet
    /// Time of its last packet; one whose time the tracker's clock rejected as an outlier does
    /// not count (docs/counting-rules.md, "Time and flow expiry").
    Timestamp last_time;
    std::uint64_t packets = 0;          ///< packets attributed to the instance
    std::uint64_t packets_c2s = 0;      ///< of which client to server
    std::uint64_t bytes_c2s = 0;        ///< on-wire payload bytes client to server
    std::uint64_t bytes_s2c = 0;        ///< on-wire payload bytes server to client
    std::uint64_t truncated_bytes = 0;  ///< payload bytes cut by the snaplen (never loss)
    std::uint32_t syn_count = 0;        ///< pure SYNs (retransmissions included)
    bool evicted = false;         ///< finished early by a resource cap: verdict may be incomplete
    std::uint32_t tunnel = 0;     ///< outer tunnel context (Options::tunnel_key); 0: none
    std::uint16_t vlan = 0xffff;  ///< outermost VLAN id of its first packet (0xffff: none)
    std::uint32_t interface = 0;  ///< capture interface of its first packet (pcapng id)
    std::uint32_t retransmissions = 0;  ///< segments whose payload was all seen before
    std::uint32_t duplicates = 0;       ///< exact duplicates (SPAN copies) of its packets

    /// The time the instance is placed at: its SYN when it has one, else its first packet.
    Timestamp start_time() const { return syn_frame != no_frame ? syn_time : first_time; }
    friend bool operator==(const Session& a, const Session& b);
    friend bool operator!=(const Session& a, const Session& b) { return !(a == b); }
};

}  // namespace capgap
