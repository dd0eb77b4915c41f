// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
#pragma once
// Private: the Matcher's join over sessions already in report rows. Matcher::match puts its
// sessions in rows and calls it; the sharded pipeline merges its shards' sessions straight
// into rows (pipeline/parallel.cpp), so the sessions are not moved once more.

#include <vector>

#include <capgap/ingest_stats.hpp>
#include <capgap/loss_event.hpp>
#include <capgap/matcher.hpp>
#include <capgap/report.hpp>

namespace capgap::detail {

// Matcher(options).match() of the sessions in `rows` (one per row, every other field of the
// row as a default SessionRow has it).
Report match_rows(const MatchOptions& options, std::vector<SessionRow> rows,
                  std::vector<LossEvent> events, const IngestStats& stats);

}  // namespace capgap::detail
