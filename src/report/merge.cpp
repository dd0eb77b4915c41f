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

bool operator==(const ReportPart& a, const ReportPart& b) {
    return a.chain == b.chain && a.first_piece == b.first_piece && a.last_piece == b.last_piece &&
           a.id_offset == b.id_offset && a.ids == b.ids && a.source_offset == b.source_offset &&
           a.sources == b.sources && a.tunnel_offset == b.tunnel_offset && a.tunnels == b.tunnels;
}

namespace {

// The ids a report of no parts takes: one past the largest session id it names.
std::uint64_t id_span(const Report& r) {
    std::uint64_t next = 0;
    for (const SessionRow& row : r.sessions)
        next = std::max(next, row.session.id + 1);
    for (const LossEvent& e : r.events)
        if (e.session_id != no_session) next = std::max(next, e.session_id + 1);
    return next;
}

// One part of one input report.
struct Segment {
    const Report* report;
    ReportPart part;
    std::uint64_t id_shift = 0;  // within its output part (parts of no chain stack)
    std::uint32_t source_shift = 0, tunnel_shift = 0;
};

// A part of the merged report: one segment, consecutive pieces of one chain (which share
// their ids, sources and tunnels: a later piece's lists extend the earlier one's), or reports
// of no chain, stacked one after the other.
struct OutPart {
    ReportPart part;  // offsets filled in at the end
    std::vector<Segment> segments;
    const Report* lists = nullptr;  // the report whose sources and tunnels the part takes
    ReportPart lists_part;
};

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
    out.diagnosis_options = reports.front().diagnosis_options;

    // The parts, in order: neighbouring pieces of one chain joined, reports of no chain stacked.
    std::vector<OutPart> parts;
    bool chained = false;
    // Report i continues the chain of the reports before it: its first part joined theirs.
    std::vector<bool> continues(reports.size(), false);
    for (const Report& r : reports) {
        if (r.summary.mode != out.summary.mode || r.summary.join != out.summary.join) {
            throw std::invalid_argument(
                std::string("cannot merge reports of different modes or joins: ") +
                to_string(out.summary.mode) + "/" + to_string(out.summary.join) + " and " +
                to_string(r.summary.mode) + "/" + to_string(r.summary.join));
        }
        std::vector<ReportPart> own = r.parts;
        if (own.empty()) {
            ReportPart p;
            p.ids = id_span(r);
            p.sources = static_cast<std::uint32_t>(r.sources.size());
            p.tunnels = static_cast<std::uint32_t>(r.ingest.tunnels.size());
            own.push_back(p);
        }
        for (const ReportPart& p : own) {
            const bool first_part = &p == &own.front();
            chained = chained || p.chain != 0;
            OutPart* last = parts.empty() ? nullptr : &parts.back();
            if (last != nullptr && p.chain == 0 && last->part.chain == 0) {
                Segment seg{&r, p, last->part.ids, last->part.sources, last->part.tunnels};
                last->segments.push_back(seg);
                last->part.ids += p.ids;
                last->part.sources += p.sources;
                last->part.tunnels += p.tunnels;
            } else if (last != nullptr && p.chain != 0 && last->part.chain == p.chain &&
                       p.first_piece == last->part.last_piece + 1) {
                last->segments.push_back(Segment{&r, p, 0, 0, 0});
                if (first_part) continues[static_cast<std::size_t>(&r - reports.data())] = true;
                last->part.last_piece = p.last_piece;
                last->part.ids = std::max(last->part.ids, p.ids);
                last->lists = &r;  // the later piece lists every source and tunnel so far
                last->lists_part = p;
                last->part.sources = p.sources;
                last->part.tunnels = p.tunnels;
            } else {
                OutPart o;
                o.part = p;
                o.segments.push_back(Segment{&r, p, 0, 0, 0});
                o.lists = &r;
                o.lists_part = p;
                parts.push_back(std::move(o));
            }
        }
    }

    std::uint64_t id_offset = 0;
    for (OutPart& o : parts) {
        o.part.id_offset = id_offset;
        o.part.source_offset = static_cast<std::uint32_t>(out.sources.size());
        o.part.tunnel_offset = static_cast<std::uint32_t>(out.ingest.tunnels.size());
        if (o.part.chain == 0) {
            for (const Segment& seg : o.segments) {
                const Report& r = *seg.report;
                out.sources.insert(out.sources.end(), r.sources.begin() + seg.part.source_offset,
                                   r.sources.begin() + seg.part.source_offset + seg.part.sources);
                out.ingest.tunnels.insert(
                    out.ingest.tunnels.end(), r.ingest.tunnels.begin() + seg.part.tunnel_offset,
                    r.ingest.tunnels.begin() + seg.part.tunnel_offset + seg.part.tunnels);
            }
        } else {
            const Report& r = *o.lists;
            const ReportPart& lp = o.lists_part;
            out.sources.insert(out.sources.end(), r.sources.begin() + lp.source_offset,
                               r.sources.begin() + lp.source_offset + lp.sources);
            out.ingest.tunnels.insert(out.ingest.tunnels.end(),
                                      r.ingest.tunnels.begin() + lp.tunnel_offset,
                                      r.ingest.tunnels.begin() + lp.tunnel_offset + lp.tunnels);
        }
        id_offset += o.part.ids;
    }

    // Each session and event moves with the part of its report that holds its id.
    for (const OutPart& o : parts) {
        for (const Segment& seg : o.segments) {
            const Report& r = *seg.report;
            const ReportPart& p = seg.part;
            const bool only = r.parts.empty();  // the report is this one part
            auto holds = [&](std::uint64_t id) {
                return only || (id >= p.id_offset && id - p.id_offset < p.ids);
            };
            const std::uint64_t shift = o.part.id_offset + seg.id_shift;
            const auto source_to = o.part.source_offset + seg.source_shift;
            const auto tunnel_to = o.part.tunnel_offset + seg.tunnel_shift;
            for (const SessionRow& row : r.sessions) {
                if (!holds(row.session.id)) continue;
                SessionRow& copy = out.sessions.emplace_back(row);
                copy.session.id = copy.session.id - p.id_offset + shift;
                if (copy.session.tunnel != 0)
                    copy.session.tunnel = copy.session.tunnel - p.tunnel_offset + tunnel_to;
                copy.source = copy.source - p.source_offset + source_to;
            }
            for (const LossEvent& e : r.events) {
                if (e.session_id != no_session && !holds(e.session_id)) continue;
                if (e.session_id == no_session && &seg != &o.segments.front() && !only) continue;
                LossEvent& copy = out.events.emplace_back(e);
                if (copy.session_id != no_session)
                    copy.session_id = copy.session_id - p.id_offset + shift;
            }
        }
    }
    if (chained) {
        // A chain's pieces hold its sessions in the order they ended: back to id order, and
        // events by session (each session's events come from one piece, already by frame).
        std::stable_sort(
            out.sessions.begin(), out.sessions.end(),
            [](const SessionRow& a, const SessionRow& b) { return a.session.id < b.session.id; });
        std::stable_sort(
            out.events.begin(), out.events.end(),
            [](const LossEvent& a, const LossEvent& b) { return a.session_id < b.session_id; });
        for (const OutPart& o : parts)
            out.parts.push_back(o.part);
    }

    for (const Report& r : reports) {
        add_summary(out.summary, r.summary);
        const bool have_time = out.ingest.have_time;
        const Timestamp first = out.ingest.first_time;
        add_ingest(out.ingest, r.ingest);
        // The first and last times are those of the first and last packet read; a piece that
        // continues a chain is read after the pieces before it.
        if (continues[static_cast<std::size_t>(&r - reports.data())] && r.ingest.have_time) {
            if (have_time) out.ingest.first_time = first;
            out.ingest.last_time = r.ingest.last_time;
        }
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
