// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// The private extension capgap._core: bindings only. Arguments are converted first, then the
// GIL is released around the C++ work (reading, tracking, matching) and taken back to build
// the Python results. Tables cross the boundary as numpy arrays, one dtype per column.
// This file holds the module and the exception mapping; register_*.cpp bind the rest.

#include <cerrno>
#include <cstring>
#include <exception>
#include <string>

#include "bindings.hpp"

namespace {

// Exception types, created once at import (the module is never unloaded).
PyObject* exc_base = nullptr;
PyObject* exc_capture = nullptr;
PyObject* exc_format = nullptr;
PyObject* exc_parse = nullptr;
PyObject* exc_not_found = nullptr;
PyObject* exc_permission = nullptr;
PyObject* exc_is_directory = nullptr;

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

// An io_error with an errno is raised as Python raises its own: CaptureError(errno, strerror,
// filename), as the subclass that is also FileNotFoundError, PermissionError or
// IsADirectoryError where the errno says so (OSError picks those subclasses only when
// constructed as OSError itself). Without an errno the message is all there is.
void raise_io_error(const capgap::io_error& e) {
    if (e.error_number() == 0) {
        PyErr_SetString(exc_capture, e.what());
        return;
    }
    PyObject* type = exc_capture;
    switch (e.error_number()) {
        case ENOENT:
            type = exc_not_found;
            break;
        case EACCES:
        case EPERM:
            type = exc_permission;
            break;
        case EISDIR:
            type = exc_is_directory;
            break;
        default:
            break;
    }
    const py::tuple args =
        py::make_tuple(e.error_number(), std::strerror(e.error_number()), py::str(e.path()));
    PyErr_SetObject(type, args.ptr());
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
    exc_not_found = new_exception(
        m, "CaptureNotFoundError", "A capture file does not exist (a FileNotFoundError).",
        py::make_tuple(py::handle(exc_capture), py::handle(PyExc_FileNotFoundError)));
    exc_permission = new_exception(
        m, "CapturePermissionError", "A capture file may not be read (a PermissionError).",
        py::make_tuple(py::handle(exc_capture), py::handle(PyExc_PermissionError)));
    exc_is_directory = new_exception(
        m, "CaptureIsADirectoryError", "A capture path names a directory (an IsADirectoryError).",
        py::make_tuple(py::handle(exc_capture), py::handle(PyExc_IsADirectoryError)));
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
            raise_io_error(e);
        } catch (const capgap::error& e) {
            PyErr_SetString(exc_base, e.what());
        }
    });

    capgap_py::register_values(m);
    capgap_py::register_tables(m);
    capgap_py::register_flow_state(m);
    capgap_py::register_report(m);
    capgap_py::register_live(m);
    capgap_py::register_reprs(m);
}
