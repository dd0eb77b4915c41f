// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// __repr__ (and __str__ where natural) of the value types bound elsewhere, so that a report's
// parts print as what they hold in a REPL or a notebook instead of "<... object at 0x...>".
// Kept apart from the class definitions: the reprs read the bound attributes back through
// Python, so they show exactly what a user can get at, in the same spelling.

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>

#include "bindings.hpp"

namespace {

// An enum member as "confirmed", a nested value as its own repr.
std::string value_repr(const py::handle& v) {
    if (py::hasattr(py::type::handle_of(v), "__members__")) {
        return "'" + py::str(v.attr("name")).cast<std::string>() + "'";
    }
    return py::repr(v).cast<std::string>();
}

bool is_zero(const py::handle& v) {
    if (v.is_none()) return true;
    if (py::isinstance<py::bool_>(v)) return !v.cast<bool>();
    if (py::isinstance<py::int_>(v) || py::isinstance<py::float_>(v)) {
        return v.cast<double>() == 0.0;
    }
    if (py::isinstance<py::list>(v) || py::isinstance<py::dict>(v)) return py::len(v) == 0;
    return false;
}

// "Name(a=1, b='x')": `always` in every repr, `when_set` only when not zero, empty or None.
std::string attrs_repr(const py::handle& self, const char* name,
                       std::initializer_list<const char*> always,
                       std::initializer_list<const char*> when_set = {}) {
    std::string out = std::string(name) + "(";
    bool first = true;
    auto add = [&](const char* attr, const py::handle& v) {
        if (!first) out += ", ";
        first = false;
        out += attr;
        out += '=';
        out += value_repr(v);
    };
    for (const char* a : always)
        add(a, self.attr(a));
    for (const char* a : when_set) {
        const py::object v = self.attr(a);
        if (!is_zero(v)) add(a, v);
    }
    return out + ")";
}

template <class T>
py::class_<T> bound(py::module_& m, const char* name) {
    return py::reinterpret_borrow<py::class_<T>>(m.attr(name));
}

// Seconds with up to nine decimals, trailing zeros dropped: "1.5", "-0.000000001", "3".
std::string seconds_text(std::int64_t ns) {
    const bool negative = ns < 0;
    const std::uint64_t a = negative ? std::uint64_t{0} - static_cast<std::uint64_t>(ns)
                                     : static_cast<std::uint64_t>(ns);
    std::string out = (negative ? "-" : "") + std::to_string(a / 1'000'000'000U);
    std::string frac = std::to_string(a % 1'000'000'000U);
    if (frac != "0") {
        frac.insert(0, 9 - frac.size(), '0');
        frac.erase(frac.find_last_not_of('0') + 1);
        out += "." + frac;
    }
    return out;
}

// A bound as the text TimeWindow.parse reads back to the same bound. Absolute bounds are epoch
// seconds (always above 1e9, so they read back as absolute).
std::string bound_text(const std::optional<capgap::WindowBound>& b) {
    if (!b) return "";
    return seconds_text(b->ns);
}

std::string window_text(const capgap::TimeWindow& w) {
    return bound_text(w.begin) + "," + bound_text(w.end);
}

std::string server_text(const capgap::ServerFilter& f) {
    const std::string net = capgap::to_string(f.network) + "/" + std::to_string(f.prefix);
    if (!f.port) return net;
    return f.network.v6 ? "[" + net + "]:" + std::to_string(*f.port)
                        : net + ":" + std::to_string(*f.port);
}

}  // namespace

namespace capgap_py {

void register_reprs(py::module_& m) {
    bound<capgap::WindowBound>(m, "WindowBound").def("__repr__", [](const capgap::WindowBound& b) {
        const bool rel = b.kind == capgap::WindowBound::Kind::relative;
        return std::string("WindowBound(") + (rel ? "relative, " : "absolute, ") +
               seconds_text(b.ns) + (rel ? " s after the first packet)" : " s since the epoch)");
    });
    bound<capgap::TimeWindow>(m, "TimeWindow")
        .def("__repr__",
             [](const capgap::TimeWindow& w) { return "TimeWindow('" + window_text(w) + "')"; })
        .def("__str__", &window_text);
    bound<capgap::ServerFilter>(m, "ServerFilter")
        .def("__repr__",
             [](const capgap::ServerFilter& f) { return "ServerFilter('" + server_text(f) + "')"; })
        .def("__str__", &server_text);

    bound<capgap::Segment>(m, "Segment").def("__repr__", [](const py::object& s) {
        return attrs_repr(s, "Segment", {"frame", "time", "src", "dst", "seq", "ack", "flags"},
                          {"payload_len", "truncated_bytes", "tunnel"});
    });
    bound<capgap::TrackerOptions>(m, "TrackerOptions").def("__repr__", [](const py::object& o) {
        return attrs_repr(
            o, "TrackerOptions",
            {"reorder_window_ns", "drop_duplicates", "max_holes_per_direction", "closed_timeout_ns",
             "idle_timeout_ns", "clock_jump_limit_ns", "clock_confirm_packets", "max_open_flows",
             "duplicate_window_ns", "header_prediction"});
    });
    bound<capgap::MatchOptions>(m, "MatchOptions").def("__repr__", [](const py::object& o) {
        return attrs_repr(
            o, "MatchOptions",
            {"window", "servers", "ports", "mode", "events_in_window_only", "include_excluded"});
    });
    bound<capgap::Options>(m, "Options").def("__repr__", [](const py::object& o) {
        return attrs_repr(o, "Options", {"match", "tracker", "bpf", "tunnel_key", "threads"});
    });

    bound<capgap::Summary>(m, "Summary").def("__repr__", [](const py::object& s) {
        return attrs_repr(
            s, "Summary",
            {"total_sessions", "bad_sessions", "percentage", "ci95_low", "ci95_high", "mode"},
            {"bad_confirmed", "bad_wireshark", "bad_data_missing", "bad_control_only",
             "wireshark_only", "confirmed_only", "syn_only", "one_sided", "partial", "synack_only",
             "before_window", "after_window", "filtered_out", "evicted", "unmatched_events"});
    });
    bound<capgap::IngestStats>(m, "IngestStats").def("__repr__", [](const capgap::IngestStats& s) {
        // The counters that are not zero, in the report's order, then the problems.
        std::string out = "IngestStats(";
        bool first = true;
        for (const capgap::IngestCounter& c : capgap::ingest_counters) {
            if (s.*c.member == 0) continue;
            if (!first) out += ", ";
            first = false;
            out += std::string(c.name) + "=" + std::to_string(s.*c.member);
        }
        if (s.have_time) {
            out += std::string(first ? "" : ", ") +
                   "first_time=" + capgap::to_string(s.first_time) +
                   ", last_time=" + capgap::to_string(s.last_time);
            first = false;
        }
        if (!s.problems.empty()) {
            out += std::string(first ? "" : ", ") + "problems=" + std::to_string(s.problems.size());
        }
        return out + ")";
    });
    bound<capgap::SessionRow>(m, "SessionRow").def("__repr__", [](const py::object& r) {
        return attrs_repr(
            r, "SessionRow",
            {"session", "bad", "bad_wireshark", "events", "missing_bytes", "data_missing"});
    });
    bound<capgap::EventTally>(m, "EventTally").def("__repr__", [](const py::object& t) {
        return attrs_repr(t, "EventTally",
                          {"kind", "direction", "count", "missing_bytes", "late_filled"});
    });
    bound<capgap::CsvCounts>(m, "CsvCounts").def("__repr__", [](const py::object& c) {
        return attrs_repr(
            c, "CsvCounts", {"syn_rows", "lost_rows"},
            {"syn_merged", "syn_rows_not_syn", "lost_rows_unflagged", "rows_without_ports",
             "joined_by_address", "ambiguous_events", "times_zone_ignored", "bad_row_reasons"});
    });
    bound<capgap::CsvInput>(m, "CsvInput").def("__repr__", [](const capgap::CsvInput& c) {
        return "CsvInput(" + std::to_string(c.sessions.size()) + " sessions, " +
               std::to_string(c.events.size()) + " events, " + std::to_string(c.unmatched_events) +
               " unmatched)";
    });
    bound<capgap::Report>(m, "Report").def("__repr__", [](const capgap::Report& r) {
        return "<capgap._core.Report: " + std::to_string(r.summary.total_sessions) + " sessions, " +
               std::to_string(r.summary.bad_sessions) + " bad, " +
               std::to_string(r.sessions.size()) + " session rows, " +
               std::to_string(r.events.size()) + " events>";
    });
    bound<capgap::Matcher>(m, "Matcher").def("__repr__", [](const py::object& a) {
        return "Matcher(options=" + py::repr(a.attr("options")).cast<std::string>() + ")";
    });
    bound<capgap::Analyzer>(m, "Analyzer").def("__repr__", [](const capgap::Analyzer& a) {
        return "<capgap._core.Analyzer: " + std::to_string(a.stats().packets_read) +
               " packets fed>";
    });
}

}  // namespace capgap_py
