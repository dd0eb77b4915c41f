// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// The diagnosis as text (the findings block the text report starts with) and as CSV tables.

#include <capgap/diagnosis.hpp>

#include <cstdio>
#include <ctime>
#include <ostream>
#include <sstream>

#include "report/text_format.hpp"

namespace capgap {

using detail::csv_field;
using detail::fixed2;

namespace {

std::string num(double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.6g", v);
    return buf;
}

}  // namespace

std::string iso8601(Timestamp t) {
    std::int64_t secs = t.ns / 1'000'000'000;
    std::int64_t frac = t.ns % 1'000'000'000;
    if (frac < 0) {
        frac += 1'000'000'000;
        --secs;
    }
    const auto tt = static_cast<std::time_t>(secs);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    char buf[80];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%09lldZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  static_cast<long long>(frac));
    return buf;
}

std::string Diagnosis::findings_text() const {
    std::ostringstream o;
    o << "Findings:\n";
    if (findings.empty()) o << "  (none)\n";
    for (const Finding& f : findings) {
        o << "  [" << to_string(f.severity) << "] " << to_string(f.name) << ": " << f.title << '\n';
        if (!f.rows.empty()) {
            o << "    groups:";
            std::size_t shown = 0;
            for (const FindingRow& r : f.rows) {
                if (shown++ == 5) {
                    o << " ...";
                    break;
                }
                o << ' ' << r.table << '=' << r.group;
            }
            o << '\n';
        }
        if (f.severity != Severity::info) o << "    check: " << f.check << '\n';
    }
    o << "Reconstructable: " << reconstructable.sessions << " of " << reconstructable.total
      << " sessions (" << fixed2(reconstructable.percentage) << "%)\n";
    return o.str();
}

void Diagnosis::write_breakdown_csv(std::ostream& out) const {
    out << "table,group,sessions,bad,percentage,ci95_low,ci95_high,missing_bytes,events,"
           "significant,z,retransmissions,duplicates\n";
    for (const auto& t : breakdowns) {
        for (const BreakdownRow& r : t.second) {
            out << t.first << ',' << csv_field(r.group) << ',' << r.sessions << ',' << r.bad << ','
                << num(r.percentage) << ',' << num(r.ci95_low) << ',' << num(r.ci95_high) << ','
                << r.missing_bytes << ',' << r.events << ',' << (r.significant ? 1 : 0) << ','
                << num(r.z) << ',' << r.retransmissions << ',' << r.duplicates << '\n';
        }
    }
}

void Diagnosis::write_timeline_csv(std::ostream& out) const {
    out << "start,packets,bytes,packets_per_s,bits_per_s,new_sessions,bad_sessions,loss_events,"
           "missing_bytes,retransmissions,duplicates,acks,acks_above_hole,gap_ack_ratio,"
           "data_segments\n";
    for (const TimelineRow& r : timeline) {
        out << iso8601(r.start) << ',' << r.packets << ',' << r.bytes << ',' << num(r.packets_per_s)
            << ',' << num(r.bits_per_s) << ',' << r.new_sessions << ',' << r.bad_sessions << ','
            << r.loss_events << ',' << r.missing_bytes << ',' << r.retransmissions << ','
            << r.duplicates << ',' << r.acks << ',' << r.acks_above_hole << ','
            << num(r.gap_ack_ratio) << ',' << r.data_segments << '\n';
    }
}

}  // namespace capgap
