// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// @file
/// The one-call entry points of the CSV path: read a Wireshark SYN list and lost list
/// (wireshark_csv.hpp) and join them into a Report, by session instance (the Matcher) or by the
/// old client-socket key.
///
/// @code
/// capgap::MatchOptions opt;
/// opt.mode = capgap::Mode::wireshark;
/// opt.servers.push_back(capgap::ServerFilter::parse("192.168.80.12:443"));
/// capgap::Report r = capgap::analyze_wireshark_csv("syn.csv", "lost.csv", opt);
/// capgap::Report old = capgap::socket_join("syn.csv", "lost.csv", opt.servers, opt.ports);
/// @endcode

#include <cstdint>
#include <string>
#include <vector>

#include <capgap/matcher.hpp>
#include <capgap/report.hpp>

namespace capgap {

/// Reads both lists and matches them: the Report `capgap csv` prints. The lists carry only
/// Wireshark's flags, so pass Mode::wireshark as `options.mode` for a meaningful headline (the
/// confirmed verdict finds nothing in them); Summary::bad_wireshark holds it either way.
/// Summary::join is Join::instance; the adapter's unmatched events (CsvInput::unmatched_events)
/// are added to Summary::unmatched_events; csv_rows / csv_bad_rows appear in the ingest
/// counters.
/// @throws as read_wireshark_csv, and parse_error from the Matcher
Report analyze_wireshark_csv(const std::string& syn_path, const std::string& lost_path,
                             MatchOptions options);

/// The old join, reproduced exactly so users can see how far their old numbers were off:
/// keep the rows of both lists whose destination matches a server filter (all rows when
/// `servers` and `ports` are empty; `ports` keeps rows whose destination port is listed), key
/// each row by its source address and source port, count every kept SYN row as a session
/// (retransmitted SYNs included), and call a SYN row bad when its key appears among the kept
/// lost rows' keys. Lost rows without a source port cannot be keyed and match nothing. No
/// window applies (the old join had none).
///
/// The Report has Summary::join = Join::socket, mode wireshark, one SessionRow per kept SYN row
/// (session ids are row ordinals), bad_sessions = bad_wireshark, the interval, and the ingest
/// counters of both files; it has no events.
/// @throws as read_wireshark_csv (except that the two lists' times may be of different kinds)
Report socket_join(const std::string& syn_path, const std::string& lost_path,
                   const std::vector<ServerFilter>& servers,
                   const std::vector<std::uint16_t>& ports = {});

}  // namespace capgap
