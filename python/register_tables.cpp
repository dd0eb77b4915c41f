// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// Tables across the boundary: struct-of-arrays numpy columns out, user columns in.

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "bindings.hpp"
#include "track/capture_time.hpp"

using namespace py::literals;

namespace {

// ---- columns out: struct-of-arrays built straight into numpy buffers ----

template <class T>
py::array_t<T> new_column(std::size_t n) {
    return py::array_t<T>(static_cast<py::ssize_t>(n));
}

// A fixed-width unicode ('<U') column; the width is the longest value (at least 1).
py::array string_column(const std::vector<std::string>& values) {
    std::size_t width = 1;
    for (const std::string& v : values)
        width = std::max(width, v.size());
    py::array out(py::dtype("<U" + std::to_string(width)),
                  std::vector<py::ssize_t>{static_cast<py::ssize_t>(values.size())});
    auto* dst = static_cast<std::uint32_t*>(out.mutable_data());
    std::fill(dst, dst + values.size() * width, 0u);
    for (std::size_t i = 0; i < values.size(); ++i) {
        const std::string& v = values[i];
        for (std::size_t j = 0; j < v.size(); ++j)  // addresses and names are ASCII
            dst[i * width + j] = static_cast<unsigned char>(v[j]);
    }
    return out;
}

template <class Row, class F>
py::array string_column(const std::vector<Row>& rows, F&& text) {
    std::vector<std::string> values;
    values.reserve(rows.size());
    for (const Row& r : rows)
        values.emplace_back(text(r));
    return string_column(values);
}

template <class T, class Row, class F>
py::array_t<T> number_column(const std::vector<Row>& rows, F&& get) {
    py::array_t<T> out = new_column<T>(rows.size());
    T* p = out.mutable_data();
    for (std::size_t i = 0; i < rows.size(); ++i)
        p[i] = static_cast<T>(get(rows[i]));
    return out;
}

}  // namespace

namespace capgap_py {

py::dict session_columns(const std::vector<capgap::SessionRow>& rows, capgap::Mode mode) {
    // Same columns, order and meaning as Report::write_sessions_csv (docs/tables.md); times and
    // the duration carry an _ns suffix here as int64 nanoseconds.
    using R = capgap::SessionRow;
    const bool wireshark = mode == capgap::Mode::wireshark;
    py::dict d;
    d["session_id"] = number_column<std::uint64_t>(rows, [](const R& r) { return r.session.id; });
    d["client_ip"] =
        string_column(rows, [](const R& r) { return capgap::to_string(r.session.client.addr); });
    d["client_port"] =
        number_column<std::uint16_t>(rows, [](const R& r) { return r.session.client.port; });
    d["server_ip"] =
        string_column(rows, [](const R& r) { return capgap::to_string(r.session.server.addr); });
    d["server_port"] =
        number_column<std::uint16_t>(rows, [](const R& r) { return r.session.server.port; });
    d["tunnel"] = number_column<std::uint32_t>(rows, [](const R& r) { return r.session.tunnel; });
    d["category"] =
        string_column(rows, [](const R& r) { return capgap::to_string(r.session.category); });
    d["syn_frame"] =
        number_column<std::uint64_t>(rows, [](const R& r) { return r.session.syn_frame; });
    d["syn_time_ns"] =
        number_column<std::int64_t>(rows, [](const R& r) { return r.session.syn_time.ns; });
    d["first_frame"] =
        number_column<std::uint64_t>(rows, [](const R& r) { return r.session.first_frame; });
    d["first_time_ns"] =
        number_column<std::int64_t>(rows, [](const R& r) { return r.session.first_time.ns; });
    d["last_time_ns"] =
        number_column<std::int64_t>(rows, [](const R& r) { return r.session.last_time.ns; });
    d["duration_ns"] = number_column<std::int64_t>(rows, [](const R& r) {
        return capgap::detail::sat_sub(r.session.last_time.ns, r.session.first_time.ns);
    });
    d["packets"] = number_column<std::uint64_t>(rows, [](const R& r) { return r.session.packets; });
    d["packets_c2s"] =
        number_column<std::uint64_t>(rows, [](const R& r) { return r.session.packets_c2s; });
    d["bytes_c2s"] =
        number_column<std::uint64_t>(rows, [](const R& r) { return r.session.bytes_c2s; });
    d["bytes_s2c"] =
        number_column<std::uint64_t>(rows, [](const R& r) { return r.session.bytes_s2c; });
    d["truncated_bytes"] =
        number_column<std::uint64_t>(rows, [](const R& r) { return r.session.truncated_bytes; });
    d["syn_count"] =
        number_column<std::uint32_t>(rows, [](const R& r) { return r.session.syn_count; });
    d["evicted"] = number_column<bool>(rows, [](const R& r) { return r.session.evicted; });
    d["bad"] = number_column<bool>(
        rows, [wireshark](const R& r) { return wireshark ? r.bad_wireshark : r.bad; });
    d["bad_confirmed"] = number_column<bool>(rows, [](const R& r) { return r.bad; });
    d["bad_wireshark"] = number_column<bool>(rows, [](const R& r) { return r.bad_wireshark; });
    d["events"] = number_column<std::uint32_t>(rows, [](const R& r) { return r.events; });
    d["missing_bytes"] =
        number_column<std::uint64_t>(rows, [](const R& r) { return r.missing_bytes; });
    d["data_missing"] = number_column<bool>(rows, [](const R& r) { return r.data_missing; });
    return d;
}

py::dict event_columns(const std::vector<capgap::LossEvent>& rows) {
    using E = capgap::LossEvent;
    py::dict d;
    d["session_id"] = number_column<std::uint64_t>(rows, [](const E& e) { return e.session_id; });
    d["direction"] = string_column(rows, [](const E& e) { return capgap::to_string(e.direction); });
    d["kind"] = string_column(rows, [](const E& e) { return capgap::to_string(e.kind); });
    d["late_filled"] = number_column<bool>(rows, [](const E& e) { return e.late_filled; });
    d["frame"] = number_column<std::uint64_t>(rows, [](const E& e) { return e.frame; });
    d["time_ns"] = number_column<std::int64_t>(rows, [](const E& e) { return e.time.ns; });
    d["seq_begin"] = number_column<std::uint64_t>(rows, [](const E& e) { return e.seq_begin; });
    d["seq_end"] = number_column<std::uint64_t>(rows, [](const E& e) { return e.seq_end; });
    d["missing_bytes"] =
        number_column<std::uint64_t>(rows, [](const E& e) { return e.missing_bytes; });
    d["src_ip"] = string_column(rows, [](const E& e) { return capgap::to_string(e.src.addr); });
    d["src_port"] = number_column<std::uint16_t>(rows, [](const E& e) { return e.src.port; });
    d["dst_ip"] = string_column(rows, [](const E& e) { return capgap::to_string(e.dst.addr); });
    d["dst_port"] = number_column<std::uint16_t>(rows, [](const E& e) { return e.dst.port; });
    return d;
}

}  // namespace capgap_py

namespace {

using capgap::Direction;
using capgap::EventKind;
using capgap::SessionCategory;

// ---- columns in: user tables (dict of arrays) to C++ vectors ----

[[noreturn]] void bad_table(const std::string& table, const std::string& why) {
    throw std::invalid_argument(table + ": " + why);
}

// Reads the columns of one table; every column must have the same length.
class ColumnReader {
  public:
    ColumnReader(std::string table, const py::dict& cols, std::vector<std::string> known,
                 std::vector<std::string> ignored)
        : table_(std::move(table)), cols_(cols) {
        for (const auto& item : cols_) {
            const std::string name = py::str(item.first);
            const bool is_known = std::find(known.begin(), known.end(), name) != known.end();
            const bool is_ignored =
                std::find(ignored.begin(), ignored.end(), name) != ignored.end();
            if (!is_known && !is_ignored) {
                std::string list;
                for (const std::string& k : known)
                    list += (list.empty() ? "" : ", ") + k;
                bad_table(table_, "unknown column '" + name + "' (known columns: " + list + ")");
            }
            if (is_ignored) continue;
            const py::ssize_t len = py::len(item.second);
            if (rows_ < 0) {
                rows_ = len;
                first_ = name;
            } else if (len != rows_) {
                bad_table(table_, "column '" + name + "' has " + std::to_string(len) +
                                      " rows but column '" + first_ + "' has " +
                                      std::to_string(rows_));
            }
        }
        if (rows_ < 0) rows_ = 0;
    }

    std::size_t rows() const { return static_cast<std::size_t>(rows_); }
    bool has(const char* name) const { return cols_.contains(name); }

    void require(const char* name) const {
        if (!has(name)) bad_table(table_, std::string("missing required column '") + name + "'");
    }

    // A numeric column converted (with numpy casting rules) to T; empty when absent.
    template <class T>
    std::optional<py::array_t<T, py::array::c_style | py::array::forcecast>> numbers(
        const char* name) const {
        if (!has(name)) return std::nullopt;
        py::object col = cols_[name];
        py::array arr = py::array::ensure(col);
        if (!arr) bad_table(table_, std::string("column '") + name + "' is not array-like");
        const char kind = arr.dtype().kind();
        if (kind != 'i' && kind != 'u' && kind != 'b' && kind != 'f') {
            bad_table(table_, std::string("column '") + name + "' must be numeric, not dtype " +
                                  std::string(py::str(arr.dtype())));
        }
        return py::array_t<T, py::array::c_style | py::array::forcecast>::ensure(arr);
    }

    // Ports: integers in [0, 65535].
    std::optional<std::vector<std::uint16_t>> ports(const char* name) const {
        auto col = numbers<std::int64_t>(name);
        if (!col) return std::nullopt;
        std::vector<std::uint16_t> out(rows());
        const std::int64_t* p = col->data();
        for (std::size_t i = 0; i < out.size(); ++i) {
            if (p[i] < 0 || p[i] > 65535) {
                bad_table(table_, std::string("column '") + name + "' row " + std::to_string(i) +
                                      ": port " + std::to_string(p[i]) + " out of range 0-65535");
            }
            out[i] = static_cast<std::uint16_t>(p[i]);
        }
        return out;
    }

    // A text column ('U', 'S' or object arrays, or lists of str); empty when absent.
    std::optional<std::vector<std::string>> strings(const char* name) const {
        if (!has(name)) return std::nullopt;
        py::object col = cols_[name];
        std::vector<std::string> out;
        out.reserve(rows());
        py::array arr = py::array::ensure(col, py::array::c_style);
        const char kind = arr ? arr.dtype().kind() : 'O';
        if (kind == 'U') {
            const std::size_t width = static_cast<std::size_t>(arr.itemsize()) / 4;
            const auto* p = static_cast<const std::uint32_t*>(arr.data());
            for (std::size_t i = 0; i < rows(); ++i) {
                std::string s;
                for (std::size_t j = 0; j < width && p[i * width + j] != 0; ++j) {
                    const std::uint32_t c = p[i * width + j];
                    s.push_back(c < 128 ? static_cast<char>(c) : '?');  // never valid here
                }
                out.push_back(std::move(s));
            }
        } else if (kind == 'S') {
            const std::size_t width = static_cast<std::size_t>(arr.itemsize());
            const auto* p = static_cast<const char*>(arr.data());
            for (std::size_t i = 0; i < rows(); ++i)
                out.emplace_back(p + i * width, strnlen(p + i * width, width));
        } else if (kind == 'O') {
            for (py::handle item : col) {
                if (!py::isinstance<py::str>(item) && !py::isinstance<py::bytes>(item)) {
                    bad_table(table_, std::string("column '") + name + "' row " +
                                          std::to_string(out.size()) + ": expected a string, got " +
                                          std::string(py::repr(item)));
                }
                out.push_back(py::cast<std::string>(item));
            }
        } else {
            bad_table(table_, std::string("column '") + name + "' must hold strings, not dtype " +
                                  std::string(py::str(arr.dtype())));
        }
        return out;
    }

    // Addresses parsed from a text column (required).
    std::vector<capgap::IpAddress> addresses(const char* name) const {
        require(name);
        std::vector<std::string> text = *strings(name);
        std::vector<capgap::IpAddress> out;
        out.reserve(text.size());
        for (std::size_t i = 0; i < text.size(); ++i) {
            try {
                out.push_back(capgap::IpAddress::parse(text[i]));
            } catch (const capgap::parse_error&) {
                bad_table(table_, std::string("column '") + name + "' row " + std::to_string(i) +
                                      ": '" + text[i] + "' is not an IPv4 or IPv6 address");
            }
        }
        return out;
    }

    // An enum column: names from the enum's table, or integer codes indexing it.
    template <class Enum, std::size_t count>
    std::optional<std::vector<Enum>> enums(const char* name,
                                           const capgap::Named<Enum> (&table)[count]) const {
        if (!has(name)) return std::nullopt;
        std::vector<Enum> out(rows());
        py::array arr = py::array::ensure(cols_[name]);
        const char kind = arr ? arr.dtype().kind() : 'O';
        if (kind == 'i' || kind == 'u') {
            auto codes = *numbers<std::int64_t>(name);
            for (std::size_t i = 0; i < out.size(); ++i) {
                const std::int64_t c = codes.data()[i];
                if (c < 0 || static_cast<std::size_t>(c) >= count) {
                    bad_table(table_, std::string("column '") + name + "' row " +
                                          std::to_string(i) + ": code " + std::to_string(c) +
                                          " out of range");
                }
                out[i] = table[static_cast<std::size_t>(c)].value;
            }
            return out;
        }
        std::vector<std::string> text = *strings(name);
        for (std::size_t i = 0; i < out.size(); ++i) {
            if (!capgap::detail::parse_name(table, text[i], out[i])) {
                std::string names;
                for (const capgap::Named<Enum>& row : table)
                    names += std::string(names.empty() ? "" : ", ") + row.name;
                bad_table(table_, std::string("column '") + name + "' row " + std::to_string(i) +
                                      ": '" + text[i] + "' is not one of " + names);
            }
        }
        return out;
    }

  private:
    std::string table_;
    py::dict cols_;
    py::ssize_t rows_ = -1;
    std::string first_;
};

template <class T, class A>
T at(const std::optional<A>& col, std::size_t i, T fallback) {
    return col ? static_cast<T>(col->data()[i]) : fallback;
}

std::vector<capgap::Session> sessions_from_columns(const py::dict& cols) {
    ColumnReader in("sessions", cols,
                    {"session_id", "client_ip", "client_port", "server_ip", "server_port",
                     "category", "syn_frame", "syn_time_ns", "first_frame", "first_time_ns",
                     "last_time_ns", "packets", "packets_c2s", "bytes_c2s", "bytes_s2c",
                     "truncated_bytes", "syn_count", "evicted", "tunnel"},
                    {"duration_ns", "bad", "bad_confirmed", "bad_wireshark", "events",
                     "missing_bytes", "data_missing", "source"});
    for (const char* name : {"client_ip", "client_port", "server_ip", "server_port", "syn_time_ns"})
        in.require(name);
    const auto client_ip = in.addresses("client_ip");
    const auto server_ip = in.addresses("server_ip");
    const auto client_port = *in.ports("client_port");
    const auto server_port = *in.ports("server_port");
    const auto category = in.enums("category", capgap::session_categories);
    const auto id = in.numbers<std::uint64_t>("session_id");
    const auto syn_frame = in.numbers<std::uint64_t>("syn_frame");
    const auto syn_time = *in.numbers<std::int64_t>("syn_time_ns");
    const auto first_frame = in.numbers<std::uint64_t>("first_frame");
    const auto first_time = in.numbers<std::int64_t>("first_time_ns");
    const auto last_time = in.numbers<std::int64_t>("last_time_ns");
    const auto packets = in.numbers<std::uint64_t>("packets");
    const auto packets_c2s = in.numbers<std::uint64_t>("packets_c2s");
    const auto bytes_c2s = in.numbers<std::uint64_t>("bytes_c2s");
    const auto bytes_s2c = in.numbers<std::uint64_t>("bytes_s2c");
    const auto truncated = in.numbers<std::uint64_t>("truncated_bytes");
    const auto syn_count = in.numbers<std::uint32_t>("syn_count");
    const auto evicted = in.numbers<bool>("evicted");
    const auto tunnel = in.numbers<std::uint32_t>("tunnel");

    std::vector<capgap::Session> out(in.rows());
    for (std::size_t i = 0; i < out.size(); ++i) {
        capgap::Session& s = out[i];
        s.id = at<std::uint64_t>(id, i, i);
        s.client = {client_ip[i], client_port[i]};
        s.server = {server_ip[i], server_port[i]};
        s.category = category ? (*category)[i] : SessionCategory::complete;
        // Without frame numbers, rows count as frames 1, 2, ... (a SYN was seen).
        s.syn_frame = at<std::uint64_t>(syn_frame, i, i + 1);
        s.syn_time = capgap::Timestamp{syn_time.data()[i]};
        s.first_frame = at<std::uint64_t>(first_frame, i, s.syn_frame);
        s.first_time = capgap::Timestamp{at<std::int64_t>(first_time, i, s.syn_time.ns)};
        s.last_time = capgap::Timestamp{at<std::int64_t>(last_time, i, s.first_time.ns)};
        s.packets = at<std::uint64_t>(packets, i, 0);
        s.packets_c2s = at<std::uint64_t>(packets_c2s, i, 0);
        s.bytes_c2s = at<std::uint64_t>(bytes_c2s, i, 0);
        s.bytes_s2c = at<std::uint64_t>(bytes_s2c, i, 0);
        s.truncated_bytes = at<std::uint64_t>(truncated, i, 0);
        s.syn_count = at<std::uint32_t>(syn_count, i, s.syn_frame != capgap::no_frame ? 1u : 0u);
        s.evicted = at<bool>(evicted, i, false);
        s.tunnel = at<std::uint32_t>(tunnel, i, 0);
    }
    return out;
}

std::vector<capgap::LossEvent> events_from_columns(const py::dict& cols) {
    ColumnReader in(
        "events", cols,
        {"session_id", "direction", "kind", "late_filled", "frame", "time_ns", "seq_begin",
         "seq_end", "missing_bytes", "src_ip", "src_port", "dst_ip", "dst_port"},
        {});
    in.require("kind");
    in.require("time_ns");
    const bool by_key = !in.has("session_id");
    if (by_key) {
        for (const char* name : {"src_ip", "src_port", "dst_ip", "dst_port"}) {
            if (!in.has(name)) {
                bad_table("events", std::string("missing column '") + name +
                                        "' (needed to join events by key and time when there "
                                        "is no 'session_id' column)");
            }
        }
    }
    // Signed: -1 (or the unsigned maximum) means "join by key and time".
    const auto id = in.numbers<std::int64_t>("session_id");
    const auto direction = in.enums("direction", capgap::directions);
    const auto kind = *in.enums("kind", capgap::event_kinds);
    const auto late = in.numbers<bool>("late_filled");
    const auto frame = in.numbers<std::uint64_t>("frame");
    const auto time = *in.numbers<std::int64_t>("time_ns");
    const auto seq_begin = in.numbers<std::uint64_t>("seq_begin");
    const auto seq_end = in.numbers<std::uint64_t>("seq_end");
    const auto missing = in.numbers<std::uint64_t>("missing_bytes");
    std::vector<capgap::IpAddress> src_ip, dst_ip;
    std::optional<std::vector<std::uint16_t>> src_port, dst_port;
    if (in.has("src_ip")) src_ip = in.addresses("src_ip");
    if (in.has("dst_ip")) dst_ip = in.addresses("dst_ip");
    src_port = in.ports("src_port");
    dst_port = in.ports("dst_port");

    std::vector<capgap::LossEvent> out(in.rows());
    for (std::size_t i = 0; i < out.size(); ++i) {
        capgap::LossEvent& e = out[i];
        const std::int64_t sid = at<std::int64_t>(id, i, -1);
        e.session_id = sid < 0 ? capgap::no_session : static_cast<std::uint64_t>(sid);
        e.direction = direction ? (*direction)[i] : Direction::c2s;
        e.kind = kind[i];
        e.late_filled = at<bool>(late, i, false);
        e.frame = at<std::uint64_t>(frame, i, capgap::no_frame);
        e.time = capgap::Timestamp{time.data()[i]};
        e.seq_begin = at<std::uint64_t>(seq_begin, i, 0);
        e.seq_end = at<std::uint64_t>(seq_end, i, 0);
        e.missing_bytes = at<std::uint64_t>(missing, i, 0);
        if (!src_ip.empty()) e.src.addr = src_ip[i];
        if (!dst_ip.empty()) e.dst.addr = dst_ip[i];
        if (src_port) e.src.port = (*src_port)[i];
        if (dst_port) e.dst.port = (*dst_port)[i];
    }
    return out;
}

}  // namespace

namespace capgap_py {

void register_tables(py::module_& m) {
    auto session_list = py::bind_vector<std::vector<capgap::Session>>(
        m, "SessionList", "A C++ vector of Session (no per-row objects).");
    def_pod_vector_pickle(session_list, "SessionList");
    auto event_list = py::bind_vector<std::vector<capgap::LossEvent>>(
        m, "LossEventList", "A C++ vector of LossEvent (no per-row objects).");
    def_pod_vector_pickle(event_list, "LossEventList");
    py::implicitly_convertible<py::list, std::vector<capgap::Session>>();
    py::implicitly_convertible<py::tuple, std::vector<capgap::Session>>();
    py::implicitly_convertible<py::list, std::vector<capgap::LossEvent>>();
    py::implicitly_convertible<py::tuple, std::vector<capgap::LossEvent>>();
    m.def("sessions_from_columns", &sessions_from_columns, "columns"_a,
          "Builds sessions from a dict of equal-length columns (see capgap.sessions_from).");
    m.def("events_from_columns", &events_from_columns, "columns"_a,
          "Builds loss events from a dict of equal-length columns (see capgap.events_from).");
    m.def(
        "session_list_columns",
        [](const std::vector<capgap::Session>& sessions) {
            std::vector<capgap::SessionRow> rows(sessions.size());
            for (std::size_t i = 0; i < sessions.size(); ++i)
                rows[i].session = sessions[i];
            py::dict d = session_columns(rows);
            for (const char* verdict : {"bad", "bad_confirmed", "bad_wireshark", "events",
                                        "missing_bytes", "data_missing"})
                PyDict_DelItemString(d.ptr(), verdict);
            return d;
        },
        "sessions"_a, "The columns of a SessionList (no verdict columns).");
    m.def("event_list_columns", &event_columns, "events"_a, "The columns of a LossEventList.");
}

}  // namespace capgap_py
