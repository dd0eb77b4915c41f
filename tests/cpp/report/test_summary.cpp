// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// The headline rate every join takes from the report code, and the join's name in the
// printers.
#include <doctest/doctest.h>

#include <capgap/report.hpp>

#include <string>

#include "report/summary.hpp"

TEST_CASE("set_percentage: 100 * bad / total and the Wilson interval; zeros without sessions") {
    capgap::Summary s;
    s.total_sessions = 8;
    s.bad_sessions = 1;
    capgap::set_percentage(s);
    CHECK(s.percentage == 12.5);
    const auto ci = capgap::wilson_interval(1, 8);
    CHECK(s.ci95_low == ci.first);
    CHECK(s.ci95_high == ci.second);
    CHECK(s.ci95_low > 0.0);
    CHECK(s.ci95_high > 12.5);

    capgap::Summary none;
    none.percentage = 7.0;  // overwritten
    none.ci95_high = 7.0;
    capgap::set_percentage(none);
    CHECK(none.percentage == 0.0);
    CHECK(none.ci95_low == 0.0);
    CHECK(none.ci95_high == 0.0);

    capgap::Summary all;
    all.total_sessions = all.bad_sessions = 3;
    capgap::set_percentage(all);
    CHECK(all.percentage == 100.0);
    CHECK(all.ci95_high == 100.0);
}

TEST_CASE("Summary::join: named as before in text and JSON, shown in text only when socket") {
    CHECK(std::string(capgap::to_string(capgap::Join::instance)) == "instance");
    CHECK(std::string(capgap::to_string(capgap::Join::socket)) == "socket");

    capgap::Report r;
    CHECK(r.summary.join == capgap::Join::instance);
    CHECK(r.to_text().find("Join:") == std::string::npos);
    CHECK(r.to_json().find("\"join\":\"instance\"") != std::string::npos);
    r.summary.join = capgap::Join::socket;
    CHECK(r.to_text().find("\nJoin: socket\n") != std::string::npos);
    CHECK(r.to_json().find("\"join\":\"socket\"") != std::string::npos);
}
