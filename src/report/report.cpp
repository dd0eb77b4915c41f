// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// Rendering of the report: the classic three lines and detail as text, one JSON object, and
// the per-session / per-event CSV files. The JSON writer is a few lines on purpose: the
// report has a fixed shape and needs only escaping and exact number printing.

#include <capgap/report.hpp>

#include <charconv>
#include <cmath>
#include <cstdio>
#include <ostream>
#include <sstream>
#include <string>

#include "core/errors.hpp"

namespace capgap {

namespace {

std::string fixed2(double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.2f", v);
    return buf;
}

// Shortest text that reads back as the same double.
std::string json_number(double v) {
    if (!std::isfinite(v)) return "null";
    char buf[64];
    auto res = std::to_chars(buf, buf + sizeof buf, v);
    return std::string(buf, res.ptr);
}

void json_string(std::string& out, std::string_view s) {
    static const char hex[] = "0123456789abcdef";
    out += '"';
    for (char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        switch (c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\b':
                out += "\\b";
                break;
            case '\f':
                out += "\\f";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\r':
                out += "\\r";
                break;
            case '\t':
                out += "\\t";
                break;
            default:
                if (c < 0x20) {
                    out += "\\u00";
                    out += hex[c >> 4];
                    out += hex[c & 0xf];
                } else {
                    out += ch;
                }
        }
    }
    out += '"';
}

// A minimal streaming writer: objects and arrays with commas placed automatically.
class JsonWriter {
  public:
    void begin_object() { open('{'); }
    void end_object() { close('}'); }
    void begin_array() { open('['); }
    void end_array() { close(']'); }
    void key(std::string_view k) {
        comma();
        json_string(out_, k);
        out_ += ':';
        after_key_ = true;
    }
    void value(std::string_view s) {
        comma();
        json_string(out_, s);
    }
    void value(const char* s) { value(std::string_view(s)); }
    void value(std::uint64_t v) {
        comma();
        out_ += std::to_string(v);
    }
    void value(double v) {
        comma();
        out_ += json_number(v);
    }
    void value(bool v) {
        comma();
        out_ += v ? "true" : "false";
    }
    void null() {
        comma();
        out_ += "null";
    }
    template <typename T>
    void field(std::string_view k, T v) {
        key(k);
        value(v);
    }
    std::string take() { return std::move(out_); }

  private:
    void comma() {
        if (after_key_) {
            after_key_ = false;
            return;
        }
        if (need_comma_) out_ += ',';
        need_comma_ = true;
    }
    void open(char c) {
        comma();
        out_ += c;
        need_comma_ = false;
    }
    void close(char c) {
        out_ += c;
        need_comma_ = true;
    }
    std::string out_;
    bool need_comma_ = false;
    bool after_key_ = false;
};

std::string csv_field(const std::string& s) {
    if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
    std::string out = "\"";
    for (char c : s) {
        if (c == '"') out += '"';
        out += c;
    }
    out += '"';
    return out;
}

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
    const Summary& s = summary;
    std::ostringstream o;
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
    if (s.join != "instance") o << "Join: " << s.join << '\n';
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

std::string Report::to_json() const {
    const Summary& s = summary;
    JsonWriter w;
    w.begin_object();
    w.key("summary");
    w.begin_object();
    w.field("mode", to_string(s.mode));
    w.field("join", std::string_view(s.join));
    w.field("total_sessions", s.total_sessions);
    w.field("bad_sessions", s.bad_sessions);
    w.key("percentage");
    if (s.total_sessions == 0) {
        w.null();
    } else {
        w.value(s.percentage);
    }
    w.key("ci95");
    w.begin_array();
    w.value(s.ci95_low);
    w.value(s.ci95_high);
    w.end_array();
    w.field("ci95_low", s.ci95_low);
    w.field("ci95_high", s.ci95_high);
    w.field("bad_confirmed", s.bad_confirmed);
    w.field("bad_wireshark", s.bad_wireshark);
    w.field("bad_sessions_wireshark", s.bad_wireshark);
    w.field("bad_data_missing", s.bad_data_missing);
    w.field("bad_control_only", s.bad_control_only);
    w.field("wireshark_only", s.wireshark_only);
    w.field("confirmed_only", s.confirmed_only);
    w.field("syn_only", s.syn_only);
    w.field("one_sided", s.one_sided);
    w.field("partial", s.partial);
    w.field("synack_only", s.synack_only);
    w.field("before_window", s.before_window);
    w.field("after_window", s.after_window);
    w.field("filtered_out", s.filtered_out);
    w.field("evicted", s.evicted);
    w.field("unmatched_events", s.unmatched_events);
    w.end_object();

    w.key("events");
    w.begin_array();
    for (const EventTally& t : tallies) {
        w.begin_object();
        w.field("kind", to_string(t.kind));
        w.field("direction", to_string(t.direction));
        w.field("count", t.count);
        w.field("missing_bytes", t.missing_bytes);
        w.field("late_filled", t.late_filled);
        w.end_object();
    }
    w.end_array();

    w.key("ingest");
    w.begin_object();
    for (const IngestCounter& c : ingest_counters)
        w.field(c.name, ingest.*c.member);
    w.key("unsupported_link_types");
    w.begin_object();
    for (const auto& l : ingest.unsupported_link_types)
        w.field(l.first, l.second);
    w.end_object();
    w.key("unsupported_encapsulations");
    w.begin_object();
    for (const auto& e : ingest.unsupported_encapsulations)
        w.field(e.first, e.second);
    w.end_object();
    w.key("tunnels");
    w.begin_array();
    for (const std::string& t : ingest.tunnels)
        w.value(std::string_view(t));
    w.end_array();
    w.key("problems");
    w.begin_array();
    for (const InputProblem& p : ingest.problems) {
        w.begin_object();
        w.field("source", std::string_view(p.source));
        w.field("position", std::string_view(p.position));
        w.field("reason", std::string_view(p.reason));
        w.end_object();
    }
    w.end_array();
    w.key("csv_bad_lines");
    w.begin_array();
    for (std::uint64_t l : ingest.csv_bad_lines)
        w.value(l);
    w.end_array();
    w.key("first_time");
    if (ingest.have_time) {
        w.value(to_string(ingest.first_time));
    } else {
        w.null();
    }
    w.key("last_time");
    if (ingest.have_time) {
        w.value(to_string(ingest.last_time));
    } else {
        w.null();
    }
    w.end_object();
    w.end_object();
    std::string out = w.take();
    out += '\n';
    return out;
}

void Report::write_sessions_csv(std::ostream& out) const {
    out << "session_id,client,server,syn_frame,syn_time,packets,bad,bad_wireshark,events,"
           "missing_bytes,category,first_frame,packets_c2s,bytes_c2s,bytes_s2c,truncated_bytes,"
           "syn_count,evicted,tunnel\n";
    std::string line;
    for (const SessionRow& r : sessions) {
        const Session& s = r.session;
        line.clear();
        line += std::to_string(s.id);
        line += ',';
        line += csv_field(to_string(s.client));
        line += ',';
        line += csv_field(to_string(s.server));
        line += ',';
        line += std::to_string(s.syn_frame);
        line += ',';
        line += to_string(s.syn_time);
        line += ',';
        line += std::to_string(s.packets);
        line += r.bad ? ",1" : ",0";
        line += r.bad_wireshark ? ",1," : ",0,";
        line += std::to_string(r.events);
        line += ',';
        line += std::to_string(r.missing_bytes);
        line += ',';
        line += to_string(s.category);
        line += ',';
        line += std::to_string(s.first_frame);
        line += ',';
        line += std::to_string(s.packets_c2s);
        line += ',';
        line += std::to_string(s.bytes_c2s);
        line += ',';
        line += std::to_string(s.bytes_s2c);
        line += ',';
        line += std::to_string(s.truncated_bytes);
        line += ',';
        line += std::to_string(s.syn_count);
        line += s.evicted ? ",1," : ",0,";
        line += std::to_string(s.tunnel);
        line += '\n';
        out << line;
    }
}

void Report::write_events_csv(std::ostream& out) const {
    out << "session_id,direction,kind,late_filled,frame,time,seq_begin,seq_end,missing_bytes,src,"
           "dst\n";
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
        line += to_string(e.time);
        line += ',';
        line += std::to_string(e.seq_begin);
        line += ',';
        line += std::to_string(e.seq_end);
        line += ',';
        line += std::to_string(e.missing_bytes);
        line += ',';
        line += csv_field(to_string(e.src));
        line += ',';
        line += csv_field(to_string(e.dst));
        line += '\n';
        out << line;
    }
}

}  // namespace capgap
