// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// capgap._core.LiveCapture and its interval reports (bindings only; capgap.live wraps them).
// poll() releases the GIL while it captures (about 100 ms at most), then runs the signal
// handlers with the GIL taken: Ctrl-C stops the capture and raises KeyboardInterrupt, and the
// iteration may go on to take the final interval.

#include <memory>
#include <string>
#include <vector>

#include "bindings.hpp"

namespace capgap_py {

void register_live(py::module_& m) {
    py::class_<capgap::CaptureDrops>(m, "CaptureDrops",
                                     "The capture host's own drops over a period.")
        .def_readonly("received", &capgap::CaptureDrops::received)
        .def_readonly("kernel_dropped", &capgap::CaptureDrops::kernel_dropped)
        .def_readonly("interface_dropped", &capgap::CaptureDrops::interface_dropped)
        .def_readonly("known", &capgap::CaptureDrops::known)
        .def("dropped", &capgap::CaptureDrops::dropped);

    py::class_<capgap::IntervalReport>(m, "IntervalReport", "One interval's judgement (native).")
        .def_readonly("begin", &capgap::IntervalReport::begin)
        .def_readonly("end", &capgap::IntervalReport::end)
        .def_readonly("report", &capgap::IntervalReport::report)
        .def_readonly("still_open", &capgap::IntervalReport::still_open)
        .def_readonly("packets", &capgap::IntervalReport::packets)
        .def_readonly("bytes", &capgap::IntervalReport::bytes)
        .def_readonly("host", &capgap::IntervalReport::host)
        .def_readonly("open_flows", &capgap::IntervalReport::open_flows)
        .def_readonly("final", &capgap::IntervalReport::final)
        .def("to_text", &capgap::IntervalReport::to_text)
        .def("to_json", &capgap::IntervalReport::to_json);

    py::class_<capgap::LiveTotals>(m, "LiveTotals", "Cumulative live figures since the start.")
        .def_readonly("packets", &capgap::LiveTotals::packets)
        .def_readonly("bytes", &capgap::LiveTotals::bytes)
        .def_readonly("intervals", &capgap::LiveTotals::intervals)
        .def_readonly("sessions", &capgap::LiveTotals::sessions)
        .def_readonly("good", &capgap::LiveTotals::good)
        .def_readonly("bad_confirmed", &capgap::LiveTotals::bad_confirmed)
        .def_readonly("bad_wireshark", &capgap::LiveTotals::bad_wireshark)
        .def_readonly("still_open", &capgap::LiveTotals::still_open)
        .def_readonly("missing_bytes_c2s", &capgap::LiveTotals::missing_bytes_c2s)
        .def_readonly("missing_bytes_s2c", &capgap::LiveTotals::missing_bytes_s2c)
        .def_readonly("host", &capgap::LiveTotals::host)
        .def_readonly("open_flows", &capgap::LiveTotals::open_flows);

    py::class_<capgap::LiveCapture>(m, "LiveCapture", "Continuous measurement (native).")
        .def(py::init([](const capgap::Options& analysis, std::vector<std::string> interfaces,
                         std::string file, double speed, std::int64_t interval_ns,
                         std::int64_t grace_ns, std::int64_t cap_ns, int snaplen,
                         int buffer_size_mb) {
                 capgap::LiveOptions o;
                 o.analysis = analysis;
                 o.interfaces = std::move(interfaces);
                 o.replay_file = std::move(file);
                 o.speed = speed;
                 o.interval_ns = interval_ns;
                 o.grace_ns = grace_ns;
                 o.cap_ns = cap_ns;
                 o.snaplen = snaplen;
                 o.buffer_size_mb = buffer_size_mb;
                 py::gil_scoped_release release;
                 return std::make_unique<capgap::LiveCapture>(std::move(o));
             }),
             py::arg("analysis"), py::arg("interfaces"), py::arg("file"), py::arg("speed"),
             py::arg("interval_ns"), py::arg("grace_ns"), py::arg("cap_ns"), py::arg("snaplen"),
             py::arg("buffer_size_mb"))
        .def(
            "poll",
            [](capgap::LiveCapture& live) -> py::object {
                auto out = std::make_unique<capgap::IntervalReport>();
                capgap::LiveCapture::Poll p;
                {
                    py::gil_scoped_release release;
                    p = live.poll(*out);
                }
                if (PyErr_CheckSignals() != 0) {
                    live.stop();  // the next calls flush the final interval
                    throw py::error_already_set();
                }
                if (p == capgap::LiveCapture::Poll::report) return py::cast(std::move(out));
                if (p == capgap::LiveCapture::Poll::ended) throw py::stop_iteration();
                return py::none();
            },
            "Captures for up to ~100 ms (GIL released): an IntervalReport when one is due, "
            "None when none is yet; StopIteration once every interval was reported.")
        .def("stop", &capgap::LiveCapture::stop,
             "Ends the capture (thread-safe): the next polls report what is pending.")
        .def("stopped", &capgap::LiveCapture::stopped)
        .def("warnings", &capgap::LiveCapture::warnings)
        .def("totals", &capgap::LiveCapture::totals);
}

}  // namespace capgap_py
