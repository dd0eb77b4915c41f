// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// Inputs the fuzz targets (fuzz/) found interesting, replayed through the same code paths
// (capgap::fuzz::run_*, which abort() when an invariant breaks). Crash reproducers go here as
// byte arrays, with the bug they caught.

#include <doctest/doctest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <sstream>
#include <string>

#include "../../../fuzz/fuzz_targets.hpp"

namespace {

template <std::size_t N>
void decode(const std::uint8_t (&bytes)[N]) {
    capgap::fuzz::run_decode(bytes, N);
}

}  // namespace

TEST_CASE("fuzz decode: an IPv4 total length beyond the frame is taken as on-wire length") {
    // Ethernet, IPv4 total length 0x7334 in a 66-byte frame, TCP ACK with timestamps. Found by
    // fuzz_decode: payload_len (from the IP header, docs/counting-rules.md section 4) exceeds the
    // frame.
    static const std::uint8_t bytes[] = {
        0x00, 0x01, 0x00, 0x06, 0x5b, 0x87, 0x24, 0xb9, 0x00, 0x06, 0x5b, 0x87, 0x24, 0xb9,
        0x08, 0x00, 0x45, 0x25, 0x73, 0x34, 0xc0, 0x6f, 0x40, 0x00, 0x3e, 0x06, 0x5c, 0xdc,
        0x0a, 0x01, 0x01, 0x01, 0xc3, 0x14, 0x0a, 0x63, 0xcf, 0x70, 0x00, 0x50, 0xc3, 0x16,
        0xd1, 0x04, 0xb6, 0x74, 0x65, 0xee, 0x80, 0x11, 0x16, 0xd0, 0xe7, 0x07, 0x00, 0x00,
        0x01, 0x01, 0x08, 0x0a, 0x00, 0x77, 0x10, 0xe6, 0x00, 0x03, 0xc7, 0xcc};
    decode(bytes);
}

TEST_CASE("fuzz decode: empty and one-byte inputs") {
    capgap::fuzz::run_decode(nullptr, 0);
    static const std::uint8_t one[] = {0x80};
    decode(one);
}

TEST_CASE("fuzz capture: not a capture, and an empty file") {
    static const std::uint8_t text[] = {'n', 'o', 't', ' ', 'p', 'c', 'a', 'p'};
    capgap::fuzz::run_capture(text, sizeof text);
    capgap::fuzz::run_capture(text, 0);
}

TEST_CASE("fuzz csv: a header-only SYN list and an empty lost list") {
    const std::string in = std::string("No.,Time,Source,Destination,Info\n") + '\0';
    capgap::fuzz::run_csv(reinterpret_cast<const std::uint8_t*>(in.data()), in.size());
}

TEST_CASE("fuzz tracker: handshake, data with a hole, port reuse") {
    // Options (reorder window 3 ms, hole cap 1), start time, then 11-byte segments.
    static const std::uint8_t bytes[] = {
        0x83, 0x00, 0x01,                                                  //
        0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00,  // SYN
        0x04, 0x12, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00,  // SYN-ACK
        0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00,  // ACK
        0x00, 0x18, 0x00, 0x64, 0x00, 0x00, 0x00, 0x64, 0x01, 0x00, 0x00,  // data after a hole
        0x04, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00,  // ACK
        0x03, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00,  // reversed-role SYN
    };
    capgap::fuzz::run_tracker(bytes, sizeof bytes);
}

TEST_CASE("fuzz tracker: an ACK splitting a hole when the hole list must grow") {
    // fuzz_tracker, heap-use-after-free in the hole cover (src/track/gaps.hpp): an ACK that
    // ends inside an unacked hole splits it with holes.insert(), which reallocates once the
    // small_vector's inline room is used, and the reference to the hole being acked is then
    // written through after the storage was freed.
    // clang-format off
    static const std::uint8_t bytes[] = {
        // options: reorder window 3 ms
        0x03, 0x00, 0x01,
        // connection 0 c2s SYN
        0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00,
        // connection 0 c2s, seq +0x6300
        0x00, 0x00, 0x63, 0x00, 0xf2, 0xf1, 0x00, 0x00, 0x01, 0x00, 0x00,
        // connection 3 s2c (the same endpoints as connection 0 c2s), PSH ACK, 4096 bytes
        0x07, 0x18, 0x01, 0x00, 0x00, 0x04, 0x10, 0x00, 0x00, 0x00, 0x01,
        // connection 0 c2s, seq +0x10, 100 bytes
        0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x64, 0x01, 0x00, 0x00,
        // connection 0 s2c ACK
        0x04, 0x10, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00,
    };
    // clang-format on
    capgap::fuzz::run_tracker(bytes, sizeof bytes);
}

TEST_CASE("fuzz capture: a pcapng timestamp past the year 2262") {
    // fuzz_capture, UBSan signed-integer-overflow in PcapSource (src/ingest/packet.hpp): the
    // timestamp in nanoseconds is tv_sec * 1000000000 + tv_usec in int64, which overflows when
    // a pcapng block's 64-bit timestamp gives more than 9.2e9 seconds (here 2e10 s, in the
    // interface's default microsecond resolution).
    // clang-format off
    static const std::uint8_t bytes[] = {
        // section header block, little endian, version 1.0, section length unknown
        0x0a, 0x0d, 0x0d, 0x0a, 0x1c, 0x00, 0x00, 0x00, 0x4d, 0x3c, 0x2b, 0x1a, 0x01, 0x00,
        0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x1c, 0x00, 0x00, 0x00,
        // interface description block: Ethernet, snaplen 65535, no options (microseconds)
        0x01, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0xff, 0xff,
        0x00, 0x00, 0x14, 0x00, 0x00, 0x00,
        // enhanced packet block: interface 0, timestamp 2e16 us, 14 bytes captured
        0x06, 0x00, 0x00, 0x00, 0x30, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xe4, 0x0d,
        0x47, 0x00, 0x00, 0x00, 0x82, 0xdf, 0x0e, 0x00, 0x00, 0x00, 0x0e, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x30, 0x00, 0x00, 0x00,
    };
    // clang-format on
    capgap::fuzz::run_capture(bytes, sizeof bytes);
}

TEST_CASE("fuzz capture: segment times within seconds of the largest Timestamp") {
    // fuzz_capture (with PcapSource's overflow above saturated locally), UBSan
    // signed-integer-overflow in Tracker::Impl::housekeeping (src/track/tracker.cpp): the next
    // sweep time is now + sweep interval, which overflows for times near INT64_MAX nanoseconds.
    // Reachable through Tracker::feed and Analyzer::feed_segment with any such time.
    capgap::Tracker tracker;
    capgap::Segment s;
    s.src = capgap::fuzz::endpoint_v4(1, 40000);
    s.dst = capgap::fuzz::endpoint_v4(9, 80);
    s.flags = capgap::tcp_flags::syn;
    s.seq = 1000;
    s.frame = 1;
    s.time = capgap::Timestamp{std::numeric_limits<std::int64_t>::max() - 1'000'000'000};
    tracker.feed(s);
    s.flags = capgap::tcp_flags::ack;
    s.seq = 1001;
    s.frame = 2;
    s.time = capgap::Timestamp{std::numeric_limits<std::int64_t>::max()};
    tracker.feed(s);
    tracker.finish();
    CHECK(tracker.sessions().size() == 1);
}

TEST_CASE("fuzz state: empty and garbage bodies are refused, never a crash") {
    capgap::fuzz::run_state(nullptr, 0);
    static const std::uint8_t garbage[] = {'T', 'R', 'A', 'K', 0xff, 0xff, 0xff, 0xff, 0x01};
    capgap::fuzz::run_state(garbage, sizeof garbage);
}

TEST_CASE("fuzz state: the seed corpus holds states this version resumes") {
    // The seeds are bodies of states saved by capgap (fuzz/README.md): a format change that
    // refuses them needs new seeds, or the fuzzer would start from bytes it rejects at once.
    const std::filesystem::path dir =
        std::filesystem::path(CAPGAP_TEST_DATA) / ".." / ".." / "fuzz" / "corpus" / "state";
    std::size_t seeds = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        std::ifstream in(entry.path(), std::ios::binary);
        const std::string body((std::istreambuf_iterator<char>(in)),
                               std::istreambuf_iterator<char>());
        CAPTURE(entry.path().string());
        const capgap::FlowState state =
            capgap::FlowState::load(capgap::detail::frame_state(body), entry.path().string());
        capgap::Analyzer a;
        CHECK_NOTHROW(a.resume(state));
        CHECK(state.open_sessions() > 0);
        capgap::fuzz::run_state(reinterpret_cast<const std::uint8_t*>(body.data()), body.size());
        ++seeds;
    }
    CHECK(seeds > 0);
}

TEST_CASE("fuzz state: states fuzz_state found inconsistent are refused") {
    // Each was one changed byte of a seed; resuming it used to give an inconsistent report.
    //  - state_hole_before_start: a direction's start moved above its hole, whose offset from
    //    the start then went negative (an event 2^64 - 70 TB into the stream);
    //  - state_shared_session_id: two open sessions with one id.
    for (const char* name : {"state_hole_before_start.bin", "state_shared_session_id.bin"}) {
        const std::string path = std::string(CAPGAP_TEST_DATA) + "/fuzz/" + name;
        CAPTURE(path);
        std::ifstream in(path, std::ios::binary);
        const std::string body((std::istreambuf_iterator<char>(in)),
                               std::istreambuf_iterator<char>());
        REQUIRE(!body.empty());
        capgap::Analyzer a;
        CHECK_THROWS_AS(a.resume(capgap::FlowState::load(capgap::detail::frame_state(body), path)),
                        capgap::format_error);
        capgap::fuzz::run_state(reinterpret_cast<const std::uint8_t*>(body.data()), body.size());
    }
}

TEST_CASE("fuzz state: a session's first and last times 10^19 ns apart") {
    // Found by fuzz_state under UBSan: the sessions table's duration, last - first time,
    // overflowed. Any two times now give a saturated duration.
    const std::string path = std::string(CAPGAP_TEST_DATA) + "/fuzz/state_times_far_apart.bin";
    std::ifstream in(path, std::ios::binary);
    const std::string body((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    REQUIRE(!body.empty());
    capgap::fuzz::run_state(reinterpret_cast<const std::uint8_t*>(body.data()), body.size());
    capgap::Session s;
    s.first_time.ns = -8'076'145'901'589'250'683;
    s.last_time.ns = 1'795'744'481'601'957'381;
    capgap::Report r;
    r.sessions.push_back(capgap::SessionRow{});
    r.sessions.back().session = s;
    std::ostringstream csv;
    r.write_sessions_csv(csv);
    CHECK(csv.str().find(std::to_string(std::numeric_limits<std::int64_t>::max())) !=
          std::string::npos);
}

TEST_CASE("fuzz report: empty and garbage bodies are refused, the seed corpus is read back") {
    capgap::fuzz::run_report(nullptr, 0);
    static const std::uint8_t garbage[] = {'S', 'U', 'M', 'M', 0x07, 0xff, 0xff, 0xff, 0x01};
    capgap::fuzz::run_report(garbage, sizeof garbage);
    // The seeds are bodies of reports capgap wrote (fuzz/README.md): a format change that
    // refuses them needs new seeds, or the fuzzer would start from bytes it rejects at once.
    const std::filesystem::path dir =
        std::filesystem::path(CAPGAP_TEST_DATA) / ".." / ".." / "fuzz" / "corpus" / "report";
    std::size_t seeds = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        std::ifstream in(entry.path(), std::ios::binary);
        const std::string body((std::istreambuf_iterator<char>(in)),
                               std::istreambuf_iterator<char>());
        CAPTURE(entry.path().string());
        CHECK_NOTHROW((void)capgap::report_from_bytes(
            capgap::detail::frame_bytes(capgap::detail::report_frame, body)));
        capgap::fuzz::run_report(reinterpret_cast<const std::uint8_t*>(body.data()), body.size());
        ++seeds;
    }
    CHECK(seeds > 0);
}
