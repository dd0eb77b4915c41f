// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// Reports of independent captures merged into one (capgap.concat, Report.merge): what one
// analysis of all the captures would have counted, when no connection spans two of them.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

#include <capgap/report.hpp>

#include "report/summary.hpp"

namespace capgap {
namespace {

// Counters that hold a peak, not a count: the merge keeps the largest.
bool is_peak(const IngestCounter& c) {
    return c.member == &IngestStats::open_flows_peak ||
           c.member == &IngestStats::timestamp_largest_step_back_ns;
}

// The bad CSV lines kept, as the reader keeps them (ingest_stats.hpp: the first 100).
constexpr std::size_t max_bad_lines = 100;

void add_ingest(IngestStats& into, const IngestStats& from) {
    for (const IngestCounter& c : ingest_counters) {
        if (is_peak(c)) {
            into.*c.member = std::max(into.*c.member, from.*c.member);
        } else {
            into.*c.member += from.*c.member;
        }
    }
    for (const auto& [name, n] : from.unsupported_link_types)
        into.unsupported_link_types[name] += n;
    for (const auto& [name, n] : from.unsupported_encapsulations)
        into.unsupported_encapsulations[name] += n;
    into.tunnels.insert(into.tunnels.end(), from.tunnels.begin(), from.tunnels.end());
    for (const std::uint64_t line : from.csv_bad_lines) {
        if (into.csv_bad_lines.size() == max_bad_lines) break;
        into.csv_bad_lines.push_back(line);
    }
    into.problems.insert(into.problems.end(), from.problems.begin(), from.problems.end());
    if (from.have_time) {
        into.first_time =
            into.have_time ? std::min(into.first_time, from.first_time) : from.first_time;
        into.last_time = into.have_time ? std::max(into.last_time, from.last_time) : from.last_time;
        into.have_time = true;
    }
}

// Every count of the summary; the rate and interval are derived (set_percentage).
void add_summary(Summary& into, const Summary& from) {
    for (std::uint64_t Summary::*m :
         {&Summary::total_sessions, &Summary::bad_sessions, &Summary::bad_confirmed,
          &Summary::bad_wireshark, &Summary::bad_data_missing, &Summary::bad_control_only,
          &Summary::wireshark_only, &Summary::confirmed_only, &Summary::syn_only,
          &Summary::one_sided, &Summary::partial, &Summary::synack_only, &Summary::before_window,
          &Summary::after_window, &Summary::filtered_out, &Summary::evicted,
          &Summary::unmatched_events})
        into.*m += from.*m;
}

}  // namespace

Report merge_reports(const std::vector<Report>& reports) {
    Report out;
    if (reports.empty()) {
        set_percentage(out.summary);
        return out;
    }
    out.summary.mode = reports.front().summary.mode;
    out.summary.join = reports.front().summary.join;

    constexpr std::size_t kinds = std::size(event_kinds), dirs = std::size(directions);
    EventTally tally[kinds][dirs] = {};
    std::size_t rows = 0, events = 0;
    for (const Report& r : reports) {
        rows += r.sessions.size();
        events += r.events.size();
    }
    out.sessions.reserve(rows);
    out.events.reserve(events);

    if (!reports.empty()) out.diagnosis_options = reports.front().diagnosis_options;
    std::uint64_t id_offset = 0;
    for (const Report& r : reports) {
        if (r.summary.mode != out.summary.mode || r.summary.join != out.summary.join) {
            throw std::invalid_argument(
                std::string("cannot merge reports of different modes or joins: ") +
                to_string(out.summary.mode) + "/" + to_string(out.summary.join) + " and " +
                to_string(r.summary.mode) + "/" + to_string(r.summary.join));
        }
        add_summary(out.summary, r.summary);

        // Session::tunnel i + 1 names ingest.tunnels[i]: shift past the tunnels before.
        const auto tunnel_offset = static_cast<std::uint32_t>(out.ingest.tunnels.size());
        const auto source_offset = static_cast<std::uint32_t>(out.sources.size());
        std::uint64_t next_id = id_offset;
        for (const SessionRow& row : r.sessions) {
            SessionRow& copy = out.sessions.emplace_back(row);
            copy.session.id += id_offset;
            if (copy.session.tunnel != 0) copy.session.tunnel += tunnel_offset;
            copy.source += source_offset;
            next_id = std::max(next_id, copy.session.id + 1);
        }
        for (const LossEvent& e : r.events) {
            LossEvent& copy = out.events.emplace_back(e);
            if (copy.session_id != no_session) {
                copy.session_id += id_offset;
                next_id = std::max(next_id, copy.session_id + 1);
            }
        }
        id_offset = next_id;
        out.sources.insert(out.sources.end(), r.sources.begin(), r.sources.end());
        add_ingest(out.ingest, r.ingest);
        out.timeline.merge(r.timeline);

        for (const EventTally& t : r.tallies) {
            const auto k = static_cast<std::size_t>(t.kind);
            const auto d = static_cast<std::size_t>(t.direction);
            if (k >= kinds || d >= dirs) continue;
            EventTally& sum = tally[k][d];
            sum.count += t.count;
            sum.missing_bytes += t.missing_bytes;
            sum.late_filled += t.late_filled;
        }
    }
    // In the order the Matcher writes them: by kind, then direction, non-zero only.
    for (std::size_t k = 0; k < kinds; ++k) {
        for (std::size_t d = 0; d < dirs; ++d) {
            if (tally[k][d].count == 0) continue;
            EventTally t = tally[k][d];
            t.kind = event_kinds[k].value;
            t.direction = directions[d].value;
            out.tallies.push_back(t);
        }
    }
    set_percentage(out.summary);
    return out;
}

}  // namespace capgap
