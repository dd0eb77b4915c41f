// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// The private extension capgap._core: bindings only. Arguments are converted first, then the
// GIL is released around the C++ work (reading, tracking, matching) and taken back to build
// the Python results. Tables cross the boundary as numpy arrays, one dtype per column.

#include <pybind11/numpy.h>
#include <pybind11/operators.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <pybind11/stl_bind.h>

#include <capgap/capgap.hpp>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <functional>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace py = pybind11;
using namespace py::literals;

// Large tables stay C++ vectors on the Python side (no per-row Python objects).
PYBIND11_MAKE_OPAQUE(std::vector<capgap::Session>)
PYBIND11_MAKE_OPAQUE(std::vector<capgap::LossEvent>)
PYBIND11_MAKE_OPAQUE(std::vector<capgap::SessionRow>)

namespace {

using capgap::Direction;
using capgap::EventKind;
using capgap::SessionCategory;

// Exception types, created once at import (the module is never unloaded).
PyObject* exc_base = nullptr;
PyObject* exc_capture = nullptr;
PyObject* exc_format = nullptr;
PyObject* exc_parse = nullptr;

PyObject* new_exception(py::module_& m, const char* name, const char* doc, py::tuple bases) {
    const std::string qualified = std::string("capgap.") + name;
    PyObject* t = PyErr_NewExceptionWithDoc(qualified.c_str(), doc, bases.ptr(), nullptr);
    if (t == nullptr) throw py::error_already_set();
    m.add_object(name, py::handle(t));
    return t;
}

void raise_parse_error(const capgap::parse_error& e) {
    py::object inst =
        py::reinterpret_steal<py::object>(PyObject_CallFunction(exc_parse, "s", e.what()));
    if (!inst) return;  // the call already set a Python error
    inst.attr("source") = e.source();
    inst.attr("line") = e.line();
    inst.attr("column") = e.column();
    PyErr_SetObject(exc_parse, inst.ptr());
}

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

py::dict session_columns(const std::vector<capgap::SessionRow>& rows) {
    using R = capgap::SessionRow;
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
    d["bad"] = number_column<bool>(rows, [](const R& r) { return r.bad; });
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

    // An enum column: names (as written by to_string) or integer codes below `count`.
    template <class Enum>
    std::optional<std::vector<Enum>> enums(const char* name, std::size_t count) const {
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
                out[i] = static_cast<Enum>(c);
            }
            return out;
        }
        std::vector<std::string> text = *strings(name);
        for (std::size_t i = 0; i < out.size(); ++i) {
            bool found = false;
            for (std::size_t c = 0; c < count && !found; ++c) {
                if (text[i] == capgap::to_string(static_cast<Enum>(c))) {
                    out[i] = static_cast<Enum>(c);
                    found = true;
                }
            }
            if (!found) {
                std::string names;
                for (std::size_t c = 0; c < count; ++c)
                    names += std::string(names.empty() ? "" : ", ") +
                             capgap::to_string(static_cast<Enum>(c));
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
    ColumnReader in(
        "sessions", cols,
        {"session_id", "client_ip", "client_port", "server_ip", "server_port", "category",
         "syn_frame", "syn_time_ns", "first_frame", "first_time_ns", "last_time_ns", "packets",
         "packets_c2s", "bytes_c2s", "bytes_s2c", "truncated_bytes", "syn_count", "evicted"},
        {"bad", "bad_wireshark", "events", "missing_bytes", "data_missing"});
    for (const char* name : {"client_ip", "client_port", "server_ip", "server_port", "syn_time_ns"})
        in.require(name);
    const auto client_ip = in.addresses("client_ip");
    const auto server_ip = in.addresses("server_ip");
    const auto client_port = *in.ports("client_port");
    const auto server_port = *in.ports("server_port");
    const auto category = in.enums<SessionCategory>("category", 5);
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
    const auto direction = in.enums<Direction>("direction", 2);
    const auto kind = *in.enums<EventKind>("kind", 7);
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

// ---- small helpers for Python protocols ----

std::size_t address_hash(const capgap::IpAddress& a) {
    std::size_t h = a.v6 ? 0x9e3779b97f4a7c15ull : 0;
    for (std::uint8_t b : a.bytes)
        h = h * 1099511628211ull + b;
    return h;
}

std::string repr_session(const capgap::Session& s) {
    return "Session(id=" + std::to_string(s.id) + ", client=" + capgap::to_string(s.client) +
           ", server=" + capgap::to_string(s.server) +
           ", category=" + capgap::to_string(s.category) +
           ", syn_frame=" + std::to_string(s.syn_frame) +
           ", syn_time=" + capgap::to_string(s.syn_time) +
           ", packets=" + std::to_string(s.packets) + ")";
}

std::string repr_event(const capgap::LossEvent& e) {
    const std::string sid =
        e.session_id == capgap::no_session ? "None" : std::to_string(e.session_id);
    return "LossEvent(session_id=" + sid + ", direction=" + capgap::to_string(e.direction) +
           ", kind=" + capgap::to_string(e.kind) + ", frame=" + std::to_string(e.frame) +
           ", time=" + capgap::to_string(e.time) + ", seq=[" + std::to_string(e.seq_begin) + ", " +
           std::to_string(e.seq_end) + "), missing_bytes=" + std::to_string(e.missing_bytes) + ")";
}

void write_csv(const std::string& path, const std::function<void(std::ostream&)>& write) {
    py::gil_scoped_release release;
    std::ofstream out(path, std::ios::binary);
    if (!out) capgap::throw_io_error(path, "", "cannot open for writing");
    write(out);
    out.flush();
    if (!out) capgap::throw_io_error(path, "", "write failed");
}

}  // namespace

PYBIND11_MODULE(_core, m) {
    m.doc() = "capgap native core (private): use the capgap package instead.";
    m.attr("__version__") = capgap::version;
    m.attr("no_session") = capgap::no_session;
    m.attr("no_frame") = capgap::no_frame;

    // ---- exceptions: one base, and each kind also a builtin Python users already catch ----
    exc_base = new_exception(m, "CapgapError", "Base of every error capgap raises on purpose.",
                             py::make_tuple(py::handle(PyExc_Exception)));
    exc_capture =
        new_exception(m, "CaptureError", "A file could not be opened or read (an OSError).",
                      py::make_tuple(py::handle(exc_base), py::handle(PyExc_OSError)));
    exc_format =
        new_exception(m, "FormatError", "A file is not in a format capgap reads (a ValueError).",
                      py::make_tuple(py::handle(exc_base), py::handle(PyExc_ValueError)));
    exc_parse = new_exception(
        m, "ParseError",
        "Text input (CSV, a window, a filter) could not be parsed (a ValueError). Attributes: "
        "source, line, column (1-based, 0 when unknown).",
        py::make_tuple(py::handle(exc_base), py::handle(PyExc_ValueError)));
    py::register_exception_translator([](std::exception_ptr p) {
        try {
            if (p) std::rethrow_exception(p);
        } catch (const capgap::parse_error& e) {
            raise_parse_error(e);
        } catch (const capgap::format_error& e) {
            PyErr_SetString(exc_format, e.what());
        } catch (const capgap::io_error& e) {
            PyErr_SetString(exc_capture, e.what());
        } catch (const capgap::error& e) {
            PyErr_SetString(exc_base, e.what());
        }
    });

    // ---- time ----
    py::class_<capgap::Timestamp>(m, "Timestamp", "Nanoseconds since the Unix epoch (UTC).")
        .def(py::init<>())
        .def(py::init([](std::int64_t ns) { return capgap::Timestamp{ns}; }), "ns"_a)
        .def_readwrite("ns", &capgap::Timestamp::ns)
        .def("__int__", [](const capgap::Timestamp& t) { return t.ns; })
        .def("__str__", [](const capgap::Timestamp& t) { return capgap::to_string(t); })
        .def("__repr__",
             [](const capgap::Timestamp& t) { return "Timestamp(" + std::to_string(t.ns) + ")"; })
        .def("__hash__", [](const capgap::Timestamp& t) { return py::hash(py::int_(t.ns)); })
        .def(py::self == py::self)
        .def(py::self != py::self)
        .def(py::self < py::self)
        .def(py::self <= py::self)
        .def(py::self > py::self)
        .def(py::self >= py::self);
    py::implicitly_convertible<py::int_, capgap::Timestamp>();

    m.def("parse_seconds_ns", &capgap::parse_seconds_ns, "text"_a, "what"_a = "time",
          "Decimal seconds to exact nanoseconds. Raises ParseError.");
    m.def("parse_iso8601", &capgap::parse_iso8601, "text"_a, "what"_a = "time",
          "An ISO-8601 date-time to an exact Timestamp. Raises ParseError.");

    py::class_<capgap::WindowBound> bound(m, "WindowBound", "One bound of a monitoring window.");
    py::enum_<capgap::WindowBound::Kind>(bound, "Kind")
        .value("relative", capgap::WindowBound::Kind::relative)
        .value("absolute", capgap::WindowBound::Kind::absolute);
    bound.def(py::init<>())
        .def_readwrite("kind", &capgap::WindowBound::kind)
        .def_readwrite("ns", &capgap::WindowBound::ns)
        .def("resolve", &capgap::WindowBound::resolve, "first_packet"_a);

    py::class_<capgap::TimeWindow>(m, "TimeWindow", "The half-open window [begin, end).")
        .def(py::init<>())
        .def_static("parse", &capgap::TimeWindow::parse, "text"_a,
                    "Parses 'START,END' (relative seconds, epoch seconds or ISO-8601; either "
                    "side may be empty). Raises ParseError.")
        .def_readwrite("begin", &capgap::TimeWindow::begin)
        .def_readwrite("end", &capgap::TimeWindow::end)
        .def("contains", &capgap::TimeWindow::contains, "t"_a, "first_packet"_a);

    // ---- addresses and keys ----
    py::class_<capgap::IpAddress>(m, "IpAddress", "An IPv4 or IPv6 address.")
        .def(py::init<>())
        .def(py::init([](const std::string& text) { return capgap::IpAddress::parse(text); }),
             "text"_a)
        .def_static(
            "parse", [](const std::string& text) { return capgap::IpAddress::parse(text); },
            "text"_a)
        .def_readonly("v6", &capgap::IpAddress::v6)
        .def_property_readonly("packed",
                               [](const capgap::IpAddress& a) {
                                   return py::bytes(reinterpret_cast<const char*>(a.bytes.data()),
                                                    a.v6 ? 16 : 4);
                               })
        .def("__str__", [](const capgap::IpAddress& a) { return capgap::to_string(a); })
        .def("__repr__",
             [](const capgap::IpAddress& a) { return "IpAddress('" + capgap::to_string(a) + "')"; })
        .def("__hash__", &address_hash)
        .def(py::self == py::self)
        .def(py::self != py::self)
        .def(py::self < py::self);
    py::implicitly_convertible<py::str, capgap::IpAddress>();

    py::class_<capgap::Endpoint>(m, "Endpoint", "An address and a TCP port.")
        .def(py::init<>())
        .def(py::init([](const capgap::IpAddress& addr, std::uint16_t port) {
                 return capgap::Endpoint{addr, port};
             }),
             "addr"_a, "port"_a)
        .def_readwrite("addr", &capgap::Endpoint::addr)
        .def_readwrite("port", &capgap::Endpoint::port)
        .def("__str__", [](const capgap::Endpoint& e) { return capgap::to_string(e); })
        .def("__repr__",
             [](const capgap::Endpoint& e) {
                 return "Endpoint('" + capgap::to_string(e.addr) + "', " + std::to_string(e.port) +
                        ")";
             })
        .def("__hash__",
             [](const capgap::Endpoint& e) { return address_hash(e.addr) * 65537u + e.port; })
        .def(py::self == py::self)
        .def(py::self != py::self)
        .def(py::self < py::self);

    py::class_<capgap::FlowKey>(m, "FlowKey",
                                "The unordered endpoint pair: both directions give one key.")
        .def(py::init<>())
        .def(py::init<const capgap::Endpoint&, const capgap::Endpoint&>(), "a"_a, "b"_a)
        .def_readonly("lo", &capgap::FlowKey::lo)
        .def_readonly("hi", &capgap::FlowKey::hi)
        .def("__repr__",
             [](const capgap::FlowKey& k) {
                 return "FlowKey(" + capgap::to_string(k.lo) + ", " + capgap::to_string(k.hi) + ")";
             })
        .def("__hash__", [](const capgap::FlowKey& k) { return capgap::hash_value(k); })
        .def(py::self == py::self)
        .def(py::self != py::self)
        .def(py::self < py::self);

    // ---- enums ----
    py::enum_<Direction>(m, "Direction").value("c2s", Direction::c2s).value("s2c", Direction::s2c);
    py::enum_<SessionCategory>(m, "SessionCategory")
        .value("complete", SessionCategory::complete)
        .value("syn_only", SessionCategory::syn_only)
        .value("one_sided", SessionCategory::one_sided)
        .value("synack_only", SessionCategory::synack_only)
        .value("partial", SessionCategory::partial);
    py::enum_<EventKind>(m, "EventKind")
        .value("acked_unseen", EventKind::acked_unseen)
        .value("gap_unacked", EventKind::gap_unacked)
        .value("control_missing", EventKind::control_missing)
        .value("acked_before_data", EventKind::acked_before_data)
        .value("reordered", EventKind::reordered)
        .value("ws_lost_segment", EventKind::ws_lost_segment)
        .value("ws_ack_lost_segment", EventKind::ws_ack_lost_segment);
    py::enum_<capgap::Mode>(m, "Mode")
        .value("confirmed", capgap::Mode::confirmed)
        .value("wireshark", capgap::Mode::wireshark);
    m.def("is_loss", &capgap::is_loss, "kind"_a);
    m.def("is_counted", &capgap::is_counted, "category"_a);

    // ---- value types ----
    py::class_<capgap::Session>(m, "Session", "One TCP session instance.")
        .def(py::init<>())
        .def_readwrite("id", &capgap::Session::id)
        .def_readwrite("client", &capgap::Session::client)
        .def_readwrite("server", &capgap::Session::server)
        .def_readwrite("category", &capgap::Session::category)
        .def_readwrite("syn_frame", &capgap::Session::syn_frame)
        .def_readwrite("syn_time", &capgap::Session::syn_time)
        .def_readwrite("first_frame", &capgap::Session::first_frame)
        .def_readwrite("first_time", &capgap::Session::first_time)
        .def_readwrite("last_time", &capgap::Session::last_time)
        .def_readwrite("packets", &capgap::Session::packets)
        .def_readwrite("packets_c2s", &capgap::Session::packets_c2s)
        .def_readwrite("bytes_c2s", &capgap::Session::bytes_c2s)
        .def_readwrite("bytes_s2c", &capgap::Session::bytes_s2c)
        .def_readwrite("truncated_bytes", &capgap::Session::truncated_bytes)
        .def_readwrite("syn_count", &capgap::Session::syn_count)
        .def_readwrite("evicted", &capgap::Session::evicted)
        .def("start_time", &capgap::Session::start_time)
        .def("__repr__", &repr_session)
        .def(py::self == py::self)
        .def(py::self != py::self);

    py::class_<capgap::LossEvent>(m, "LossEvent", "One loss event (or Wireshark flag).")
        .def(py::init<>())
        .def_readwrite("session_id", &capgap::LossEvent::session_id)
        .def_readwrite("direction", &capgap::LossEvent::direction)
        .def_readwrite("kind", &capgap::LossEvent::kind)
        .def_readwrite("late_filled", &capgap::LossEvent::late_filled)
        .def_readwrite("frame", &capgap::LossEvent::frame)
        .def_readwrite("time", &capgap::LossEvent::time)
        .def_readwrite("seq_begin", &capgap::LossEvent::seq_begin)
        .def_readwrite("seq_end", &capgap::LossEvent::seq_end)
        .def_readwrite("missing_bytes", &capgap::LossEvent::missing_bytes)
        .def_readwrite("src", &capgap::LossEvent::src)
        .def_readwrite("dst", &capgap::LossEvent::dst)
        .def("__repr__", &repr_event)
        .def(py::self == py::self)
        .def(py::self != py::self);

    py::class_<capgap::Segment>(m, "Segment", "One decoded TCP segment.")
        .def(py::init<>())
        .def_readwrite("frame", &capgap::Segment::frame)
        .def_readwrite("time", &capgap::Segment::time)
        .def_readwrite("src", &capgap::Segment::src)
        .def_readwrite("dst", &capgap::Segment::dst)
        .def_readwrite("seq", &capgap::Segment::seq)
        .def_readwrite("ack", &capgap::Segment::ack)
        .def_readwrite("window", &capgap::Segment::window)
        .def_readwrite("flags", &capgap::Segment::flags)
        .def_readwrite("payload_len", &capgap::Segment::payload_len)
        .def_readwrite("truncated_bytes", &capgap::Segment::truncated_bytes)
        .def_readwrite("checksum", &capgap::Segment::checksum);
    py::module_ flags = m.def_submodule("tcp_flags", "TCP flag bits.");
    flags.attr("FIN") = capgap::tcp_flags::fin;
    flags.attr("SYN") = capgap::tcp_flags::syn;
    flags.attr("RST") = capgap::tcp_flags::rst;
    flags.attr("PSH") = capgap::tcp_flags::psh;
    flags.attr("ACK") = capgap::tcp_flags::ack;
    flags.attr("URG") = capgap::tcp_flags::urg;

    py::bind_vector<std::vector<capgap::Session>>(m, "SessionList",
                                                  "A C++ vector of Session (no per-row objects).");
    py::bind_vector<std::vector<capgap::LossEvent>>(
        m, "LossEventList", "A C++ vector of LossEvent (no per-row objects).");
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
            for (const char* verdict :
                 {"bad", "bad_wireshark", "events", "missing_bytes", "data_missing"})
                PyDict_DelItemString(d.ptr(), verdict);
            return d;
        },
        "sessions"_a, "The columns of a SessionList (no verdict columns).");
    m.def("event_list_columns", &event_columns, "events"_a, "The columns of a LossEventList.");

    // ---- ingest counters ----
    py::class_<capgap::InputProblem>(m, "InputProblem")
        .def_readonly("source", &capgap::InputProblem::source)
        .def_readonly("position", &capgap::InputProblem::position)
        .def_readonly("reason", &capgap::InputProblem::reason)
        .def("__repr__", [](const capgap::InputProblem& p) {
            return "InputProblem('" + capgap::format_message(p.source, p.position, p.reason) + "')";
        });

    py::class_<capgap::IngestStats>(m, "IngestStats", "Named ingest counters.")
        .def(py::init<>())
        .def_readwrite("files", &capgap::IngestStats::files)
        .def_readwrite("packets_read", &capgap::IngestStats::packets_read)
        .def_readwrite("bytes_read", &capgap::IngestStats::bytes_read)
        .def_readwrite("decoded", &capgap::IngestStats::decoded)
        .def_readwrite("filtered_out", &capgap::IngestStats::filtered_out)
        .def_readwrite("skipped_not_ip", &capgap::IngestStats::skipped_not_ip)
        .def_readwrite("skipped_not_tcp", &capgap::IngestStats::skipped_not_tcp)
        .def_readwrite("skipped_ip_fragment", &capgap::IngestStats::skipped_ip_fragment)
        .def_readwrite("skipped_bad_ip_header", &capgap::IngestStats::skipped_bad_ip_header)
        .def_readwrite("skipped_bad_tcp_header", &capgap::IngestStats::skipped_bad_tcp_header)
        .def_readwrite("skipped_truncated_header", &capgap::IngestStats::skipped_truncated_header)
        .def_readwrite("skipped_unsupported_link", &capgap::IngestStats::skipped_unsupported_link)
        .def_readwrite("unsupported_link_types", &capgap::IngestStats::unsupported_link_types)
        .def_readwrite("truncated_packets", &capgap::IngestStats::truncated_packets)
        .def_readwrite("truncated_bytes", &capgap::IngestStats::truncated_bytes)
        .def_readwrite("duplicate_packets", &capgap::IngestStats::duplicate_packets)
        .def_readwrite("duplicates_dropped", &capgap::IngestStats::duplicates_dropped)
        .def_readwrite("flows_closed_expired", &capgap::IngestStats::flows_closed_expired)
        .def_readwrite("flows_idle_expired", &capgap::IngestStats::flows_idle_expired)
        .def_readwrite("flows_evicted", &capgap::IngestStats::flows_evicted)
        .def_readwrite("holes_cap_hit", &capgap::IngestStats::holes_cap_hit)
        .def_readwrite("open_flows_peak", &capgap::IngestStats::open_flows_peak)
        .def_readwrite("csv_rows", &capgap::IngestStats::csv_rows)
        .def_readwrite("csv_bad_rows", &capgap::IngestStats::csv_bad_rows)
        .def_readwrite("csv_bad_lines", &capgap::IngestStats::csv_bad_lines)
        .def_readonly("problems", &capgap::IngestStats::problems)
        .def_readwrite("have_time", &capgap::IngestStats::have_time)
        .def_readwrite("first_time", &capgap::IngestStats::first_time)
        .def_readwrite("last_time", &capgap::IngestStats::last_time)
        .def("skipped", &capgap::IngestStats::skipped)
        .def(
            "counters",
            [](const capgap::IngestStats& s) {
                py::dict d;
                for (const auto& kv : s.counters())
                    d[py::str(kv.first)] = kv.second;
                return d;
            },
            "The counters as an ordered dict (the order of the text and JSON reports).");

    // ---- options ----
    py::class_<capgap::TrackerOptions>(m, "TrackerOptions")
        .def(py::init<>())
        .def_readwrite("reorder_window_ns", &capgap::TrackerOptions::reorder_window_ns)
        .def_readwrite("max_holes_per_direction", &capgap::TrackerOptions::max_holes_per_direction)
        .def_readwrite("closed_timeout_ns", &capgap::TrackerOptions::closed_timeout_ns)
        .def_readwrite("idle_timeout_ns", &capgap::TrackerOptions::idle_timeout_ns)
        .def_readwrite("max_open_flows", &capgap::TrackerOptions::max_open_flows)
        .def_readwrite("duplicate_window_ns", &capgap::TrackerOptions::duplicate_window_ns)
        .def_readwrite("drop_duplicates", &capgap::TrackerOptions::drop_duplicates);

    py::class_<capgap::ServerFilter>(m, "ServerFilter", "A server address range and port.")
        .def(py::init<>())
        .def_static("parse", &capgap::ServerFilter::parse, "text"_a,
                    "Parses 'CIDR[:PORT]' (IPv6 with a port as '[CIDR]:PORT'). Raises "
                    "ParseError.")
        .def_readwrite("network", &capgap::ServerFilter::network)
        .def_readwrite("prefix", &capgap::ServerFilter::prefix)
        .def_readwrite("port", &capgap::ServerFilter::port)
        .def("matches", &capgap::ServerFilter::matches, "endpoint"_a);

    py::class_<capgap::MatchOptions>(m, "MatchOptions",
                                     "Matcher settings. List fields are copied on access: "
                                     "assign a whole list to change them.")
        .def(py::init<>())
        .def_readwrite("window", &capgap::MatchOptions::window)
        .def_readwrite("servers", &capgap::MatchOptions::servers)
        .def_readwrite("ports", &capgap::MatchOptions::ports)
        .def_readwrite("events_in_window_only", &capgap::MatchOptions::events_in_window_only)
        .def_readwrite("mode", &capgap::MatchOptions::mode);

    py::class_<capgap::Options>(m, "Options", "Everything analyze() takes.")
        .def(py::init<>())
        .def_readwrite("tracker", &capgap::Options::tracker)
        .def_readwrite("match", &capgap::Options::match)
        .def_readwrite("bpf", &capgap::Options::bpf);

    // ---- report ----
    py::class_<capgap::Summary>(m, "Summary", "The headline figures.")
        .def_readonly("mode", &capgap::Summary::mode)
        .def_readonly("join", &capgap::Summary::join)
        .def_readonly("total_sessions", &capgap::Summary::total_sessions)
        .def_readonly("bad_sessions", &capgap::Summary::bad_sessions)
        .def_readonly("bad_confirmed", &capgap::Summary::bad_confirmed)
        .def_readonly("bad_wireshark", &capgap::Summary::bad_wireshark)
        .def_readonly("bad_data_missing", &capgap::Summary::bad_data_missing)
        .def_readonly("bad_control_only", &capgap::Summary::bad_control_only)
        .def_readonly("wireshark_only", &capgap::Summary::wireshark_only)
        .def_readonly("confirmed_only", &capgap::Summary::confirmed_only)
        .def_readonly("syn_only", &capgap::Summary::syn_only)
        .def_readonly("one_sided", &capgap::Summary::one_sided)
        .def_readonly("partial", &capgap::Summary::partial)
        .def_readonly("synack_only", &capgap::Summary::synack_only)
        .def_readonly("before_window", &capgap::Summary::before_window)
        .def_readonly("after_window", &capgap::Summary::after_window)
        .def_readonly("filtered_out", &capgap::Summary::filtered_out)
        .def_readonly("evicted", &capgap::Summary::evicted)
        .def_readonly("unmatched_events", &capgap::Summary::unmatched_events)
        .def_readonly("percentage", &capgap::Summary::percentage)
        .def_readonly("ci95_low", &capgap::Summary::ci95_low)
        .def_readonly("ci95_high", &capgap::Summary::ci95_high);

    py::class_<capgap::SessionRow>(m, "SessionRow", "A reported session with its verdicts.")
        .def_readonly("session", &capgap::SessionRow::session)
        .def_readonly("bad", &capgap::SessionRow::bad)
        .def_readonly("bad_wireshark", &capgap::SessionRow::bad_wireshark)
        .def_readonly("events", &capgap::SessionRow::events)
        .def_readonly("missing_bytes", &capgap::SessionRow::missing_bytes)
        .def_readonly("data_missing", &capgap::SessionRow::data_missing);
    py::bind_vector<std::vector<capgap::SessionRow>>(m, "SessionRowList");

    py::class_<capgap::EventTally>(m, "EventTally", "Events of one kind and direction.")
        .def_readonly("kind", &capgap::EventTally::kind)
        .def_readonly("direction", &capgap::EventTally::direction)
        .def_readonly("count", &capgap::EventTally::count)
        .def_readonly("missing_bytes", &capgap::EventTally::missing_bytes)
        .def_readonly("late_filled", &capgap::EventTally::late_filled);

    m.def("wilson_interval", &capgap::wilson_interval, "k"_a, "n"_a,
          "The 95% Wilson score interval for k of n, in percent.");

    py::class_<capgap::Report>(m, "Report", "Everything capgap reports (native).")
        .def_readonly("summary", &capgap::Report::summary)
        .def_readonly("sessions", &capgap::Report::sessions)
        .def_readonly("events", &capgap::Report::events)
        .def_readonly("tallies", &capgap::Report::tallies)
        .def_readonly("ingest", &capgap::Report::ingest)
        .def("to_text", &capgap::Report::to_text)
        .def("to_json", &capgap::Report::to_json)
        .def(
            "write_sessions_csv",
            [](const capgap::Report& r, const std::string& path) {
                write_csv(path, [&r](std::ostream& o) { r.write_sessions_csv(o); });
            },
            "path"_a)
        .def(
            "write_events_csv",
            [](const capgap::Report& r, const std::string& path) {
                write_csv(path, [&r](std::ostream& o) { r.write_events_csv(o); });
            },
            "path"_a)
        .def(
            "session_columns", [](const capgap::Report& r) { return session_columns(r.sessions); },
            "The sessions as a dict of numpy arrays, one dtype per column.")
        .def(
            "event_columns", [](const capgap::Report& r) { return event_columns(r.events); },
            "The events as a dict of numpy arrays, one dtype per column.");

    // ---- the pipeline ----
    py::class_<capgap::Matcher>(m, "Matcher", "Joins sessions and events into a Report.")
        .def(py::init<capgap::MatchOptions>(), "options"_a = capgap::MatchOptions{})
        .def_property_readonly("options", &capgap::Matcher::options)
        .def(
            "match",
            [](const capgap::Matcher& self, const std::vector<capgap::Session>& sessions,
               const std::vector<capgap::LossEvent>& events, const capgap::IngestStats& stats) {
                py::gil_scoped_release release;
                return self.match(sessions, events, stats);
            },
            "sessions"_a, "events"_a, "stats"_a = capgap::IngestStats{},
            "Judges the sessions (the GIL is released).");

    py::class_<capgap::Analyzer>(m, "Analyzer",
                                 "Streaming analysis: feed packets in capture order, then "
                                 "finish() once. Not for concurrent use from several threads.")
        .def(py::init<capgap::Options>(), "options"_a = capgap::Options{})
        .def(
            "feed_packet",
            [](capgap::Analyzer& self, const py::buffer& data, int link_type,
               capgap::Timestamp time, std::optional<std::uint32_t> wirelen) {
                const py::buffer_info info = data.request();
                if (info.ndim != 1 || info.strides[0] != 1 || info.itemsize != 1) {
                    throw std::invalid_argument(
                        "feed_packet: data must be a contiguous bytes-like object");
                }
                if (info.size > std::numeric_limits<std::uint32_t>::max())
                    throw std::invalid_argument("feed_packet: packet larger than 4 GiB");
                const auto caplen = static_cast<std::uint32_t>(info.size);
                const std::uint32_t len = wirelen.value_or(caplen);
                if (len < caplen) {
                    throw std::invalid_argument("feed_packet: wirelen (" + std::to_string(len) +
                                                ") is smaller than len(data) (" +
                                                std::to_string(caplen) + ")");
                }
                self.feed_packet(static_cast<const std::uint8_t*>(info.ptr), caplen, len, link_type,
                                 time);
            },
            "data"_a, "link_type"_a, "time"_a, "wirelen"_a = py::none(),
            "Feeds one raw packet (link-layer bytes); time in epoch nanoseconds.")
        .def("feed_segment", &capgap::Analyzer::feed_segment, "segment"_a)
        .def_property_readonly(
            "stats", [](const capgap::Analyzer& a) { return capgap::IngestStats(a.stats()); },
            "A copy of the counters so far.")
        .def(
            "finish",
            [](capgap::Analyzer& self) {
                py::gil_scoped_release release;
                return self.finish();
            },
            "Finishes tracking and returns the report (the GIL is released). Call once.");

    m.def(
        "analyze",
        [](const std::vector<std::string>& paths, const capgap::Options& options) {
            py::gil_scoped_release release;
            return capgap::analyze(paths, options);
        },
        "paths"_a, "options"_a = capgap::Options{},
        "Reads the captures (merged by time) and returns the report (the GIL is released).");

    py::class_<capgap::CsvCounts>(m, "CsvCounts", "CSV-specific counters.")
        .def_readonly("syn_rows", &capgap::CsvCounts::syn_rows)
        .def_readonly("lost_rows", &capgap::CsvCounts::lost_rows)
        .def_readonly("syn_merged", &capgap::CsvCounts::syn_merged)
        .def_readonly("syn_rows_not_syn", &capgap::CsvCounts::syn_rows_not_syn)
        .def_readonly("lost_rows_unflagged", &capgap::CsvCounts::lost_rows_unflagged)
        .def_readonly("rows_without_ports", &capgap::CsvCounts::rows_without_ports)
        .def_readonly("joined_by_address", &capgap::CsvCounts::joined_by_address)
        .def_readonly("ambiguous_events", &capgap::CsvCounts::ambiguous_events)
        .def_readonly("times_zone_ignored", &capgap::CsvCounts::times_zone_ignored)
        .def_readonly("bad_row_reasons", &capgap::CsvCounts::bad_row_reasons)
        .def_readonly("bad_rows", &capgap::CsvCounts::bad_rows)
        .def_readonly("time_kind", &capgap::CsvCounts::time_kind)
        .def_readonly("has_stream", &capgap::CsvCounts::has_stream);

    py::class_<capgap::CsvInput>(m, "CsvInput", "Sessions and events read from CSV exports.")
        .def_readwrite("sessions", &capgap::CsvInput::sessions)
        .def_readwrite("events", &capgap::CsvInput::events)
        .def_readwrite("stats", &capgap::CsvInput::stats)
        .def_readonly("counts", &capgap::CsvInput::counts)
        .def_readonly("unmatched_events", &capgap::CsvInput::unmatched_events);
    m.def(
        "read_wireshark_csv",
        [](const std::string& syn_path, const std::string& lost_path) {
            py::gil_scoped_release release;
            return capgap::read_wireshark_csv(syn_path, lost_path);
        },
        "syn_path"_a, "lost_path"_a, "Reads a SYN list and a lost list (the GIL is released).");
    m.def(
        "analyze_wireshark_csv",
        [](const std::string& syn_path, const std::string& lost_path,
           const capgap::MatchOptions& options) {
            py::gil_scoped_release release;
            return capgap::analyze_wireshark_csv(syn_path, lost_path, options);
        },
        "syn_path"_a, "lost_path"_a, "options"_a = capgap::MatchOptions{},
        "Reads both lists and matches them, Wireshark verdict (the GIL is released).");
    m.def(
        "socket_join",
        [](const std::string& syn_path, const std::string& lost_path,
           const std::vector<capgap::ServerFilter>& servers,
           const std::vector<std::uint16_t>& ports) {
            py::gil_scoped_release release;
            return capgap::socket_join(syn_path, lost_path, servers, ports);
        },
        "syn_path"_a, "lost_path"_a, "servers"_a = std::vector<capgap::ServerFilter>{},
        "ports"_a = std::vector<std::uint16_t>{},
        "The old join by client socket, reproduced exactly (the GIL is released).");

    m.def("link_type_name", &capgap::link_type_name, "link_type"_a);
}
