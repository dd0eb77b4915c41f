// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// @file
/// The CSV adapter: Wireshark's "Export Packet Dissections > As CSV" files and tshark
/// `-T fields -E header=y -E separator=, -E quote=d` files, turned into sessions and events for
/// the Matcher (docs/counting-rules.md section 7). Matching them into a Report is
/// analyze_csv.hpp's.
///
/// @code
/// capgap::CsvInput in = capgap::read_wireshark_csv("syn.csv", "lost.csv");
/// capgap::MatchOptions opt;
/// opt.mode = capgap::Mode::wireshark;
/// capgap::Report r = capgap::Matcher(opt).match(in.sessions, in.events, in.stats);
/// r.summary.unmatched_events += in.unmatched_events;  // as analyze_wireshark_csv does
/// @endcode
///
/// **Files.** RFC 4180 CSV: comma separated, fields optionally in double quotes (`""` inside
/// quotes is one quote, newlines inside quotes are kept), CRLF or LF line ends, UTF-8 with or
/// without a byte-order mark. Blank lines are not rows. The first line is the header; columns
/// are found by name, in any order, and unknown columns are ignored:
///
/// | meaning          | GUI export header | tshark field names                                  |
/// |------------------|-------------------|-----------------------------------------------------|
/// | frame number     | `No.`             | `frame.number`, `_ws.col.No.`                       |
/// | time             | `Time`            | `frame.time_epoch`, `frame.time`, `frame.time_utc`,
/// `frame.time_relative`, `_ws.col.Time` | | source address   | `Source`          | `ip.src`,
/// `ipv6.src`, `_ws.col.Source`              | | destination      | `Destination`     | `ip.dst`,
/// `ipv6.dst`, `_ws.col.Destination`         | | ports            | `Source Port`, `Destination
/// Port` | `tcp.srcport`, `tcp.dstport`        | | stream           | `Stream index`    |
/// `tcp.stream`                                        | | raw SYN sequence | -                 |
/// `tcp.seq_raw`                                       | | flags            | -                 |
/// `tcp.flags.syn`, `tcp.flags.ack`                    | | loss flags       | -                 |
/// `tcp.analysis.lost_segment`, `tcp.analysis.ack_lost_segment` | | Info             | `Info` |
/// `_ws.col.Info`                                      |
///
/// Required: the frame number, a time, a source and a destination address column, and either
/// the Info column or both port columns; the lost list also needs Info or a loss flag column.
///
/// **Info.** Parsed for the ports (`50680 > 443` or `50680 → 443`), the flag list (`[SYN]`,
/// `[SYN, ACK]`, `[<None>]`), `Seq=`, `Ack=`, `Len=`, and every expert marker `[TCP ...]`
/// (ExpertMarker). An application dissector may replace the TCP summary (`Continuation`,
/// `Client Hello`): such a row has addresses but no ports (see CsvCounts::rows_without_ports).
///
/// **Times.** Each file's time column is relative seconds (the GUI default: seconds since the
/// first packet of the capture, used as-is from epoch 0, so relative `--window` bounds still
/// work), epoch seconds (a value above 10^9), ISO date-time `2014-06-12 10:11:12.123456` (also
/// `YYYY/DDD hh:mm:ss` day-of-year), Wireshark's `Jun 12, 2014 10:11:12.123456789 UTC`, or a
/// time of day `10:11:12.123` (seconds since midnight). All are parsed exactly to the
/// nanosecond. Date-times without a zone, or with a zone abbreviation other than UTC/GMT, are
/// read as UTC (CsvCounts::times_zone_ignored counts the latter). When both files' times are
/// absolute, IngestStats::first_time is epoch minus `frame.time_relative` when that column is
/// present, else the earliest time in either file. The two files must use the same kind
/// (both relative or both absolute), since the join compares their times.
///
/// **Sessions** (one per instance in the SYN list, ids 0, 1, ... by SYN time): with a stream
/// column, one per stream. Without one, per 4-tuple in file order: a SYN row starts a new
/// instance unless it is marked `[TCP Retransmission]` (also Fast/Spurious), or carries the
/// same `tcp.seq_raw` as the previous SYN of the key; `[TCP Port numbers reused]` always starts
/// one. Merged rows count in Session::syn_count. Sessions have category `complete` (the lists
/// say nothing more), and syn_frame = first_frame = the first SYN row.
///
/// **Events.** One LossEvent per flag on a lost-list row: `ws_lost_segment` for `[TCP Previous
/// segment not captured]` / `tcp.analysis.lost_segment`, `ws_ack_lost_segment` for `[TCP ACKed
/// unseen segment]` / `tcp.analysis.ack_lost_segment` (a row with both gives two events). With
/// a stream column the adapter attributes them (session_id, direction); without one, rows with
/// ports keep session_id = no_session and the Matcher joins them by 4-tuple and time; rows
/// without ports are joined here by address pair and time when exactly one connection between
/// the two addresses could own them. Events the adapter cannot attribute are not in `events`:
/// they are counted in CsvInput::unmatched_events.
///
/// **Bad rows** are counted in IngestStats::csv_bad_rows with their line numbers, never
/// dropped silently: broken quoting, a field count different from the header's, a missing or
/// unreadable frame number, time, address or port, an empty (sanitized) address, or a time of
/// another kind than the file's first row.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <capgap/ingest_stats.hpp>
#include <capgap/loss_event.hpp>
#include <capgap/session.hpp>

namespace capgap {

/// A Wireshark expert marker as printed in the Info column, `[TCP <name>]`.
enum class ExpertMarker : std::uint8_t {
    previous_segment_not_captured,  ///< tcp.analysis.lost_segment
    acked_unseen_segment,           ///< tcp.analysis.ack_lost_segment
    retransmission,
    fast_retransmission,
    spurious_retransmission,
    out_of_order,
    dup_ack,  ///< "Dup ACK 12#1"
    keep_alive,
    keep_alive_ack,
    zero_window,
    zero_window_probe,
    zero_window_probe_ack,
    window_update,
    window_full,
    port_numbers_reused,
    segment_of_reassembled_pdu,  ///< "TCP segment of a reassembled PDU"
    other                        ///< any other `[TCP ...]` text
};

/// The marker's name as Wireshark prints it after "TCP " ("Dup ACK" for every dup_ack).
const char* to_string(ExpertMarker m);

/// What Info says about one packet (a parse of the Info text alone; parse_info()).
struct InfoFields {
    bool has_ports = false;  ///< ports and the flag list were found
    std::uint16_t src_port = 0;
    std::uint16_t dst_port = 0;
    bool has_flags = false;  ///< the flag list was found (with the ports)
    std::uint8_t flags = 0;  ///< tcp_flags bits (segment.hpp)
    bool has_seq = false;    ///< Seq= was found
    std::uint64_t seq = 0;   ///< as printed (usually relative)
    bool has_ack = false;    ///< Ack= was found
    std::uint64_t ack = 0;
    bool has_len = false;  ///< Len= was found
    std::uint64_t len = 0;
    std::vector<ExpertMarker> markers;  ///< every `[TCP ...]` marker, in order

    /// True when `m` is among the markers.
    bool has(ExpertMarker m) const;
};

/// Parses a Wireshark Info column text (either arrow style).
InfoFields parse_info(const std::string& info);

/// The kind of time a list's time column holds (both lists must hold the same kind).
enum class CsvTimeKind : std::uint8_t {
    none,        ///< no usable row: the kind is unknown
    relative,    ///< seconds since the capture's first packet (read from epoch 0)
    absolute,    ///< epoch seconds or a date and time
    time_of_day  ///< a clock time without a date (seconds since midnight)
};

/// "relative", "absolute" or "time_of_day"; "" for CsvTimeKind::none.
const char* to_string(CsvTimeKind k);

/// CSV-specific counters (IngestStats holds rows read and bad rows with line numbers).
struct CsvCounts {
    std::uint64_t syn_rows = 0;             ///< data rows of the SYN list
    std::uint64_t lost_rows = 0;            ///< data rows of the lost list
    std::uint64_t syn_merged = 0;           ///< SYN rows merged into an earlier instance
    std::uint64_t syn_rows_not_syn = 0;     ///< SYN-list rows whose flags are not a pure SYN
                                            ///< (skipped: the export used another filter)
    std::uint64_t lost_rows_unflagged = 0;  ///< lost-list rows with neither flag (skipped)
    std::uint64_t rows_without_ports = 0;   ///< rows whose Info carries no ports (both lists)
    std::uint64_t joined_by_address = 0;    ///< events of such rows joined by address pair
    std::uint64_t ambiguous_events = 0;     ///< events of such rows with several candidate
                                            ///< connections (counted in unmatched_events)
    std::uint64_t times_zone_ignored = 0;   ///< date-times whose zone name was read as UTC
    std::map<std::string, std::uint64_t> bad_row_reasons;  ///< bad rows by reason
    std::vector<InputProblem> bad_rows;         ///< the first 100 bad rows: file, "line N", reason
    CsvTimeKind time_kind = CsvTimeKind::none;  ///< the kind of both lists' times
    bool has_stream = false;  ///< both lists have a tcp.stream column (join on it)
};

/// Sessions from the SYN list and loss events from the lost list.
struct CsvInput {
    std::vector<Session> sessions;  ///< one per session instance (retransmitted SYNs merged)
    std::vector<LossEvent> events;  ///< one per flag; attributed when the adapter could
    IngestStats stats;              ///< rows read, bad rows with line numbers, first time
    CsvCounts counts;               ///< CSV-specific counters
    /// Events the adapter itself found no session for (a stream without a SYN row, a row
    /// without ports that matches no connection or several). Add this to
    /// Summary::unmatched_events after matching (analyze_wireshark_csv does).
    std::uint64_t unmatched_events = 0;
};

/// Reads a SYN list and a lost list.
/// @throws io_error when a file cannot be read
/// @throws format_error when a file is empty, binary, uses another delimiter, or the two files'
/// times are of different kinds
/// @throws parse_error when a required column is missing (names the file and quotes the header
/// line found)
CsvInput read_wireshark_csv(const std::string& syn_path, const std::string& lost_path);

}  // namespace capgap
