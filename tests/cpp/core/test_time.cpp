// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
#include <doctest/doctest.h>

#include <capgap/errors.hpp>
#include <capgap/time.hpp>

#include <cstdint>
#include <limits>

using capgap::parse_iso8601;
using capgap::parse_seconds_ns;
using capgap::Timestamp;
using capgap::TimeWindow;
using capgap::WindowBound;

TEST_CASE("parse_seconds_ns is exact") {
    CHECK(parse_seconds_ns("12") == 12'000'000'000);
    CHECK(parse_seconds_ns("12.5") == 12'500'000'000);
    CHECK(parse_seconds_ns("0.000000001") == 1);
    CHECK(parse_seconds_ns("-0.000000001") == -1);
    CHECK(parse_seconds_ns("+3") == 3'000'000'000);
    CHECK(parse_seconds_ns(".5") == 500'000'000);
    // 0.1 + 0.2 style values that a double would round.
    CHECK(parse_seconds_ns("1700000000.123456789") == 1'700'000'000'123'456'789);
    CHECK(parse_seconds_ns("9223372036.854775807") == std::numeric_limits<std::int64_t>::max());
}

TEST_CASE("parse_seconds_ns rejects garbage and extra precision") {
    for (const char* bad :
         {"", "abc", "1.", ".", "-", "1e9", "1.2.3", " 1", "1 ", "0x10", "0.0000000001",
          "1.1234567890", "9223372036.854775808", "99999999999999999999"}) {
        CAPTURE(bad);
        CHECK_THROWS_AS(parse_seconds_ns(bad), capgap::parse_error);
    }
    try {
        parse_seconds_ns("x", "--window");
        FAIL("no throw");
    } catch (const capgap::parse_error& e) {
        CHECK(e.source() == "--window");
    }
}

TEST_CASE("to_string(Timestamp) prints nine decimals") {
    CHECK(to_string(Timestamp{0}) == "0.000000000");
    CHECK(to_string(Timestamp{1'700'000'000'000'000'001}) == "1700000000.000000001");
    CHECK(to_string(Timestamp{-1}) == "-0.000000001");
    CHECK(to_string(Timestamp{-1'500'000'000}) == "-1.500000000");
    CHECK(to_string(Timestamp{std::numeric_limits<std::int64_t>::min()}) ==
          "-9223372036.854775808");
    CHECK(parse_seconds_ns(to_string(Timestamp{123'456'789'012})) == 123'456'789'012);
}

TEST_CASE("to_iso8601 prints UTC with nine decimals, before 1970 too") {
    CHECK(to_iso8601(Timestamp{0}) == "1970-01-01T00:00:00.000000000Z");
    CHECK(to_iso8601(Timestamp{1'700'000'000'000'000'001}) == "2023-11-14T22:13:20.000000001Z");
    CHECK(to_iso8601(Timestamp{951'782'400'000'000'000}) == "2000-02-29T00:00:00.000000000Z");
    CHECK(to_iso8601(Timestamp{-1}) == "1969-12-31T23:59:59.999999999Z");
    // Round trip through the parser, across a leap day and the epoch.
    for (std::int64_t ns :
         {std::int64_t{-86'400'000'000'001}, std::int64_t{951'868'799'999'999'999},
          std::int64_t{1'657'012'822'883'169'000}}) {
        CHECK(parse_iso8601(to_iso8601(Timestamp{ns})).ns == ns);
    }
}

TEST_CASE("parse_iso8601 with zones") {
    CHECK(parse_iso8601("1970-01-01T00:00:00Z").ns == 0);
    CHECK(parse_iso8601("1970-01-01T00:00:00").ns == 0);
    CHECK(parse_iso8601("2024-05-01T10:00:00Z").ns == 1'714'557'600'000'000'000);
    CHECK(parse_iso8601("2024-05-01 10:00:00Z").ns == 1'714'557'600'000'000'000);
    CHECK(parse_iso8601("2024-05-01T12:00:00+02:00").ns == 1'714'557'600'000'000'000);
    CHECK(parse_iso8601("2024-05-01T04:30:00-05:30").ns == 1'714'557'600'000'000'000);
    CHECK(parse_iso8601("2024-05-01T10:00:00.000000001Z").ns == 1'714'557'600'000'000'001);
    CHECK(parse_iso8601("2024-05-01T10:00:00.5Z").ns == 1'714'557'600'500'000'000);
    CHECK(parse_iso8601("2000-02-29T00:00:00Z").ns == 951'782'400'000'000'000);
    CHECK(parse_iso8601("1969-12-31T23:59:59.999999999Z").ns == -1);
}

TEST_CASE("parse_iso8601 rejects malformed dates") {
    for (const char* bad :
         {"2024-05-01", "2024-13-01T00:00:00Z", "2023-02-29T00:00:00Z", "2024-05-01T24:00:00Z",
          "2024-05-01T10:00:00.Z", "2024-05-01T10:00:00.1234567891Z", "2024-05-01T10:00:00+2",
          "2024-05-01T10:00:00Zjunk", "2024/05/01T10:00:00Z", "garbage"}) {
        CAPTURE(bad);
        CHECK_THROWS_AS(parse_iso8601(bad), capgap::parse_error);
    }
}

TEST_CASE("TimeWindow::parse: relative, epoch and ISO bounds") {
    auto w = TimeWindow::parse("10,70");
    REQUIRE(w.begin);
    REQUIRE(w.end);
    CHECK(w.begin->kind == WindowBound::Kind::relative);
    CHECK(w.begin->ns == 10'000'000'000);
    CHECK(w.end->ns == 70'000'000'000);

    auto e = TimeWindow::parse("1700000000.5,");
    REQUIRE(e.begin);
    CHECK(e.begin->kind == WindowBound::Kind::absolute);
    CHECK(e.begin->ns == 1'700'000'000'500'000'000);
    CHECK(!e.end);

    auto i = TimeWindow::parse(",2024-05-01T10:00:00Z");
    CHECK(!i.begin);
    REQUIRE(i.end);
    CHECK(i.end->kind == WindowBound::Kind::absolute);
    CHECK(i.end->ns == 1'714'557'600'000'000'000);

    auto open = TimeWindow::parse(",");
    CHECK(!open.begin);
    CHECK(!open.end);

    CHECK_THROWS_AS(TimeWindow::parse("10"), capgap::parse_error);
    CHECK_THROWS_AS(TimeWindow::parse("1,2,3"), capgap::parse_error);
    CHECK_THROWS_AS(TimeWindow::parse("20,10"), capgap::parse_error);
    CHECK_THROWS_AS(TimeWindow::parse("x,10"), capgap::parse_error);
}

TEST_CASE("TimeWindow::contains is half-open and resolves relative bounds") {
    const Timestamp first{1'000'000'000'000'000'000};
    auto w = TimeWindow::parse("10,70");
    const std::int64_t t0 = first.ns + 10'000'000'000;
    const std::int64_t t1 = first.ns + 70'000'000'000;
    CHECK(!w.contains(Timestamp{t0 - 1}, first));
    CHECK(w.contains(Timestamp{t0}, first));
    CHECK(w.contains(Timestamp{t1 - 1}, first));
    CHECK(!w.contains(Timestamp{t1}, first));
}
