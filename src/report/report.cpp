// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// Rendering of the report: the classic three lines and detail as text, one JSON object, and
// the per-session / per-event CSV files. JSON goes through nlohmann-json (report/json.hpp).

#include <capgap/report.hpp>

#include <charconv>
#include <cmath>
#include <cstdio>
#include <ostream>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>

#include "core/errors.hpp"
#include "report/json.hpp"
#include "report/text_format.hpp"
#include "track/capture_time.hpp"

namespace capgap {

using detail::csv_field;
using detail::fixed2;

namespace {

std::string pad(std::string s, std::size_t width) {
    if (s.size() < width) s.append(width - s.size(), ' ');
    return s;
}

std::string lpad(const std::string& s, std::size_t width) {
    return s.size() < width ? std::string(width - s.size(), ' ') + s : s;
}

}  // namespace

const char* to_string(Mode m) {
    return detail::name_of(modes, m);
}

std::pair<double, double> wilson_interval(std::uint64_t k, std::uint64_t n) {
    if (n == 0) return {0.0, 0.0};
    constexpr double z = 1.959963984540054;  // two-sided 95% normal quantile
    const double nn = static_cast<double>(n);
    const double p = static_cast<double>(k) / nn;
    const double z2 = z * z;
    const double denom = 1.0 + z2 / nn;
    const double center = (p + z2 / (2.0 * nn)) / denom;
    const double half = z * std::sqrt(p * (1.0 - p) / nn + z2 / (4.0 * nn * nn)) / denom;
    double lo = center - half, hi = center + half;
    // Rounding can leave the bounds a hair outside [0, 1] at k = 0 or k = n.
    if (lo < 0.0 || k == 0) lo = 0.0;
    if (hi > 1.0 || k == n) hi = 1.0;
    return {100.0 * lo, 100.0 * hi};
}

std::string Report::to_text() const {
    return detail::report_text(*this, diagnosis());
}

std::string detail::report_text(const Report& report, const Diagnosis& diagnosis) {
    const Summary& s = report.summary;
    const IngestStats& ingest = report.ingest;
    const std::vector<EventTally>& tallies = report.tallies;
    std::ostringstream o;
    o << diagnosis.findings_text() << '\n';
    o << "Total Sessions: " << s.total_sessions << '\n';
    o << "Bad Sessions: " << s.bad_sessions << '\n';
    if (s.total_sessions == 0) {
        o << "Percentage: no sessions\n";
    } else {
        o << "Percentage: " << fixed2(s.percentage) << "%\n";
        o << "95% interval (Wilson): " << fixed2(s.ci95_low) << "% to " << fixed2(s.ci95_high)
          << "%\n";
    }
    o << '\n';
    o << "Mode: " << to_string(s.mode)
      << (s.mode == Mode::confirmed ? " (capture loss: acked_unseen, gap_unacked, control_missing)"
                                    : " (Wireshark lost_segment / ack_lost_segment flags)")
      << '\n';
    if (s.join != Join::instance) o << "Join: " << to_string(s.join) << '\n';
    // CSV exports carry only Wireshark's flags: there is no confirmed verdict to compare.
    const bool flags_only = ingest.csv_rows > 0 && ingest.packets_read == 0;
    if (flags_only) {
        o << "Wireshark would say: " << s.bad_wireshark << '\n';
        o << "  (CSV input carries Wireshark's flags only; analyze the capture for the "
             "confirmed verdict)\n";
    } else {
        o << "Bad (confirmed): " << s.bad_confirmed << '\n';
        o << "Wireshark would say: " << s.bad_wireshark << '\n';
    }
    if (!flags_only &&
        (s.bad_confirmed != s.bad_wireshark || s.wireshark_only != 0 || s.confirmed_only != 0)) {
        o << "  bad: " << s.bad_confirmed << "; Wireshark would say " << s.bad_wireshark;
        if (s.wireshark_only != 0) {
            o << ": " << s.wireshark_only << " flagged only by Wireshark were reordering or "
              << "repaired loss, not capture loss";
        }
        if (s.confirmed_only != 0) {
            o << (s.wireshark_only != 0 ? "; " : ": ") << s.confirmed_only
              << " bad ones Wireshark does not flag";
        }
        o << '\n';
    }
    if (!flags_only) {
        o << "  data missing: " << s.bad_data_missing << '\n';
        o << "  control packets only: " << s.bad_control_only << '\n';
    }
    o << '\n';
    o << "Counted, reported separately:\n";
    o << "  syn_only: " << s.syn_only << '\n';
    o << "  one_sided: " << s.one_sided << '\n';
    o << "  evicted (verdict may be incomplete): " << s.evicted << '\n';
    o << "Not counted:\n";
    o << "  partial (no SYN seen): " << s.partial << '\n';
    o << "  synack_only (SYN missed): " << s.synack_only << '\n';
    o << "  before window: " << s.before_window << '\n';
    o << "  after window: " << s.after_window << '\n';
    o << "  filtered out: " << s.filtered_out << '\n';
    o << "  unmatched events: " << s.unmatched_events << '\n';

    if (!tallies.empty()) {
        o << '\n' << "Events:\n";
        o << "  " << pad("kind", 20) << pad("dir", 5) << lpad("count", 10)
          << lpad("missing_bytes", 15) << lpad("late_filled", 13) << '\n';
        for (const EventTally& t : tallies) {
            o << "  " << pad(to_string(t.kind), 20) << pad(to_string(t.direction), 5)
              << lpad(std::to_string(t.count), 10) << lpad(std::to_string(t.missing_bytes), 15)
              << lpad(std::to_string(t.late_filled), 13) << '\n';
        }
    }

    o << '\n' << "Ingest:\n";
    for (const IngestCounter& c : ingest_counters) {
        const std::uint64_t v = ingest.*c.member;
        if (v != 0) o << "  " << c.name << ": " << v << '\n';
    }
    for (const auto& l : ingest.unsupported_link_types) {
        o << "  unsupported link type " << l.first << ": " << l.second << '\n';
    }
    for (const auto& e : ingest.unsupported_encapsulations) {
        o << "  undecoded encapsulation " << e.first << ": " << e.second << '\n';
    }
    for (std::size_t i = 0; i < ingest.tunnels.size(); ++i) {
        o << "  tunnel " << i + 1 << ": " << ingest.tunnels[i] << '\n';
    }
    if (ingest.have_time) {
        o << "  first_time: " << to_string(ingest.first_time) << '\n';
        o << "  last_time: " << to_string(ingest.last_time) << '\n';
    }
    for (const InputProblem& p : ingest.problems) {
        o << "warning: " << format_message(p.source, p.position, p.reason) << '\n';
    }
    if (!ingest.csv_bad_lines.empty()) {
        o << "bad CSV lines:";
        for (std::uint64_t l : ingest.csv_bad_lines)
            o << ' ' << l;
        if (ingest.csv_bad_rows > ingest.csv_bad_lines.size()) o << " ...";
        o << '\n';
    }
    return o.str();
}

namespace detail {

Json json_number(double v) {
    if (!std::isfinite(v)) return nullptr;
    char buf[64];
    const auto res = std::to_chars(buf, buf + sizeof buf, v);
    // Read the text back as any JSON reader would: "100" is an integer, "24.5" a double.
    return Json::parse(std::string_view(buf, static_cast<std::size_t>(res.ptr - buf)));
}

std::string dump_json(const Json& doc) {
    std::string out = doc.dump(-1, ' ', false, Json::error_handler_t::replace);
    out += '\n';
    return out;
}

Json report_json(const Report& report) {
    return report_json(report, report.diagnosis());
}

Json report_json(const Report& report, const Diagnosis& diagnosis) {
    const Summary& s = report.summary;
    const IngestStats& ingest = report.ingest;
    // Each member is built whole, then added: a reference into an ordered_json would move
    // as it grows.
    Json doc = Json::object();

    Json sum = Json::object();
    sum["mode"] = to_string(s.mode);
    sum["join"] = to_string(s.join);
    sum["total_sessions"] = s.total_sessions;
    sum["bad_sessions"] = s.bad_sessions;
    sum["percentage"] = s.total_sessions == 0 ? Json(nullptr) : json_number(s.percentage);
    sum["ci95"] = Json::array({json_number(s.ci95_low), json_number(s.ci95_high)});
    sum["ci95_low"] = json_number(s.ci95_low);
    sum["ci95_high"] = json_number(s.ci95_high);
    sum["bad_confirmed"] = s.bad_confirmed;
    sum["bad_wireshark"] = s.bad_wireshark;
    sum["bad_sessions_wireshark"] = s.bad_wireshark;
    sum["bad_data_missing"] = s.bad_data_missing;
    sum["bad_control_only"] = s.bad_control_only;
    sum["wireshark_only"] = s.wireshark_only;
    sum["confirmed_only"] = s.confirmed_only;
    sum["syn_only"] = s.syn_only;
    sum["one_sided"] = s.one_sided;
    sum["partial"] = s.partial;
    sum["synack_only"] = s.synack_only;
    sum["before_window"] = s.before_window;
    sum["after_window"] = s.after_window;
    sum["filtered_out"] = s.filtered_out;
    sum["evicted"] = s.evicted;
    sum["unmatched_events"] = s.unmatched_events;
    doc["summary"] = std::move(sum);

    Json events = Json::array();
    for (const EventTally& t : report.tallies) {
        Json e = Json::object();
        e["kind"] = to_string(t.kind);
        e["direction"] = to_string(t.direction);
        e["count"] = t.count;
        e["missing_bytes"] = t.missing_bytes;
        e["late_filled"] = t.late_filled;
        events.push_back(std::move(e));
    }
    doc["events"] = std::move(events);

    Json in = Json::object();
    for (const IngestCounter& c : ingest_counters)
        in[c.name] = ingest.*c.member;
    Json links = Json::object();
    for (const auto& l : ingest.unsupported_link_types)
        links[l.first] = l.second;
    in["unsupported_link_types"] = std::move(links);
    Json encaps = Json::object();
    for (const auto& e : ingest.unsupported_encapsulations)
        encaps[e.first] = e.second;
    in["unsupported_encapsulations"] = std::move(encaps);
    in["tunnels"] = ingest.tunnels;
    Json problems = Json::array();
    for (const InputProblem& p : ingest.problems) {
        Json j = Json::object();
        j["source"] = p.source;
        j["position"] = p.position;
        j["reason"] = p.reason;
        problems.push_back(std::move(j));
    }
    in["problems"] = std::move(problems);
    in["csv_bad_lines"] = ingest.csv_bad_lines;
    in["first_time"] = ingest.have_time ? Json(to_string(ingest.first_time)) : Json(nullptr);
    in["last_time"] = ingest.have_time ? Json(to_string(ingest.last_time)) : Json(nullptr);
    doc["ingest"] = std::move(in);
    doc["diagnosis"] = diagnosis_json(diagnosis);
    return doc;
}

}  // namespace detail

std::string Report::to_json() const {
    return detail::dump_json(detail::report_json(*this));
}

// The CSV tables share their columns, order and meaning with the Python columns() (docs/tables.md):
// times are ISO-8601 UTC with nine decimals, durations integer nanoseconds, flags 0/1.
void Report::write_sessions_csv(std::ostream& out) const {
    out << "session_id,client_ip,client_port,server_ip,server_port,tunnel,category,syn_frame,"
           "syn_time,first_frame,first_time,last_time,duration,packets,packets_c2s,bytes_c2s,"
           "bytes_s2c,truncated_bytes,syn_count,evicted,bad,bad_confirmed,bad_wireshark,events,"
           "missing_bytes,data_missing,source\n";
    const bool wireshark = summary.mode == Mode::wireshark;
    std::string line;
    const auto num = [&line](auto v) {
        line += std::to_string(v);
        line += ',';
    };
    const auto flag = [&line](bool v) { line += v ? "1," : "0,"; };
    for (const SessionRow& r : sessions) {
        const Session& s = r.session;
        line.clear();
        num(s.id);
        line += csv_field(to_string(s.client.addr));
        line += ',';
        num(s.client.port);
        line += csv_field(to_string(s.server.addr));
        line += ',';
        num(s.server.port);
        num(s.tunnel);
        line += to_string(s.category);
        line += ',';
        num(s.syn_frame);
        line += to_iso8601(s.syn_time);
        line += ',';
        num(s.first_frame);
        line += to_iso8601(s.first_time);
        line += ',';
        line += to_iso8601(s.last_time);
        line += ',';
        num(detail::sat_sub(s.last_time.ns, s.first_time.ns));  // any times: no overflow
        num(s.packets);
        num(s.packets_c2s);
        num(s.bytes_c2s);
        num(s.bytes_s2c);
        num(s.truncated_bytes);
        num(s.syn_count);
        flag(s.evicted);
        flag(wireshark ? r.bad_wireshark : r.bad);
        flag(r.bad);
        flag(r.bad_wireshark);
        num(r.events);
        num(r.missing_bytes);
        flag(r.data_missing);
        line += csv_field(r.source < sources.size() ? sources[r.source] : std::string());
        line += '\n';
        out << line;
    }
}

void Report::write_events_csv(std::ostream& out) const {
    out << "session_id,direction,kind,late_filled,frame,time,seq_begin,seq_end,missing_bytes,"
           "src_ip,src_port,dst_ip,dst_port\n";
    std::string line;
    for (const LossEvent& e : events) {
        line.clear();
        if (e.session_id != no_session) line += std::to_string(e.session_id);
        line += ',';
        line += to_string(e.direction);
        line += ',';
        line += to_string(e.kind);
        line += e.late_filled ? ",1," : ",0,";
        line += std::to_string(e.frame);
        line += ',';
        line += to_iso8601(e.time);
        line += ',';
        line += std::to_string(e.seq_begin);
        line += ',';
        line += std::to_string(e.seq_end);
        line += ',';
        line += std::to_string(e.missing_bytes);
        line += ',';
        line += csv_field(to_string(e.src.addr));
        line += ',';
        line += std::to_string(e.src.port);
        line += ',';
        line += csv_field(to_string(e.dst.addr));
        line += ',';
        line += std::to_string(e.dst.port);
        line += '\n';
        out << line;
    }
}

}  // namespace capgap
