// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// The flow state (docs/state-format.md): a run cut at every segment, suspended and resumed
// through the serialized bytes, merges into the report of the uncut run; the loader refuses
// every damaged or truncated state with format_error, never a crash.
#include <doctest/doctest.h>

#include <capgap/analyze.hpp>
#include <capgap/errors.hpp>
#include <capgap/flow_state.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "pipeline/state_format.hpp"

using namespace capgap;

namespace {

Endpoint ep(std::uint8_t host, std::uint16_t port) {
    Endpoint e;
    e.addr.bytes[0] = 10;
    e.addr.bytes[3] = host;
    e.port = port;
    return e;
}

constexpr std::uint8_t SYN = tcp_flags::syn, ACK = tcp_flags::ack, FIN = tcp_flags::fin;

// Two connections interleaved: one with a hole the server ACKs (acked_unseen) and a duplicate,
// one with a hole never acked (gap_unacked), closed; a third left open. 1 ms apart.
std::vector<Segment> segments() {
    std::vector<Segment> out;
    auto add = [&](Endpoint s, Endpoint d, std::uint32_t seq, std::uint32_t ack, std::uint8_t fl,
                   std::uint32_t len) {
        Segment g;
        g.frame = out.size() + 1;
        g.time = Timestamp{1'700'000'000'000'000'000 +
                           static_cast<std::int64_t>(out.size()) * 1'000'000};
        g.src = s;
        g.dst = d;
        g.seq = seq;
        g.ack = ack;
        g.flags = fl;
        g.payload_len = len;
        g.window = 1000;
        g.checksum = static_cast<std::uint16_t>(out.size() * 7);
        out.push_back(g);
    };
    const Endpoint c1 = ep(2, 40000), s1 = ep(1, 80), c2 = ep(3, 40001), s2 = ep(1, 443);
    const Endpoint c3 = ep(4, 40002);
    add(c1, s1, 100, 0, SYN, 0);
    add(c2, s2, 700, 0, SYN, 0);
    add(s1, c1, 5000, 101, SYN | ACK, 0);
    add(s2, c2, 9000, 701, SYN | ACK, 0);
    add(c1, s1, 101, 5001, ACK, 0);
    add(c2, s2, 701, 9001, ACK, 0);
    add(c1, s1, 101, 5001, ACK, 100);
    add(c1, s1, 301, 5001, ACK, 100);  // 201..301 never seen
    add(s1, c1, 5001, 401, ACK, 0);    // and acked: acked_unseen
    add(c2, s2, 701, 9001, ACK, 50);
    out.push_back(out.back());  // a SPAN duplicate of it
    out.back().frame = out.size();
    add(c3, s1, 1, 0, SYN, 0);
    add(c2, s2, 851, 9001, ACK, 50);  // 751..851 never seen, never acked: gap_unacked
    add(s2, c2, 9001, 751, ACK, 0);
    add(c1, s1, 401, 5001, FIN | ACK, 0);
    add(s1, c1, 5001, 402, FIN | ACK, 0);
    add(c1, s1, 402, 5002, ACK, 0);
    add(c2, s2, 901, 9001, FIN | ACK, 0);
    add(s2, c2, 9001, 902, FIN | ACK, 0);
    return out;
}

Report run(const std::vector<Segment>& segs, std::size_t begin, std::size_t end,
           const FlowState* resume, FlowState* suspend_to) {
    Analyzer a;
    if (resume != nullptr) a.resume(*resume);
    for (std::size_t i = begin; i < end; ++i)
        a.feed_segment(segs[i]);
    if (suspend_to == nullptr) return a.finish();
    PieceResult p = a.suspend();
    *suspend_to = p.state;
    return p.report;
}

}  // namespace

TEST_CASE("a run suspended and resumed at any segment merges into the uncut run") {
    const std::vector<Segment> segs = segments();
    const Report whole = run(segs, 0, segs.size(), nullptr, nullptr);
    REQUIRE(whole.sessions.size() == 3);
    REQUIRE(whole.summary.bad_confirmed == 2);
    for (std::size_t cut = 1; cut < segs.size(); ++cut) {
        CAPTURE(cut);
        FlowState st;
        const Report first = run(segs, 0, cut, nullptr, &st);
        // Through the bytes, as between two processes.
        const FlowState loaded = FlowState::load(st.bytes(), "state");
        CHECK(loaded.bytes() == st.bytes());
        CHECK(loaded.frames() == cut);
        CHECK(loaded.next_piece() == 1);
        const Report second = run(segs, cut, segs.size(), &loaded, nullptr);
        const Report merged = merge_reports({first, second});
        CHECK(merged.summary.total_sessions == whole.summary.total_sessions);
        CHECK(merged.summary.bad_confirmed == whole.summary.bad_confirmed);
        CHECK(merged.summary.bad_wireshark == whole.summary.bad_wireshark);
        REQUIRE(merged.sessions.size() == whole.sessions.size());
        for (std::size_t i = 0; i < whole.sessions.size(); ++i) {
            CHECK(merged.sessions[i].session == whole.sessions[i].session);
            CHECK(merged.sessions[i].bad == whole.sessions[i].bad);
            CHECK(merged.sessions[i].missing_bytes == whole.sessions[i].missing_bytes);
        }
        CHECK(merged.events == whole.events);
        CHECK(merged.ingest.duplicate_packets == whole.ingest.duplicate_packets);
        CHECK(merged.ingest.packets_read == whole.ingest.packets_read);
        CHECK(merged.ingest.open_flows_peak == whole.ingest.open_flows_peak);
        CHECK(merged.timeline == whole.timeline);
        REQUIRE(merged.parts.size() == 1);
        CHECK(merged.parts[0].first_piece == 0);
        CHECK(merged.parts[0].last_piece == 1);
    }
}

TEST_CASE("a damaged state is refused with format_error naming it and the offset") {
    const std::vector<Segment> segs = segments();
    FlowState st;
    run(segs, 0, 12, nullptr, &st);
    const std::string good = st.bytes();
    REQUIRE(good.size() > detail::state_header_size);

    SUBCASE("every truncation") {
        for (std::size_t n = 0; n < good.size(); ++n)
            CHECK_THROWS_AS(FlowState::load(good.substr(0, n), "s"), format_error);
    }
    SUBCASE("every flipped byte") {
        for (std::size_t i = 0; i < good.size(); ++i) {
            std::string bad = good;
            bad[i] = static_cast<char>(bad[i] ^ 0x01);
            CHECK_THROWS_AS(FlowState::load(bad, "s"), format_error);
        }
    }
    SUBCASE("a body cut short but framed as whole: refused when resumed, at an offset") {
        const std::string body = good.substr(detail::state_header_size);
        for (std::size_t n = 0; n < body.size(); n += 3) {
            const std::string framed = detail::frame_state(body.substr(0, n));
            try {
                Analyzer a;
                a.resume(FlowState::load(framed, "cut.state"));
                FAIL("a body of " << n << " bytes was taken");
            } catch (const format_error& e) {
                CHECK(std::string(e.what()).rfind("cut.state:offset ", 0) == 0);
            }
        }
    }
    SUBCASE("a body with a changed byte, framed again: refused or taken, never a crash") {
        const std::string body = good.substr(detail::state_header_size);
        for (std::size_t i = 0; i < body.size(); ++i) {
            std::string b = body;
            b[i] = static_cast<char>(0xff);
            Analyzer a;
            try {
                a.resume(FlowState::load(detail::frame_state(b), "x"));
                for (std::size_t k = 12; k < segs.size(); ++k)
                    a.feed_segment(segs[k]);
                (void)a.finish();
            } catch (const format_error&) {
            } catch (const parse_error&) {  // an option's value changed
            }
        }
    }
}

TEST_CASE("resuming with other options names the option") {
    const std::vector<Segment> segs = segments();
    FlowState st;
    run(segs, 0, 5, nullptr, &st);
    Options o;
    o.tracker.idle_timeout_ns = 5'000'000'000;
    Analyzer a(o);
    CHECK_THROWS_WITH_AS(a.resume(st),
                         doctest::Contains("tracker.idle_timeout_ns = 900000000000, this analysis "
                                           "has 5000000000"),
                         parse_error);
}

TEST_CASE("resume comes before the first packet") {
    const std::vector<Segment> segs = segments();
    FlowState st;
    run(segs, 0, 5, nullptr, &st);
    Analyzer a;
    a.feed_segment(segs[5]);
    CHECK_THROWS_AS(a.resume(st), std::logic_error);
}
