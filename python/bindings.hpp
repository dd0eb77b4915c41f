// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// Shared by the binding sources of capgap._core (bindings only, no logic).
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/operators.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <pybind11/stl_bind.h>

#include <capgap/capgap.hpp>

#include <vector>

namespace py = pybind11;

// Large tables stay C++ vectors on the Python side (no per-row Python objects). Every source
// that binds or converts these types must see this header.
PYBIND11_MAKE_OPAQUE(std::vector<capgap::Session>)
PYBIND11_MAKE_OPAQUE(std::vector<capgap::LossEvent>)
PYBIND11_MAKE_OPAQUE(std::vector<capgap::SessionRow>)

namespace capgap_py {

/// Time, addresses, keys, enums, Session, LossEvent, Segment and the option structs.
void register_values(py::module_& m);
/// SessionList / LossEventList and the numpy column conversions, both ways.
void register_tables(py::module_& m);
/// Ingest counters, the report, Matcher, Analyzer, analyze() and the CSV adapter.
void register_report(py::module_& m);

/// A report's sessions as numpy columns (one dtype per column).
py::dict session_columns(const std::vector<capgap::SessionRow>& rows,
                         capgap::Mode mode = capgap::Mode::confirmed);
/// Loss events as numpy columns (one dtype per column).
py::dict event_columns(const std::vector<capgap::LossEvent>& rows);

}  // namespace capgap_py
