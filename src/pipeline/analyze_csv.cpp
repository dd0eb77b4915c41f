// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// The CSV path's entry points: the adapter reads, match/ joins and summarises.

#include <capgap/analyze_csv.hpp>
#include <capgap/wireshark_csv.hpp>

#include <string>
#include <utility>

#include "ingest/csv_rows.hpp"
#include "match/csv_join.hpp"

namespace capgap {

Report analyze_wireshark_csv(const std::string& syn_path, const std::string& lost_path,
                             MatchOptions options) {
    Report report = join_csv_instances(read_wireshark_csv(syn_path, lost_path), std::move(options));
    report.sources.push_back(syn_path + ", " + lost_path);
    return report;
}

Report socket_join(const std::string& syn_path, const std::string& lost_path,
                   const std::vector<ServerFilter>& servers,
                   const std::vector<std::uint16_t>& ports) {
    // Only the rows: the old join neither merged SYNs into instances nor required the two
    // lists' times to be of one kind.
    IngestStats stats;
    CsvCounts counts;
    csv::Reader reader{stats, counts};
    const csv::ParsedFile syn = reader.read_file(syn_path, csv::ListKind::syn);
    const csv::ParsedFile lost = reader.read_file(lost_path, csv::ListKind::lost);
    csv::note_times(stats, syn);
    csv::note_times(stats, lost);
    Report report = join_csv_sockets(syn.rows, lost.rows, std::move(stats), servers, ports);
    report.sources.push_back(syn_path + ", " + lost_path);
    return report;
}

}  // namespace capgap
