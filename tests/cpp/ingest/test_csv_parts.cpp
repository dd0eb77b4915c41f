// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// The CSV adapter's private parts on their own: RFC 4180 records and the time columns.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "ingest/csv_time.hpp"
#include "ingest/csv_tokenizer.hpp"

namespace {

std::vector<capgap::csv::Record> records(const std::string& text) {
    capgap::csv::CsvTokenizer tok(text);
    std::vector<capgap::csv::Record> out;
    capgap::csv::Record r;
    while (tok.next(r))
        out.push_back(r);
    return out;
}

}  // namespace

TEST_CASE("CsvTokenizer: quotes, line numbers across quoted newlines, blank lines, CR line ends") {
    auto rs = records("a,\"b,c\",\"say \"\"hi\"\"\"\r\n\r\n\"two\nlines\",x\rlast,\n");
    REQUIRE(rs.size() == 3);
    CHECK(rs[0].line == 1);
    CHECK(rs[0].fields == std::vector<std::string>{"a", "b,c", "say \"hi\""});
    CHECK_FALSE(rs[0].malformed);
    CHECK(rs[1].line == 3);  // line 2 is blank
    CHECK(rs[1].fields == std::vector<std::string>{"two\nlines", "x"});
    CHECK(rs[2].line == 5);  // the quoted newline counted; a lone CR ends a line
    CHECK(rs[2].fields == std::vector<std::string>{"last", ""});

    auto bad = records("\"open,1\n2,3\nok\"x,4\nplain\"quote,5\n");
    REQUIRE_FALSE(bad.empty());
    CHECK(bad[0].malformed);  // the quote never closes before "ok", then text follows it
    auto stray = records("plain\"quote,5\n");
    REQUIRE(stray.size() == 1);
    CHECK(stray[0].malformed);  // a quote inside an unquoted field
    CHECK(records("  \n\t\n").empty());
    CHECK(records("").empty());
}

TEST_CASE("text helpers: trim, numbers, tshark's repeated fields and flags") {
    std::uint64_t v = 0;
    CHECK(capgap::csv::parse_uint(" 42 ", v));
    CHECK(v == 42);
    CHECK_FALSE(capgap::csv::parse_uint("4x2", v));
    CHECK_FALSE(capgap::csv::parse_uint("12345678901234567890", v));  // 20 digits
    CHECK(capgap::csv::last_occurrence("10.0.0.1, 192.168.0.1 ") == "192.168.0.1");
    CHECK(capgap::csv::parse_flag("") == -1);
    CHECK(capgap::csv::parse_flag("False") == 0);
    CHECK(capgap::csv::parse_flag("0,1") == 1);
    CHECK(capgap::csv::valid_utf8_prefix("a\xE2\x86\x92", 4));
    CHECK_FALSE(capgap::csv::valid_utf8_prefix("\xD4\xC3\xB2\xA1", 4));
}

TEST_CASE("parse_time: the column decides epoch or relative; text forms are absolute") {
    using capgap::CsvTimeKind;
    using capgap::csv::ParsedTime;
    using capgap::csv::TimeColumn;
    ParsedTime t;
    REQUIRE(capgap::csv::parse_time("12.5", TimeColumn::epoch, t));
    CHECK(t.kind == CsvTimeKind::absolute);
    CHECK(t.t == capgap::Timestamp{12'500'000'000});
    REQUIRE(capgap::csv::parse_time("1400000000.5", TimeColumn::relative, t));
    CHECK(t.kind == CsvTimeKind::relative);
    // Autodetect: above 10^9 seconds is an epoch time.
    REQUIRE(capgap::csv::parse_time("1000000000.000000001", TimeColumn::autodetect, t));
    CHECK(t.kind == CsvTimeKind::absolute);
    REQUIRE(capgap::csv::parse_time("1000000000", TimeColumn::autodetect, t));
    CHECK(t.kind == CsvTimeKind::relative);
    CHECK_FALSE(capgap::csv::parse_time("2014-06-12 10:11:12", TimeColumn::relative, t));
    REQUIRE(capgap::csv::parse_time("2014-06-12 10:11:12+02:00", TimeColumn::absolute_text, t));
    CHECK(t.kind == CsvTimeKind::absolute);
    CHECK(t.t == capgap::parse_iso8601("2014-06-12T08:11:12Z"));
    REQUIRE(capgap::csv::parse_time("23:59:59.25", TimeColumn::autodetect, t));
    CHECK(t.kind == CsvTimeKind::time_of_day);
    CHECK_FALSE(capgap::csv::parse_time("24:00:00", TimeColumn::autodetect, t));
    CHECK_FALSE(capgap::csv::parse_time("2015/366 00:00:00", TimeColumn::autodetect, t));
    CHECK_FALSE(capgap::csv::parse_time("", TimeColumn::autodetect, t));
}
