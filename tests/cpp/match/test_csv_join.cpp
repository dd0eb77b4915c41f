// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// The joins of the CSV path: by session instance (the Matcher, analyze_wireshark_csv) and the
// old one by client socket (socket_join). The files under tests/data/csv are described one per
// line in tests/data/csv/README.md.
#include <doctest/doctest.h>

#include <capgap/analyze_csv.hpp>
#include <capgap/errors.hpp>
#include <capgap/wireshark_csv.hpp>

#include <string>
#include <vector>

#include "match/csv_join.hpp"
#include "support/csv_files.hpp"

namespace {

using capgap::test::csv_data;
using capgap::test::gui_header;
using capgap::test::gui_row;
using capgap::test::TempFile;

capgap::MatchOptions wireshark_mode() {
    capgap::MatchOptions o;
    o.mode = capgap::Mode::wireshark;
    return o;
}

capgap::Endpoint ep(const char* addr, std::uint16_t port) {
    return capgap::Endpoint{capgap::IpAddress::parse(addr), port};
}

// A SYN-list or lost-list row as the adapter reads it, with ports.
capgap::csv::Row row(std::uint64_t frame, const capgap::Endpoint& src,
                     const capgap::Endpoint& dst) {
    capgap::csv::Row r;
    r.frame = frame;
    r.time.t = capgap::Timestamp{static_cast<std::int64_t>(frame) * 1'000'000'000};
    r.src_addr = src.addr;
    r.dst_addr = dst.addr;
    r.src_port = src.port;
    r.dst_port = dst.port;
    r.has_ports = true;
    return r;
}

}  // namespace

TEST_CASE("instance join of gui_new_*.csv: the adapter's unmatched events are added") {
    auto r = capgap::analyze_wireshark_csv(csv_data("gui_new_syn.csv"),
                                           csv_data("gui_new_lost.csv"), wireshark_mode());
    CHECK(r.summary.join == capgap::Join::instance);
    CHECK(r.summary.total_sessions == 3);
    CHECK(r.summary.bad_sessions == 2);
    CHECK(r.summary.bad_wireshark == 2);
    CHECK(r.summary.unmatched_events == 1);

    auto opt = wireshark_mode();
    opt.servers.push_back(capgap::ServerFilter::parse("192.168.80.12:443"));
    auto f = capgap::analyze_wireshark_csv(csv_data("gui_new_syn.csv"),
                                           csv_data("gui_new_lost.csv"), opt);
    CHECK(f.summary.total_sessions == 2);
    CHECK(f.summary.bad_sessions == 1);
}

TEST_CASE("old arrows and port reuse (gui_old_*.csv): instance join vs socket join") {
    auto r = capgap::analyze_wireshark_csv(csv_data("gui_old_syn.csv"),
                                           csv_data("gui_old_lost.csv"), wireshark_mode());
    CHECK(r.summary.total_sessions == 3);
    CHECK(r.summary.bad_sessions == 1);
    REQUIRE(r.sessions.size() == 3);
    CHECK_FALSE(r.sessions[0].bad_wireshark);  // the first use of the ports: clean
    CHECK(r.sessions[1].bad_wireshark);        // the reuse: both flags
    CHECK_FALSE(r.sessions[2].bad_wireshark);

    // The old join keys on the client socket: all three SYN rows of 10.0.0.1:1025 are bad.
    auto s = capgap::socket_join(csv_data("gui_old_syn.csv"), csv_data("gui_old_lost.csv"), {});
    CHECK(s.summary.join == capgap::Join::socket);
    CHECK(s.summary.mode == capgap::Mode::wireshark);
    CHECK(s.summary.total_sessions == 4);
    CHECK(s.summary.bad_sessions == 3);
    CHECK(s.summary.percentage == doctest::Approx(75.0));
    CHECK(s.events.empty());
    REQUIRE(s.sessions.size() == 4);
    CHECK(s.sessions[0].bad_wireshark);
    CHECK_FALSE(s.sessions[3].bad_wireshark);
}

TEST_CASE("socket join keeps only rows towards the server") {
    // Without a filter every lost row is keyed by its source: the server's s2c row keys
    // 192.168.80.12:443, which no SYN has, so only the ACKed-unseen row of 10.1.1.9 counts.
    auto all = capgap::socket_join(csv_data("gui_new_syn.csv"), csv_data("gui_new_lost.csv"), {});
    CHECK(all.summary.total_sessions == 4);  // the retransmitted SYN counts again
    CHECK(all.summary.bad_sessions == 1);
    auto srv = capgap::socket_join(csv_data("gui_new_syn.csv"), csv_data("gui_new_lost.csv"),
                                   {capgap::ServerFilter::parse("192.168.80.12")});
    CHECK(srv.summary.total_sessions == 3);
    CHECK(srv.summary.filtered_out == 1);
    CHECK(srv.summary.bad_sessions == 1);
    auto port =
        capgap::socket_join(csv_data("gui_new_syn.csv"), csv_data("gui_new_lost.csv"), {}, {80});
    CHECK(port.summary.total_sessions == 1);
    CHECK(port.summary.bad_sessions == 0);
}

TEST_CASE("instance join of tshark fields (fields_*.csv) and of sanitized lists") {
    auto r = capgap::analyze_wireshark_csv(csv_data("fields_syn.csv"), csv_data("fields_lost.csv"),
                                           wireshark_mode());
    CHECK(r.summary.total_sessions == 3);
    CHECK(r.summary.bad_sessions == 2);
    CHECK(r.summary.unmatched_events == 1);

    auto z = capgap::analyze_wireshark_csv(csv_data("sanitized_syn.csv"),
                                           csv_data("sanitized_lost.csv"), wireshark_mode());
    CHECK(z.summary.total_sessions == 2);
    CHECK(z.summary.bad_sessions == 1);
    CHECK(z.ingest.csv_bad_rows == 4);
}

TEST_CASE("a reused client port: two instances for the Matcher, one socket for the old join") {
    // 10.0.0.1:1025 connects twice; only the second connection loses a segment.
    std::string syn = std::string(gui_header) +
                      gui_row(1, "0.1", "10.0.0.1", "10.0.0.2", "1025 > 80 [SYN] Seq=0") +
                      gui_row(7, "5.0", "10.0.0.1", "10.0.0.2",
                              "[TCP Port numbers reused] 1025 > 80 [SYN] Seq=0");
    std::string lost =
        std::string(gui_header) +
        gui_row(9, "6.0", "10.0.0.1", "10.0.0.2",
                "[TCP Previous segment not captured] 1025 > 80 [ACK] Seq=100 Ack=1 Len=10");
    TempFile s("syn.csv", syn), l("lost.csv", lost);

    auto inst = capgap::analyze_wireshark_csv(s.path, l.path, wireshark_mode());
    CHECK(inst.summary.total_sessions == 2);
    CHECK(inst.summary.bad_sessions == 1);
    REQUIRE(inst.sessions.size() == 2);
    CHECK_FALSE(inst.sessions[0].bad_wireshark);
    CHECK(inst.sessions[1].bad_wireshark);

    // The socket key merges both connections: the clean first one is called bad too.
    auto sock = capgap::socket_join(s.path, l.path, {});
    CHECK(sock.summary.total_sessions == 2);
    CHECK(sock.summary.bad_sessions == 2);
    CHECK(sock.summary.percentage == 100.0);
    REQUIRE(sock.sessions.size() == 2);
    CHECK(sock.sessions[0].bad_wireshark);
    CHECK(sock.sessions[1].bad_wireshark);
    CHECK(sock.sessions[0].session.syn_frame == 1);
    CHECK(sock.sessions[1].session.id == 1);
}

TEST_CASE("socket join: only rows, so lists with times of different kinds are accepted") {
    std::string h = "\"No.\",\"Time\",\"Source\",\"Destination\",\"Info\"\n";
    TempFile s("syn.csv", h + "1,0.5,10.0.0.1,10.0.0.2,\"1 > 2 [SYN] Seq=0\"\n");
    TempFile l("lost.csv",
               h + "2,1400000000.5,10.0.0.1,10.0.0.2,\"[TCP ACKed unseen segment] 1 > 2 [ACK]\"\n");
    CHECK_THROWS_AS(capgap::analyze_wireshark_csv(s.path, l.path, wireshark_mode()),
                    capgap::format_error);
    auto r = capgap::socket_join(s.path, l.path, {});
    CHECK(r.summary.total_sessions == 1);
    CHECK(r.summary.bad_sessions == 1);
    CHECK(r.ingest.csv_rows == 2);
    CHECK_THROWS_AS(capgap::socket_join(csv_data("empty.csv"), csv_data("gui_old_lost.csv"), {}),
                    capgap::format_error);
}

TEST_CASE("join_csv_sockets: filters, unkeyable rows and the headline from the report code") {
    using capgap::csv::Row;
    std::vector<Row> syn = {row(1, ep("10.0.0.1", 1000), ep("10.0.0.9", 443)),
                            row(2, ep("10.0.0.2", 1000), ep("10.0.0.9", 443)),
                            row(3, ep("10.0.0.3", 1000), ep("10.0.0.9", 80)),
                            row(4, ep("10.0.0.4", 1000), ep("10.0.0.8", 443))};
    Row portless = row(5, ep("10.0.0.2", 1000), ep("10.0.0.9", 443));
    portless.has_ports = false;  // an Info an application dissector replaced: cannot be keyed
    std::vector<Row> lost = {row(6, ep("10.0.0.1", 1000), ep("10.0.0.9", 443)), portless,
                             row(7, ep("10.0.0.3", 1000), ep("10.0.0.9", 80))};
    capgap::IngestStats stats;
    stats.csv_rows = 7;

    auto r = capgap::join_csv_sockets(syn, lost, stats, {capgap::ServerFilter::parse("10.0.0.9")},
                                      {443});
    CHECK(r.summary.join == capgap::Join::socket);
    CHECK(r.summary.total_sessions == 2);  // port 80 and server 10.0.0.8 filtered out
    CHECK(r.summary.filtered_out == 2);
    CHECK(r.summary.bad_sessions == 1);  // 10.0.0.1; the portless row matches nothing
    CHECK(r.summary.bad_wireshark == 1);
    CHECK(r.ingest.csv_rows == 7);
    const auto ci = capgap::wilson_interval(1, 2);
    CHECK(r.summary.percentage == 50.0);
    CHECK(r.summary.ci95_low == ci.first);
    CHECK(r.summary.ci95_high == ci.second);
    REQUIRE(r.sessions.size() == 2);
    CHECK(r.sessions[0].session.syn_frame == 1);
    CHECK(r.sessions[0].bad_wireshark);
    CHECK(r.sessions[1].session.id == 1);
    CHECK_FALSE(r.sessions[1].bad_wireshark);

    auto none = capgap::join_csv_sockets({}, lost, {}, {}, {});
    CHECK(none.summary.total_sessions == 0);
    CHECK(none.summary.percentage == 0.0);
    CHECK(none.summary.ci95_high == 0.0);
}

TEST_CASE("join_csv_instances: the Matcher's report plus the adapter's unmatched events") {
    capgap::CsvInput in;
    capgap::Session s;
    s.id = 0;
    s.client = ep("10.0.0.1", 1000);
    s.server = ep("10.0.0.2", 80);
    s.category = capgap::SessionCategory::complete;
    s.syn_frame = s.first_frame = 1;
    s.packets = s.packets_c2s = s.syn_count = 1;
    in.sessions.push_back(s);
    capgap::LossEvent e;
    e.session_id = 0;
    e.kind = capgap::EventKind::ws_lost_segment;
    e.frame = 2;
    in.events.push_back(e);
    in.unmatched_events = 3;

    auto r = capgap::join_csv_instances(in, wireshark_mode());
    CHECK(r.summary.join == capgap::Join::instance);
    CHECK(r.summary.total_sessions == 1);
    CHECK(r.summary.bad_sessions == 1);
    CHECK(r.summary.unmatched_events == 3);
    CHECK(r.summary.percentage == 100.0);
}
