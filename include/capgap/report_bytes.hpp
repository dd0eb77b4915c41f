// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// @file
/// The binary form of a Report: every field, in the flow state's frame (magic, version,
/// length, CRC-32s) with tagged sections (docs/state-format.md, "Report"). It moves a report
/// between processes (`capgap analyze --files independent --jobs N` sends each group's report
/// from its child process) and reads back exactly the report written.
///
/// @code
/// capgap::Report r = capgap::analyze({"capture.pcap"}, {});
/// std::string bytes = capgap::to_bytes(r);
/// capgap::Report same = capgap::report_from_bytes(bytes, "from child 1");
/// @endcode

#include <cstdint>
#include <string>

#include <capgap/report.hpp>

namespace capgap {

/// The version of the report's byte format written by to_bytes (docs/state-format.md).
inline constexpr std::uint32_t report_format_version = 1;

/// The report as bytes: summary, sessions with their verdicts, events, tallies, ingest
/// counters and lists (problems, bad CSV lines, tunnels, unsupported link types and
/// encapsulations, times), sources, timeline, diagnosis options and parts.
std::string to_bytes(const Report& report);

/// The report that to_bytes wrote. Checks the frame (magic, version, length, CRC-32s), then
/// reads every section with every read bounded.
/// @param name what errors call the bytes (a file, a child process)
/// @throws format_error "name:offset N: reason" for bytes that are not a whole report (wrong
/// magic or version, truncated, corrupt, a count beyond the bytes left, a flag other than 0 or
/// 1, an enum out of range, an event's range reversed or shorter than its missing bytes, a
/// timeline on an impossible grid, names out of order, bytes after the end)
Report report_from_bytes(const std::string& bytes, const std::string& name = "report");

}  // namespace capgap
