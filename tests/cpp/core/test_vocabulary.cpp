// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// The vocabulary tables: one row per value, in enum order, names that read back, and the
// ingest counters that every report and the binding iterate.
#include <doctest/doctest.h>

#include <capgap/analyze.hpp>
#include <capgap/ingest_stats.hpp>
#include <capgap/loss_event.hpp>
#include <capgap/report.hpp>
#include <capgap/session.hpp>
#include <capgap/tracker.hpp>

#include <cstdint>
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

TEST_CASE("ingest counters: the table names every member, in report order") {
    IngestStats st;
    std::uint64_t v = 1;
    for (const IngestCounter& c : ingest_counters)
        st.*c.member = v++;
    // Member access and the table reach the same counters.
    CHECK(st.files == 1);
    CHECK(st.packets_read == 2);
    CHECK(st.skipped_not_tcp == 7);
    CHECK(st.csv_bad_rows == std::size(ingest_counters));

    const auto pairs = st.counters();
    REQUIRE(pairs.size() == std::size(ingest_counters));
    for (std::size_t i = 0; i < pairs.size(); ++i) {
        CHECK(pairs[i].first == ingest_counters[i].name);
        CHECK(pairs[i].second == i + 1);
    }
    CHECK(pairs.front().first == "files");
    CHECK(pairs.back().first == "csv_bad_rows");
}

TEST_CASE("ingest counters: skipped() sums exactly the skipped_* counters") {
    IngestStats st;
    std::uint64_t expected = 0, bit = 1;
    std::size_t skipped_rows = 0;
    for (const IngestCounter& c : ingest_counters) {
        st.*c.member = bit;
        const bool named_skipped = std::string(c.name).rfind("skipped_", 0) == 0;
        CAPTURE(c.name);
        CHECK(named_skipped == (c.group == CounterGroup::skipped));
        if (named_skipped) {
            expected += bit;
            ++skipped_rows;
        }
        bit <<= 1;
    }
    CHECK(skipped_rows == 12);
    CHECK(st.skipped() == expected);
}

TEST_CASE("ingest counters: the tracker's are TrackerCounters members of the same names") {
    std::set<std::string> tracker;
    for (const IngestCounter& c : ingest_counters) {
        if (c.group == CounterGroup::tracker) tracker.insert(c.name);
    }
    CHECK(tracker == std::set<std::string>{"duplicate_packets", "duplicates_dropped",
                                           "flows_closed_expired", "flows_idle_expired",
                                           "flows_evicted", "holes_cap_hit", "open_flows_peak",
                                           "packets_out_of_time_order", "timestamp_jumps_forward",
                                           "timestamp_steps_back", "timestamp_largest_step_back_ns",
                                           "timestamp_jumps_followed"});
    CHECK(sizeof(TrackerCounters) == tracker.size() * sizeof(std::uint64_t));
}

TEST_CASE("ingest counters: a source adds only the input counters to the Analyzer's") {
    IngestStats source;
    for (const IngestCounter& c : ingest_counters)
        source.*c.member = 5;
    Analyzer a;
    a.merge_source_stats(source);
    a.merge_source_stats(source);
    for (const IngestCounter& c : ingest_counters) {
        CAPTURE(c.name);
        CHECK(a.stats().*c.member == (c.group == CounterGroup::input ? 10u : 0u));
    }
    CHECK(a.stats().files == 10);
    CHECK(a.stats().csv_bad_rows == 10);
}
