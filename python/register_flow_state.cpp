// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// FlowState and ReportPart: a chain of pieces of one capture (docs/state-format.md; the
// functions that take them are registered with analyze() in register_report.cpp).
// Registration only.

#include <string>
#include <utility>
#include <vector>

#include <capgap/flow_state.hpp>

#include "bindings.hpp"

using namespace py::literals;

namespace capgap_py {

void register_flow_state(py::module_& m) {
    py::class_<capgap::ReportPart>(
        m, "ReportPart",
        "A stretch of a report from consecutive pieces of one chain (chain 0: no chain).")
        .def(py::init<>())
        .def_readonly("chain", &capgap::ReportPart::chain)
        .def_readonly("first_piece", &capgap::ReportPart::first_piece)
        .def_readonly("last_piece", &capgap::ReportPart::last_piece)
        .def_readonly("id_offset", &capgap::ReportPart::id_offset)
        .def_readonly("ids", &capgap::ReportPart::ids)
        .def_readonly("source_offset", &capgap::ReportPart::source_offset)
        .def_readonly("sources", &capgap::ReportPart::sources)
        .def_readonly("tunnel_offset", &capgap::ReportPart::tunnel_offset)
        .def_readonly("tunnels", &capgap::ReportPart::tunnels)
        .def("__repr__", [](const capgap::ReportPart& p) {
            return "ReportPart(chain=" + std::to_string(p.chain) +
                   ", pieces=" + std::to_string(p.first_piece) + ".." +
                   std::to_string(p.last_piece) + ", ids=" + std::to_string(p.id_offset) + "+" +
                   std::to_string(p.ids) + ")";
        });

    py::class_<capgap::FlowState>(
        m, "FlowState",
        "The open flows, clock, ids and frame count at the end of a piece of a capture, for "
        "the next piece to resume (docs/state-format.md). Picklable; bytes(state) is the "
        "serialized form.")
        .def(py::init<>())
        .def_static(
            "from_bytes",
            [](const py::bytes& data, const std::string& name) {
                return capgap::FlowState::load(std::string(data), name);
            },
            "data"_a, "name"_a = "flow state",
            "A state from its bytes, checked (magic, version, length, CRC-32). Raises "
            "FormatError naming `name` and the byte offset.")
        .def_static("load", &capgap::FlowState::read_file, "path"_a,
                    "Reads a state file (capgap analyze --save-state).")
        .def("save", &capgap::FlowState::write_file, "path"_a,
             "Writes the state (to a temporary beside `path`, renamed when complete).")
        .def("__bytes__", [](const capgap::FlowState& s) { return py::bytes(s.bytes()); })
        .def_property_readonly("name", &capgap::FlowState::name)
        .def_property_readonly("empty", &capgap::FlowState::empty)
        .def_property_readonly("chain", &capgap::FlowState::chain)
        .def_property_readonly("next_piece", &capgap::FlowState::next_piece)
        .def_property_readonly("open_sessions", &capgap::FlowState::open_sessions)
        .def_property_readonly("frames", &capgap::FlowState::frames)
        .def_property_readonly("next_session_id", &capgap::FlowState::next_session_id)
        .def_property_readonly("clock_ns", &capgap::FlowState::clock_ns)
        .def_property_readonly("clock_started", &capgap::FlowState::clock_started)
        .def(py::pickle(
            [](const capgap::FlowState& s) {
                return py::make_tuple(py::bytes(s.bytes()), s.name());
            },
            [](const py::tuple& t) {
                if (t.size() != 2) throw py::value_error("cannot unpickle capgap.FlowState");
                const auto data = t[0].cast<std::string>();
                if (data.empty()) return capgap::FlowState();
                return capgap::FlowState::load(data, t[1].cast<std::string>());
            }))
        .def("__repr__", [](const capgap::FlowState& s) {
            if (s.empty()) return std::string("FlowState()");
            return "FlowState(chain=" + std::to_string(s.chain()) +
                   ", next_piece=" + std::to_string(s.next_piece()) +
                   ", open_sessions=" + std::to_string(s.open_sessions()) +
                   ", frames=" + std::to_string(s.frames()) + ")";
        });
}

}  // namespace capgap_py
