// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
#pragma once
// Private: the tracker's per-instance state, laid out for the per-packet path. An Instance is
// a session instance open in the flow table (docs/counting-rules.md section 2); its two DirStates
// hold each direction's state for both verdicts. The member order is the cache-line layout: change
// it only with the benchmark's instruction and cache-miss counts at hand.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include <capgap/flow_key.hpp>
#include <capgap/loss_event.hpp>
#include <capgap/segment.hpp>
#include <capgap/session.hpp>
#include <capgap/time.hpp>

#include "core/compiler.hpp"
#include "track/gaps.hpp"
#include "track/seq_space.hpp"
#include "track/wireshark_state.hpp"

namespace capgap::detail {

// A peer ACK held back while its owner may still reject it (the SYN-SENT rule of section 5).
struct PendingAck {
    std::uint32_t ack = 0;
    std::uint64_t frame = 0;
    Timestamp time;
};

enum class Start : std::uint8_t { none, provisional, fixed };

// The Wireshark verdict's events of an instance, which most instances never have: on the heap
// with the first one (a pointer in the instance rather than a vector's three), copied deeply.
struct EventListPtr : std::unique_ptr<std::vector<LossEvent>> {
    EventListPtr() = default;
    EventListPtr(EventListPtr&&) noexcept = default;
    EventListPtr& operator=(EventListPtr&&) noexcept = default;
    ~EventListPtr() = default;
    EventListPtr(const EventListPtr& o)
        : std::unique_ptr<std::vector<LossEvent>>(o ? std::make_unique<std::vector<LossEvent>>(*o)
                                                    : nullptr) {}
    EventListPtr& operator=(const EventListPtr& o) {
        if (this != &o) reset(o ? new std::vector<LossEvent>(*o) : nullptr);
        return *this;
    }
    std::vector<LossEvent>& for_write() {
        if (!*this) reset(new std::vector<LossEvent>());
        return **this;
    }
};

// The holes and runs of a direction, owned, copied deeply when an instance is copied (the
// live judgement of an open instance finishes a copy: Tracker::judge_open).
struct GapsPtr : std::unique_ptr<Gaps> {
    GapsPtr() = default;
    GapsPtr(GapsPtr&&) noexcept = default;
    GapsPtr& operator=(GapsPtr&&) noexcept = default;
    ~GapsPtr() = default;
    GapsPtr(const GapsPtr& o) : std::unique_ptr<Gaps>(o ? std::make_unique<Gaps>(*o) : nullptr) {}
    GapsPtr& operator=(const GapsPtr& o) {
        if (this != &o) reset(o ? new Gaps(*o) : nullptr);
        return *this;
    }
};

// One direction of an instance: the sequence space its sender uses. Three cache lines, laid
// out by use: with thousands of flows open at once, fetching flow state from memory is the
// tracker's largest cost, and a packet reads the first two lines of both directions but the
// third (its duplicate check) of its sender's only.
struct alignas(64) DirState {
    // Default verdict: 64-bit sequence space.
    SeqLifter lift;
    std::int64_t start = 0;
    std::int64_t highest = 0;   // highest seen end
    std::int64_t frontier = 0;  // max(highest, highest covering ACK)
    std::int64_t max_content_seq = 0;
    // Holes and resolved runs (track/gaps.hpp). Most directions never have either, so they
    // live on the heap, allocated with the first one.
    GapsPtr gaps;
    Gaps& gaps_for_write() {
        if (!gaps) gaps.reset(new Gaps());
        return *gaps;
    }
    Start start_kind = Start::none;
    bool synack_phantom = false;  // start is the number of a SYN-ACK the capture missed
    bool seen_data = false;       // a non-RST packet was seen (highest seen end is defined)
    bool fin_seen = false;
    bool has_content = false;  // a packet with payload, SYN or FIN was seen
    bool hole_cap_hit = false;
    bool pending_set = false;  // Instance::pending[this direction] holds a peer ACK

    WiresharkState ws;  // the Wireshark verdict (track/wireshark_state.hpp)

    // The sender's packets: kept when a SYN-ACK starts the sequence state again.
    struct Sender {
        std::uint64_t packets = 0;
        std::uint64_t bytes = 0;            // on-wire payload
        std::uint64_t truncated_bytes = 0;  // payload cut by the snaplen
        bool sent_non_syn = false;          // a packet other than a pure SYN
        bool sent_ack_flag = false;
        bool sent_non_rst_ack = false;
    } sender;

    // The sender's last two packets, newest first, to tell SPAN duplicates (kept as well).
    struct Signature {
        std::int64_t time_ns = 0;
        std::uint32_t seq = 0, ack = 0, len = 0;
        std::uint16_t window = 0, checksum = 0;
        std::uint8_t flags = 0;
        bool valid = false;
        bool matches(const Segment& g) const {
            return valid && seq == g.seq && ack == g.ack && len == g.payload_len &&
                   window == g.window && checksum == g.checksum && flags == g.flags;
        }
    };
    alignas(64) Signature recent[2];

    // Forgets the default verdict's sequence state (a SYN-ACK starts it again); with
    // `wireshark` the 32-bit Wireshark state too.
    void reset_sequence_state(bool wireshark) {
        const Sender kept_sender = sender;
        const WiresharkState kept_ws = ws;
        const Signature kept_recent[2] = {recent[0], recent[1]};
        *this = DirState{};
        sender = kept_sender;
        recent[0] = kept_recent[0];
        recent[1] = kept_recent[1];
        if (!wireshark) ws = kept_ws;
    }
};

// What a packet touches first in the line it starts on, then both directions' hot lines;
// the session's identity and the rarely used parts after them.
struct alignas(64) Instance {
    FlowKey key;
    std::uint8_t dir_from[2] = {0, 0};  // direction of a packet sent by key.lo, by key.hi
    bool has_syn = false;
    bool has_synack = false;
    bool answered = false;
    bool ended_after_answer = false;
    bool rst_or_fin = false;
    bool rst_seen = false;
    bool fin_from[2] = {false, false};
    // The tracker's expiry queue (Tracker::Impl::file): expiry_filed bits, and the time its
    // one valid entry is due.
    std::uint8_t expiry_filed = 0;
    Timestamp last_time;  // of its last packet

    DirState dir[2];  // [0] client->server, [1] server->client

    Session s;  // identity and times; its counters are filled in when it is finished
    std::uint32_t client_isn = 0;
    std::uint32_t syn_end = 0;  // end of the SYN's data (TCP Fast Open) incl. the phantom
    std::uint32_t server_isn = 0;
    std::uint32_t synack_ack = 0;  // ACK number of the first SYN-ACK (a late SYN joins by it)
    PendingAck pending[2];         // per direction, valid while dir[d].pending_set
    EventListPtr ws_events;
    std::int64_t expiry_due_ns = 0;  // with expiry_filed: when its queue entry is due

    // Direction of a packet sent by key.hi (from_hi) or key.lo. Endpoints are compared once,
    // when the instance takes its orientation (see orient), not per packet.
    int dir_of(bool from_hi) const { return dir_from[from_hi ? 1 : 0]; }
    void orient() {
        dir_from[0] = key.lo == s.client ? 0 : 1;
        dir_from[1] = key.hi == s.client ? 0 : 1;
    }
    bool closed() const { return rst_seen || (fin_from[0] && fin_from[1]); }

    // Prefetch hints (they change nothing) for every line, as finishing it reads them.
    void prefetch_all() const {
        const char* p = reinterpret_cast<const char*>(this);
        for (std::size_t b = 0; b < sizeof(Instance); b += 64)
            detail::prefetch_line(p + b);
    }
    // Prefetch hints (they change nothing) for the lines a packet reads.
    void prefetch() const {
        const char* p = reinterpret_cast<const char*>(this);
        const char* end = reinterpret_cast<const char*>(&s);
        for (; p < end; p += 64)
            detail::prefetch_line(p);
    }
};
static_assert(sizeof(DirState) <= 3 * 64, "a direction's state spans three cache lines");
static_assert(offsetof(Instance, dir) <= 64, "the key and flags share the first cache line");

}  // namespace capgap::detail
