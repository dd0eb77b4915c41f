// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// @file
/// How capgap's vocabularies are written down: each (event kinds, directions, session
/// categories, modes, ingest counters) is one list macro, `CAPGAP_<NAME>S(X)`, with one
/// `X(name, ..., description)` line per value. The enum (or the struct fields) and a constexpr
/// table of rows are both expanded from that list, so a new value is one line, and every
/// renderer, parser and the Python binding iterate the table instead of naming the values.
///
/// @code
/// for (const capgap::Named<capgap::EventKind>& k : capgap::event_kinds)
///     std::cout << k.name << ": " << k.description << '\n';
/// @endcode

#include <cstddef>
#include <string_view>

namespace capgap {

/// One value of an enumeration with its name (as written in every report) and its meaning.
template <class Enum>
struct Named {
    Enum value;               ///< the enumerator
    const char* name;         ///< its snake_case name, e.g. "acked_unseen"
    const char* description;  ///< one line on what it means
};

namespace detail {

/// True when row i of the table holds the enumerator whose value is i, so a value indexes
/// its row and the rows count the enumerators.
template <class Enum, std::size_t N>
constexpr bool in_enum_order(const Named<Enum> (&table)[N]) {
    for (std::size_t i = 0; i < N; ++i) {
        if (static_cast<std::size_t>(table[i].value) != i) return false;
    }
    return true;
}

/// The name of `value` in `table`; "unknown" for a value outside the enumeration.
template <class Enum, std::size_t N>
constexpr const char* name_of(const Named<Enum> (&table)[N], Enum value) {
    const auto i = static_cast<std::size_t>(value);
    return i < N ? table[i].name : "unknown";
}

/// Sets `out` to the value named `name`; returns false (leaving `out` alone) when unknown.
template <class Enum, std::size_t N>
constexpr bool parse_name(const Named<Enum> (&table)[N], std::string_view name, Enum& out) {
    for (const Named<Enum>& row : table) {
        if (name == row.name) {
            out = row.value;
            return true;
        }
    }
    return false;
}

}  // namespace detail
}  // namespace capgap

/// Expands one `X(name, description)` line of a list macro to an enumerator.
#define CAPGAP_DETAIL_ENUMERATOR(name, description) name,
