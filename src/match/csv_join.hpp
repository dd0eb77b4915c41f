// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
#pragma once
// The two joins of a Wireshark SYN list and lost list: by session instance (the Matcher) and
// the old one by client socket. Reading the lists is the CSV adapter's (src/ingest/csv_*).

#include <capgap/ingest_stats.hpp>
#include <capgap/matcher.hpp>
#include <capgap/report.hpp>
#include <capgap/wireshark_csv.hpp>

#include <cstdint>
#include <vector>

#include "ingest/csv_rows.hpp"

namespace capgap {

/// The instance join: the Matcher over the adapter's sessions and events, with the events the
/// adapter could not attribute added to Summary::unmatched_events.
/// @throws parse_error from the Matcher
Report join_csv_instances(CsvInput in, MatchOptions options);

/// The old join by client socket over the rows of both lists (analyze_csv.hpp, socket_join):
/// `ingest` holds the two files' counters and becomes Report::ingest.
Report join_csv_sockets(const std::vector<csv::Row>& syn, const std::vector<csv::Row>& lost,
                        IngestStats ingest, const std::vector<ServerFilter>& servers,
                        const std::vector<std::uint16_t>& ports);

}  // namespace capgap
