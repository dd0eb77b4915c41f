// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
#include <doctest/doctest.h>

#include <capgap/report.hpp>

#include <cmath>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

using namespace capgap;

namespace {

// The Wilson score interval written out independently of the library.
std::pair<double, double> wilson_reference(double k, double n) {
    const double z = 1.959963984540054;
    const double p = k / n;
    const double a = p + z * z / (2 * n);
    const double b = z * std::sqrt(p * (1 - p) / n + z * z / (4 * n * n));
    const double c = 1 + z * z / n;
    return {100 * std::max(0.0, (a - b) / c), 100 * std::min(1.0, (a + b) / c)};
}

std::string line(const std::string& text, int n) {
    std::istringstream in(text);
    std::string l;
    for (int i = 0; i <= n; ++i)
        std::getline(in, l);
    return l;
}

Report sample() {
    Report r;
    r.summary.total_sessions = 8;
    r.summary.bad_sessions = 1;
    r.summary.bad_confirmed = 1;
    r.summary.bad_wireshark = 3;
    r.summary.wireshark_only = 2;
    r.summary.percentage = 12.5;
    auto ci = wilson_interval(1, 8);
    r.summary.ci95_low = ci.first;
    r.summary.ci95_high = ci.second;
    SessionRow row;
    row.session.id = 4;
    row.session.client = Endpoint{IpAddress::parse("10.0.0.1"), 40000};
    row.session.server = Endpoint{IpAddress::parse("2001:db8::1"), 443};
    row.session.category = SessionCategory::complete;
    row.session.syn_frame = 1;
    row.session.syn_time = Timestamp{1'700'000'000'000'000'001};
    row.bad = true;
    row.events = 1;
    row.missing_bytes = 1460;
    r.sessions.push_back(row);
    LossEvent e;
    e.session_id = 4;
    e.kind = EventKind::acked_unseen;
    e.frame = 9;
    e.missing_bytes = 1460;
    e.src = row.session.client;
    e.dst = row.session.server;
    r.events.push_back(e);
    r.tallies.push_back(EventTally{EventKind::acked_unseen, Direction::c2s, 1, 1460, 0});
    r.ingest.packets_read = 100;
    r.ingest.decoded = 99;
    r.ingest.skipped_not_tcp = 1;
    r.ingest.unsupported_link_types["IEEE802_11"] = 0;
    r.ingest.problems.push_back(InputProblem{"a.pcap", "offset 1234", "truncated record"});
    r.ingest.have_time = true;
    r.ingest.first_time = Timestamp{1'700'000'000'000'000'000};
    return r;
}

}  // namespace

TEST_CASE("wilson_interval matches the formula") {
    auto z10 = wilson_interval(0, 10);
    CHECK(z10.first == 0.0);
    CHECK(z10.second == doctest::Approx(27.753).epsilon(1e-4));
    auto h10 = wilson_interval(5, 10);
    CHECK(h10.first == doctest::Approx(23.66).epsilon(1e-3));
    CHECK(h10.second == doctest::Approx(76.34).epsilon(1e-3));
    for (auto kn : {std::pair<int, int>{0, 10},
                    {5, 10},
                    {1, 8},
                    {3, 1000},
                    {999, 1000},
                    {1, 1},
                    {42, 12345}}) {
        auto got = wilson_interval(static_cast<std::uint64_t>(kn.first),
                                   static_cast<std::uint64_t>(kn.second));
        auto want = wilson_reference(kn.first, kn.second);
        CAPTURE(kn.first);
        CAPTURE(kn.second);
        CHECK(got.first == doctest::Approx(want.first).epsilon(1e-12));
        CHECK(got.second == doctest::Approx(want.second).epsilon(1e-12));
    }
    CHECK(wilson_interval(10, 10).second == 100.0);
    CHECK(wilson_interval(0, 0) == std::pair<double, double>{0.0, 0.0});
}

// The line the classic three lines start at: the findings block comes first, ending with
// "Reconstructable: ..." and an empty line.
int classic_start(const std::string& t) {
    int i = 0;
    while (line(t, i).rfind("Reconstructable: ", 0) != 0) {
        REQUIRE(!line(t, i).empty());
        ++i;
    }
    CHECK(line(t, i + 1).empty());
    return i + 2;
}

TEST_CASE("to_text starts with the findings, then the classic three lines") {
    const std::string t = sample().to_text();
    CHECK(line(t, 0) == "Findings:");
    const int c = classic_start(t);
    CHECK(line(t, c) == "Total Sessions: 8");
    CHECK(line(t, c + 1) == "Bad Sessions: 1");
    CHECK(line(t, c + 2) == "Percentage: 12.50%");
    CHECK(t.find("95% interval (Wilson): ") != std::string::npos);
    CHECK(t.find("Wireshark would say: 3") != std::string::npos);
    CHECK(t.find("bad: 1; Wireshark would say 3: 2") != std::string::npos);
    CHECK(t.find("acked_unseen") != std::string::npos);
    CHECK(t.find("packets_read: 100") != std::string::npos);
    CHECK(t.find("skipped_not_tcp: 1") != std::string::npos);
    CHECK(t.find("skipped_not_ip") == std::string::npos);  // zero counters are left out
    CHECK(t.find("warning: a.pcap:offset 1234: truncated record") != std::string::npos);

    Report empty;
    const std::string e = empty.to_text();
    CHECK(line(e, 0) == "Findings:");
    CHECK(line(e, 1) == "  (none)");
    const int ce = classic_start(e);
    CHECK(line(e, ce) == "Total Sessions: 0");
    CHECK(line(e, ce + 1) == "Bad Sessions: 0");
    CHECK(line(e, ce + 2) == "Percentage: no sessions");
}

TEST_CASE("to_json has summary, events and ingest") {
    const std::string j = sample().to_json();
    CHECK(j.front() == '{');
    for (const char* key : {"\"summary\":",
                            "\"total_sessions\":8",
                            "\"bad_sessions\":1",
                            "\"percentage\":12.5",
                            "\"ci95\":[",
                            "\"bad_sessions_wireshark\":3",
                            "\"partial\":0",
                            "\"synack_only\":0",
                            "\"one_sided\":0",
                            "\"unmatched_events\":0",
                            "\"events\":[{\"kind\":\"acked_unseen\"",
                            "\"direction\":\"c2s\"",
                            "\"missing_bytes\":1460",
                            "\"ingest\":{\"files\":0",
                            "\"packets_read\":100",
                            "\"skipped_truncated_header\":0",
                            "\"csv_bad_rows\":0",
                            "\"unsupported_link_types\":{\"IEEE802_11\":0}",
                            "\"problems\":[{\"source\":\"a.pcap\"",
                            "\"first_time\":\"1700000000.000000000\""}) {
        CAPTURE(key);
        CHECK(j.find(key) != std::string::npos);
    }
    Report empty;
    const std::string e = empty.to_json();
    CHECK(e.find("\"percentage\":null") != std::string::npos);
    CHECK(e.find("\"first_time\":null") != std::string::npos);

    Report quoted;
    quoted.ingest.problems.push_back(InputProblem{"a\"b\\c\n", "", "\x01"});
    const std::string q = quoted.to_json();
    CHECK(q.find("\"a\\\"b\\\\c\\n\"") != std::string::npos);
    CHECK(q.find("\"\\u0001\"") != std::string::npos);
}

TEST_CASE("to_json: numbers keep their type, members their order") {
    Report r = sample();
    r.summary.percentage = 50.0;
    r.summary.ci95_low = 0.0;
    r.summary.ci95_high = 100.0 / 3.0;
    const std::string text = r.to_json();
    CHECK(text.back() == '\n');
    CHECK(text.find('\n') == text.size() - 1);
    const auto j = nlohmann::ordered_json::parse(text);
    const auto& s = j["summary"];
    // Whole numbers read back as integers, as they always have; others as the same double.
    CHECK(s["percentage"].is_number_integer());
    CHECK(s["percentage"].get<std::int64_t>() == 50);
    CHECK(s["ci95_low"].is_number_integer());
    CHECK(s["ci95_high"].is_number_float());
    CHECK(s["ci95_high"].get<double>() == 100.0 / 3.0);
    CHECK(s["ci95"] == nlohmann::ordered_json::array({s["ci95_low"], s["ci95_high"]}));
    CHECK(s.begin().key() == "mode");
    CHECK(j.begin().key() == "summary");
    // The ingest members follow the counter table, then the maps and lists.
    const auto& in = j["ingest"];
    auto it = in.begin();
    for (const IngestCounter& c : ingest_counters) {
        REQUIRE(it != in.end());
        CHECK(it.key() == c.name);
        CHECK(it->get<std::uint64_t>() == r.ingest.*c.member);
        ++it;
    }
    REQUIRE(it != in.end());
    CHECK(it.key() == "unsupported_link_types");

    // Bytes that are not UTF-8 (a file name, say) do not make the document invalid.
    Report odd;
    odd.ingest.problems.push_back(InputProblem{"caf\xe9.pcap", "", "truncated"});
    const auto o = nlohmann::json::parse(odd.to_json());
    CHECK(o["ingest"]["problems"][0]["source"] == "caf\xef\xbf\xbd.pcap");
}

TEST_CASE("CSV headers and rows") {
    Report r = sample();
    std::ostringstream s;
    r.write_sessions_csv(s);
    CHECK(line(s.str(), 0) ==
          "session_id,client,server,syn_frame,syn_time,packets,bad,bad_wireshark,events,"
          "missing_bytes,category,first_frame,packets_c2s,bytes_c2s,bytes_s2c,truncated_bytes,"
          "syn_count,evicted,tunnel");
    CHECK(line(s.str(), 1) ==
          "4,10.0.0.1:40000,[2001:db8::1]:443,1,1700000000.000000001,0,1,0,1,1460,complete,0,0,0,"
          "0,0,0,0,0");
    std::ostringstream ev;
    r.write_events_csv(ev);
    CHECK(line(ev.str(), 0) ==
          "session_id,direction,kind,late_filled,frame,time,seq_begin,seq_end,missing_bytes,src,"
          "dst");
    CHECK(line(ev.str(), 1) ==
          "4,c2s,acked_unseen,0,9,0.000000000,0,0,1460,10.0.0.1:40000,[2001:db8::1]:443");
}

TEST_CASE("mode names") {
    CHECK(std::string(to_string(Mode::confirmed)) == "confirmed");
    CHECK(std::string(to_string(Mode::wireshark)) == "wireshark");
}
