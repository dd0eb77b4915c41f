// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// @file
/// The report: totals, the 95% Wilson interval, categories, events by kind and direction,
/// ingest counters, and the per-session detail. Renders as text, JSON and CSV.
///
/// @code
/// capgap::Report r = capgap::analyze({"capture.pcap"}, {});
/// std::cout << r.to_text();            // Total Sessions / Bad Sessions / Percentage ...
/// r.write_sessions_csv(std::cout);     // one row per session that started in the window
/// @endcode

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include <capgap/diagnosis.hpp>
#include <capgap/ingest_stats.hpp>
#include <capgap/loss_event.hpp>
#include <capgap/session.hpp>
#include <capgap/timeline.hpp>
#include <capgap/vocabulary.hpp>

namespace capgap {

/// The verdicts, one `X(name, description)` line each (see vocabulary.hpp).
#define CAPGAP_MODES(X)                                                          \
    X(confirmed, "default: acked_unseen, gap_unacked or control_missing events") \
    X(wireshark, "compatibility: packets Wireshark flags lost_segment / ack_lost_segment")

/// Which verdict is the headline "Bad Sessions".
enum class Mode : std::uint8_t { CAPGAP_MODES(CAPGAP_DETAIL_ENUMERATOR) };

/// Every mode with its name, in enum order.
inline constexpr Named<Mode> modes[] = {
#define CAPGAP_DETAIL_ROW(name, description) {Mode::name, #name, description},
    CAPGAP_MODES(CAPGAP_DETAIL_ROW)
#undef CAPGAP_DETAIL_ROW
};
static_assert(detail::in_enum_order(modes), "rows in enum order");
/// "confirmed" or "wireshark".
const char* to_string(Mode m);

/// How loss events were attributed to sessions.
enum class Join : std::uint8_t {
    instance,  ///< the Matcher: session instances by id, else by 4-tuple and time (default)
    socket     ///< the old CSV join on the client address and port (socket_join)
};
/// "instance" or "socket".
const char* to_string(Join j);

/// A session that started in the window, with its verdicts.
struct SessionRow {
    Session session;
    bool bad = false;                 ///< default verdict (confirmed)
    bool bad_wireshark = false;       ///< compatibility verdict
    std::uint32_t events = 0;         ///< events that make it bad (acked_unseen, gap_unacked,
                                      ///< control_missing)
    std::uint64_t missing_bytes = 0;  ///< payload bytes in those events
    bool data_missing = false;        ///< bad with payload missing (not only control packets)
    std::uint32_t source = 0;         ///< the input it came from: an index into Report::sources
};

/// Events of one kind and direction over the reported sessions.
struct EventTally {
    EventKind kind = EventKind::acked_unseen;
    Direction direction = Direction::c2s;
    std::uint64_t count = 0;
    std::uint64_t missing_bytes = 0;
    std::uint64_t late_filled = 0;  ///< of which acked_unseen flagged late_filled
};

/// The headline figures.
struct Summary {
    Mode mode = Mode::confirmed;         ///< which verdict `bad_sessions` reports
    Join join = Join::instance;          ///< how events were attributed
    std::uint64_t total_sessions = 0;    ///< instances started by a SYN inside the window
    std::uint64_t bad_sessions = 0;      ///< bad under `mode`
    std::uint64_t bad_confirmed = 0;     ///< bad under the default verdict
    std::uint64_t bad_wireshark = 0;     ///< bad under the Wireshark verdict
    std::uint64_t bad_data_missing = 0;  ///< confirmed-bad with payload missing
    std::uint64_t bad_control_only = 0;  ///< confirmed-bad with only control packets missing
    std::uint64_t wireshark_only = 0;    ///< Wireshark-bad but good by default (reordering...)
    std::uint64_t confirmed_only = 0;    ///< bad by default but not by Wireshark
    std::uint64_t syn_only = 0;          ///< counted sessions with only SYNs
    std::uint64_t one_sided = 0;         ///< counted sessions seen in one direction only
    std::uint64_t partial = 0;           ///< instances without a SYN (not counted)
    std::uint64_t synack_only = 0;       ///< SYN-ACK without its SYN (not counted)
    std::uint64_t before_window = 0;     ///< SYN-started instances before the window
    std::uint64_t after_window = 0;      ///< SYN-started instances at or after its end
    std::uint64_t filtered_out = 0;      ///< instances the server/port filter excluded
    std::uint64_t evicted = 0;           ///< counted sessions finished early by a resource cap
    std::uint64_t unmatched_events = 0;  ///< events that matched no instance
    double percentage = 0.0;             ///< 100 * bad_sessions / total_sessions (0 when none)
    double ci95_low = 0.0;               ///< 95% Wilson interval, in percent
    double ci95_high = 0.0;
};

/// The 95% Wilson score interval for k successes in n trials, in percent; {0, 0} for n = 0.
std::pair<double, double> wilson_interval(std::uint64_t k, std::uint64_t n);

/// A stretch of a report that came from consecutive pieces of one chain (flow_state.hpp), or
/// (chain 0) from analyses of no chain. merge_reports() joins two neighbouring parts of one
/// chain whose pieces follow each other, keeping the chain's session ids, and shifts every
/// part's ids, sources and tunnels past the parts before it (docs/state-format.md, "Merging").
struct ReportPart {
    std::uint64_t chain = 0;        ///< the chain's identity (FlowState::chain); 0: no chain
    std::uint32_t first_piece = 0;  ///< the pieces it holds: first_piece to last_piece
    std::uint32_t last_piece = 0;
    std::uint64_t id_offset = 0;      ///< a session's id here = its id in the chain + id_offset
    std::uint64_t ids = 0;            ///< the ids it takes: [id_offset, id_offset + ids)
    std::uint32_t source_offset = 0;  ///< its sources: Report::sources[source_offset, + sources)
    std::uint32_t sources = 0;
    std::uint32_t tunnel_offset = 0;  ///< its tunnels: ingest.tunnels[tunnel_offset, + tunnels)
    std::uint32_t tunnels = 0;

    friend bool operator==(const ReportPart& a, const ReportPart& b);
    friend bool operator!=(const ReportPart& a, const ReportPart& b) { return !(a == b); }
};

/// Everything capgap reports.
struct Report {
    Summary summary;
    std::vector<SessionRow> sessions;  ///< sessions that started in the window, by id
    std::vector<LossEvent> events;     ///< events of those sessions (all kinds)
    std::vector<EventTally> tallies;   ///< events by kind and direction (non-zero only)
    IngestStats ingest;
    /// What SessionRow::source names. One analysis names its inputs in one entry, joined by
    /// ", " (captures read together are one capture merged by time, and which file held a
    /// session's SYN is not kept); merge_reports() concatenates the reports' entries, so a
    /// merged report tells each session's capture apart. Empty when the packets were fed
    /// directly (Analyzer, Matcher).
    std::vector<std::string> sources;
    /// The per-packet timeline (empty for CSV input, or with Options::timeline off).
    Timeline timeline;
    /// The settings diagnosis() uses (top rows, bucket, client prefixes).
    DiagnosisOptions diagnosis_options;
    /// Where its sessions came from when a chain of pieces is part of it (flow_state.hpp), in
    /// id order; empty for a report of no chain (one implicit part of chain 0).
    std::vector<ReportPart> parts;

    /// The diagnosis (docs/diagnosis.md): findings, breakdowns, timeline, load.
    Diagnosis diagnosis() const;
    /// The classic three lines, then the interval, the Wireshark count, categories, events and
    /// ingest counters.
    std::string to_text() const;
    /// One JSON object with `summary`, `events`, `ingest` and `diagnosis`.
    std::string to_json() const;
    /// Header + one row per session, in the columns of docs/tables.md: session_id, client_ip,
    /// client_port, ..., bad (the headline's verdict), ..., data_missing, source.
    void write_sessions_csv(std::ostream& out) const;
    /// Header + one row per event: session_id, direction, kind, frame, time, seq_begin, ...
    void write_events_csv(std::ostream& out) const;
};

/// One report from the reports of independent captures (no connection in two of them), as
/// if they had been analysed together: totals, categories, events by kind and ingest counters
/// are added (open_flows_peak and timestamp_largest_step_back_ns take the largest; the first
/// and last times the earliest and latest; problems, tunnels, bad CSV lines and sources are
/// concatenated), session ids are renumbered (the sessions of report i follow those of
/// report i - 1, events keep their session) and the percentage and its interval are computed
/// again from the sums. Associative: merge_reports({merge_reports({a, b}), c}) equals
/// merge_reports({a, b, c}). No reports give an empty report.
/// @throws std::invalid_argument when the reports differ in mode or join
Report merge_reports(const std::vector<Report>& reports);

}  // namespace capgap
