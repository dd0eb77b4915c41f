// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// The HTML page: every part of the template filled, the data readable back as JSON and unable
// to end its script element, the sessions' bound keeping every bad session, delta-coded
// columns that add up to the ids and times.
#include <doctest/doctest.h>

#include <capgap/html.hpp>

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace {

capgap::SessionRow row(std::uint64_t id, std::int64_t syn_ns, bool bad) {
    capgap::SessionRow r;
    r.session.id = id;
    r.session.syn_frame = id + 1;
    r.session.syn_time.ns = syn_ns;
    r.session.category = capgap::SessionCategory::complete;
    r.session.client.addr = capgap::IpAddress::parse("10.0.0.1");
    r.session.client.port = static_cast<std::uint16_t>(1000 + id);
    r.session.server.addr = capgap::IpAddress::parse("2001:db8::1");
    r.session.server.port = 443;
    r.bad = bad;
    return r;
}

// Ten sessions 1.5 ms apart; 3 and 8 bad.
capgap::Report report() {
    capgap::Report r;
    r.sources = {"a</script><b>.pcap"};
    for (std::uint64_t i = 0; i < 10; ++i) {
        r.sessions.push_back(
            row(i, 1700000000000000000 + static_cast<std::int64_t>(i) * 1500000, i == 3 || i == 8));
    }
    r.summary.total_sessions = 10;
    r.summary.bad_sessions = 2;
    return r;
}

nlohmann::json data_of(const std::string& page) {
    const std::string open = "<script type=\"application/json\" id=\"capgap-data\">";
    const auto begin = page.find(open);
    REQUIRE(begin != std::string::npos);
    const auto start = begin + open.size();
    const auto end = page.find("</script>", start);
    REQUIRE(end != std::string::npos);
    return nlohmann::json::parse(page.substr(start, end - start));
}

}  // namespace

TEST_CASE("html: the page is complete and its data cannot end the script element") {
    const std::string page = capgap::to_html(report());
    CHECK(page.rfind("<!DOCTYPE html>", 0) == 0);
    CHECK(page.find("<!--capgap:") == std::string::npos);  // every part put in place
    CHECK(page.find("Chart.js v") != std::string::npos);   // the chart library inlined
    CHECK(page.find("a</script><b>") == std::string::npos);
    CHECK(page.find("capgap report: a&lt;/script&gt;&lt;b&gt;.pcap") != std::string::npos);
    const nlohmann::json data = data_of(page);
    CHECK(data["title"] == "capgap report: a</script><b>.pcap");
    CHECK(data["report"]["summary"]["total_sessions"] == 10);
    CHECK(data["window"].is_null());
}

TEST_CASE("html: sessions as delta-coded columns") {
    const nlohmann::json s = data_of(capgap::to_html(report()))["sessions"];
    CHECK(s["total"] == 10);
    CHECK(s["included"] == 10);
    std::int64_t id = 0, t = s["t0_us"].get<std::int64_t>();
    CHECK(t == 1700000000000000);
    for (std::size_t i = 0; i < 10; ++i) {
        id += s["columns"]["id"][i].get<std::int64_t>();
        t += s["columns"]["time_us"][i].get<std::int64_t>();
        CHECK(id == static_cast<std::int64_t>(i));
        CHECK(t == 1700000000000000 + static_cast<std::int64_t>(i) * 1500);
        CHECK(s["columns"]["client_port"][i] == 1000 + i);
    }
    const nlohmann::json data = data_of(capgap::to_html(report()));
    CHECK(data["addresses"][s["columns"]["server_ip"][0].get<std::size_t>()] == "2001:db8::1");
}

TEST_CASE("html: past the bound, every bad session first, in id order") {
    capgap::HtmlOptions options;
    options.max_sessions = 4;
    options.window = "10,70";
    const nlohmann::json data = data_of(capgap::to_html(report(), options));
    const nlohmann::json& s = data["sessions"];
    CHECK(s["total"] == 10);
    CHECK(s["included"] == 4);
    // Bad 3 and 8, then the first good ones (0, 1), in id order: 0, 1, 3, 8.
    std::int64_t id = 0;
    std::string ids;
    for (const auto& d : s["columns"]["id"]) {
        id += d.get<std::int64_t>();
        ids += std::to_string(id) + ' ';
    }
    CHECK(ids == "0 1 3 8 ");
    CHECK(s["columns"]["bad"] == nlohmann::json::array({0, 0, 1, 1}));
    CHECK(data["window"] == "10,70");
}
