// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
#include <doctest/doctest.h>

#include <capgap/errors.hpp>

#include <string>

#include "core/errors.hpp"

TEST_CASE("format_message: source:position: reason") {
    CHECK(capgap::format_message("a.pcap", "offset 24", "truncated record") ==
          "a.pcap:offset 24: truncated record");
    CHECK(capgap::format_message("a.pcap", "", "not a capture") == "a.pcap: not a capture");
}

TEST_CASE("parse_error keeps source, line and column") {
    capgap::parse_error e("syn.csv", 9, 3, "bad time");
    CHECK(e.source() == "syn.csv");
    CHECK(e.line() == 9);
    CHECK(e.column() == 3);
    CHECK(std::string(e.what()) == "syn.csv:line 9, column 3: bad time");
    CHECK(std::string(capgap::parse_error("x", 4, 0, "r").what()) == "x:line 4: r");
    CHECK(std::string(capgap::parse_error("x", 0, 0, "r").what()) == "x: r");
}

TEST_CASE("throw helpers throw the right type") {
    CHECK_THROWS_AS(capgap::throw_io_error("f", "", "missing"), capgap::io_error);
    CHECK_THROWS_AS(capgap::throw_format_error("f", "", "bad"), capgap::format_error);
    CHECK_THROWS_AS(capgap::throw_parse_error("f", 1, 2, "bad"), capgap::parse_error);
    try {
        capgap::throw_io_error("f.pcap", "offset 0", "cannot open");
    } catch (const capgap::error& e) {
        CHECK(std::string(e.what()) == "f.pcap:offset 0: cannot open");
    }
}
