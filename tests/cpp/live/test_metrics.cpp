// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// The Prometheus text of `capgap live` (src/live/metrics.cpp): names, types, units, labels and
// values as docs/live.md lists them, and the atomic metrics file.

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "live/metrics.hpp"
#include "report/output_file.hpp"
#include "support/temp_dir.hpp"

using capgap::detail::MetricsCounters;
using capgap::detail::MetricsInterval;
using capgap::detail::render_metrics;

namespace {

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string ln; std::getline(in, ln);)
        out.push_back(ln);
    return out;
}

// sample line "name{labels}" -> value text
std::map<std::string, std::string> samples(const std::string& text) {
    std::map<std::string, std::string> out;
    for (const auto& ln : lines_of(text)) {
        if (ln.empty() || ln[0] == '#') continue;
        const auto sp = ln.rfind(' ');
        out[ln.substr(0, sp)] = ln.substr(sp + 1);
    }
    return out;
}

// "# TYPE name type" -> type
std::map<std::string, std::string> types(const std::string& text) {
    std::map<std::string, std::string> out;
    for (const auto& ln : lines_of(text)) {
        if (ln.rfind("# TYPE ", 0) != 0) continue;
        const auto rest = ln.substr(7);
        const auto sp = rest.find(' ');
        const auto name = rest.substr(0, sp);
        CHECK_MESSAGE(out.count(name) == 0, "family declared twice: " << name);
        out[name] = rest.substr(sp + 1);
    }
    return out;
}

MetricsCounters some_counters() {
    MetricsCounters c;
    c.packets = 1000;
    c.bytes = 1'234'567;
    c.sessions = 40;
    c.bad_confirmed = 3;
    c.bad_wireshark = 5;
    c.missing_bytes_c2s = 100;
    c.missing_bytes_s2c = 2896;
    c.intervals = 7;
    return c;
}

}  // namespace

TEST_CASE(
    "metrics: counters are _total counters with their values, labels by verdict and "
    "direction") {
    const std::string text = render_metrics(some_counters(), 12, {});
    const auto s = samples(text);
    const auto t = types(text);
    CHECK(s.at("capgap_packets_total") == "1000");
    CHECK(s.at("capgap_bytes_total") == "1234567");
    CHECK(s.at("capgap_sessions_total") == "40");
    CHECK(s.at("capgap_bad_sessions_total{verdict=\"confirmed\"}") == "3");
    CHECK(s.at("capgap_bad_sessions_total{verdict=\"wireshark\"}") == "5");
    CHECK(s.at("capgap_missing_bytes_total{direction=\"c2s\"}") == "100");
    CHECK(s.at("capgap_missing_bytes_total{direction=\"s2c\"}") == "2896");
    CHECK(s.at("capgap_intervals_total") == "7");
    CHECK(s.at("capgap_open_flows") == "12");
    CHECK(t.at("capgap_open_flows") == "gauge");
    for (const auto& [name, type] : t) {
        CHECK(name.rfind("capgap_", 0) == 0);
        const bool total = name.size() > 6 && name.compare(name.size() - 6, 6, "_total") == 0;
        CHECK_MESSAGE(total == (type == "counter"), name << " is a " << type);
    }
    // Every sample belongs to a family declared before it, with a HELP line.
    std::set<std::string> declared, helped;
    for (const auto& ln : lines_of(text)) {
        if (ln.rfind("# HELP ", 0) == 0) helped.insert(ln.substr(7, ln.find(' ', 7) - 7));
        if (ln.rfind("# TYPE ", 0) == 0) {
            const auto name = ln.substr(7, ln.find(' ', 7) - 7);
            CHECK(helped.count(name) == 1);
            declared.insert(name);
        }
        if (!ln.empty() && ln[0] != '#')
            CHECK(declared.count(ln.substr(0, ln.find_first_of("{ "))) == 1);
    }
}

TEST_CASE("metrics: host drops only when the source reports them") {
    MetricsCounters c = some_counters();
    CHECK(samples(render_metrics(c, 0, {})).count("capgap_host_kernel_dropped_packets_total") == 0);
    c.host_known = true;
    c.host_received = 5000;
    c.host_kernel_dropped = 17;
    c.host_interface_dropped = 2;
    const auto s = samples(render_metrics(c, 0, {}));
    CHECK(s.at("capgap_host_received_packets_total") == "5000");
    CHECK(s.at("capgap_host_kernel_dropped_packets_total") == "17");
    CHECK(s.at("capgap_host_interface_dropped_packets_total") == "2");
}

TEST_CASE(
    "metrics: the last interval's bad ratio is 0 to 1 for both verdicts, times in "
    "seconds") {
    CHECK(samples(render_metrics({}, 0, {}))
              .count("capgap_interval_bad_ratio{verdict=\"confirmed\"}") == 0);
    MetricsInterval last;
    last.any = true;
    last.begin_ns = 1'700'000'040'000'000'000;
    last.end_ns = 1'700'000'100'000'000'000;
    last.sessions = 8;
    last.bad_confirmed = 2;
    last.bad_wireshark = 1;
    last.still_open = 3;
    const std::string text = render_metrics({}, 0, last);
    const auto s = samples(text);
    CHECK(std::stod(s.at("capgap_interval_bad_ratio{verdict=\"confirmed\"}")) == 0.25);
    CHECK(std::stod(s.at("capgap_interval_bad_ratio{verdict=\"wireshark\"}")) == 0.125);
    CHECK(s.at("capgap_interval_sessions") == "8");
    CHECK(s.at("capgap_interval_still_open_sessions") == "3");
    CHECK(std::stod(s.at("capgap_interval_start_seconds")) == 1'700'000'040.0);
    CHECK(std::stod(s.at("capgap_interval_end_seconds")) == 1'700'000'100.0);
    CHECK(types(text).at("capgap_interval_bad_ratio") == "gauge");

    last.sessions = 0;  // an interval without sessions: no bad share, not a division by zero
    last.bad_confirmed = last.bad_wireshark = 0;
    CHECK(std::stod(samples(render_metrics({}, 0, last))
                        .at("capgap_interval_bad_ratio{verdict=\"confirmed\"}")) == 0.0);
}

TEST_CASE("metrics: the registry renders the interval it was given with fresh counters") {
    capgap::detail::MetricsRegistry reg;
    MetricsInterval last;
    last.any = true;
    last.sessions = 4;
    last.bad_confirmed = 1;
    reg.set_interval(last);
    MetricsCounters c;
    c.packets = 9;
    const auto s = samples(reg.render(c, 2));
    CHECK(s.at("capgap_packets_total") == "9");
    CHECK(s.at("capgap_open_flows") == "2");
    CHECK(std::stod(s.at("capgap_interval_bad_ratio{verdict=\"confirmed\"}")) == 0.25);
}

TEST_CASE("metrics file: written whole, replaced, no temporary left; a bad directory is named") {
    capgap::test::TempDir dir;
    const std::string path = dir.file("capgap.prom");
    capgap::detail::write_file_atomically(path, "first\n");
    capgap::detail::write_file_atomically(path, "second\nline\n");
    std::ifstream in(path);
    std::stringstream got;
    got << in.rdbuf();
    CHECK(got.str() == "second\nline\n");
    int entries = 0;
    for ([[maybe_unused]] const auto& e :
         std::filesystem::directory_iterator(std::filesystem::path(path).parent_path()))
        ++entries;
    CHECK(entries == 1);

    const std::string bad = dir.file("no-such-dir/capgap.prom");
    try {
        capgap::detail::write_file_atomically(bad, "x\n");
        FAIL("no error for a missing directory");
    } catch (const capgap::detail::output_error& e) {
        CHECK(std::string(e.what()).find(bad) != std::string::npos);
    }
}
