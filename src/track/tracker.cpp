// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// The session tracker and loss detector (docs/counting-rules.md sections 2 to 6).
//
// Each open instance keeps, per direction, the unseen runs ("holes") of its sequence space
// below the frontier max(highest seen end, highest covering ACK). A hole is either unacked
// (revealed by a later number) or acked (revealed or covered by an ACK, with that ACK's time).
// Holes are resolved when data fills them (reordered / acked_before_data / late-filled
// acked_unseen) or at the end (gap_unacked / acked_unseen). The Wireshark verdict runs beside
// it on 32-bit state, as packet-tcp.c keeps it.
//
// This file holds instance selection, the flow table's housekeeping and the per-packet path
// (batch prefetch, duplicates, header prediction); the rest is in headers beside it, inline,
// so that a packet's work stays in one translation unit:
//   instance.hpp         an instance's state and its cache-line layout
//   default_verdict.hpp  what a packet does to a direction's sequence space (sections 4, 5)
//   gaps.hpp             the hole/run interval set that keeps the result
//   wireshark_state.hpp  the Wireshark verdict's state and flags (section 6)
//   finalize.hpp         the end of an instance: its session and its events
//   place_by_id.hpp      finish()'s ordering of the sessions by id
//   clock.hpp            the clock that expiry counts from, and the sweep schedule
//   shard.hpp            a tracker as one shard of the sharded pipeline (feed_shard below)
//   flow_table.hpp, seq_space.hpp, capture_time.hpp: the table, sequence and time arithmetic

#include <capgap/tracker.hpp>

#include <algorithm>
#include <cstddef>
#include <memory>
#include <unordered_set>
#include <utility>

#include "core/compiler.hpp"
#include "core/endpoint_order.hpp"
#include "track/capture_time.hpp"
#include "track/clock.hpp"
#include "track/default_verdict.hpp"
#include "track/finalize.hpp"
#include "track/flow_table.hpp"
#include "track/gaps.hpp"
#include "track/instance.hpp"
#include "track/instance_state.hpp"
#include "track/place_by_id.hpp"
#include "track/seq_space.hpp"
#include "track/shard.hpp"
#include "track/wireshark_state.hpp"

namespace capgap {
namespace {

using detail::DirState;
using detail::Hole;
using detail::Instance;
using detail::phantoms;
using detail::sat_add;
using detail::sat_sub;
using detail::seq_gt;
using detail::Start;

}  // namespace

struct Tracker::Impl {
    TrackerOptions opt;
    detail::FlowTable<Instance> open;
    std::vector<Session> sessions;
    std::vector<LossEvent> events;
    std::uint64_t next_id = 0;
    bool finished = false;
    std::vector<Attribution>* attribution = nullptr;  // record_attribution(); null: off
    TrackerCounters counters;
    bool retransmitted = false;         // set by feed_general for the segment being fed
    mutable bool ack_revealed = false;  // set by the verdict's cover() for it
    // The clock that expiry counts from (track/clock.hpp). A shard of the sharded pipeline
    // does not advance its own: it is set from the pipeline's one clock (feed_shard).
    detail::TrackerClock clock;
    // The sharded pipeline's records, when this tracker is a shard (feed_shard): the changes
    // of the open count by frame, and the feed_marks of segments that have any.
    std::vector<detail::OpenChange>* open_log = nullptr;
    std::vector<detail::MarkedTime>* marked = nullptr;
    // ... and the first frame of each instance, by id; finish() then leaves the sessions in
    // the order they finished, and the pipeline places them by these.
    std::vector<std::uint64_t>* starts = nullptr;
    // ... and where it hands its finished sessions over, a block at a time.
    detail::SessionBlocks* finished_blocks = nullptr;

    // The expiry queue: a min-heap of the times at which an open instance may first be
    // closed or idle for its timeout, so that a sweep visits the instances that are due
    // rather than the whole table (with a million open flows the walk once a second had
    // become most of the work). Each instance has one valid entry, the one due at its
    // expiry_due_ns and no later than it can expire; entries left behind by an earlier
    // entry, or by an instance finished or started again in its slot, are dropped when
    // they come up. See file() and sweep(). Two heaps: entries for the closed timeout and
    // for the idle one. Each is filed in nearly increasing order (the clock plus a constant),
    // so a new entry stays at the bottom of its heap rather than climbing past every idle
    // entry, and the closed heap, which sweeps take from, stays small.
    struct Due {
        std::int64_t ns;
        Instance* in;
        std::uint64_t id;  // the instance's session id when filed
    };
    struct Later {
        bool operator()(const Due& a, const Due& b) const { return a.ns > b.ns; }
    };
    std::vector<Due> due[2];                         // [0] idle, [1] closed
    static constexpr std::uint8_t filed = 1;         // has its entry
    static constexpr std::uint8_t filed_closed = 2;  // its entry counts the closed timeout
    static constexpr std::uint8_t recheck = 4;       // its last_time went back: file again

    explicit Impl(TrackerOptions o) : opt(o), clock(o) {}

    bool expires() const { return opt.closed_timeout_ns > 0 || opt.idle_timeout_ns > 0; }
    // Closed, after an answer: the closed timeout applies (a refused attempt stays, rule 2.2).
    bool closes_by_timeout(const Instance& in) const {
        return opt.closed_timeout_ns > 0 && in.closed() && in.ended_after_answer;
    }
    // The first clock value at which sweep() finishes `in` as it is now.
    std::int64_t expiry_due(const Instance& in) const {
        std::int64_t at = INT64_MAX;
        if (closes_by_timeout(in)) at = sat_add(in.last_time.ns, opt.closed_timeout_ns);
        if (opt.idle_timeout_ns > 0)
            at = std::min(at, sat_add(in.last_time.ns, opt.idle_timeout_ns));
        return at;
    }
    // Gives `in` an entry due no later than it can expire, unless it has one already.
    CAPGAP_NOINLINE void file(Instance& in) {
        const bool closing = closes_by_timeout(in);
        const std::int64_t at = expiry_due(in);
        if ((in.expiry_filed & filed) == 0 || at < in.expiry_due_ns) {
            in.expiry_due_ns = at;
            const bool by_closed = closing && at == sat_add(in.last_time.ns, opt.closed_timeout_ns);
            std::vector<Due>& heap = due[by_closed ? 1 : 0];
            heap.push_back(Due{at, &in, in.s.id});
            std::push_heap(heap.begin(), heap.end(), Later{});
        }
        in.expiry_filed = filed | (closing ? filed_closed : 0);
    }
    // After a packet changed `in`: the entry stays right while last_time only grows and the
    // closed timeout is counted once it applies; otherwise file again. Reads the first line.
    CAPGAP_ALWAYS_INLINE void keep_filed(Instance& in) {
        const std::uint8_t want = filed | (closes_by_timeout(in) ? filed_closed : 0);
        if ((in.expiry_filed & (want | recheck)) != want && expires()) file(in);
    }

    // ---- instance selection (section 2) -------------------------------------------------

    // Starts an instance in `slot`: a value the flow table just inserted (default-constructed
    // already), or, when `occupied`, the instance of the same key, which is finished first.
    Instance& start_instance(Instance& slot, const Segment& seg, bool occupied) {
        if (occupied) {
            finalize(slot);
            const FlowKey key = slot.key;
            slot = Instance{};
            slot.key = key;
        }
        Session& s = slot.s;
        s.id = next_id++;
        s.first_frame = seg.frame;
        if (starts != nullptr) starts->push_back(seg.frame);
        s.first_time = seg.time;
        s.tunnel = slot.key.tunnel;
        s.vlan = seg.vlan;
        s.interface = seg.interface;
        const bool syn = seg.has(tcp_flags::syn), ack = seg.has(tcp_flags::ack);
        if (syn && ack) {
            s.client = seg.dst;  // a SYN-ACK is sent by the server
            s.server = seg.src;
        } else if (syn || seg.src.port >= seg.dst.port) {
            // A SYN's sender is the client; mid-stream, guess that the ephemeral (higher)
            // port is the client's.
            s.client = seg.src;
            s.server = seg.dst;
        } else {
            s.client = seg.dst;
            s.server = seg.src;
        }
        slot.orient();
        return slot;
    }

    static bool answers_syn(const Instance& in, const Segment& seg) {
        return in.has_syn && seg.src == in.s.server &&
               (seg.ack == in.client_isn + 1 || seg.ack == in.syn_end);
    }

    // True when seq (and ack, when the ACK flag is set) lie outside the instance's ranges
    // [start, highest seen end + 1]: a new connection whose SYN and SYN-ACK were missed.
    // `dir` is the segment's direction.
    static bool outside_ranges(const Instance& in, const Segment& seg, int dir) {
        auto inside = [](const DirState& d, std::uint32_t v) {
            if (d.start_kind == Start::none) return false;
            const std::int64_t x = d.lift.peek(v);
            const std::int64_t hi = d.seen_data ? d.highest : d.start;
            return x >= d.start && x <= hi + 1;
        };
        if (inside(in.dir[dir], seg.seq)) return false;
        if (seg.has(tcp_flags::ack) && inside(in.dir[1 - dir], seg.ack)) return false;
        return true;
    }

    // ---- flow table housekeeping ----------------------------------------------------------

    // Finishes instances that have been closed or idle for their timeout.
    void sweep() {
        enum class Expiry { none, closed, idle };
        auto expiry = [this](const Instance& in) {  // reads the instance's first line only
            const std::int64_t idle = sat_sub(clock.now_ns, in.last_time.ns);
            // A refused attempt stays: a retry with the same ISN must join it (rule 2.2).
            if (opt.closed_timeout_ns > 0 && in.closed() && in.ended_after_answer &&
                idle >= opt.closed_timeout_ns)
                return Expiry::closed;
            if (opt.idle_timeout_ns > 0 && idle >= opt.idle_timeout_ns) return Expiry::idle;
            return Expiry::none;
        };
        // Every instance that expires now has its valid entry due by now (file()). The due
        // entries are taken first and then worked through in two walks, each prefetching a
        // few entries ahead what the next steps read (the instances' first lines, then the
        // whole instances and the table slots of those that go), so that the misses overlap
        // rather than come one after another. A sweep can finish ten thousand instances: the
        // lines prefetched for all of them at once were evicted before they were read.
        std::vector<Due>& taken = taken_;
        taken.clear();
        for (std::vector<Due>& heap : due) {
            while (!heap.empty() && heap.front().ns <= clock.now_ns) {
                std::pop_heap(heap.begin(), heap.end(), Later{});
                taken.push_back(heap.back());
                heap.pop_back();
            }
        }
        std::vector<Going>& going = going_;        // the instances that expire now
        std::vector<Instance*>& active = refile_;  // not due after all: filed again below
        going.clear();
        active.clear();
        constexpr std::size_t lines_ahead = 16;  // first lines (one each)
        for (std::size_t i = 0; i < std::min(lines_ahead, taken.size()); ++i)
            detail::prefetch_line(taken[i].in);
        for (std::size_t i = 0; i < taken.size(); ++i) {
            if (i + lines_ahead < taken.size()) detail::prefetch_line(taken[i + lines_ahead].in);
            const Due& d = taken[i];
            Instance& in = *d.in;
            if ((in.expiry_filed & filed) == 0 || in.s.id != d.id || in.expiry_due_ns != d.ns)
                continue;                  // finished, started again, or filed earlier since
            in.expiry_due_ns = INT64_MIN;  // taken: no other entry of it is valid now
            const Expiry e = expiry(in);
            if (e == Expiry::none) {
                active.push_back(&in);  // active since it was filed
                continue;
            }
            const std::uint64_t hash = detail::flow_hash(in.key.lo, in.key.hi, in.key.tunnel);
            going.push_back(Going{&in, hash, e == Expiry::closed});
        }
        constexpr std::size_t instances_ahead = 4;  // whole instances (about 11 lines each)
        auto fetch = [&](const Going& g) {
            g.in->prefetch_all();
            open.prefetch_slot(g.hash);
        };
        for (std::size_t i = 0; i < std::min(instances_ahead, going.size()); ++i)
            fetch(going[i]);
        for (std::size_t i = 0; i < going.size(); ++i) {
            if (i + instances_ahead < going.size()) fetch(going[i + instances_ahead]);
            const Going& g = going[i];
            ++(g.closed ? counters.flows_closed_expired : counters.flows_idle_expired);
            finalize(*g.in);
            const FlowKey key = g.in->key;  // erasing resets the instance
            open.erase(key, g.hash);
        }
        for (Instance* in : active) {
            in->expiry_filed = 0;
            file(*in);
        }
    }
    // An instance the sweep finishes: its table hash (computed once, to prefetch its slot and
    // to erase it) and why it expired.
    struct Going {
        Instance* in;
        std::uint64_t hash;
        bool closed;  // closed_timeout (else idle_timeout)
    };
    std::vector<Due> taken_;  // sweep()'s, kept for their capacity
    std::vector<Going> going_;
    std::vector<Instance*> refile_;

    // Over the cap: finish the least recently active tenth early, marked evicted.
    void evict() {
        // Ties in age go to the older instance (lower id), so that the choice does not
        // depend on where the flow table holds them (a resumed table holds them elsewhere).
        struct Aged {
            std::int64_t last_ns;
            std::uint64_t id;
            FlowKey key;
        };
        std::vector<Aged> by_age;
        by_age.reserve(open.size());
        open.for_each([&](Instance& in) { by_age.push_back({in.last_time.ns, in.s.id, in.key}); });
        const std::size_t n = std::max<std::size_t>(by_age.size() / 10, 1);
        std::nth_element(by_age.begin(), by_age.begin() + static_cast<std::ptrdiff_t>(n - 1),
                         by_age.end(), [](const Aged& a, const Aged& b) {
                             return a.last_ns != b.last_ns ? a.last_ns < b.last_ns : a.id < b.id;
                         });
        for (std::size_t i = 0; i < n; ++i) {
            Instance* in = open.find(by_age[i].key);
            in->s.evicted = true;
            finalize(*in);
            open.erase(by_age[i].key);
            ++counters.flows_evicted;
        }
    }

    // Moves the clock, expires and evicts; false when the segment's time is an outlier the
    // clock did not take (see TrackerClock).
    bool housekeeping(const Segment& seg) {
        const bool on_time = clock.advance(seg.time.ns, counters);
        if (clock.sweep_due() && (opt.closed_timeout_ns > 0 || opt.idle_timeout_ns > 0)) sweep();
        if (opt.max_open_flows > 0 && open.size() >= opt.max_open_flows) evict();
        return on_time;
    }

    // True when the segment repeats one of the last two of its direction within the window.
    bool is_duplicate(DirState& x, const Segment& seg) const {
        for (const DirState::Signature& r : x.recent) {
            if (r.matches(seg) && sat_sub(seg.time.ns, r.time_ns) <= opt.duplicate_window_ns &&
                seg.time.ns >= r.time_ns)
                return true;
        }
        x.recent[1] = x.recent[0];
        x.recent[0] = DirState::Signature{seg.time.ns, seg.seq,      seg.ack,   seg.payload_len,
                                          seg.window,  seg.checksum, seg.flags, true};
        return false;
    }

    // The segment's endpoints in flow key order, and the key's hash.
    struct Probe {
        const Endpoint* lo;
        const Endpoint* hi;
        std::uint64_t hash;
    };
    // With the hash already known (the sharded pipeline computed it to choose the shard).
    static Probe probe(const Segment& seg, std::uint64_t hash) {
        const bool src_first = detail::endpoint_less(seg.src, seg.dst);  // as FlowKey orders
        return Probe{detail::pick(src_first, &seg.src, &seg.dst),
                     detail::pick(src_first, &seg.dst, &seg.src), hash};
    }
    static Probe probe(const Segment& seg) {
        Probe p = probe(seg, 0);
        p.hash = detail::flow_hash(*p.lo, *p.hi, seg.tunnel);
        return p;
    }

    FeedResult feed(const Segment& seg) { return feed(seg, probe(seg)); }

    // The hot lines of the instance a hash most likely names (see Instance::prefetch).
    void prefetch_instance(std::uint64_t h) const {
        if (const Instance* in = open.first_with_hash(h)) in->prefetch();
    }

    // Feeds a batch with software prefetching: while segment i is processed, the slot of
    // segment i + 2 * lookahead and the instance of segment i + lookahead are on their way
    // from memory. With thousands of open flows the first touch of a flow's state is the
    // tracker's largest single cost (perf).
    void feed(const Segment* segs, std::size_t count, std::uint8_t* marks = nullptr) {
        feed_each(segs, nullptr, count, marks,
                  [this](std::size_t, const Segment& seg, const Probe& p) { return feed(seg, p); });
    }

    // The batch loop of feed() above, with `step(i, segment, probe)` feeding segment i (its
    // housekeeping included) and returning what the tracker did with it. `hashes`, when not
    // null, holds each segment's flow hash.
    template <class Step>
    CAPGAP_ALWAYS_INLINE void feed_each(const Segment* segs, const std::uint64_t* hashes,
                                        std::size_t count, std::uint8_t* marks, Step&& step) {
        constexpr std::size_t lookahead = 8, chunk = 256;
        Probe probes[chunk];
        std::size_t done = 0;
        while (count > 0) {
            const std::size_t n = std::min(count, chunk);
            if (hashes != nullptr) {
                // A shard's batch was written around the cache (parallel.cpp): it is read
                // from memory, 2 KB ahead of the segment read.
                for (std::size_t i = 0; i < n; ++i) {
                    detail::prefetch_line(reinterpret_cast<const char*>(segs + i) + 2048);
                    probes[i] = probe(segs[i], hashes[done + i]);
                }
            } else {
                for (std::size_t i = 0; i < n; ++i)
                    probes[i] = probe(segs[i]);
            }
            for (std::size_t i = 0; i < std::min(n, 2 * lookahead); ++i)
                open.prefetch_slot(probes[i].hash);
            for (std::size_t i = 0; i < std::min(n, lookahead); ++i)
                prefetch_instance(probes[i].hash);
            for (std::size_t i = 0; i < n; ++i) {
                if (i + 2 * lookahead < n) open.prefetch_slot(probes[i + 2 * lookahead].hash);
                if (i + lookahead < n) prefetch_instance(probes[i + lookahead].hash);
                if (marks == nullptr) {
                    (void)step(done + i, segs[i], probes[i]);
                } else {
                    retransmitted = false;
                    ack_revealed = false;
                    const FeedResult r = step(done + i, segs[i], probes[i]);
                    marks[i] = static_cast<std::uint8_t>(
                        (r == FeedResult::duplicate || r == FeedResult::dropped_duplicate
                             ? feed_marks::duplicate
                             : 0) |
                        (retransmitted ? feed_marks::retransmission : 0) |
                        (ack_revealed ? feed_marks::ack_above_hole : 0));
                }
            }
            segs += n;
            count -= n;
            done += n;
            if (marks != nullptr) marks += n;
        }
    }

    FeedResult feed(const Segment& seg, const Probe& p) {
        if (!housekeeping(seg)) return feed_off_clock(seg, p);
        return feed_tracked(seg, p);
    }

    // A segment whose time the clock did not take is tracked as any other (its own time is
    // its sessions' and events' time), but it does not count as activity of an instance it
    // joins: a step back would otherwise make the instance look idle for as long, and a jump
    // ahead keep it open until the clock got there. An instance it starts is active from the
    // later of its time and the clock's: a jump ahead that persists is followed from there.
    CAPGAP_NOINLINE FeedResult feed_off_clock(const Segment& seg, const Probe& p) {
        const FlowKey key(*p.lo, *p.hi, seg.tunnel);
        const Instance* before = open.find(key);
        const std::uint64_t id = before != nullptr ? before->s.id : 0;
        const Timestamp active = before != nullptr ? before->last_time : Timestamp{};
        const FeedResult r = feed_tracked(seg, p);
        if (Instance* in = open.find(key)) {
            in->last_time = before != nullptr && in->s.id == id
                                ? active
                                : Timestamp{std::max(seg.time.ns, clock.now_ns)};
            in->expiry_filed |= recheck;  // last_time may have gone back
            keep_filed(*in);
        }
        return r;
    }

    // Out of line, as one body for both callers: the flow lookup stays inlined in it.
    CAPGAP_NOINLINE FeedResult feed_tracked(const Segment& seg, const Probe& p) {
        bool inserted = false;
        Instance& in = open.find_or_insert(*p.lo, *p.hi, seg.tunnel, p.hash, inserted);
        const bool from_hi = p.lo != &seg.src;
        if (inserted) return attributed(in, seg, feed_general(in, seg, from_hi, true));

        const int d = in.dir_of(from_hi);
        if (is_duplicate(in.dir[d], seg)) {
            ++counters.duplicate_packets;
            ++in.s.duplicates;
            if (opt.drop_duplicates) {
                ++counters.duplicates_dropped;
                return attributed(in, seg, FeedResult::dropped_duplicate);
            }
            account(in, d, seg);
            return attributed(in, seg, FeedResult::duplicate);
        }
        if (opt.header_prediction &&
            (seg.flags & (tcp_flags::syn | tcp_flags::fin | tcp_flags::rst | tcp_flags::ack)) ==
                tcp_flags::ack &&
            !in.closed() && predicted(in, d, seg)) {
            account(in, d, seg);
            return attributed(in, seg, FeedResult::joined);
        }
        return attributed(in, seg, feed_general(in, seg, from_hi, false));
    }

    // The attribution hook (Tracker::record_attribution): the segment's frame and the id of
    // the instance it went to (after feed_general, which may have started a new one in the
    // same slot). Unset, it costs one test of a pointer that stays in a register or L1.
    FeedResult attributed(Instance& in, const Segment& seg, FeedResult r) {
        keep_filed(in);
        if (CAPGAP_UNLIKELY(attribution != nullptr))
            attribution->push_back(Attribution{seg.frame, in.s.id});
        return r;
    }

    // Every packet that is no duplicate and not predicted: instance selection (section 2),
    // then both verdicts' state. Out of line, so that the short paths above stay small.
    CAPGAP_NOINLINE FeedResult feed_general(Instance& in, const Segment& seg, bool from_hi,
                                            bool inserted) {
        const bool syn = seg.has(tcp_flags::syn), ack = seg.has(tcp_flags::ack);
        FeedResult result = FeedResult::joined;
        bool stale = false;

        if (inserted) {
            counters.open_flows_peak =
                std::max<std::uint64_t>(counters.open_flows_peak, open.size());
            start_instance(in, seg, false);
            result = FeedResult::new_session;
        } else if (syn && !ack) {
            bool fresh;
            if (in.has_syn) {
                fresh = seg.src != in.s.client || seg.seq != in.client_isn || in.ended_after_answer;
            } else {
                // A late SYN joins the instance its SYN-ACK started (section 2.8).
                fresh = !(in.has_synack && seg.src == in.s.client && seg.seq == in.synack_ack - 1);
            }
            if (fresh) {
                start_instance(in, seg, true);
                result = FeedResult::new_session;
            }
        } else if (syn && ack) {
            const bool answers = answers_syn(in, seg);
            bool fresh = false;
            if (in.has_synack && seg.src == in.s.server) {
                if (seg.seq != in.server_isn) {
                    if (!answers || in.rst_or_fin) {
                        fresh = true;
                    } else if (in.dir[0].sender.sent_ack_flag) {
                        stale = true;  // the client already moved on
                    } else {
                        // A load balancer or SYN-cookie retry: the server starts again
                        // (tshark 4.0.17 flags the jump; case 36 keeps it good).
                        in.dir[1].reset_sequence_state(true);
                        in.server_isn = seg.seq;
                    }
                }
            } else if (in.has_synack || (in.has_syn && seg.src != in.s.server)) {
                fresh = true;  // a SYN-ACK from the other end: another connection
            } else {
                fresh = in.rst_or_fin && !answers;
                if (!fresh) {
                    orient_to_synack(in, seg);
                    // Server packets before the first SYN-ACK (a refusing RST, a stale FIN)
                    // do not place its sequence space; Wireshark's state keeps them.
                    in.dir[1].reset_sequence_state(false);
                    in.has_synack = true;
                    in.server_isn = seg.seq;
                    in.synack_ack = seg.ack;
                }
            }
            if (fresh) {
                start_instance(in, seg, true);
                result = FeedResult::new_session;
            }
        } else if (in.closed() && outside_ranges(in, seg, in.dir_of(from_hi))) {
            start_instance(in, seg, true);
            result = FeedResult::new_session;
        }

        if (result == FeedResult::new_session && syn && ack) {
            in.has_synack = true;
            in.server_isn = seg.seq;
            in.synack_ack = seg.ack;
        }
        if (syn && !ack && !in.has_syn && seg.src == in.s.client) {
            in.has_syn = true;
            in.client_isn = seg.seq;
            in.syn_end = seg.seq + 1 + seg.payload_len;
            in.s.syn_frame = seg.frame;
            in.s.syn_time = seg.time;
        }

        const int d = in.dir_of(from_hi);  // the orientation may have changed
        if (inserted || result == FeedResult::new_session) (void)is_duplicate(in.dir[d], seg);
        account(in, d, seg);
        if (stale) return FeedResult::stale_synack;
        wireshark_flags(in, d, seg);
        if (retransmits(in.dir[d], seg)) {
            retransmitted = true;
            ++in.s.retransmissions;
        }
        sequence(in, d, seg);
        update_flags(in, d, seg);
        return result;
    }

    // A retransmission (network loss, not capture loss): payload whose every byte lies in the
    // sender's space below the highest seen end and in no hole, so it was all seen before.
    // Data filling a hole (the capture missed the first copy, or reordering) is not one.
    static bool retransmits(const DirState& x, const Segment& seg) {
        if (seg.payload_len == 0 || seg.has(tcp_flags::syn) || x.start_kind == Start::none ||
            !x.seen_data || !x.lift.anchored())
            return false;
        const std::int64_t b = x.lift.peek(seg.seq);
        const std::int64_t e = b + seg.payload_len;
        if (b < x.start || e > x.highest) return false;
        if (x.gaps) {
            for (const Hole& h : x.gaps->holes)
                if (h.begin < e && b < h.end) return false;
        }
        return true;
    }

    // Header prediction, as BSD and Linux TCP stacks do it: most packets are a pure ACK or
    // in-order data of an established instance. When this one (ACK set; no SYN, FIN or RST;
    // instance open) needs none of the general path's cases (no hole or run in either
    // direction, no held-back ACK, no start to place, nothing revealed, nothing for Wireshark
    // to flag), what wireshark_flags, sequence and update_flags would do reduces to the
    // assignments below, and it returns true. Otherwise it changes nothing and returns false.
    static bool predicted(Instance& in, int d, const Segment& seg) {
        DirState& x = in.dir[d];
        DirState& y = in.dir[1 - d];
        if (x.gaps || y.gaps || x.pending_set || !x.seen_data || x.start_kind == Start::none ||
            y.start_kind == Start::none)
            return false;
        // The SYN-SENT rules of section 5: the server's start from the client's first ACK,
        // and the server's ACKs held back until the client's next packet.
        // (Both directions' conditions are evaluated and combined with & and |: the direction
        // changes from packet to packet in no pattern, and a branch on it was mispredicted.)
        const bool client_waits = !x.sender.sent_non_rst_ack & (y.start_kind != Start::fixed);
        const bool server_waits = !y.sender.sent_ack_flag;
        if (in.has_syn & (((d == 0) & client_waits) | ((d != 0) & server_waits))) return false;
        // Wireshark: no data beyond what was seen, no ACK of unseen data.
        if (!detail::wireshark_in_order(x.ws, y.ws, seg)) return false;
        // Sequence space: data from within what was seen (no hole revealed), an ACK at most
        // up to the peer's frontier (no acked-unseen hole).
        const std::int64_t s = x.lift.peek(seg.seq);
        if (s < x.start || s > x.frontier) return false;
        // Data all seen before (a retransmission) takes the general path, which counts it.
        if ((seg.payload_len > 0) & (s + seg.payload_len <= x.highest)) return false;
        const std::int64_t a = y.lift.peek(seg.ack);
        if (a > y.frontier && a > y.start) return false;

        // sequence(): data() without holes to fill; cover() with nothing to cover.
        x.lift.commit(seg.seq);
        const std::int64_t e = s + seg.payload_len;
        x.frontier = std::max(x.frontier, e);
        x.highest = std::max(x.highest, e);
        if (seg.payload_len > 0) {
            x.max_content_seq = x.has_content ? std::max(x.max_content_seq, s) : s;
            x.has_content = true;
        }
        // wireshark_flags(): nothing to flag, the state moves on.
        detail::advance_wire(x.ws, seg, seg.seq + seg.payload_len, true, false);
        // update_flags()
        in.answered |= (d == 1) & (seg.payload_len > 0);
        x.sender.sent_ack_flag = true;
        x.sender.sent_non_rst_ack = true;
        return true;
    }

    // An instance that saw no SYN-ACK yet takes its orientation from one.
    static void orient_to_synack(Instance& in, const Segment& seg) {
        if (in.s.server == seg.src) return;
        std::swap(in.s.client, in.s.server);
        in.orient();
        std::swap(in.dir[0], in.dir[1]);
        std::swap(in.pending[0], in.pending[1]);
        in.fin_from[0] = in.dir[0].fin_seen;
        in.fin_from[1] = in.dir[1].fin_seen;
    }

    // Counts the packet (the session's totals are summed from these when it is finished).
    static void account(Instance& in, int d, const Segment& seg) {
        if (seg.time < in.last_time) in.expiry_filed |= recheck;  // an earlier expiry
        in.last_time = seg.time;
        DirState::Sender& x = in.dir[d].sender;
        ++x.packets;
        x.bytes += seg.payload_len;
        x.truncated_bytes += seg.truncated_bytes;
        if (seg.has(tcp_flags::syn) && !seg.has(tcp_flags::ack)) {
            ++in.s.syn_count;
        } else {
            x.sent_non_syn = true;
        }
    }

    static void update_flags(Instance& in, int d, const Segment& seg) {
        const bool rst = seg.has(tcp_flags::rst), fin = seg.has(tcp_flags::fin);
        if ((rst || fin) && in.answered) in.ended_after_answer = true;
        if (rst) in.rst_seen = true;
        if (fin) in.fin_from[d] = true;
        if (rst || fin) in.rst_or_fin = true;
        if (seg.has(tcp_flags::syn) && seg.has(tcp_flags::ack)) in.answered = true;
        if (d == 1 && seg.payload_len > 0 && !rst) in.answered = true;
        DirState& ds = in.dir[d];
        if (seg.has(tcp_flags::ack)) {
            ds.sender.sent_ack_flag = true;
            if (!rst) ds.sender.sent_non_rst_ack = true;
        }
    }

    // ---- Wireshark verdict (section 6) --------------------------------------------------

    void wireshark_flags(Instance& in, int d, const Segment& seg) {
        const std::uint32_t end = seg.seq + seg.payload_len + phantoms(seg.flags);
        const detail::WiresharkFlags f =
            detail::wireshark_check(in.dir[d].ws, in.dir[1 - d].ws, seg, end);
        if (f.lost) add_ws_event(in, d, seg, EventKind::ws_lost_segment);
        if (f.ack_lost) add_ws_event(in, 1 - d, seg, EventKind::ws_ack_lost_segment);
    }

    void add_ws_event(Instance& in, int d, const Segment& seg, EventKind kind) {
        // Flags are per packet: past the cap the verdict is settled (it has flags) and only
        // the detail would grow with the packets, so the direction is marked instead.
        DirState& x = in.dir[d];
        if (!x.ws.keep_flag(opt.max_holes_per_direction)) {
            x.hole_cap_hit = true;
            return;
        }
        LossEvent e;
        e.session_id = in.s.id;
        e.direction = d == 0 ? Direction::c2s : Direction::s2c;
        e.kind = kind;
        e.frame = seg.frame;
        e.time = seg.time;
        e.src = seg.src;
        e.dst = seg.dst;
        in.ws_events.for_write().push_back(e);
    }

    // ---- default verdict (sections 4 and 5): track/default_verdict.hpp ------------------

    detail::DefaultVerdict verdict() const { return detail::DefaultVerdict{opt, &ack_revealed}; }
    void sequence(Instance& in, int d, const Segment& seg) { verdict().sequence(in, d, seg); }

    // ---- end of an instance: track/finalize.hpp -----------------------------------------

    void finalize(Instance& in) {
        // A shard's full list goes to the pipeline before it would grow (a sweep may finish
        // ten thousand instances in one batch).
        if (finished_blocks != nullptr && sessions.size() == sessions.capacity())
            hand_over_sessions();
        detail::finalize(in, verdict(), counters, sessions, events);
    }

    // ---- one shard of the sharded pipeline: track/shard.hpp ------------------------------

    // Logs a change of the open count (open_log is set).
    void log_open(std::uint64_t frame, std::size_t before, std::size_t after) {
        if (after != before)
            open_log->push_back(detail::OpenChange{
                frame, static_cast<std::int64_t>(after) - static_cast<std::int64_t>(before)});
    }

    void shard_sweep(const detail::SweepMark& m) {
        clock.now_ns = m.now_ns;
        if (opt.closed_timeout_ns <= 0 && opt.idle_timeout_ns <= 0) return;
        const std::size_t before = open.size();
        sweep();
        log_open(m.frame, before, open.size());
    }

    void feed_shard(const detail::ShardBatch& b) {
        std::size_t next_sweep = 0;
        std::size_t open_before = 0;
        std::uint8_t marks[detail::ShardBatch::capacity];
        feed_each(
            b.segs, b.hash, b.count, marked != nullptr ? marks : nullptr,
            [&](std::size_t i, const Segment& seg, const Probe& p) {
                for (; next_sweep < b.sweeps.size() && b.sweeps[next_sweep].pos == i; ++next_sweep)
                    shard_sweep(b.sweeps[next_sweep]);
                clock.now_ns = b.now_ns[i];
                if (opt.max_open_flows > 0 && open.size() >= opt.max_open_flows) {
                    const std::size_t before = open.size();
                    evict();
                    log_open(seg.frame, before, open.size());
                }
                open_before = open.size();
                const FeedResult r = b.on_time[i] ? feed_tracked(seg, p) : feed_off_clock(seg, p);
                log_open(seg.frame, open_before, open.size());
                return r;
            });
        for (; next_sweep < b.sweeps.size(); ++next_sweep)
            shard_sweep(b.sweeps[next_sweep]);
        if (marked != nullptr) {
            for (std::size_t i = 0; i < b.count; ++i)
                if (marks[i] != 0)
                    marked->push_back(detail::MarkedTime{b.segs[i].time.ns, marks[i]});
        }
    }

    // A shard's list of finished sessions goes whole to the pipeline, and a new one is
    // started with room for `room`, its pages mapped at once (shard.hpp, SessionBlocks).
    void hand_over_sessions(std::size_t room = detail::SessionBlocks::block) {
        if (!sessions.empty()) finished_blocks->blocks.push_back(std::move(sessions));
        sessions = std::vector<Session>();
        reserve_sessions(room);
    }
    // Room for `n` sessions more, with the new pages mapped in one call rather than a fault
    // each (compiler.hpp).
    void reserve_sessions(std::size_t n) {
        const std::size_t had = sessions.capacity();
        sessions.reserve(sessions.size() + n);
        if (sessions.capacity() != had)
            detail::map_for_writing(sessions.data() + sessions.size(), n * sizeof(Session));
    }

    void finish() {
        if (finished) return;
        finished = true;
        // Room for the open instances at once: the list does not grow by doubling.
        if (finished_blocks != nullptr) {
            hand_over_sessions(open.size());
        } else {
            reserve_sessions(open.size());
        }
        // In the order the instances lie in memory: the sessions are placed by id, and the
        // events sorted below, whatever the order they were finished in.
        open.drain([&](Instance& in) { finalize(in); });
        due[0].clear();
        due[1].clear();
        // Every instance started is finished once, so the ids are 0 to n-1. A shard's sessions
        // are placed by the pipeline, straight into the report's rows.
        if (starts == nullptr) {
            detail::place_by_id(
                sessions, [](const Session& s) { return s.id; }, next_id == sessions.size());
        }
        std::stable_sort(events.begin(), events.end(), [](const LossEvent& a, const LossEvent& b) {
            return a.session_id != b.session_id ? a.session_id < b.session_id : a.frame < b.frame;
        });
    }
};

// ---- flow state (docs/state-format.md, "Tracker") ----------------------------------------

void Tracker::suspend() {
    Impl& im = *impl_;
    std::sort(im.sessions.begin(), im.sessions.end(),
              [](const Session& a, const Session& b) { return a.id < b.id; });
    std::stable_sort(
        im.events.begin(), im.events.end(), [](const LossEvent& a, const LossEvent& b) {
            return a.session_id != b.session_id ? a.session_id < b.session_id : a.frame < b.frame;
        });
}

void Tracker::save(detail::StateWriter& out) const {
    const Impl& im = *impl_;
    out.tag(detail::state_tag("TRAK"));
    out(im.next_id);
    const_cast<detail::TrackerClock&>(im.clock).state(out);
    std::uint32_t counters = 0;
#define CAPGAP_STATE_COUNT(name, group, description) ++counters;
    CAPGAP_TRACKER_COUNTERS(CAPGAP_STATE_COUNT)
#undef CAPGAP_STATE_COUNT
    out(counters);
    detail::state_counters(out, im.counters);
    out.count(im.open.size(), 0);
    // Written in id order, so that the same state gives the same bytes.
    std::vector<const Instance*> open;
    open.reserve(im.open.size());
    const_cast<detail::FlowTable<Instance>&>(im.open).for_each(
        [&](Instance& in) { open.push_back(&in); });
    std::sort(open.begin(), open.end(),
              [](const Instance* a, const Instance* b) { return a->s.id < b->s.id; });
    for (const Instance* in : open) {
        out(in->key.lo);
        out(in->key.hi);
        out(in->key.tunnel);
        detail::state_instance(out, *in);
    }
}

void Tracker::restore(detail::StateReader& in) {
    Impl& im = *impl_;
    in.tag(detail::state_tag("TRAK"));
    in(im.next_id);
    im.clock.state(in);
    std::uint32_t expected = 0, counters = 0;
#define CAPGAP_STATE_COUNT(name, group, description) ++expected;
    CAPGAP_TRACKER_COUNTERS(CAPGAP_STATE_COUNT)
#undef CAPGAP_STATE_COUNT
    const std::size_t at = in.offset();
    in(counters);
    if (counters != expected) {
        in.fail_at(at, std::to_string(counters) + " tracker counters, this version has " +
                           std::to_string(expected));
    }
    detail::state_counters(in, im.counters);
    const std::size_t n = in.count(8);
    std::unordered_set<std::uint64_t> ids;
    for (std::size_t i = 0; i < n; ++i) {
        const std::size_t start = in.offset();
        FlowKey key;
        in(key.lo);
        in(key.hi);
        in(key.tunnel);
        if (!(key.lo < key.hi)) in.fail_at(start, "a flow key's endpoints are out of order");
        bool inserted = false;
        Instance& slot = im.open.find_or_insert(key, inserted);
        if (!inserted) in.fail_at(start, "a flow appears twice");
        detail::state_instance(in, slot);
        if (slot.s.id >= im.next_id)
            in.fail_at(start, "an open session's id is not below the next id");
        if (!ids.insert(slot.s.id).second) in.fail_at(start, "two open sessions share an id");
        slot.key = key;
    }
    if (im.expires()) im.open.for_each([&](Instance& slot) { im.file(slot); });
}

namespace detail {

struct ShardAccess {
    static Tracker::Impl& impl(Tracker& t) { return *t.impl_; }
};

void make_shard(Tracker& t, std::vector<OpenChange>* open_log, std::vector<MarkedTime>* marked,
                std::vector<std::uint64_t>* starts, SessionBlocks* finished) {
    ShardAccess::impl(t).open_log = open_log;
    ShardAccess::impl(t).marked = marked;
    ShardAccess::impl(t).starts = starts;
    ShardAccess::impl(t).finished_blocks = finished;
    ShardAccess::impl(t).reserve_sessions(SessionBlocks::block);
}

void feed_shard(Tracker& t, const ShardBatch& batch) {
    ShardAccess::impl(t).feed_shard(batch);
}

}  // namespace detail

Tracker::Tracker(TrackerOptions options) : impl_(std::make_unique<Impl>(options)) {}
Tracker::~Tracker() = default;
Tracker::Tracker(Tracker&&) noexcept = default;
Tracker& Tracker::operator=(Tracker&&) noexcept = default;

FeedResult Tracker::feed(const Segment& segment) {
    return impl_->feed(segment);
}
void Tracker::feed(const Segment* segments, std::size_t count) {
    impl_->feed(segments, count);
}
void Tracker::feed(const Segment* segments, std::size_t count, std::uint8_t* marks) {
    impl_->feed(segments, count, marks);
}
void Tracker::finish() {
    impl_->finish();
}
const std::vector<Session>& Tracker::sessions() const {
    return impl_->sessions;
}
const std::vector<LossEvent>& Tracker::events() const {
    return impl_->events;
}
std::vector<Session> Tracker::take_sessions() {
    return std::move(impl_->sessions);
}
std::vector<LossEvent> Tracker::take_events() {
    return std::move(impl_->events);
}
void Tracker::record_attribution(std::vector<Attribution>* out) {
    impl_->attribution = out;
}
std::uint64_t Tracker::sessions_started() const {
    return impl_->next_id;
}
std::size_t Tracker::open_sessions() const {
    return impl_->open.size();
}

void Tracker::take_finished(std::vector<Session>& sessions, std::vector<LossEvent>& events) {
    Impl& im = *impl_;
    sessions.insert(sessions.end(), std::make_move_iterator(im.sessions.begin()),
                    std::make_move_iterator(im.sessions.end()));
    events.insert(events.end(), im.events.begin(), im.events.end());
    // clear() keeps the capacity: the next interval's sessions reuse it, no growth for days.
    im.sessions.clear();
    im.events.clear();
}

void Tracker::for_each_open(const std::function<void(const OpenView&)>& fn) const {
    impl_->open.for_each([&](const Instance& in) {
        fn(OpenView{in.s, in.last_time, in.closed()});
    });
}

void Tracker::judge_open(const std::function<bool(const Session&)>& select,
                         std::vector<Session>& sessions, std::vector<LossEvent>& events) const {
    Impl& im = *impl_;                      // the walk is not const; it changes nothing
    TrackerCounters scratch = im.counters;  // finalize counts capped holes: not for real here
    im.open.for_each([&](const Instance& in) {
        if (!select(in.s)) return;
        Instance copy = in;  // deep: its holes and runs too (DirState::gaps copies)
        detail::finalize(copy, im.verdict(), scratch, sessions, events);
    });
}

std::int64_t Tracker::clock_ns() const {
    return impl_->clock.now_ns;
}

const TrackerCounters& Tracker::counters() const {
    return impl_->counters;
}
bool Tracker::clock_started() const {
    return impl_->clock.started();
}

}  // namespace capgap
