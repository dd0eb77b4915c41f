// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// @file
/// Extraction: every packet of chosen sessions, as pcapng, with a comment on each packet where
/// a loss event was revealed, for a look in Wireshark.
///
/// @code
/// capgap::Report r = capgap::analyze({"capture.pcap"}, opt);
/// capgap::extract_sessions({"capture.pcap"}, opt, r, capgap::bad_session_ids(r), "bad.pcapng");
/// @endcode
///
/// The capture is read a second time with the same options: the tracker runs again exactly as
/// it did (the session ids are the same) and tells, for every packet, the instance it counted
/// it in (Tracker::record_attribution), so that with port reuse each packet goes to the right
/// one of several sessions of one 4-tuple. Reading twice needs files: standard input, pipes
/// and streams cannot be extracted from.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <capgap/analyze.hpp>
#include <capgap/errors.hpp>
#include <capgap/matcher.hpp>
#include <capgap/report.hpp>

namespace capgap {

/// Which of a report's sessions to extract. Every criterion given narrows the choice; none
/// given chooses every session of the report.
struct SessionSelection {
    bool bad = false;                   ///< only sessions bad under the report's headline mode
    std::vector<std::uint64_t> ids;     ///< only these session ids (empty: any)
    std::vector<ServerFilter> servers;  ///< only sessions whose server matches one (empty: any)
    std::vector<SessionCategory> categories;  ///< only these categories (empty: any)

    /// Parses a list of session ids as `--sessions-out` writes them: "3", "3,7,12", "5-9",
    /// "1,4-6,10" (ranges inclusive).
    /// @throws parse_error (source "sessions") on malformed text
    static std::vector<std::uint64_t> parse_ids(std::string_view text);
};

/// The ids of the report's sessions that `selection` chooses, in id order.
/// @throws std::invalid_argument when one of selection.ids is not a session of the report
std::vector<std::uint64_t> select_sessions(const Report& report, const SessionSelection& selection);

/// The ids of the report's sessions that are bad under its headline verdict (Summary::mode).
std::vector<std::uint64_t> bad_session_ids(const Report& report);

/// The packet comment that marks where `event` was revealed, e.g. "capgap: acked_unseen c2s,
/// 1448 bytes missing before this ACK (relative seq 1001-2449)".
std::string event_note(const LossEvent& event);

/// What extract_sessions() wrote.
struct ExtractResult {
    std::uint64_t sessions = 0;  ///< sessions asked for
    std::uint64_t packets = 0;   ///< packets written
    std::uint64_t notes = 0;     ///< loss notes written (packet comments)
};

/// Throws io_error naming the first input that cannot be read a second time: standard input,
/// a stream, or a path that is not a regular file (a pipe, a device).
void check_rereadable(const std::vector<CaptureInput>& inputs);

/// Reads the captures again with `options` (those `report` was made with: the tracker must
/// run as it did) and writes every packet of the sessions `session_ids` to `out_path` as
/// pcapng, in capture order: original bytes, captured and original lengths, nanosecond
/// timestamps, one interface per link type, and one comment per loss event (event_note) of
/// those sessions on the packet that revealed it. The file takes its name only once complete.
/// Options::progress is called as by analyze().
/// @throws io_error (check_rereadable; reading; writing, as output_error), format_error,
/// std::invalid_argument when an id is not a session of the report, capgap::error when the
/// second reading disagrees with the report (the capture changed in between)
ExtractResult extract_sessions(const std::vector<CaptureInput>& inputs, const Options& options,
                               const Report& report, const std::vector<std::uint64_t>& session_ids,
                               const std::string& out_path);

}  // namespace capgap
