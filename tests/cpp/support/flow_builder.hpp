// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
#pragma once
// Test helper: TCP flows built in code, segment by segment, and the tracker's verdicts on them.

#include <capgap/flow_key.hpp>
#include <capgap/loss_event.hpp>
#include <capgap/segment.hpp>
#include <capgap/session.hpp>
#include <capgap/tracker.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace capgap::test {

inline Endpoint endpoint(std::uint8_t last, std::uint16_t port) {
    const std::uint8_t b[4] = {10, 0, 0, last};
    return Endpoint{IpAddress::v4(b), port};
}

// One connection between a client and a server. Sequence numbers are written relative to
// each side's ISN: c(1, 100) is client payload bytes 1..100 after the SYN.
struct Flow {
    Endpoint client = endpoint(1, 40000);
    Endpoint server = endpoint(2, 80);
    std::uint32_t cisn = 1000;
    std::uint32_t sisn = 5000;
    std::int64_t t_ns = 1'700'000'000'000'000'000;
    std::int64_t step_ns = 1'000'000;  // 1 ms between packets unless said otherwise
    std::uint64_t frame = 0;
    std::vector<Segment>* out;

    explicit Flow(std::vector<Segment>& o) : out(&o) {}

    Segment& raw(bool from_client, std::uint32_t seq, std::uint32_t ack, std::uint8_t flags,
                 std::uint32_t len) {
        Segment s;
        s.frame = ++frame;
        t_ns += step_ns;
        s.time = Timestamp{t_ns};
        s.src = from_client ? client : server;
        s.dst = from_client ? server : client;
        s.seq = seq;
        s.ack = ack;
        s.flags = flags;
        s.payload_len = len;
        s.window = 65535;
        out->push_back(s);
        return out->back();
    }
    // Client segment at relative seq, with ACK of relative server seq (ACK flag set).
    Segment& c(std::uint32_t rel, std::uint32_t len, std::uint32_t rack = 1,
               std::uint8_t extra = 0) {
        return raw(true, cisn + rel, sisn + rack, static_cast<std::uint8_t>(tcp_flags::ack | extra),
                   len);
    }
    Segment& s(std::uint32_t rel, std::uint32_t len, std::uint32_t rack = 1,
               std::uint8_t extra = 0) {
        return raw(false, sisn + rel, cisn + rack,
                   static_cast<std::uint8_t>(tcp_flags::ack | extra), len);
    }
    Segment& syn() { return raw(true, cisn, 0, tcp_flags::syn, 0); }
    Segment& synack() { return raw(false, sisn, cisn + 1, tcp_flags::syn | tcp_flags::ack, 0); }
    void handshake() {
        syn();
        synack();
        c(1, 0);
    }
    // Advances the clock without a packet.
    void wait_ms(std::int64_t ms) { t_ns += ms * 1'000'000; }
};

struct Result {
    std::vector<Session> sessions;
    std::vector<LossEvent> events;

    bool bad(std::uint64_t id) const {
        for (const auto& e : events)
            if (e.session_id == id && is_loss(e.kind)) return true;
        return false;
    }
    bool bad_ws(std::uint64_t id) const {
        for (const auto& e : events)
            if (e.session_id == id && is_wireshark_flag(e.kind)) return true;
        return false;
    }
    int count(std::uint64_t id, EventKind k, Direction d) const {
        int n = 0;
        for (const auto& e : events)
            if (e.session_id == id && e.kind == k && e.direction == d) ++n;
        return n;
    }
    const LossEvent* first(std::uint64_t id, EventKind k) const {
        for (const auto& e : events)
            if (e.session_id == id && e.kind == k) return &e;
        return nullptr;
    }
};

inline Result track(const std::vector<Segment>& segs, TrackerOptions opt = {}) {
    Tracker t(opt);
    for (const auto& s : segs)
        t.feed(s);
    t.finish();
    return Result{t.take_sessions(), t.take_events()};
}

}  // namespace capgap::test
