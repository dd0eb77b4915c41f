// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
#pragma once
// Private: the tracker's clock (docs/counting-rules.md, "Time and flow expiry") and its sweep
// schedule. The tracker drives one from every segment it takes; the sharded pipeline
// (pipeline/parallel.cpp) drives one from every segment in capture order and hands each
// shard the clock's outcome, so that the clock sees the same segments whatever the threads.

#include <algorithm>
#include <cstdint>

#include <capgap/tracker.hpp>

#include "core/compiler.hpp"
#include "track/capture_time.hpp"

namespace capgap::detail {

class TrackerClock {
  public:
    explicit TrackerClock(const TrackerOptions& o)
        : jump_limit_(o.clock_jump_limit_ns > 0 ? static_cast<std::uint64_t>(o.clock_jump_limit_ns)
                                                : ~std::uint64_t{0}),
          confirm_(std::max<std::uint32_t>(o.clock_confirm_packets, 1)),
          sweep_interval_ns_(sweep_interval(o)) {}

    // The latest capture time accepted: what closed_timeout and idle_timeout count from.
    std::int64_t now_ns = 0;

    // Moves the clock for a segment dated `t`; false when `t` is an outlier the clock did not
    // take (see slow()). The clock's counters go to `c`.
    CAPGAP_ALWAYS_INLINE bool advance(std::int64_t t, TrackerCounters& c) {
        // The common segment: after the one before, which was at the clock, and at most the
        // limit ahead of it.
        if (!off_clock_ && t >= now_ns && distance(now_ns, t) <= jump_limit_) {
            now_ns = t;
            return true;
        }
        return slow(t, c);
    }

    // True when the flow table is due for a sweep at the current time (then the next one is
    // scheduled): called once after each advance().
    CAPGAP_ALWAYS_INLINE bool sweep_due() {
        if (now_ns < next_sweep_ns_) return false;
        next_sweep_ns_ = sat_add(now_ns, sweep_interval_ns_);
        return true;
    }

    // True once the first segment set the clock.
    bool started() const { return started_; }

    // The clock's part of the flow state (docs/state-format.md, "Tracker"), in the order the
    // format gives; `io` writes or reads each field (core/state_io.hpp).
    template <class IO>
    void state(IO& io) {
        io(now_ns);
        io(next_sweep_ns_);
        io(started_);
        io(off_clock_);
        io(prev_ns_);
        io(run_);
        io(run_latest_);
    }

  private:
    static std::int64_t sweep_interval(const TrackerOptions& o) {
        std::int64_t t = 0;
        for (std::int64_t v : {o.closed_timeout_ns, o.idle_timeout_ns})
            if (v > 0) t = t == 0 ? v : std::min(t, v);
        return std::max<std::int64_t>(t / 8, 1'000'000'000);
    }

    // b - a for a <= b, exact (int64 differences can overflow; the unsigned one cannot).
    static std::uint64_t distance(std::int64_t a, std::int64_t b) {
        return static_cast<std::uint64_t>(b) - static_cast<std::uint64_t>(a);
    }
    bool within_limit(std::int64_t a, std::int64_t b) const {
        return (a <= b ? distance(a, b) : distance(b, a)) <= jump_limit_;
    }

    // The clock's rule: a segment within the limit of the clock moves it forward (never
    // back); one beyond the limit, ahead or behind, is counted and leaves it where it is,
    // unless it completes a run of `confirm` such segments in a row that agree with each
    // other within the limit: then the capture really continues at that time and the clock
    // moves to the run's latest. A single corrupt timestamp therefore expires nothing, and a
    // real jump is followed a few segments late. Returns false when the segment is such an
    // outlier (not followed).
    CAPGAP_NOINLINE bool slow(std::int64_t t, TrackerCounters& c) {
        if (!started_) {
            started_ = true;
            now_ns = t;
            off_clock_ = false;
            next_sweep_ns_ = sat_add(now_ns, sweep_interval_ns_);
            return true;
        }
        if (t < (off_clock_ ? prev_ns_ : now_ns)) ++c.packets_out_of_time_order;
        if (t < now_ns) {
            c.timestamp_largest_step_back_ns =
                std::max(c.timestamp_largest_step_back_ns, distance(t, now_ns));
        }
        prev_ns_ = t;
        off_clock_ = true;
        if (within_limit(t, now_ns)) {
            run_ = 0;
            if (t >= now_ns) {
                now_ns = t;
                off_clock_ = false;
            }
            return true;
        }
        if (run_ > 0 && within_limit(t, run_latest_)) {
            ++run_;
            run_latest_ = std::max(run_latest_, t);
        } else {
            run_ = 1;
            run_latest_ = t;
            ++(t > now_ns ? c.timestamp_jumps_forward : c.timestamp_steps_back);
        }
        if (run_ < confirm_) return false;
        ++c.timestamp_jumps_followed;
        // Forward, housekeeping sweeps at once; back, the next sweep is rescheduled from
        // the new time.
        if (run_latest_ < now_ns) next_sweep_ns_ = sat_add(run_latest_, sweep_interval_ns_);
        now_ns = run_latest_;
        off_clock_ = t != now_ns;
        run_ = 0;
        return true;
    }

    std::int64_t next_sweep_ns_ = 0;
    bool started_ = false;
    // The segment before was not at the clock (or there was none): the next one takes the
    // slow path, which compares it with prev_ns_, that segment's time.
    bool off_clock_ = true;
    std::int64_t prev_ns_ = 0;
    // Segments in a row beyond the limit, each within it of run_latest_, the latest of them.
    std::uint32_t run_ = 0;
    std::int64_t run_latest_ = 0;
    const std::uint64_t jump_limit_;  // clock_jump_limit_ns; no limit: the largest value
    const std::uint32_t confirm_;     // clock_confirm_packets, at least 1
    const std::int64_t sweep_interval_ns_;
};

}  // namespace capgap::detail
