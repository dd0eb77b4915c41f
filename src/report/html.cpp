// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// The self-contained HTML report. The page is src/report/html/report.html with its style
// (report.css), capgap's renderer (report.js) and Chart.js inlined; all four are compiled
// into the library by cmake/embed_files.cmake. The data is one JSON document in a
// <script type="application/json"> element: the report's JSON (summary, events by kind,
// ingest, and whatever else report_json carries) and the sessions and events as column
// arrays, delta-coded where that makes them short.

#include <capgap/html.hpp>
#include <capgap/version.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "report/json.hpp"
#include "report/output_file.hpp"

namespace capgap::detail::embedded {
extern const char report_html[];
extern const std::size_t report_html_size;
extern const char report_css[];
extern const std::size_t report_css_size;
extern const char report_js[];
extern const std::size_t report_js_size;
extern const char chart_js[];
extern const std::size_t chart_js_size;
}  // namespace capgap::detail::embedded

namespace capgap {

namespace {

using detail::Json;

std::string html_escape(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (char c : s) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&quot;";
                break;
            case '\'':
                out += "&#39;";
                break;
            default:
                out += c;
        }
    }
    return out;
}

// JSON for the inside of a <script> element: '<', '>' and '&' occur only inside strings, where
// \u003c and the like read back as the same text, so "</script>" in a file name cannot end the
// element and "<!--" cannot start a comment.
std::string script_safe_json(const Json& doc) {
    const std::string text = doc.dump(-1, ' ', false, Json::error_handler_t::replace);
    std::string out;
    out.reserve(text.size() + 64);
    for (char c : text) {
        switch (c) {
            case '<':
                out += "\\u003c";
                break;
            case '>':
                out += "\\u003e";
                break;
            case '&':
                out += "\\u0026";
                break;
            default:
                out += c;
        }
    }
    return out;
}

// Microseconds since the epoch: exact in a JavaScript number (below 2^53) for any date of the
// next 250 years, and finer than any chart or table on the page shows.
std::int64_t micros(Timestamp t) {
    return t.ns >= 0 ? t.ns / 1000 : -((-t.ns + 999) / 1000);
}

// Which of `n` rows the page carries: all when they fit, else every row `keep_first` marks
// (up to the bound) and then the others in order, returned in order.
template <class Pred>
std::vector<std::size_t> pick_rows(std::size_t n, std::size_t bound, Pred keep_first) {
    std::vector<std::size_t> rows;
    if (n <= bound) {
        rows.resize(n);
        for (std::size_t i = 0; i < n; ++i)
            rows[i] = i;
        return rows;
    }
    rows.reserve(bound);
    for (std::size_t i = 0; i < n && rows.size() < bound; ++i) {
        if (keep_first(i)) rows.push_back(i);
    }
    const std::size_t first_pass = rows.size();
    for (std::size_t i = 0; i < n && rows.size() < bound; ++i) {
        if (!keep_first(i)) rows.push_back(i);
    }
    std::inplace_merge(rows.begin(), rows.begin() + static_cast<std::ptrdiff_t>(first_pass),
                       rows.end());
    return rows;
}

struct AddressTable {
    std::unordered_map<std::string, std::uint32_t> index;
    Json names = Json::array();
    std::uint32_t of(const IpAddress& a) {
        std::string text = to_string(a);
        auto it = index.find(text);
        if (it != index.end()) return it->second;
        const auto id = static_cast<std::uint32_t>(names.size());
        names.push_back(text);
        index.emplace(std::move(text), id);
        return id;
    }
};

template <class Enum, std::size_t N>
Json names_of(const Named<Enum> (&table)[N]) {
    Json out = Json::array();
    for (const Named<Enum>& row : table)
        out.push_back(row.name);
    return out;
}

Json sessions_json(const Report& report, const HtmlOptions& options, AddressTable& addresses) {
    const auto& all = report.sessions;
    const std::vector<std::size_t> rows =
        pick_rows(all.size(), options.max_sessions,
                  [&](std::size_t i) { return all[i].bad || all[i].bad_wireshark; });
    Json id = Json::array(), time = Json::array(), cip = Json::array(), cport = Json::array(),
         sip = Json::array(), sport = Json::array(), cat = Json::array(), packets = Json::array(),
         bytes = Json::array(), bad = Json::array(), bad_ws = Json::array(), events = Json::array(),
         missing = Json::array(), tunnel = Json::array();
    std::int64_t t0 = 0;
    if (!rows.empty()) t0 = micros(all[rows.front()].session.start_time());
    std::int64_t prev_id = 0, prev_t = t0;
    bool any_tunnel = false;
    for (std::size_t r : rows) {
        const SessionRow& row = all[r];
        const Session& s = row.session;
        const auto sid = static_cast<std::int64_t>(s.id);
        id.push_back(sid - prev_id);
        prev_id = sid;
        const std::int64_t t = micros(s.start_time());
        time.push_back(t - prev_t);
        prev_t = t;
        cip.push_back(addresses.of(s.client.addr));
        cport.push_back(s.client.port);
        sip.push_back(addresses.of(s.server.addr));
        sport.push_back(s.server.port);
        cat.push_back(static_cast<unsigned>(s.category));
        packets.push_back(s.packets);
        bytes.push_back(s.bytes_c2s + s.bytes_s2c);
        bad.push_back(row.bad ? 1 : 0);
        bad_ws.push_back(row.bad_wireshark ? 1 : 0);
        events.push_back(row.events);
        missing.push_back(row.missing_bytes);
        tunnel.push_back(s.tunnel);
        any_tunnel = any_tunnel || s.tunnel != 0;
    }
    Json cols = Json::object();
    cols["id"] = std::move(id);
    cols["time_us"] = std::move(time);
    cols["client_ip"] = std::move(cip);
    cols["client_port"] = std::move(cport);
    cols["server_ip"] = std::move(sip);
    cols["server_port"] = std::move(sport);
    cols["category"] = std::move(cat);
    cols["packets"] = std::move(packets);
    cols["bytes"] = std::move(bytes);
    cols["bad"] = std::move(bad);
    cols["bad_wireshark"] = std::move(bad_ws);
    cols["events"] = std::move(events);
    cols["missing_bytes"] = std::move(missing);
    if (any_tunnel) cols["tunnel"] = std::move(tunnel);
    Json out = Json::object();
    out["total"] = all.size();
    out["included"] = rows.size();
    out["bound"] = options.max_sessions;
    out["t0_us"] = t0;
    out["delta_coded"] = Json::array({"id", "time_us"});
    out["categories"] = names_of(session_categories);
    out["columns"] = std::move(cols);
    return out;
}

Json events_json(const Report& report, const HtmlOptions& options, AddressTable&) {
    const auto& all = report.events;
    const std::vector<std::size_t> rows = pick_rows(
        all.size(), options.max_events, [&](std::size_t i) { return is_loss(all[i].kind); });
    Json session = Json::array(), dir = Json::array(), kind = Json::array(), late = Json::array(),
         time = Json::array(), frame = Json::array(), missing = Json::array(),
         seq_begin = Json::array(), seq_end = Json::array();
    std::int64_t t0 = 0;
    if (!rows.empty()) t0 = micros(all[rows.front()].time);
    std::int64_t prev_t = t0;
    for (std::size_t r : rows) {
        const LossEvent& e = all[r];
        session.push_back(e.session_id == no_session ? Json(nullptr) : Json(e.session_id));
        dir.push_back(static_cast<unsigned>(e.direction));
        kind.push_back(static_cast<unsigned>(e.kind));
        late.push_back(e.late_filled ? 1 : 0);
        const std::int64_t t = micros(e.time);
        time.push_back(t - prev_t);
        prev_t = t;
        frame.push_back(e.frame);
        missing.push_back(e.missing_bytes);
        seq_begin.push_back(e.seq_begin);
        seq_end.push_back(e.seq_end);
    }
    Json cols = Json::object();
    cols["session"] = std::move(session);
    cols["direction"] = std::move(dir);
    cols["kind"] = std::move(kind);
    cols["late_filled"] = std::move(late);
    cols["time_us"] = std::move(time);
    cols["frame"] = std::move(frame);
    cols["missing_bytes"] = std::move(missing);
    cols["seq_begin"] = std::move(seq_begin);
    cols["seq_end"] = std::move(seq_end);
    Json out = Json::object();
    out["total"] = all.size();
    out["included"] = rows.size();
    out["bound"] = options.max_events;
    out["t0_us"] = t0;
    out["delta_coded"] = Json::array({"time_us"});
    out["kinds"] = names_of(event_kinds);
    out["directions"] = names_of(directions);
    out["columns"] = std::move(cols);
    return out;
}

std::string join_sources(const std::vector<std::string>& sources) {
    std::string out;
    for (const std::string& s : sources) {
        if (!out.empty()) out += ", ";
        out += s;
    }
    return out;
}

// Splits the template at "<!--capgap:NAME-->" markers and puts each part in place.
std::string fill_template(std::string_view page,
                          const std::vector<std::pair<std::string, std::string_view>>& parts) {
    std::string out;
    std::size_t size = page.size();
    for (const auto& p : parts)
        size += p.second.size();
    out.reserve(size);
    std::size_t pos = 0;
    while (true) {
        const std::size_t open = page.find("<!--capgap:", pos);
        if (open == std::string_view::npos) break;
        const std::size_t close = page.find("-->", open);
        if (close == std::string_view::npos) break;
        out.append(page.substr(pos, open - pos));
        const std::string_view name = page.substr(open + 11, close - open - 11);
        for (const auto& p : parts) {
            if (p.first == name) out.append(p.second);
        }
        pos = close + 3;
    }
    out.append(page.substr(pos));
    return out;
}

}  // namespace

std::string to_html(const Report& report, const HtmlOptions& options) {
    return detail::html_page(report, options, report.diagnosis());
}

std::string detail::html_page(const Report& report, const HtmlOptions& options,
                              const Diagnosis& diagnosis) {
    const std::string sources = join_sources(report.sources);
    const std::string title = !options.title.empty()
                                  ? options.title
                                  : "capgap report" + (sources.empty() ? "" : ": " + sources);
    AddressTable addresses;
    Json data = Json::object();
    data["generator"] = std::string("capgap ") + version;
    data["title"] = title;
    data["sources"] = report.sources;
    data["window"] = options.window.empty() ? Json(nullptr) : Json(options.window);
    data["report"] = detail::report_json(report, diagnosis);
    data["sessions"] = sessions_json(report, options, addresses);
    data["events"] = events_json(report, options, addresses);
    data["addresses"] = std::move(addresses.names);

    const std::string json = script_safe_json(data);
    const std::string escaped_title = html_escape(title);
    using namespace detail::embedded;
    return fill_template(std::string_view(report_html, report_html_size),
                         {{"title", escaped_title},
                          {"css", std::string_view(report_css, report_css_size)},
                          {"chartjs", std::string_view(chart_js, chart_js_size)},
                          {"js", std::string_view(report_js, report_js_size)},
                          {"data", json}});
}

void write_html(const Report& report, const std::string& path, const HtmlOptions& options) {
    detail::write_html(report, path, options, report.diagnosis());
}

void detail::write_html(const Report& report, const std::string& path, const HtmlOptions& options,
                        const Diagnosis& diagnosis) {
    const std::string page = html_page(report, options, diagnosis);
    detail::write_output_file(path, [&](std::ostream& o) {
        o.write(page.data(), static_cast<std::streamsize>(page.size()));
    });
}

}  // namespace capgap
