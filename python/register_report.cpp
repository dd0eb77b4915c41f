// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// Counters, the report, and the pipeline entry points (GIL released around the C++ work).

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "bindings.hpp"
#include "core/errors.hpp"
#include "match/csv_join.hpp"
#include "report/json.hpp"
#include "report/output_file.hpp"

using namespace py::literals;

namespace {

// The read function of a CaptureInput over a Python binary stream: readinto() into the C++
// buffer through a memoryview (no copy), or read() where the stream has no readinto. The GIL
// is taken only around that call; an exception the stream raises is carried through the C++
// reading as error_already_set and reaches the caller as itself. The stream object is
// borrowed: the caller's list keeps it alive while analyze() runs.
struct PythonStreamRead {
    PyObject* stream;
    bool readinto;

    std::size_t operator()(std::uint8_t* buffer, std::size_t size) const {
        py::gil_scoped_acquire gil;
        const auto n = static_cast<Py_ssize_t>(
            std::min<std::size_t>(size, std::numeric_limits<Py_ssize_t>::max()));
        py::object got;
        if (readinto) {
            auto view = py::reinterpret_steal<py::object>(
                PyMemoryView_FromMemory(reinterpret_cast<char*>(buffer), n, PyBUF_WRITE));
            if (!view) throw py::error_already_set();
            // Released whatever readinto did, so that no view of the buffer outlives the call.
            struct Release {
                py::object& v;
                ~Release() {
                    PyObject* r = PyObject_CallMethod(v.ptr(), "release", nullptr);
                    if (r == nullptr) {
                        PyErr_Clear();
                    } else {
                        Py_DECREF(r);
                    }
                }
            } release{view};
            got = py::handle(stream).attr("readinto")(view);
            if (got.is_none()) throw_none();
            const auto k = got.cast<Py_ssize_t>();
            if (k < 0 || k > n) {
                throw py::value_error("readinto() returned " + std::to_string(k) +
                                      " for a buffer of " + std::to_string(n) + " bytes");
            }
            return static_cast<std::size_t>(k);
        }
        got = py::handle(stream).attr("read")(n);
        if (got.is_none()) throw_none();
        if (!PyBytes_Check(got.ptr()) && !PyByteArray_Check(got.ptr()) &&
            !PyMemoryView_Check(got.ptr())) {
            throw py::type_error("a capture stream must be binary: read() returned " +
                                 std::string(Py_TYPE(got.ptr())->tp_name) +
                                 ", not bytes (open the file with 'rb')");
        }
        const py::buffer_info info = py::reinterpret_borrow<py::buffer>(got).request();
        const auto k = static_cast<std::size_t>(info.size * info.itemsize);
        if (k > size) throw py::value_error("read() returned more bytes than asked for");
        std::memcpy(buffer, info.ptr, k);
        return k;
    }

    [[noreturn]] static void throw_none() {
        throw py::value_error(
            "the capture stream returned None: a non-blocking stream without data is not read");
    }
};

// Paths (str) and binary streams as CaptureInputs; `streams` keeps the stream objects.
std::vector<capgap::CaptureInput> capture_inputs(const std::vector<py::object>& items) {
    std::vector<capgap::CaptureInput> out;
    out.reserve(items.size());
    for (const py::object& item : items) {
        if (py::isinstance<py::str>(item)) {
            out.emplace_back(item.cast<std::string>());
            continue;
        }
        const bool readinto = py::hasattr(item, "readinto");
        if (!readinto && !py::hasattr(item, "read")) {
            throw py::type_error("a capture must be a path or a binary stream, not " +
                                 std::string(Py_TYPE(item.ptr())->tp_name));
        }
        std::string name = "<" + std::string(Py_TYPE(item.ptr())->tp_name) + ">";
        const py::object attr = py::getattr(item, "name", py::none());
        if (py::isinstance<py::str>(attr)) name = attr.cast<std::string>();
        out.push_back(
            capgap::CaptureInput::stream(std::move(name), PythonStreamRead{item.ptr(), readinto}));
    }
    return out;
}

// Options::progress for a call from Python: every ~50 ms of work it takes the GIL back, runs
// the signal handlers (PyErr_CheckSignals: Ctrl-C, Jupyter's interrupt) and, at most every
// 100 ms and at the end, calls the user's callback with a Progress. An exception from either
// is carried through the C++ reading as error_already_set, which unwinds it (every resource
// is held by RAII) and reaches the caller as itself: KeyboardInterrupt within ~50 ms. The
// callback is borrowed (the caller's arguments keep it alive) so that no Python reference is
// dropped without the GIL when the C++ options are destroyed.
capgap::Options with_poll(capgap::Options options, PyObject* callback) {
    constexpr double callback_interval = 0.1;
    auto last = std::make_shared<double>(-callback_interval);
    options.progress_interval_ns = 50'000'000;
    options.progress = [callback, last](const capgap::Progress& p) {
        py::gil_scoped_acquire gil;
        if (PyErr_CheckSignals() != 0) throw py::error_already_set();
        if (callback == nullptr || callback == Py_None) return;
        if (!p.done && p.elapsed_seconds - *last < callback_interval) return;
        *last = p.elapsed_seconds;
        const py::handle cb(callback);
        cb(p);
    };
    return options;
}

// Written as --sessions-out and --events-out are (report/output_file.hpp); a failure raises
// CaptureError, an OSError with errno, strerror and filename set as Python's own I/O sets them.
[[noreturn]] void raise_output_error(const capgap::detail::output_error& e,
                                     const std::string& path) {
    const py::object error = py::module_::import("capgap._core").attr("CaptureError");
    const std::string message = e.what();
    const std::string detail = message.substr(std::min(message.size(), path.size() + 2));
    PyErr_SetObject(error.ptr(), py::make_tuple(e.error_number(), detail, path).ptr());
    throw py::error_already_set();
}

void write_csv(const std::string& path, const std::function<void(std::ostream&)>& write) {
    try {
        py::gil_scoped_release release;
        capgap::detail::write_output_file(path, write);
    } catch (const capgap::detail::output_error& e) {
        raise_output_error(e, path);
    }
}

capgap::HtmlOptions html_options(const std::string& title, const std::string& window,
                                 std::size_t max_sessions, std::size_t max_events) {
    capgap::HtmlOptions options;
    options.title = title;
    options.window = window;
    options.max_sessions = max_sessions;
    options.max_events = max_events;
    return options;
}

// ---- pickled states of the types that hold strings and containers ----

py::tuple problem_state(const capgap::InputProblem& p) {
    return py::make_tuple(p.source, p.position, p.reason);
}

capgap::InputProblem problem_from(const py::handle& h) {
    const auto t = h.cast<py::tuple>();
    if (t.size() != 3) throw py::value_error("cannot unpickle capgap.InputProblem");
    return {t[0].cast<std::string>(), t[1].cast<std::string>(), t[2].cast<std::string>()};
}

py::list problems_state(const std::vector<capgap::InputProblem>& v) {
    py::list out;
    for (const capgap::InputProblem& p : v)
        out.append(problem_state(p));
    return out;
}

std::vector<capgap::InputProblem> problems_from(const py::handle& h) {
    std::vector<capgap::InputProblem> out;
    for (const py::handle item : h.cast<py::list>())
        out.push_back(problem_from(item));
    return out;
}

// The counters travel by name, so that a state names what it holds.
py::tuple ingest_state(const capgap::IngestStats& s) {
    py::dict counters;
    for (const capgap::IngestCounter& c : capgap::ingest_counters)
        counters[c.name] = s.*c.member;
    return py::make_tuple(capgap_py::pickle_header("IngestStats"), counters,
                          s.unsupported_link_types, s.unsupported_encapsulations, s.tunnels,
                          s.csv_bad_lines, problems_state(s.problems), s.have_time, s.first_time.ns,
                          s.last_time.ns);
}

capgap::IngestStats ingest_from(const py::handle& h) {
    const auto state = h.cast<py::tuple>();
    capgap_py::check_pickle_state(state, "IngestStats", 10);
    capgap::IngestStats s;
    auto counters = state[1].cast<py::dict>();
    for (const capgap::IngestCounter& c : capgap::ingest_counters) {
        if (!counters.contains(c.name)) {
            throw py::value_error(std::string("cannot unpickle capgap.IngestStats: no counter ") +
                                  c.name);
        }
        s.*c.member = counters[c.name].cast<std::uint64_t>();
    }
    if (counters.size() != std::size(capgap::ingest_counters))
        throw py::value_error("cannot unpickle capgap.IngestStats: unknown counters");
    s.unsupported_link_types = state[2].cast<std::map<std::string, std::uint64_t>>();
    s.unsupported_encapsulations = state[3].cast<std::map<std::string, std::uint64_t>>();
    s.tunnels = state[4].cast<std::vector<std::string>>();
    s.csv_bad_lines = state[5].cast<std::vector<std::uint64_t>>();
    s.problems = problems_from(state[6]);
    s.have_time = state[7].cast<bool>();
    s.first_time.ns = state[8].cast<std::int64_t>();
    s.last_time.ns = state[9].cast<std::int64_t>();
    return s;
}

template <class T>
T one_pod(const py::handle& b, const char* name) {
    std::vector<T> v = capgap_py::pod_vector<T>(b, name);
    if (v.size() != 1)
        throw py::value_error(std::string("cannot unpickle capgap.") + name + ": wrong size");
    return v[0];
}

py::tuple report_state(const capgap::Report& r) {
    using capgap_py::pod_bytes;
    return py::make_tuple(
        capgap_py::pickle_header("Report"), pod_bytes(std::vector<capgap::Summary>{r.summary}),
        pod_bytes(r.sessions), pod_bytes(r.events), pod_bytes(r.tallies), ingest_state(r.ingest),
        r.sources,
        py::make_tuple(r.timeline.base_ns, r.timeline.origin_ns, pod_bytes(r.timeline.buckets),
                       r.timeline.peak_bytes_1ms, r.timeline.peak_bytes_10ms),
        py::make_tuple(r.diagnosis_options.top, r.diagnosis_options.bucket_ns,
                       r.diagnosis_options.prefix_v4, r.diagnosis_options.prefix_v6),
        pod_bytes(r.parts));
}

capgap::Report report_from(const py::tuple& state) {
    using capgap_py::pod_vector;
    capgap_py::check_pickle_state(state, "Report", 10);
    capgap::Report r;
    r.summary = one_pod<capgap::Summary>(state[1], "Report");
    r.sessions = pod_vector<capgap::SessionRow>(state[2], "Report");
    r.events = pod_vector<capgap::LossEvent>(state[3], "Report");
    r.tallies = pod_vector<capgap::EventTally>(state[4], "Report");
    r.ingest = ingest_from(state[5]);
    r.sources = state[6].cast<std::vector<std::string>>();
    const auto tl = state[7].cast<py::tuple>();
    const auto dopt = state[8].cast<py::tuple>();
    if (tl.size() != 5 || dopt.size() != 4)
        throw py::value_error("cannot unpickle capgap.Report: bad timeline or diagnosis options");
    r.timeline.base_ns = tl[0].cast<std::int64_t>();
    r.timeline.origin_ns = tl[1].cast<std::int64_t>();
    r.timeline.buckets = pod_vector<capgap::TimelineCounts>(tl[2], "Report");
    r.timeline.peak_bytes_1ms = tl[3].cast<std::uint64_t>();
    r.timeline.peak_bytes_10ms = tl[4].cast<std::uint64_t>();
    r.diagnosis_options.top = dopt[0].cast<std::size_t>();
    r.diagnosis_options.bucket_ns = dopt[1].cast<std::int64_t>();
    r.diagnosis_options.prefix_v4 = dopt[2].cast<int>();
    r.diagnosis_options.prefix_v6 = dopt[3].cast<int>();
    r.parts = pod_vector<capgap::ReportPart>(state[9], "Report");
    return r;
}

}  // namespace

namespace capgap_py {

void register_report(py::module_& m) {
    // ---- ingest counters ----
    py::class_<capgap::InputProblem>(m, "InputProblem")
        .def(py::pickle(
            [](const capgap::InputProblem& p) {
                return py::make_tuple(pickle_header("InputProblem"), problem_state(p));
            },
            [](const py::tuple& state) {
                check_pickle_state(state, "InputProblem", 2);
                return problem_from(state[1]);
            }))
        .def_readonly("source", &capgap::InputProblem::source)
        .def_readonly("position", &capgap::InputProblem::position)
        .def_readonly("reason", &capgap::InputProblem::reason)
        .def("__repr__", [](const capgap::InputProblem& p) {
            return "InputProblem('" + capgap::format_message(p.source, p.position, p.reason) + "')";
        });

    py::class_<capgap::IngestStats> ingest_cls(m, "IngestStats", "Named ingest counters.");
    ingest_cls.def(py::init<>());
    ingest_cls.def(
        py::pickle(&ingest_state, [](const py::tuple& state) { return ingest_from(state); }));
    for (const capgap::IngestCounter& c : capgap::ingest_counters)
        ingest_cls.def_readwrite(c.name, c.member);
    ingest_cls.def_readwrite("unsupported_link_types", &capgap::IngestStats::unsupported_link_types)
        .def_readwrite("unsupported_encapsulations",
                       &capgap::IngestStats::unsupported_encapsulations)
        .def_readwrite("tunnels", &capgap::IngestStats::tunnels)
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
                for (const capgap::IngestCounter& c : capgap::ingest_counters)
                    d[c.name] = s.*c.member;
                return d;
            },
            "The counters as an ordered dict (the order of the text and JSON reports).");

    // ---- report ----
    py::class_<capgap::Summary> summary_cls =
        py::class_<capgap::Summary>(m, "Summary", "The headline figures.")
            .def_readonly("mode", &capgap::Summary::mode)
            .def_property_readonly(
                "join",
                [](const capgap::Summary& s) { return std::string(capgap::to_string(s.join)); })
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

    py::class_<capgap::SessionRow> sessionrow_cls =
        py::class_<capgap::SessionRow>(m, "SessionRow", "A reported session with its verdicts.")
            .def_readonly("session", &capgap::SessionRow::session)
            .def_readonly("bad", &capgap::SessionRow::bad)
            .def_readonly("bad_wireshark", &capgap::SessionRow::bad_wireshark)
            .def_readonly("events", &capgap::SessionRow::events)
            .def_readonly("missing_bytes", &capgap::SessionRow::missing_bytes)
            .def_readonly("data_missing", &capgap::SessionRow::data_missing)
            .def_readonly("source", &capgap::SessionRow::source,
                          "The input it came from: an index into Report.sources.");
    def_pod_pickle(summary_cls, "Summary");
    def_pod_pickle(sessionrow_cls, "SessionRow");
    auto rows_cls = py::bind_vector<std::vector<capgap::SessionRow>>(m, "SessionRowList");
    def_pod_vector_pickle(rows_cls, "SessionRowList");

    py::class_<capgap::EventTally> eventtally_cls =
        py::class_<capgap::EventTally>(m, "EventTally", "Events of one kind and direction.")
            .def_readonly("kind", &capgap::EventTally::kind)
            .def_readonly("direction", &capgap::EventTally::direction)
            .def_readonly("count", &capgap::EventTally::count)
            .def_readonly("missing_bytes", &capgap::EventTally::missing_bytes)
            .def_readonly("late_filled", &capgap::EventTally::late_filled);

    def_pod_pickle(eventtally_cls, "EventTally");

    m.def(
        "parse_bucket",
        [](const std::string& text) { return capgap::parse_bucket(text, "bucket"); }, "text"_a,
        "A bucket width (\"100ms\", \"1s\", \"10s\", \"1m\", \"1h\") in nanoseconds.");
    m.def("wilson_interval", &capgap::wilson_interval, "k"_a, "n"_a,
          "The 95% Wilson score interval for k of n, in percent.");

    py::class_<capgap::Report> report_cls =
        py::class_<capgap::Report>(m, "Report", "Everything capgap reports (native).")
            .def_readonly("summary", &capgap::Report::summary)
            .def_readonly("sessions", &capgap::Report::sessions)
            .def_readonly("events", &capgap::Report::events)
            .def_readonly("tallies", &capgap::Report::tallies)
            .def_readonly("ingest", &capgap::Report::ingest)
            .def_readonly("sources", &capgap::Report::sources)
            .def_readonly("parts", &capgap::Report::parts)
            .def("to_text", &capgap::Report::to_text)
            .def("to_json", &capgap::Report::to_json)
            .def(
                "diagnosis_json",
                [](const capgap::Report& r, std::optional<std::size_t> top,
                   std::optional<std::int64_t> bucket_ns, std::optional<int> prefix_v4,
                   std::optional<int> prefix_v6) {
                    capgap::DiagnosisOptions o = r.diagnosis_options;
                    if (top) o.top = *top;
                    if (bucket_ns) o.bucket_ns = *bucket_ns;
                    if (prefix_v4) o.prefix_v4 = *prefix_v4;
                    if (prefix_v6) o.prefix_v6 = *prefix_v6;
                    if (o.bucket_ns < 0) throw py::value_error("bucket_ns must be positive");
                    if (o.prefix_v4 < 0 || o.prefix_v4 > 32 || o.prefix_v6 < 0 || o.prefix_v6 > 128)
                        throw py::value_error("prefix_v4 must be 0-32 and prefix_v6 0-128");
                    std::string out;
                    {
                        py::gil_scoped_release release;
                        out = capgap::detail::dump_json(
                            capgap::detail::diagnosis_json(capgap::diagnose(r, o)));
                    }
                    return out;
                },
                "top"_a = py::none(), "bucket_ns"_a = py::none(), "prefix_v4"_a = py::none(),
                "prefix_v6"_a = py::none(),
                "The diagnosis (docs/diagnosis.md) as JSON text; None keeps the report's "
                "setting.")
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
                "to_html",
                [](const capgap::Report& r, const std::string& title, const std::string& window,
                   std::size_t max_sessions, std::size_t max_events) {
                    const capgap::HtmlOptions options =
                        html_options(title, window, max_sessions, max_events);
                    py::gil_scoped_release release;
                    return capgap::to_html(r, options);
                },
                "title"_a = "", "window"_a = "",
                "max_sessions"_a = capgap::HtmlOptions{}.max_sessions,
                "max_events"_a = capgap::HtmlOptions{}.max_events,
                "The self-contained HTML page (the GIL is released).")
            .def(
                "write_html",
                [](const capgap::Report& r, const std::string& path, const std::string& title,
                   const std::string& window, std::size_t max_sessions, std::size_t max_events) {
                    const capgap::HtmlOptions options =
                        html_options(title, window, max_sessions, max_events);
                    std::string page;
                    {
                        py::gil_scoped_release release;
                        page = capgap::to_html(r, options);
                    }
                    write_csv(path, [&page](std::ostream& o) {
                        o.write(page.data(), static_cast<std::streamsize>(page.size()));
                    });
                },
                "path"_a, "title"_a = "", "window"_a = "",
                "max_sessions"_a = capgap::HtmlOptions{}.max_sessions,
                "max_events"_a = capgap::HtmlOptions{}.max_events,
                "Writes the HTML page as --html does (the GIL is released).")
            .def(
                "session_columns",
                [](const capgap::Report& r) {
                    py::dict d = session_columns(r.sessions, r.summary.mode);
                    // `source`: each row's input name (object array; the names are shared).
                    std::vector<std::uint32_t> index(r.sessions.size());
                    for (std::size_t i = 0; i < index.size(); ++i)
                        index[i] = r.sessions[i].source;
                    py::list names;
                    for (const std::string& name : r.sources)
                        names.append(name);
                    if (r.sources.empty()) names.append("");
                    const py::module_ np = py::module_::import("numpy");
                    const py::object table = np.attr("array")(names, "dtype"_a = "object");
                    d["source"] = table.attr("__getitem__")(py::array_t<std::uint32_t>(
                        static_cast<py::ssize_t>(index.size()), index.data()));
                    return d;
                },
                "The sessions as a dict of numpy arrays, one dtype per column.")
            .def(
                "event_columns", [](const capgap::Report& r) { return event_columns(r.events); },
                "The events as a dict of numpy arrays, one dtype per column.");

    report_cls.def(py::pickle(&report_state, &report_from));
    m.def(
        "merge_reports",
        [](const std::vector<const capgap::Report*>& reports) {
            std::vector<capgap::Report> copies;
            copies.reserve(reports.size());
            for (const capgap::Report* r : reports)
                copies.push_back(*r);
            py::gil_scoped_release release;
            return capgap::merge_reports(copies);
        },
        "reports"_a,
        "One report from reports of independent captures (capgap.concat; the GIL is released "
        "while merging). Raises ValueError when their modes or joins differ.");

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
            "Finishes tracking and returns the report (the GIL is released). Call once.")
        .def("resume", &capgap::Analyzer::resume, "state"_a,
             "Resumes a chain from the state the piece before ended with; before any packet.")
        .def("set_source_name", &capgap::Analyzer::set_source_name, "name"_a,
             "The name of this piece's inputs, kept in the chain's sources.")
        .def(
            "suspend",
            [](capgap::Analyzer& self) {
                capgap::PieceResult r;
                {
                    py::gil_scoped_release release;
                    r = self.suspend();
                }
                return py::make_tuple(std::move(r.report), std::move(r.state));
            },
            "Ends a piece instead of finish(): (report of the sessions that ended, state for "
            "the next piece). Call once.");

    py::class_<capgap::Progress>(m, "Progress", "How far an analysis has read.")
        .def_readonly("bytes_done", &capgap::Progress::bytes_done,
                      "Input bytes read so far (compressed input: compressed bytes).")
        .def_readonly("bytes_total", &capgap::Progress::bytes_total,
                      "The inputs' total size; 0 when one is unknown (a pipe, a stream).")
        .def_readonly("packets", &capgap::Progress::packets)
        .def_readonly("sessions", &capgap::Progress::sessions, "Session instances started.")
        .def_readonly("elapsed_seconds", &capgap::Progress::elapsed_seconds)
        .def_readonly("done", &capgap::Progress::done, "True for the last call.")
        .def("__repr__", [](const capgap::Progress& p) {
            return "Progress(bytes_done=" + std::to_string(p.bytes_done) +
                   ", bytes_total=" + std::to_string(p.bytes_total) +
                   ", packets=" + std::to_string(p.packets) +
                   ", sessions=" + std::to_string(p.sessions) +
                   ", done=" + (p.done ? "True" : "False") + ")";
        });

    m.def(
        "analyze",
        [](const std::vector<py::object>& inputs, const capgap::Options& options,
           const py::object& progress) {
            const std::vector<capgap::CaptureInput> in = capture_inputs(inputs);
            const capgap::Options opt = with_poll(options, progress.ptr());
            py::gil_scoped_release release;
            return capgap::analyze(in, opt);
        },
        "inputs"_a, "options"_a = capgap::Options{}, "progress"_a = py::none(),
        "Reads the captures (paths and binary streams, merged by time) and returns the report "
        "(the GIL is released except while a stream's read or `progress` is called; signal "
        "handlers run every ~50 ms, so Ctrl-C raises KeyboardInterrupt promptly).");

    m.def(
        "analyze_piece",
        [](const std::vector<py::object>& inputs, const capgap::Options& options,
           std::optional<capgap::FlowState> resume, bool finish, const py::object& progress) {
            const std::vector<capgap::CaptureInput> in = capture_inputs(inputs);
            const capgap::Options opt = with_poll(options, progress.ptr());
            py::gil_scoped_release release;
            capgap::PieceResult r = capgap::analyze_piece(
                in, opt, resume ? &*resume : nullptr,
                finish ? capgap::PieceEnd::finish : capgap::PieceEnd::suspend);
            py::gil_scoped_acquire acquire;
            return py::make_tuple(std::move(r.report), std::move(r.state));
        },
        "inputs"_a, "options"_a, "resume"_a = py::none(), "finish"_a = false,
        "progress"_a = py::none(),
        "Analyses one piece of a chain: (report of the sessions that ended in it, state for "
        "the next piece; an empty state when finish is set). The GIL is released as in "
        "analyze().");

    py::class_<capgap::ExtractResult>(m, "ExtractResult", "What extract_sessions() wrote.")
        .def_readonly("sessions", &capgap::ExtractResult::sessions, "Sessions asked for.")
        .def_readonly("packets", &capgap::ExtractResult::packets, "Packets written.")
        .def_readonly("notes", &capgap::ExtractResult::notes, "Loss notes (packet comments).")
        .def("__repr__", [](const capgap::ExtractResult& r) {
            return "ExtractResult(sessions=" + std::to_string(r.sessions) +
                   ", packets=" + std::to_string(r.packets) + ", notes=" + std::to_string(r.notes) +
                   ")";
        });
    m.def(
        "extract_sessions",
        [](const std::vector<std::string>& inputs, const capgap::Options& options,
           const capgap::Report& report, const std::vector<std::uint64_t>& session_ids,
           const std::string& out_path, const py::object& progress) {
            const std::vector<capgap::CaptureInput> in(inputs.begin(), inputs.end());
            const capgap::Options opt = with_poll(options, progress.ptr());
            try {
                py::gil_scoped_release release;
                return capgap::extract_sessions(in, opt, report, session_ids, out_path);
            } catch (const capgap::detail::output_error& e) {
                raise_output_error(e, out_path);
            }
        },
        "inputs"_a, "options"_a, "report"_a, "session_ids"_a, "out_path"_a,
        "progress"_a = py::none(),
        "Reads the capture files again with the options the report was made with and writes "
        "every packet of the sessions to out_path as pcapng, with loss notes as packet "
        "comments (the GIL is released as in analyze()).");
    m.def("bad_session_ids", &capgap::bad_session_ids, "report"_a,
          "The ids of the report's sessions that are bad under its headline mode.");
    m.def("event_note", &capgap::event_note, "event"_a,
          "The packet comment extraction writes where the event was revealed.");

    py::class_<capgap::CsvCounts> csvcounts_cls =
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
            .def_property_readonly("time_kind",
                                   [](const capgap::CsvCounts& c) {
                                       return std::string(capgap::to_string(c.time_kind));
                                   })
            .def_readonly("has_stream", &capgap::CsvCounts::has_stream);

    py::class_<capgap::CsvInput> csvinput_cls =
        py::class_<capgap::CsvInput>(m, "CsvInput", "Sessions and events read from CSV exports.")
            .def_readwrite("sessions", &capgap::CsvInput::sessions)
            .def_readwrite("events", &capgap::CsvInput::events)
            .def_readwrite("stats", &capgap::CsvInput::stats)
            .def_readonly("counts", &capgap::CsvInput::counts)
            .def_readonly("unmatched_events", &capgap::CsvInput::unmatched_events);
    csvcounts_cls.def(py::pickle(
        [](const capgap::CsvCounts& c) {
            return py::make_tuple(
                pickle_header("CsvCounts"),
                py::make_tuple(c.syn_rows, c.lost_rows, c.syn_merged, c.syn_rows_not_syn,
                               c.lost_rows_unflagged, c.rows_without_ports, c.joined_by_address,
                               c.ambiguous_events, c.times_zone_ignored),
                c.bad_row_reasons, problems_state(c.bad_rows), static_cast<int>(c.time_kind),
                c.has_stream);
        },
        [](const py::tuple& state) {
            check_pickle_state(state, "CsvCounts", 6);
            const auto n = state[1].cast<std::vector<std::uint64_t>>();
            if (n.size() != 9) throw py::value_error("cannot unpickle capgap.CsvCounts");
            capgap::CsvCounts c;
            c.syn_rows = n[0];
            c.lost_rows = n[1];
            c.syn_merged = n[2];
            c.syn_rows_not_syn = n[3];
            c.lost_rows_unflagged = n[4];
            c.rows_without_ports = n[5];
            c.joined_by_address = n[6];
            c.ambiguous_events = n[7];
            c.times_zone_ignored = n[8];
            c.bad_row_reasons = state[2].cast<std::map<std::string, std::uint64_t>>();
            c.bad_rows = problems_from(state[3]);
            c.time_kind = static_cast<capgap::CsvTimeKind>(state[4].cast<int>());
            c.has_stream = state[5].cast<bool>();
            return c;
        }));
    csvinput_cls.def(py::pickle(
        [](const capgap::CsvInput& in) {
            return py::make_tuple(pickle_header("CsvInput"), pod_bytes(in.sessions),
                                  pod_bytes(in.events), ingest_state(in.stats), py::cast(in.counts),
                                  in.unmatched_events);
        },
        [](const py::tuple& state) {
            check_pickle_state(state, "CsvInput", 6);
            capgap::CsvInput in;
            in.sessions = pod_vector<capgap::Session>(state[1], "CsvInput");
            in.events = pod_vector<capgap::LossEvent>(state[2], "CsvInput");
            in.stats = ingest_from(state[3]);
            in.counts = state[4].cast<capgap::CsvCounts>();
            in.unmatched_events = state[5].cast<std::uint64_t>();
            return in;
        }));
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
        "join_wireshark_csv",
        [](capgap::CsvInput input, const capgap::MatchOptions& options,
           std::vector<std::string> sources) {
            py::gil_scoped_release release;
            // The reader's bad rows, each with its file and line, become input problems of the
            // report, so Python sees them beside the counters (the CLI prints them itself).
            for (const capgap::InputProblem& p : input.counts.bad_rows)
                input.stats.problems.push_back(p);
            capgap::Report r = capgap::join_csv_instances(std::move(input), options);
            r.sources = std::move(sources);
            return r;
        },
        "input"_a, "options"_a = capgap::MatchOptions{}, "sources"_a = std::vector<std::string>{},
        "Matches lists read by read_wireshark_csv as analyze_wireshark_csv does, with the bad "
        "rows in ingest.problems and `sources` as Report.sources (analyze_wireshark_csv names "
        "the two lists in one entry, 'SYN, LOST'; the GIL is released).");
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

}  // namespace capgap_py
