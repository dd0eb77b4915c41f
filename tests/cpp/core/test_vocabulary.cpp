// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// The vocabulary tables: one row per value, in enum order, names that read back.
#include <doctest/doctest.h>

#include <capgap/loss_event.hpp>
#include <capgap/report.hpp>
#include <capgap/session.hpp>

#include <iterator>
#include <set>
#include <string>

using namespace capgap;

namespace {

// Every row's name is what to_string writes, names are unique snake_case, descriptions set.
template <class Enum, std::size_t N>
void check_table(const Named<Enum> (&table)[N]) {
    std::set<std::string> names;
    for (std::size_t i = 0; i < N; ++i) {
        const Named<Enum>& row = table[i];
        CAPTURE(row.name);
        CHECK(static_cast<std::size_t>(row.value) == i);
        CHECK(std::string(to_string(row.value)) == row.name);
        CHECK(std::string(row.name).find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") ==
              std::string::npos);
        CHECK(std::string(row.description).size() > 5);
        CHECK(names.insert(row.name).second);
        Enum back = table[(i + 1) % N].value;
        CHECK(detail::parse_name(table, row.name, back));
        CHECK(back == row.value);
    }
    Enum untouched = table[0].value;
    CHECK_FALSE(detail::parse_name(table, "no_such_name", untouched));
    CHECK(untouched == table[0].value);
    CHECK(std::string(to_string(static_cast<Enum>(N))) == "unknown");
}

}  // namespace

TEST_CASE("vocabulary tables: one row per value, in enum order") {
    check_table(directions);
    check_table(session_categories);
    check_table(event_kinds);
    check_table(modes);
    CHECK(std::size(directions) == 2);
    CHECK(std::size(session_categories) == 5);
    CHECK(std::size(event_kinds) == 7);
    CHECK(std::string(event_kinds[3].name) == "acked_before_data");
    CHECK(std::string(session_categories[4].name) == "partial");
}

TEST_CASE("parse_event_kind reads what to_string writes") {
    for (const Named<EventKind>& k : event_kinds) {
        EventKind back = EventKind::acked_unseen;
        CHECK(parse_event_kind(k.name, back));
        CHECK(back == k.value);
    }
    EventKind out = EventKind::gap_unacked;
    CHECK_FALSE(parse_event_kind("lost", out));
    CHECK(out == EventKind::gap_unacked);
}
