// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// docs/counting-rules.md section 8, row by row: each case built in code, both verdicts asserted.

#include <doctest/doctest.h>

#include "support/flow_builder.hpp"

using namespace capgap;
using capgap::test::Flow;
using capgap::test::track;

namespace {
constexpr auto F = tcp_flags::fin;
constexpr auto R = tcp_flags::rst;
constexpr auto P = tcp_flags::psh;

// Client FIN, server FIN-ACK, client ACK after `cend` client and `send` server bytes.
void close_flow(Flow& f, std::uint32_t cend, std::uint32_t send) {
    f.c(cend, 0, send, F);
    f.s(send, 0, cend + 1, F);
    f.c(cend + 1, 0, send + 1);
}
}  // namespace

TEST_CASE("case 1: clean handshake, data, FIN -> good / good") {
    std::vector<Segment> v;
    Flow f(v);
    f.handshake();
    f.c(1, 100, 1, P);
    f.s(1, 200, 101, P);
    f.c(101, 0, 201);
    close_flow(f, 101, 201);
    auto r = track(v);
    REQUIRE(r.sessions.size() == 1);
    CHECK(r.sessions[0].category == SessionCategory::complete);
    CHECK(r.sessions[0].syn_frame == 1);
    CHECK(r.sessions[0].packets == v.size());
    CHECK_FALSE(r.bad(0));
    CHECK_FALSE(r.bad_ws(0));
    CHECK(r.events.empty());
}

TEST_CASE("case 2: client data missed, peer ACK seen -> bad acked_unseen c2s / bad") {
    std::vector<Segment> v;
    Flow f(v);
    f.handshake();
    f.c(1, 100);
    // c(101, 100) missed
    f.s(1, 0, 201);
    f.c(201, 100);
    f.s(1, 0, 301);
    auto r = track(v);
    CHECK(r.bad(0));
    CHECK(r.bad_ws(0));
    REQUIRE(r.count(0, EventKind::acked_unseen, Direction::c2s) == 1);
    const LossEvent* e = r.first(0, EventKind::acked_unseen);
    CHECK(e->missing_bytes == 100);
    CHECK(e->seq_begin == 101);
    CHECK(e->seq_end == 201);
    CHECK(e->frame == 5);  // the server's ACK revealed it
}

TEST_CASE("case 3: data and its ACK missed, later cumulative ACK -> bad / bad") {
    std::vector<Segment> v;
    Flow f(v);
    f.handshake();
    f.c(1, 100);
    f.s(1, 0, 101);
    // c(101, 100) and its ACK missed
    f.c(201, 100);
    f.s(1, 0, 301);
    auto r = track(v);
    CHECK(r.bad(0));
    CHECK(r.bad_ws(0));
    CHECK(r.count(0, EventKind::acked_unseen, Direction::c2s) == 1);
    CHECK(r.first(0, EventKind::acked_unseen)->missing_bytes == 100);
}

TEST_CASE("case 4: only a pure ACK missed -> good / good") {
    std::vector<Segment> v;
    Flow f(v);
    f.handshake();
    f.s(1, 100);
    // the client's ACK of 101 missed
    f.s(101, 100);
    f.c(1, 0, 201);
    close_flow(f, 1, 201);
    auto r = track(v);
    CHECK_FALSE(r.bad(0));
    CHECK_FALSE(r.bad_ws(0));
}

TEST_CASE("case 5: last data segment missed, then FIN, FIN-ACK -> bad / bad") {
    std::vector<Segment> v;
    Flow f(v);
    f.handshake();
    f.c(1, 100);
    f.s(1, 0, 101);
    // c(101, 50) missed
    f.c(151, 0, 1, F);
    f.s(1, 0, 152, F);
    f.c(152, 0, 2);
    auto r = track(v);
    CHECK(r.bad(0));
    CHECK(r.bad_ws(0));
    CHECK(r.first(0, EventKind::acked_unseen)->missing_bytes == 50);
}

TEST_CASE("case 6: capture reordering filled before any ACK -> good, reordered / bad") {
    std::vector<Segment> v;
    Flow f(v);
    f.handshake();
    f.c(101, 100);  // captured before the earlier segment
    f.c(1, 100);
    f.s(1, 0, 201);
    auto r = track(v);
    CHECK_FALSE(r.bad(0));
    CHECK(r.bad_ws(0));
    CHECK(r.count(0, EventKind::reordered, Direction::c2s) == 1);
}

TEST_CASE("case 7: upstream loss repaired by retransmission -> good, reordered / bad") {
    std::vector<Segment> v;
    Flow f(v);
    f.handshake();
    f.c(1, 100);
    f.s(1, 0, 101);
    f.c(201, 100);   // 101..200 lost before the tap
    f.s(1, 0, 101);  // dup ACK
    f.wait_ms(200);
    f.c(101, 100);  // retransmission fills the hole
    f.s(1, 0, 301);
    auto r = track(v);
    CHECK_FALSE(r.bad(0));
    CHECK(r.bad_ws(0));
    CHECK(r.count(0, EventKind::reordered, Direction::c2s) == 1);
}

TEST_CASE("case 8: ACK captured before its data, data within 3 ms -> good / bad") {
    std::vector<Segment> v;
    Flow f(v);
    f.handshake();
    f.step_ns = 500'000;
    f.s(1, 0, 101);  // ACK of data the tap delivers next
    f.c(1, 100);
    auto r = track(v);
    CHECK_FALSE(r.bad(0));
    CHECK(r.bad_ws(0));
    CHECK(r.count(0, EventKind::acked_before_data, Direction::c2s) == 1);
}

TEST_CASE("case 9: data missed, spurious retransmission 30 ms after the ACK -> bad / bad") {
    std::vector<Segment> v;
    Flow f(v);
    f.handshake();
    f.c(1, 100);
    // c(101, 100) missed
    f.c(201, 100);
    f.s(1, 0, 301);
    f.wait_ms(30);
    f.c(101, 100);  // late spurious retransmission
    auto r = track(v);
    CHECK(r.bad(0));
    CHECK(r.bad_ws(0));
    const LossEvent* e = r.first(0, EventKind::acked_unseen);
    REQUIRE(e != nullptr);
    CHECK(e->late_filled);
    CHECK(e->missing_bytes == 100);
}

TEST_CASE("case 10: retransmissions and duplicated frames -> good / good") {
    std::vector<Segment> v;
    Flow f(v);
    f.handshake();
    f.c(1, 100);
    f.c(1, 100);  // SPAN duplicate
    f.s(1, 0, 101);
    f.s(1, 0, 101);
    f.c(101, 100);
    f.wait_ms(200);
    f.c(101, 100);  // retransmission
    f.s(1, 0, 201);
    auto r = track(v);
    CHECK_FALSE(r.bad(0));
    CHECK_FALSE(r.bad_ws(0));
}

TEST_CASE("case 11: keep-alive seq = next-1, len 0 or 1 -> good / good") {
    std::vector<Segment> v;
    Flow f(v);
    f.handshake();
    f.c(1, 100);
    f.s(1, 0, 101);
    f.c(100, 0);  // keep-alive, len 0
    f.s(1, 0, 101);
    f.c(100, 1);  // keep-alive, len 1
    f.s(1, 0, 101);
    auto r = track(v);
    CHECK_FALSE(r.bad(0));
    CHECK_FALSE(r.bad_ws(0));
}

TEST_CASE("case 12: 1-byte zero-window probe, byte accepted later -> good / good") {
    std::vector<Segment> v;
    Flow f(v);
    f.handshake();
    f.c(1, 100);
    f.s(1, 0, 101).window = 0;
    f.c(101, 1);                   // probe
    f.s(1, 0, 101).window = 0;     // not accepted yet
    f.c(101, 1);                   // probe again
    f.s(1, 0, 102).window = 1000;  // accepted
    f.c(102, 100);
    f.s(1, 0, 202);
    auto r = track(v);
    CHECK_FALSE(r.bad(0));
    CHECK_FALSE(r.bad_ws(0));
}

TEST_CASE("case 13: port reuse with a new ISN after FIN, drop in the second -> 2, 2nd bad") {
    std::vector<Segment> v;
    Flow f(v);
    f.handshake();
    f.c(1, 100);
    f.s(1, 0, 101);
    close_flow(f, 101, 1);
    f.cisn = 900000;
    f.sisn = 700000;
    f.handshake();
    f.c(1, 100);
    // c(101, 100) missed
    f.c(201, 100);
    f.s(1, 0, 301);
    auto r = track(v);
    REQUIRE(r.sessions.size() == 2);
    CHECK(r.sessions[1].syn_frame == 9);
    CHECK_FALSE(r.bad(0));
    CHECK_FALSE(r.bad_ws(0));
    CHECK(r.bad(1));
    CHECK(r.bad_ws(1));
}

TEST_CASE("case 14: answered connection reset, then a SYN with the same ISN -> 2 instances") {
    std::vector<Segment> v;
    Flow f(v);
    f.handshake();
    f.c(1, 100);
    f.s(1, 0, 101);
    f.raw(true, f.cisn + 101, 0, R, 0);
    f.handshake();  // same ISNs
    auto r = track(v);
    CHECK(r.sessions.size() == 2);
    CHECK_FALSE(r.bad(0));
    CHECK_FALSE(r.bad(1));
    CHECK_FALSE(r.bad_ws(0));
    CHECK_FALSE(r.bad_ws(1));
}

TEST_CASE("case 15: SYN retransmitted with the same ISN -> 1 instance") {
    std::vector<Segment> v;
    Flow f(v);
    f.syn();
    f.wait_ms(1000);
    f.syn();
    f.synack();
    f.c(1, 0);
    auto r = track(v);
    REQUIRE(r.sessions.size() == 1);
    CHECK(r.sessions[0].syn_count == 2);
    CHECK(r.sessions[0].syn_frame == 1);
    CHECK_FALSE(r.bad(0));
    CHECK_FALSE(r.bad_ws(0));
}

TEST_CASE("case 16: ISN 2^32-151, drop across the wrap -> bad / bad") {
    std::vector<Segment> v;
    Flow f(v);
    f.cisn = 4294967296u - 151u;
    f.handshake();
    f.c(1, 100);
    // c(101, 100) missed: it straddles the wrap
    f.c(201, 100);
    f.s(1, 0, 301);
    auto r = track(v);
    CHECK(r.bad(0));
    CHECK(r.bad_ws(0));
    const LossEvent* e = r.first(0, EventKind::acked_unseen);
    REQUIRE(e != nullptr);
    CHECK(e->seq_begin == 101);
    CHECK(e->missing_bytes == 100);
}

TEST_CASE("case 17: ISN 0xFFFFFFFF, first data segment missed -> bad / bad") {
    std::vector<Segment> v;
    Flow f(v);
    f.cisn = 0xFFFFFFFFu;
    f.handshake();
    // c(1, 100) missed
    f.c(101, 100);
    f.s(1, 0, 201);
    auto r = track(v);
    CHECK(r.bad(0));
    CHECK(r.bad_ws(0));
    CHECK(r.first(0, EventKind::acked_unseen)->missing_bytes == 100);
}

TEST_CASE("case 18: snaplen-truncated payloads -> good, truncated_bytes > 0 / good") {
    std::vector<Segment> v;
    Flow f(v);
    f.handshake();
    f.c(1, 1400).truncated_bytes = 1400 - 64;
    f.c(1401, 1400).truncated_bytes = 1400 - 64;
    f.s(1, 0, 2801);
    auto r = track(v);
    CHECK_FALSE(r.bad(0));
    CHECK_FALSE(r.bad_ws(0));
    CHECK(r.sessions[0].truncated_bytes == 2 * (1400 - 64));
}

TEST_CASE("case 19/20: TSO length and segments larger than the MSS -> good / good") {
    // The decoder gives the on-wire length (captured length when IPv4 total length is 0);
    // the tracker must accept any segment size.
    std::vector<Segment> v;
    Flow f(v);
    f.handshake();
    f.c(1, 64000);
    f.c(64001, 1460);
    f.s(1, 0, 65461);
    auto r = track(v);
    CHECK_FALSE(r.bad(0));
    CHECK_FALSE(r.bad_ws(0));
}

TEST_CASE("case 21: capture starts mid-stream -> partial, not counted") {
    std::vector<Segment> v;
    Flow f(v);
    f.c(5001, 100);
    f.s(9001, 0, 5101);
    f.c(5101, 100);
    auto r = track(v);
    REQUIRE(r.sessions.size() == 1);
    CHECK(r.sessions[0].category == SessionCategory::partial);
    CHECK_FALSE(is_counted(r.sessions[0].category));
    CHECK(r.sessions[0].client == f.client);  // the higher (ephemeral) port
    CHECK_FALSE(r.bad(0));
}

TEST_CASE("case 22: SYN only, never answered -> counted, good, syn_only") {
    std::vector<Segment> v;
    Flow f(v);
    f.syn();
    f.wait_ms(1000);
    f.syn();
    auto r = track(v);
    REQUIRE(r.sessions.size() == 1);
    CHECK(r.sessions[0].category == SessionCategory::syn_only);
    CHECK(is_counted(r.sessions[0].category));
    CHECK_FALSE(r.bad(0));
    CHECK_FALSE(r.bad_ws(0));
}

TEST_CASE("case 23: RST with seq beyond the highest seen byte -> good / good") {
    std::vector<Segment> v;
    Flow f(v);
    f.handshake();
    f.c(1, 100);
    f.s(1, 0, 101);
    f.raw(true, f.cisn + 5000, 0, R, 0);
    auto r = track(v);
    CHECK_FALSE(r.bad(0));
    CHECK_FALSE(r.bad_ws(0));
}

TEST_CASE("case 24: server segment missed, client ACK seen -> bad acked_unseen s2c / bad") {
    std::vector<Segment> v;
    Flow f(v);
    f.handshake();
    f.c(1, 100);
    f.s(1, 1000, 101);
    // s(1001, 1000) missed
    f.s(2001, 1000, 101);
    f.c(101, 0, 3001);
    auto r = track(v);
    CHECK(r.bad(0));
    CHECK(r.bad_ws(0));
    CHECK(r.count(0, EventKind::acked_unseen, Direction::s2c) == 1);
    CHECK(r.count(0, EventKind::acked_unseen, Direction::c2s) == 0);
    CHECK(r.first(0, EventKind::acked_unseen)->missing_bytes == 1000);
}

TEST_CASE("case 25: TCP Fast Open SYN with data -> good / good") {
    std::vector<Segment> v;
    Flow f(v);
    f.raw(true, f.cisn, 0, tcp_flags::syn, 50);
    f.raw(false, f.sisn, f.cisn + 51, tcp_flags::syn | tcp_flags::ack, 0);
    f.c(51, 0);
    f.c(51, 100);
    f.s(1, 0, 151);
    auto r = track(v);
    REQUIRE(r.sessions.size() == 1);
    CHECK_FALSE(r.bad(0));
    CHECK_FALSE(r.bad_ws(0));
}

TEST_CASE("case 26: SYN missed, SYN-ACK seen -> synack_only, not counted") {
    std::vector<Segment> v;
    Flow f(v);
    f.synack();
    f.c(1, 0);
    f.c(1, 100);
    f.s(1, 0, 101);
    auto r = track(v);
    REQUIRE(r.sessions.size() == 1);
    CHECK(r.sessions[0].category == SessionCategory::synack_only);
    CHECK(r.sessions[0].client == f.client);
    CHECK_FALSE(is_counted(r.sessions[0].category));
    CHECK_FALSE(r.bad(0));
}

TEST_CASE("case 26b: a late SYN joins its SYN-ACK's instance, counted at the SYN") {
    std::vector<Segment> v;
    Flow f(v);
    f.synack();
    f.syn();  // the tap delivered it late
    f.c(1, 0);
    auto r = track(v);
    REQUIRE(r.sessions.size() == 1);
    CHECK(r.sessions[0].category == SessionCategory::complete);
    CHECK(r.sessions[0].syn_frame == 2);
    CHECK_FALSE(r.bad(0));
}

TEST_CASE("case 27: SYN-ACK missed, handshake ACK seen -> bad control_missing / good") {
    std::vector<Segment> v;
    Flow f(v);
    f.syn();
    // SYN-ACK missed
    f.c(1, 0);
    f.c(1, 100);
    f.s(1, 200, 101);
    f.c(101, 0, 201);
    auto r = track(v);
    CHECK(r.bad(0));
    CHECK_FALSE(r.bad_ws(0));
    const LossEvent* e = r.first(0, EventKind::control_missing);
    REQUIRE(e != nullptr);
    CHECK(e->direction == Direction::s2c);
    CHECK(e->missing_bytes == 0);
    CHECK(r.count(0, EventKind::acked_unseen, Direction::s2c) == 0);
}

TEST_CASE("case 28: FIN missed, its ACK seen -> bad control_missing / bad") {
    std::vector<Segment> v;
    Flow f(v);
    f.handshake();
    f.c(1, 100);
    f.s(1, 0, 101);
    // the client's FIN (seq 101) missed
    f.s(1, 0, 102, F);
    f.c(102, 0, 2);
    auto r = track(v);
    CHECK(r.bad(0));
    CHECK(r.bad_ws(0));
    const LossEvent* e = r.first(0, EventKind::control_missing);
    REQUIRE(e != nullptr);
    CHECK(e->direction == Direction::c2s);
    CHECK(e->missing_bytes == 0);
}

TEST_CASE("case 29: tail drop revealed only by a non-RST ACK, no FIN -> bad / bad") {
    std::vector<Segment> v;
    Flow f(v);
    f.handshake();
    f.c(1, 100);
    // c(101, 100) missed: the last client segment
    f.s(1, 0, 201);
    auto r = track(v);
    CHECK(r.bad(0));
    CHECK(r.bad_ws(0));
    CHECK(r.first(0, EventKind::acked_unseen)->missing_bytes == 100);
}

TEST_CASE("case 32: one-sided capture -> one_sided; only interior holes are loss") {
    SUBCASE("clean one direction") {
        std::vector<Segment> v;
        Flow f(v);
        f.syn();
        f.c(1, 0);
        f.c(1, 100);
        f.c(101, 100, 1001);  // ACKs server data the capture never shows
        auto r = track(v);
        REQUIRE(r.sessions.size() == 1);
        CHECK(r.sessions[0].category == SessionCategory::one_sided);
        CHECK_FALSE(r.bad(0));
        CHECK_FALSE(r.bad_ws(0));
    }
    SUBCASE("interior hole") {
        std::vector<Segment> v;
        Flow f(v);
        f.syn();
        f.c(1, 0);
        f.c(1, 100);
        f.c(201, 100);  // 101..200 never seen
        auto r = track(v);
        CHECK(r.sessions[0].category == SessionCategory::one_sided);
        CHECK(r.bad(0));
        CHECK(r.count(0, EventKind::gap_unacked, Direction::c2s) == 1);
        CHECK(r.count(0, EventKind::control_missing, Direction::s2c) == 0);
        CHECK(r.bad_ws(0));
    }
}

TEST_CASE("case 33: SYN-ACK and first server segment missed -> bad s2c / good") {
    std::vector<Segment> v;
    Flow f(v);
    f.syn();
    f.c(1, 0);  // handshake ACK (SYN-ACK missed)
    f.c(1, 100);
    // s(1, 500) missed
    f.c(101, 0, 501);
    f.s(501, 500, 101);
    f.c(101, 0, 1001);
    auto r = track(v);
    CHECK(r.bad(0));
    CHECK_FALSE(r.bad_ws(0));
    const LossEvent* e = r.first(0, EventKind::acked_unseen);
    REQUIRE(e != nullptr);
    CHECK(e->direction == Direction::s2c);
    CHECK(e->missing_bytes == 500);  // the SYN-ACK phantom is not a byte
}

TEST_CASE("case 33b: the same, with a server pure ACK captured before the hole -> bad / bad") {
    std::vector<Segment> v;
    Flow f(v);
    f.syn();
    f.c(1, 0);
    f.c(1, 100);
    f.s(1, 0, 101);  // server pure ACK: Wireshark now has a baseline
    // s(1, 500) missed
    f.c(101, 0, 501);
    f.s(501, 500, 101);
    auto r = track(v);
    CHECK(r.bad(0));
    CHECK(r.bad_ws(0));
}

TEST_CASE("case 34: refused connect retried twice with the same ISN -> 1 instance, good") {
    std::vector<Segment> v;
    Flow f(v);
    for (int i = 0; i < 3; ++i) {
        f.syn();
        f.raw(false, 0, f.cisn + 1, R | tcp_flags::ack, 0);
        f.wait_ms(500);
    }
    auto r = track(v);
    REQUIRE(r.sessions.size() == 1);
    CHECK(r.sessions[0].syn_count == 3);
    CHECK(is_counted(r.sessions[0].category));
    CHECK_FALSE(r.bad(0));
    CHECK_FALSE(r.bad_ws(0));
}

TEST_CASE("case 35: challenge ACK, client RST, same-ISN retry -> 1 instance, good / bad") {
    std::vector<Segment> v;
    Flow f(v);
    f.syn();
    // the server still holds an old connection: challenge ACK with old numbers
    f.raw(false, 777777, f.cisn + 5000, tcp_flags::ack, 0);
    f.raw(true, f.cisn + 5000, 0, R, 0);  // SYN-SENT answers with a RST at that ACK
    f.wait_ms(1000);
    f.syn();
    f.synack();
    f.c(1, 0);
    f.c(1, 100);
    f.s(1, 0, 101);
    auto r = track(v);
    REQUIRE(r.sessions.size() == 1);
    CHECK_FALSE(r.bad(0));
    CHECK(r.bad_ws(0));
}

TEST_CASE("case 36: one SYN answered by SYN-ACKs with two ISNs -> 1 instance, good / good") {
    std::vector<Segment> v;
    Flow f(v);
    f.syn();
    f.synack();
    f.sisn = 123456789;
    f.synack();  // a new ISN before the client's ACK replaces the first
    f.c(1, 0);
    f.s(1, 100);
    f.c(1, 0, 101);
    auto r = track(v);
    REQUIRE(r.sessions.size() == 1);
    CHECK_FALSE(r.bad(0));
    CHECK_FALSE(r.bad_ws(0));
}

TEST_CASE("case 37: reuse after RST, new SYN and SYN-ACK missed -> old good, new partial") {
    std::vector<Segment> v;
    Flow f(v);
    f.handshake();
    f.c(1, 100);
    f.s(1, 0, 101);
    f.raw(true, f.cisn + 101, 0, R, 0);
    f.cisn = 90000000;
    f.sisn = 300000000;
    // new SYN and SYN-ACK missed
    f.c(1, 0);
    f.c(1, 100);
    f.s(1, 0, 101);
    auto r = track(v);
    REQUIRE(r.sessions.size() == 2);
    CHECK(is_counted(r.sessions[0].category));
    CHECK_FALSE(r.bad(0));
    CHECK_FALSE(r.bad_ws(0));
    CHECK(r.sessions[1].category == SessionCategory::partial);
    CHECK(r.sessions[1].first_frame == 7);
}

TEST_CASE("case 38: tail revealed only by the ACK on a RST -> good / bad") {
    std::vector<Segment> v;
    Flow f(v);
    f.handshake();
    f.c(1, 100);
    f.s(1, 0, 101);
    // c(101, 100) missed
    f.s(1, 0, 201, R);
    auto r = track(v);
    CHECK_FALSE(r.bad(0));
    CHECK(r.bad_ws(0));
}

TEST_CASE("case 39: missed data revealed only by the next pure ACK's seq -> bad gap_unacked") {
    std::vector<Segment> v;
    Flow f(v);
    f.handshake();
    f.s(1, 100);
    // c(1, 100) missed, and its ACK
    f.c(101, 0, 101);
    auto r = track(v);
    CHECK(r.bad(0));
    CHECK(r.bad_ws(0));
    CHECK(r.count(0, EventKind::gap_unacked, Direction::c2s) == 1);
    CHECK(r.first(0, EventKind::gap_unacked)->missing_bytes == 100);
}

TEST_CASE("case 40: refusing RST with seq 0, then a SYN-ACK -> good / good") {
    std::vector<Segment> v;
    Flow f(v);
    f.syn();
    f.raw(false, 0, f.cisn + 1, R | tcp_flags::ack, 0);
    f.synack();
    f.c(1, 0);
    f.c(1, 100);
    f.s(1, 0, 101);
    auto r = track(v);
    REQUIRE(r.sessions.size() == 1);
    CHECK_FALSE(r.bad(0));
    CHECK_FALSE(r.bad_ws(0));
}

TEST_CASE("case 41: retransmission re-segmented with new data (Wireshark #8404) -> good / bad") {
    std::vector<Segment> v;
    Flow f(v);
    f.handshake();
    f.c(1, 100);
    f.c(101, 100);
    f.s(1, 0, 101);
    f.wait_ms(200);
    f.c(101, 200);  // retransmission carrying 100 new bytes
    f.s(1, 0, 301);
    auto r = track(v);
    CHECK_FALSE(r.bad(0));
    CHECK(r.bad_ws(0));
}

TEST_CASE("a SYN-ACK with a new ISN after the client's ACK is stale") {
    std::vector<Segment> v;
    Flow f(v);
    f.handshake();
    const std::uint32_t old = f.sisn;
    f.sisn = 42;
    Tracker t;
    for (const auto& s : v)
        t.feed(s);
    f.out->clear();
    f.synack();
    CHECK(t.feed(v.back()) == FeedResult::stale_synack);
    f.sisn = old;
    v.clear();
    f.s(1, 100);
    f.c(1, 0, 101);
    for (const auto& s : v)
        t.feed(s);
    t.finish();
    REQUIRE(t.sessions().size() == 1);
    CHECK(t.sessions()[0].packets == 6);
    for (const auto& e : t.events())
        CHECK_FALSE(is_loss(e.kind));
}

TEST_CASE("case 40b: refusing RST and a stale FIN before the SYN-ACK -> good / bad (as tshark)") {
    // The server's FIN at seq 0 gives Wireshark a nextseq; the SYN-ACK's ISN then lies beyond
    // it. The default verdict starts the server's sequence space at the SYN-ACK.
    std::vector<Segment> v;
    Flow f(v);
    f.syn();
    f.raw(false, 0, f.cisn + 1, R | tcp_flags::ack, 0);
    f.raw(false, 0, f.cisn + 1, F | tcp_flags::ack, 0);
    f.raw(true, f.cisn + 1, 0, R, 0);
    f.synack();
    f.c(1, 0);
    f.c(1, 100);
    f.s(1, 0, 101);
    auto r = track(v);
    REQUIRE(r.sessions.size() == 1);
    CHECK_FALSE(r.bad(0));
    CHECK(r.bad_ws(0));
}

TEST_CASE("Wireshark flags an unseen segment's ACKs once") {
    std::vector<Segment> v;
    Flow f(v);
    f.handshake();
    f.c(1, 100);
    // c(101, 100) missed
    f.s(1, 0, 201);
    f.s(1, 0, 201);
    auto r = track(v);
    CHECK(r.count(0, EventKind::ws_ack_lost_segment, Direction::c2s) == 1);
}
