// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// track/wireshark_state.hpp on its own: when a packet raises Wireshark's two flags, and the
// once-per-unseen-segment rule of "ACKed unseen segment".

#include <doctest/doctest.h>

#include <cstdint>

#include "track/seq_space.hpp"
#include "track/wireshark_state.hpp"

using capgap::Segment;
using capgap::detail::phantoms;
using capgap::detail::wireshark_check;
using capgap::detail::wireshark_in_order;
using capgap::detail::WiresharkFlags;
using capgap::detail::WiresharkState;
namespace tcp_flags = capgap::tcp_flags;

namespace {

Segment seg(std::uint32_t seq, std::uint32_t ack, std::uint32_t len,
            std::uint8_t flags = tcp_flags::ack) {
    Segment s;
    s.seq = seq;
    s.ack = ack;
    s.payload_len = len;
    s.flags = flags;
    s.window = 1000;
    return s;
}

WiresharkFlags send(WiresharkState& own, WiresharkState& peer, const Segment& s) {
    return wireshark_check(own, peer, s, s.seq + s.payload_len + phantoms(s.flags));
}

}  // namespace

TEST_CASE("wireshark state: a jump past the sender's next sequence number is a lost segment") {
    WiresharkState c, s;
    CHECK_FALSE(send(c, s, seg(1000, 0, 0, tcp_flags::syn)).lost);
    CHECK(c.next == 1001);
    CHECK_FALSE(send(c, s, seg(1001, 1, 100)).lost);
    CHECK(c.next == 1101);
    CHECK(send(c, s, seg(1201, 1, 100)).lost);  // 1101..1200 not captured
    CHECK(c.next == 1301);
    CHECK_FALSE(send(c, s, seg(1101, 1, 100)).lost);  // the retransmission: not beyond next
    CHECK(c.next == 1301);
    CHECK_FALSE(send(c, s, seg(1400, 1, 0, tcp_flags::rst)).lost);  // a RST is never flagged
    CHECK(c.next == 1301);
}

TEST_CASE("wireshark state: an ACK of unseen data is flagged once, again after a new ACK") {
    WiresharkState c, s;
    (void)send(s, c, seg(5000, 0, 100, tcp_flags::ack));  // the server sent up to 5100
    CHECK(s.mstba == 5100);
    WiresharkFlags f = send(c, s, seg(1, 5300, 0));  // the client ACKs 5300: unseen data
    CHECK(f.ack_lost);
    CHECK_FALSE(f.lost);
    CHECK_FALSE(send(c, s, seg(1, 5300, 0)).ack_lost);  // the same unseen data: quiet
    CHECK_FALSE(send(c, s, seg(1, 5400, 0)).ack_lost);  // still quiet until the server ACKs
    (void)send(s, c, seg(5100, 1, 0));                  // the server ACKs anew
    CHECK(send(c, s, seg(1, 5400, 0)).ack_lost);
    CHECK_FALSE(send(c, s, seg(1, 5100, 0)).ack_lost);  // up to what was seen: no flag
}

TEST_CASE("wireshark state: header prediction's in-order test and the flag cap") {
    WiresharkState c, s;
    CHECK_FALSE(wireshark_in_order(c, s, seg(1, 0, 10)));  // nothing sent yet
    (void)send(c, s, seg(1, 0, 100));
    (void)send(s, c, seg(900, 101, 50));
    CHECK(wireshark_in_order(c, s, seg(101, 950, 10)));
    CHECK(wireshark_in_order(c, s, seg(50, 900, 10)));
    CHECK_FALSE(wireshark_in_order(c, s, seg(102, 950, 10)));  // past next
    CHECK_FALSE(wireshark_in_order(c, s, seg(101, 951, 10)));  // ACKs unseen data

    WiresharkState w;
    CHECK(w.keep_flag(2));
    CHECK(w.keep_flag(2));
    CHECK_FALSE(w.keep_flag(2));
    CHECK(w.flags_kept == 2);
}
