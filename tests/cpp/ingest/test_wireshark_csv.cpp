// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// The CSV adapter: quoting, headers, Info parsing, times, instances, events, errors. The joins
// of its output are tested in tests/cpp/match/test_csv_join.cpp.
// The files under tests/data/csv are described one per line in tests/data/csv/README.md.
#include <doctest/doctest.h>

#include <capgap/errors.hpp>
#include <capgap/segment.hpp>
#include <capgap/wireshark_csv.hpp>

#include <string>
#include <vector>

#include "support/csv_files.hpp"

namespace {

using capgap::test::gui_header;
using capgap::test::TempFile;

std::string data(const std::string& name) {
    return capgap::test::csv_data(name);
}

std::string gui_syn_row(int frame, const char* time, const char* src, const char* dst,
                        const char* info) {
    return capgap::test::gui_row(frame, time, src, dst, info);
}

std::vector<capgap::LossEvent> events_of(const capgap::CsvInput& in, std::uint64_t session) {
    std::vector<capgap::LossEvent> out;
    for (const auto& e : in.events)
        if (e.session_id == session) out.push_back(e);
    return out;
}

}  // namespace

TEST_CASE("parse_info: both arrow styles, flags, Seq/Ack/Len and markers") {
    auto a = capgap::parse_info("50680 > 443 [SYN] Seq=0 Win=4380 Len=0 MSS=1460 SACK_PERM=1");
    CHECK(a.has_ports);
    CHECK(a.src_port == 50680);
    CHECK(a.dst_port == 443);
    CHECK(a.flags == capgap::tcp_flags::syn);
    CHECK(a.has_seq);
    CHECK(a.seq == 0);
    CHECK(a.has_len);
    CHECK_FALSE(a.has_ack);
    CHECK(a.markers.empty());

    auto b = capgap::parse_info(
        "[TCP ACKed unseen segment] 49856 \xE2\x86\x92 443 [ACK] Seq=757 Ack=35816 Win=45192 "
        "Len=0 TSval=1428649841 TSecr=188814810");
    CHECK(b.src_port == 49856);
    CHECK(b.dst_port == 443);
    CHECK(b.flags == capgap::tcp_flags::ack);
    CHECK(b.seq == 757);
    CHECK(b.ack == 35816);
    CHECK(b.len == 0);
    REQUIRE(b.markers.size() == 1);
    CHECK(b.markers[0] == capgap::ExpertMarker::acked_unseen_segment);

    auto c = capgap::parse_info(
        "[TCP ACKed unseen segment] [TCP Dup ACK 14#1] [TCP Fast Retransmission] 80 \xE2\x86\x92 "
        "2564 [FIN, PSH, ACK] Seq=1 Ack=1723 Win=16430 Len=12 [TCP segment of a reassembled "
        "PDU]");
    CHECK(c.flags == (capgap::tcp_flags::fin | capgap::tcp_flags::psh | capgap::tcp_flags::ack));
    CHECK(c.has(capgap::ExpertMarker::dup_ack));
    CHECK(c.has(capgap::ExpertMarker::fast_retransmission));
    CHECK(c.has(capgap::ExpertMarker::segment_of_reassembled_pdu));
    CHECK_FALSE(c.has(capgap::ExpertMarker::retransmission));
    CHECK(c.len == 12);

    // An application dissector replaced the TCP summary: markers only, no ports.
    auto d = capgap::parse_info("[TCP Previous segment not captured] Continuation");
    CHECK_FALSE(d.has_ports);
    CHECK(d.has(capgap::ExpertMarker::previous_segment_not_captured));

    auto e = capgap::parse_info("[TCP Port numbers reused] 7951 > 4899 [SYN, ECE, CWR] Seq=0");
    CHECK(e.has(capgap::ExpertMarker::port_numbers_reused));
    CHECK(e.flags == capgap::tcp_flags::syn);

    auto f = capgap::parse_info(
        "[TCP Keep-Alive ACK] [TCP ZeroWindowProbeAck] [TCP Window Full] "
        "[TCP Something New] 1 > 2 [<None>] Seq=1");
    CHECK(f.has(capgap::ExpertMarker::keep_alive_ack));
    CHECK(f.has(capgap::ExpertMarker::zero_window_probe_ack));
    CHECK(f.has(capgap::ExpertMarker::window_full));
    CHECK(f.has(capgap::ExpertMarker::other));
    CHECK(f.has_flags);
    CHECK(f.flags == 0);
    CHECK(std::string(capgap::to_string(capgap::ExpertMarker::port_numbers_reused)) ==
          "Port numbers reused");
}

TEST_CASE("GUI export, new arrows, BOM and CRLF (gui_new_*.csv)") {
    auto in = capgap::read_wireshark_csv(data("gui_new_syn.csv"), data("gui_new_lost.csv"));
    CHECK_FALSE(in.counts.has_stream);
    CHECK(in.counts.time_kind == capgap::CsvTimeKind::relative);
    CHECK(in.stats.csv_rows == 8);
    CHECK(in.stats.csv_bad_rows == 0);
    CHECK(in.stats.have_time);
    CHECK(in.stats.first_time == capgap::Timestamp{0});
    REQUIRE(in.sessions.size() == 3);
    // The retransmitted SYN (frame 4) stays in the first instance.
    CHECK(in.sessions[0].id == 0);
    CHECK(in.sessions[0].syn_frame == 1);
    CHECK(in.sessions[0].syn_count == 2);
    CHECK(in.sessions[0].category == capgap::SessionCategory::complete);
    CHECK(capgap::to_string(in.sessions[0].client) == "10.1.1.7:50680");
    CHECK(capgap::to_string(in.sessions[0].server) == "192.168.80.12:443");
    CHECK(in.sessions[1].syn_time == capgap::Timestamp{2'500'000'000});
    CHECK(capgap::to_string(in.sessions[2].client) == "[2001:db8::5]:51000");
    CHECK(in.counts.syn_merged == 1);
    // Lost rows: two with ports (left to the matcher), one without ports joined here by the
    // address pair, one attributed to no SYN at all (left to the matcher: unmatched there).
    REQUIRE(in.events.size() == 4);
    CHECK(in.events[0].kind == capgap::EventKind::ws_lost_segment);
    CHECK(in.events[0].session_id == capgap::no_session);
    CHECK(in.events[0].direction == capgap::Direction::s2c);
    CHECK(in.events[1].kind == capgap::EventKind::ws_ack_lost_segment);
    CHECK(in.events[1].direction == capgap::Direction::c2s);
    CHECK(in.events[2].session_id == 2);
    CHECK(in.events[2].direction == capgap::Direction::s2c);
    CHECK(capgap::to_string(in.events[2].src) == "[2001:db8::80]:80");
    CHECK(in.counts.rows_without_ports == 1);
    CHECK(in.counts.joined_by_address == 1);
}

TEST_CASE("old arrows and port reuse (gui_old_*.csv): a reused port starts an instance") {
    auto in = capgap::read_wireshark_csv(data("gui_old_syn.csv"), data("gui_old_lost.csv"));
    REQUIRE(in.sessions.size() == 3);
    CHECK(in.sessions[0].syn_frame == 1);
    CHECK(in.sessions[0].syn_count == 1);
    CHECK(in.sessions[1].syn_frame == 10);  // [TCP Port numbers reused]: a new instance
    CHECK(in.sessions[1].syn_count == 2);   // frame 11, [TCP Retransmission], joins it
    CHECK(in.sessions[2].syn_frame == 20);
}

TEST_CASE("tshark fields with tcp.stream, IPv6 and loss flag columns (fields_*.csv)") {
    auto in = capgap::read_wireshark_csv(data("fields_syn.csv"), data("fields_lost.csv"));
    CHECK(in.counts.has_stream);
    CHECK(in.counts.time_kind == capgap::CsvTimeKind::absolute);
    REQUIRE(in.sessions.size() == 3);
    CHECK(in.sessions[0].syn_time == capgap::Timestamp{1'700'000'000'000'000'001});
    CHECK(in.sessions[0].syn_count == 2);
    CHECK(capgap::to_string(in.sessions[1].client) == "[2001:db8::1]:40001");
    CHECK(in.stats.first_time == capgap::Timestamp{1'700'000'000'000'000'001});
    // Stream 7 has no SYN row: unmatched here, never handed to the key join.
    CHECK(in.unmatched_events == 1);
    REQUIRE(in.events.size() == 3);
    auto s1 = events_of(in, 1);
    REQUIRE(s1.size() == 1);
    CHECK(s1[0].kind == capgap::EventKind::ws_lost_segment);
    CHECK(s1[0].direction == capgap::Direction::s2c);
    auto s2 = events_of(in, 2);
    REQUIRE(s2.size() == 2);  // one row carrying both flags
    CHECK(s2[0].direction == capgap::Direction::c2s);
}

TEST_CASE("sanitized empty addresses and broken rows are counted with their lines") {
    auto in = capgap::read_wireshark_csv(data("sanitized_syn.csv"), data("sanitized_lost.csv"));
    CHECK(in.stats.csv_rows == 7);
    CHECK(in.stats.csv_bad_rows == 4);
    CHECK(in.stats.csv_bad_lines == std::vector<std::uint64_t>{3, 5, 2, 4});
    CHECK(in.counts.bad_row_reasons["empty address"] == 2);
    CHECK(in.counts.bad_row_reasons["broken quoting"] == 1);
    CHECK(in.counts.bad_row_reasons["field count differs from the header's"] == 1);
    REQUIRE(in.counts.bad_rows.size() == 4);
    CHECK(in.counts.bad_rows[0].source == data("sanitized_syn.csv"));
    CHECK(in.counts.bad_rows[0].position == "line 3");
    CHECK(in.sessions.size() == 2);
}

TEST_CASE("RFC 4180: quotes, doubled quotes, newlines inside quotes, LF/CRLF, extra columns") {
    std::string syn = std::string("\"Extra\",") +
                      "\"No.\",\"Time\",\"Source\",\"Destination\",\"Info\",\"Comment\"\r\n" +
                      "x,1,0.5,10.0.0.1,10.0.0.2,\"1000 > 80 [SYN] Seq=0\",\"a \"\"quoted\"\"\r\n" +
                      "two-line note\"\n" + "\n" +  // a blank line is not a row
                      "y,7,1.5,10.0.0.1,10.0.0.2,\"1001 > 80 [SYN] Seq=0\",plain\n";
    std::string lost = std::string(gui_header) +
                       gui_syn_row(9, "2.0", "10.0.0.2", "10.0.0.1",
                                   "[TCP Previous segment not captured] 80 > 1001 [ACK] Seq=9");
    TempFile s("syn.csv", syn), l("lost.csv", lost);
    auto in = capgap::read_wireshark_csv(s.path, l.path);
    CHECK(in.stats.csv_bad_rows == 0);
    CHECK(in.stats.csv_rows == 3);
    REQUIRE(in.sessions.size() == 2);
    CHECK(in.sessions[1].syn_frame == 7);
    CHECK(in.sessions[1].client.port == 1001);
}

TEST_CASE("instances without tcp.stream: same raw seq joins, a new one does not") {
    std::string h = "frame.number,frame.time_relative,ip.src,ip.dst,tcp.seq_raw,_ws.col.Info\n";
    std::string syn = h + "1,0.1,10.0.0.1,10.0.0.2,100,\"5 > 80 [SYN] Seq=0\"\n" +
                      "2,0.2,10.0.0.1,10.0.0.2,100,\"5 > 80 [SYN] Seq=0\"\n" +
                      "3,0.3,10.0.0.1,10.0.0.2,200,\"5 > 80 [SYN] Seq=0\"\n" +
                      "4,0.4,10.0.0.1,10.0.0.2,,\"6 > 80 [SYN] Seq=0\"\n" +
                      "5,0.5,10.0.0.1,10.0.0.2,,\"6 > 80 [SYN] Seq=0\"\n" +  // unmarked: new
                      "6,0.6,10.0.0.2,10.0.0.1,,\"80 > 6 [SYN, ACK] Seq=0 Ack=1\"\n";
    std::string lost = h;
    TempFile s("syn.csv", syn), l("lost.csv", lost);
    auto in = capgap::read_wireshark_csv(s.path, l.path);
    REQUIRE(in.sessions.size() == 4);
    CHECK(in.sessions[0].syn_count == 2);
    CHECK(in.sessions[1].syn_frame == 3);
    CHECK(in.sessions[3].syn_frame == 5);
    CHECK(in.counts.syn_rows_not_syn == 1);  // the SYN-ACK is not a session
    CHECK(in.counts.time_kind == capgap::CsvTimeKind::relative);
}

TEST_CASE("a SYN whose Info an application replaced joins its retransmission") {
    std::string syn = std::string(gui_header) +
                      gui_syn_row(1, "0.10", "10.0.0.1", "10.0.0.2", "Client Hello") +
                      gui_syn_row(3, "0.20", "10.0.0.1", "10.0.0.2",
                                  "[TCP Retransmission] 51615 \xE2\x86\x92 443 [SYN] Seq=0") +
                      gui_syn_row(5, "0.30", "10.0.0.1", "10.0.0.2",
                                  "[TCP Retransmission] 51615 \xE2\x86\x92 443 [SYN] Seq=0");
    TempFile s("syn.csv", syn), l("lost.csv", gui_header);
    auto in = capgap::read_wireshark_csv(s.path, l.path);
    REQUIRE(in.sessions.size() == 1);
    CHECK(in.sessions[0].syn_frame == 1);
    CHECK(in.sessions[0].syn_count == 3);
    CHECK(in.sessions[0].client.port == 51615);
}

TEST_CASE("rows without ports: ambiguous address pairs are unmatched, not guessed") {
    std::string syn = std::string(gui_header) +
                      gui_syn_row(1, "0.1", "10.0.0.1", "10.0.0.2", "1000 > 3389 [SYN] Seq=0") +
                      gui_syn_row(2, "0.2", "10.0.0.1", "10.0.0.2", "1001 > 3389 [SYN] Seq=0");
    std::string lost =
        std::string(gui_header) +
        gui_syn_row(3, "0.15", "10.0.0.1", "10.0.0.2",
                    "[TCP Previous segment not captured] Continuation") +  // one candidate
        gui_syn_row(4, "0.30", "10.0.0.1", "10.0.0.2",
                    "[TCP Previous segment not captured] Continuation");  // two candidates
    TempFile s("syn.csv", syn), l("lost.csv", lost);
    auto in = capgap::read_wireshark_csv(s.path, l.path);
    CHECK(in.counts.joined_by_address == 1);
    CHECK(in.counts.ambiguous_events == 1);
    CHECK(in.unmatched_events == 1);
    REQUIRE(in.events.size() == 1);
    CHECK(in.events[0].session_id == 0);
}

TEST_CASE("time formats: epoch, ISO, day of year, Wireshark's month form, time of day") {
    auto one = [](const char* header, const char* time) {
        std::string h =
            std::string("\"No.\",\"") + header + "\",\"Source\",\"Destination\",\"Info\"\n";
        std::string syn = h + "1,\"" + time + "\",10.0.0.1,10.0.0.2,\"1 > 2 [SYN] Seq=0\"\n";
        TempFile s("syn.csv", syn), l("lost.csv", h);
        return capgap::read_wireshark_csv(s.path, l.path);
    };
    auto a = one("Time", "2014-06-12 10:11:12.123456789");
    REQUIRE(a.sessions.size() == 1);
    CHECK(a.sessions[0].syn_time == capgap::parse_iso8601("2014-06-12T10:11:12.123456789Z"));
    CHECK(a.counts.time_kind == capgap::CsvTimeKind::absolute);
    auto b = one("frame.time", "Jun 12, 2014 10:11:12.123456789 UTC");
    CHECK(b.sessions[0].syn_time == a.sessions[0].syn_time);
    CHECK(b.counts.times_zone_ignored == 0);
    auto c = one("frame.time", "Jun 12, 2014 10:11:12.123456789 CEST");
    CHECK(c.sessions[0].syn_time == a.sessions[0].syn_time);
    CHECK(c.counts.times_zone_ignored == 1);
    auto d = one("Time", "2014/163 10:11:12.123456789");
    CHECK(d.sessions[0].syn_time == a.sessions[0].syn_time);
    auto e = one("frame.time_epoch", "1402567872.123456789");
    CHECK(e.sessions[0].syn_time == a.sessions[0].syn_time);
    auto f = one("Time", "10:11:12.5");
    CHECK(f.sessions[0].syn_time == capgap::Timestamp{36672'500'000'000});
    CHECK(f.counts.time_kind == capgap::CsvTimeKind::time_of_day);
    auto g = one("Time", "12.000000001");
    CHECK(g.sessions[0].syn_time == capgap::Timestamp{12'000'000'001});
    CHECK(g.counts.time_kind == capgap::CsvTimeKind::relative);
    // The names Python, the error messages and the stub show.
    CHECK(std::string(capgap::to_string(capgap::CsvTimeKind::relative)) == "relative");
    CHECK(std::string(capgap::to_string(capgap::CsvTimeKind::absolute)) == "absolute");
    CHECK(std::string(capgap::to_string(capgap::CsvTimeKind::time_of_day)) == "time_of_day");
    CHECK(std::string(capgap::to_string(capgap::CsvTimeKind::none)).empty());
    auto bad = one("Time", "yesterday");
    CHECK(bad.sessions.empty());
    CHECK(bad.stats.csv_bad_rows == 1);
    CHECK(bad.counts.time_kind == capgap::CsvTimeKind::none);  // no usable row
}

TEST_CASE("relative and absolute times in the two files are refused") {
    std::string h = "\"No.\",\"Time\",\"Source\",\"Destination\",\"Info\"\n";
    TempFile s("syn.csv", h + "1,0.5,10.0.0.1,10.0.0.2,\"1 > 2 [SYN] Seq=0\"\n");
    TempFile l("lost.csv",
               h + "2,1400000000.5,10.0.0.2,10.0.0.1,\"[TCP ACKed unseen segment] 2 > 1 [ACK]\"\n");
    CHECK_THROWS_AS(capgap::read_wireshark_csv(s.path, l.path), capgap::format_error);
}

TEST_CASE("errors name the file and the problem") {
    const std::string ok = data("gui_old_lost.csv");
    try {
        capgap::read_wireshark_csv(data("missing_column.csv"), ok);
        FAIL("no exception");
    } catch (const capgap::parse_error& e) {
        std::string m = e.what();
        CHECK(m.find("missing_column.csv:line 1") != std::string::npos);
        CHECK(m.find("Time") != std::string::npos);
        CHECK(m.find("\"No.\",\"Source\",\"Destination\",\"Info\"") != std::string::npos);
        CHECK(e.line() == 1);
    }
    try {
        capgap::read_wireshark_csv(data("empty.csv"), ok);
        FAIL("no exception");
    } catch (const capgap::format_error& e) {
        CHECK(std::string(e.what()).find("empty.csv: empty file") != std::string::npos);
    }
    try {
        capgap::read_wireshark_csv(data("binary.csv"), ok);
        FAIL("no exception");
    } catch (const capgap::format_error& e) {
        CHECK(std::string(e.what()).find("binary.csv: binary file") != std::string::npos);
    }
    try {
        capgap::read_wireshark_csv(data("semicolon.csv"), ok);
        FAIL("no exception");
    } catch (const capgap::format_error& e) {
        CHECK(std::string(e.what()).find("wrong delimiter") != std::string::npos);
    }
    CHECK_THROWS_AS(capgap::read_wireshark_csv(data("no-such-file.csv"), ok), capgap::io_error);
    // A BOM and blank lines alone are still an empty file.
    TempFile blank("blank.csv", "\xEF\xBB\xBF\r\n\r\n");
    CHECK_THROWS_AS(capgap::read_wireshark_csv(blank.path, ok), capgap::format_error);
}
