// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// @file
/// The matcher: the one join both ingest paths share. Attributes loss events to session
/// instances, applies the monitoring window and the server filter, and judges each session.

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include <capgap/flow_key.hpp>
#include <capgap/ingest_stats.hpp>
#include <capgap/loss_event.hpp>
#include <capgap/report.hpp>
#include <capgap/session.hpp>
#include <capgap/time.hpp>

namespace capgap {

/// `--server CIDR[:PORT]`: a server address range and optional port.
struct ServerFilter {
    IpAddress network;                  ///< network address (host bits ignored)
    int prefix = 32;                    ///< prefix length (32 or 128 for a single host)
    std::optional<std::uint16_t> port;  ///< only this server port when set

    /// Parses "10.0.0.0/8", "10.1.1.1:443", "10.0.0.0/8:443", "2001:db8::/32",
    /// "[2001:db8::1]:443", "[2001:db8::/32]:443".
    /// @throws parse_error on malformed text
    static ServerFilter parse(std::string_view text);
    /// True when the endpoint lies in the range (and has the port, when one is set).
    bool matches(const Endpoint& e) const;
};

/// Matcher settings.
struct MatchOptions {
    TimeWindow window;                   ///< sessions whose first SYN is inside are "new"
    std::vector<ServerFilter> servers;   ///< keep sessions whose server matches any (none: all)
    std::vector<std::uint16_t> ports;    ///< keep sessions whose server port is any (none: all)
    bool events_in_window_only = false;  ///< count only events revealed inside the window
    Mode mode = Mode::confirmed;         ///< the headline verdict
    /// Also give rows for what the headline excludes, so it can be inspected (`--include all`,
    /// Python's include="all"): `partial` and `synack_only` instances in the window (with the
    /// server filter applied) among Report::sessions, their events and the unmatched events
    /// (session_id no_session) among Report::events. The summary and the tallies do not
    /// change: they still count only the sessions started by a SYN in the window.
    bool include_excluded = false;
};

/// Joins sessions and events into a Report.
///
/// Events with a session id are attributed by id. Events without one (CSV lost lists) are
/// attributed by key and time: to the latest instance of their endpoint pair whose SYN is at
/// or before the event's time; events with no such instance count as unmatched.
class Matcher {
  public:
    explicit Matcher(MatchOptions options = {}) : options_(std::move(options)) {}

    /// Builds the report. `stats` is copied into it (its first_time anchors relative windows).
    Report match(std::vector<Session> sessions, std::vector<LossEvent> events,
                 const IngestStats& stats) const;

    const MatchOptions& options() const { return options_; }

  private:
    MatchOptions options_;
};

}  // namespace capgap
