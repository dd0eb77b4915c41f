// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// Shared by the binding sources of capgap._core (bindings only, no logic).
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/operators.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <pybind11/stl_bind.h>

#include <capgap/capgap.hpp>

#include <cstring>
#include <string>
#include <type_traits>
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
/// LiveCapture, IntervalReport, CaptureDrops, LiveTotals (capgap.live).
void register_live(py::module_& m);
/// FlowState and ReportPart (register_flow_state.cpp).
void register_flow_state(py::module_& m);

// ---- pickling ----
// A pickled state starts with (type name, capgap version, pickle_format): a state made by
// another version is refused with a clear error rather than read with a layout it was not
// written in. Plain structs (no pointers) travel as their bytes, vectors of them as one bytes
// object: a report of a million sessions pickles as a few large buffers, no per-row objects.
// Pickles are for moving objects between processes of one installation (multiprocessing,
// joblib, Dask), not for archiving: use the CSV or JSON outputs for that.

/// Bumped whenever a pickled state's layout changes without a version change.
inline constexpr int pickle_format = 2;

/// The header of every state: (name, capgap version, pickle format).
inline py::tuple pickle_header(const char* name) {
    return py::make_tuple(name, capgap::version, pickle_format);
}

/// Raises ValueError unless `state` is a tuple of `size` items whose first is the header of
/// `name` as this build writes it.
inline void check_pickle_state(const py::tuple& state, const char* name, std::size_t size) {
    const std::string what = std::string("cannot unpickle capgap.") + name + ": ";
    if (state.size() != size || !py::isinstance<py::tuple>(state[0]))
        throw py::value_error(what + "not a state this type writes");
    const py::tuple header = state[0].cast<py::tuple>();
    if (header.size() != 3 || !py::object(header[0]).equal(py::str(name)))
        throw py::value_error(what + "the state is not of this type");
    if (!py::object(header[1]).equal(py::str(capgap::version)) ||
        !py::object(header[2]).equal(py::int_(pickle_format))) {
        throw py::value_error(what + "pickled by capgap " + py::str(header[1]).cast<std::string>() +
                              " (format " + py::str(header[2]).cast<std::string>() +
                              "), this is capgap " + capgap::version + " (format " +
                              std::to_string(pickle_format) + ")");
    }
}

/// A vector of plain structs as one bytes object.
template <class T>
py::bytes pod_bytes(const std::vector<T>& v) {
    static_assert(std::is_trivially_copyable_v<T>, "only plain structs travel as bytes");
    return py::bytes(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
}

/// The vector pod_bytes wrote.
template <class T>
std::vector<T> pod_vector(const py::handle& b, const char* name) {
    static_assert(std::is_trivially_copyable_v<T>, "only plain structs travel as bytes");
    const std::string data = py::reinterpret_borrow<py::bytes>(b);
    if (data.size() % sizeof(T) != 0) {
        throw py::value_error(std::string("cannot unpickle capgap.") + name + ": " +
                              std::to_string(data.size()) + " bytes is not a whole number of " +
                              std::to_string(sizeof(T)) + "-byte rows");
    }
    std::vector<T> out(data.size() / sizeof(T));
    if (!out.empty()) std::memcpy(static_cast<void*>(out.data()), data.data(), data.size());
    return out;
}

/// Pickles a plain struct as (header, its bytes).
template <class T, class... Extra>
void def_pod_pickle(py::class_<T, Extra...>& cls, const char* name) {
    cls.def(py::pickle(
        [name](const T& v) {
            return py::make_tuple(pickle_header(name), pod_bytes(std::vector<T>{v}));
        },
        [name](const py::tuple& state) {
            check_pickle_state(state, name, 2);
            std::vector<T> one = pod_vector<T>(state[1], name);
            if (one.size() != 1)
                throw py::value_error(std::string("cannot unpickle capgap.") + name +
                                      ": wrong size");
            return one[0];
        }));
}

/// A vector of plain structs pickled as (header, bytes).
template <class T, class... Extra>
void def_pod_vector_pickle(py::class_<std::vector<T>, Extra...>& cls, const char* name) {
    cls.def(py::pickle(
        [name](const std::vector<T>& v) {
            return py::make_tuple(pickle_header(name), pod_bytes(v));
        },
        [name](const py::tuple& state) {
            check_pickle_state(state, name, 2);
            return pod_vector<T>(state[1], name);
        }));
}

/// __repr__ / __str__ of the classes the other register_* functions bound.
void register_reprs(py::module_& m);

/// A report's sessions as numpy columns (one dtype per column).
py::dict session_columns(const std::vector<capgap::SessionRow>& rows,
                         capgap::Mode mode = capgap::Mode::confirmed);
/// Loss events as numpy columns (one dtype per column).
py::dict event_columns(const std::vector<capgap::LossEvent>& rows);

}  // namespace capgap_py
