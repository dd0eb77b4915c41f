// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// Options::progress: what analyze() reports while it reads, and an exception that stops it.

#include <doctest/doctest.h>

#include <capgap/analyze.hpp>

#include <filesystem>
#include <string>
#include <vector>

using namespace capgap;

namespace {
const std::string capture = std::string(CAPGAP_TEST_DATA) + "/real/lo_mixed.pcap";
}

TEST_CASE("progress: calls while reading, the last one done with every byte and packet") {
    std::vector<Progress> calls;
    Options o;
    o.progress = [&](const Progress& p) { calls.push_back(p); };
    o.progress_interval_ns = 0;  // every check: once per 256 packets or so
    const Report r = analyze({capture}, o);
    REQUIRE(calls.size() >= 2);  // 472 packets: one call while reading, one at the end
    const auto size = static_cast<std::uint64_t>(std::filesystem::file_size(capture));
    const Progress& last = calls.back();
    CHECK(last.done);
    CHECK(last.bytes_total == size);
    CHECK(last.bytes_done == size);
    CHECK(last.packets == r.ingest.packets_read);
    CHECK(last.sessions >= r.sessions.size());
    for (std::size_t i = 0; i + 1 < calls.size(); ++i) {
        CHECK_FALSE(calls[i].done);
        CHECK(calls[i].bytes_total == size);
        CHECK(calls[i].bytes_done <= calls[i + 1].bytes_done);
        CHECK(calls[i].packets <= calls[i + 1].packets);
    }
    // Without a callback, the same report.
    CHECK(analyze({capture}).summary.total_sessions == r.summary.total_sessions);
}

TEST_CASE("progress: an exception from the callback stops the reading and reaches the caller") {
    struct Stop {};
    Options o;
    int calls = 0;
    o.progress = [&](const Progress&) {
        ++calls;
        throw Stop{};
    };
    o.progress_interval_ns = 0;
    CHECK_THROWS_AS(analyze({capture}, o), Stop);
    CHECK(calls == 1);
}
