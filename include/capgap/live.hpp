// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// @file
/// Continuous measurement: packets from live interfaces (libpcap) or a file replayed at a
/// chosen speed, judged per interval of capture time (docs/live.md).
///
/// @code
/// capgap::LiveOptions opt;
/// opt.interfaces = {"eth0"};
/// opt.interval_ns = 60'000'000'000;
/// capgap::LiveCapture live(opt);
/// capgap::IntervalReport r;
/// while (live.next(r)) std::cout << r.to_text() << '\n';   // stop() from elsewhere ends it
/// @endcode

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <capgap/analyze.hpp>
#include <capgap/report.hpp>
#include <capgap/time.hpp>

namespace capgap {

/// The capture host's own drops over a period (pcap_stats deltas live; pcapng interface
/// statistics blocks and enhanced packet block drop counts for a file).
struct CaptureDrops {
    std::uint64_t received = 0;           ///< packets the capture saw (ps_recv, ISB ifrecv)
    std::uint64_t kernel_dropped = 0;     ///< dropped by the kernel / OS buffer (ps_drop, osdrop)
    std::uint64_t interface_dropped = 0;  ///< dropped by the interface (ps_ifdrop, ifdrop, EPB)
    bool known = false;  ///< false: the source gives none (a pcap file, pcapng without ISB)

    std::uint64_t dropped() const { return kernel_dropped + interface_dropped; }
};

/// Everything LiveCapture takes.
struct LiveOptions {
    /// Tracker, match (mode, servers, ports), bpf, diagnosis. match.window is not used: each
    /// interval is the window of its report. The timeline is off (it would grow for ever).
    Options analysis;
    std::vector<std::string> interfaces;  ///< -i: capture from these (one pcap handle each)
    std::string replay_file;              ///< -r: replay this capture instead of interfaces
    /// Replay speed: N times real time. 0 (the CLI's "max") replays as fast as it can read.
    double speed = 1;
    int snaplen = 262144;     ///< bytes kept per packet
    int buffer_size_mb = 64;  ///< kernel capture buffer per interface, in MB
    /// Length of an interval (capture time); intervals are aligned on its multiples.
    std::int64_t interval_ns = 60'000'000'000;
    /// A session of the window idle this long is judged as it stands (its loss had the
    /// chance to show). Default 30 s.
    std::int64_t grace_ns = 30'000'000'000;
    /// The interval is emitted at the latest at its end + cap; sessions still open then are
    /// judged as known and counted in IntervalReport::still_open. Default 5 minutes.
    std::int64_t cap_ns = 300'000'000'000;
    /// How often a blocked next() wakes up (pcap timeout, replay sleep slices), in ns.
    std::int64_t poll_ns = 100'000'000;
};

/// One interval's judgement.
struct IntervalReport {
    Timestamp begin, end;          ///< the SYN window [begin, end)
    Report report;                 ///< that window's sessions and events, both verdicts
    std::uint64_t still_open = 0;  ///< sessions judged at the cap while still open (marked)
    std::uint64_t packets = 0;     ///< packets captured while the window was current
    std::uint64_t bytes = 0;       ///< their wire bytes
    CaptureDrops host;             ///< the host's drops over the same period
    std::uint64_t open_flows = 0;  ///< instances open at emission
    bool final = false;            ///< flushed by stop(), SIGTERM or the end of the file

    /// One line: window, sessions, bad, percentage, interval, Wireshark count, drops.
    std::string to_text() const;
    /// One JSON object without newlines (a jsonl line).
    std::string to_json() const;
};

/// Cumulative figures since the start (a thread-safe snapshot).
struct LiveTotals {
    std::uint64_t packets = 0, bytes = 0;
    std::uint64_t intervals = 0;      ///< intervals emitted
    std::uint64_t sessions = 0;       ///< sessions counted in emitted intervals
    std::uint64_t good = 0;           ///< of which good under the confirmed verdict
    std::uint64_t bad_confirmed = 0;  ///< bad under the confirmed verdict
    std::uint64_t bad_wireshark = 0;  ///< bad under the Wireshark verdict
    std::uint64_t still_open = 0;     ///< judged while still open
    std::uint64_t missing_bytes_c2s = 0, missing_bytes_s2c = 0;  ///< in counted sessions
    CaptureDrops host;             ///< the host's drops since the start
    std::uint64_t open_flows = 0;  ///< instances open now
};

/// Captures and judges interval by interval.
class LiveCapture {
  public:
    /// Opens the interfaces (or the file) and applies the filter.
    /// @throws io_error naming the interface when it does not exist, the capture permission
    /// is missing (CAP_NET_RAW) or libpcap fails otherwise; io_error / format_error for the file
    /// @throws parse_error when the BPF filter does not compile
    explicit LiveCapture(LiveOptions options);
    ~LiveCapture();
    LiveCapture(const LiveCapture&) = delete;
    LiveCapture& operator=(const LiveCapture&) = delete;

    /// Blocks until the next interval is due and fills `out`; false once stopped (or the file
    /// ended) and every interval was flushed (the last one with `final` set).
    bool next(IntervalReport& out);
    /// What poll() did.
    enum class Poll { report, idle, ended };
    /// One step of next(): reads for about LiveOptions::poll_ns and returns `report` (with
    /// `out` filled) when an interval was due, `idle` when none was yet, `ended` as next()
    /// returns false. For callers that must look at something else between steps (Python's
    /// signal check).
    Poll poll(IntervalReport& out);
    /// Ends the capture: the next call of next() flushes what is open. Thread-safe and
    /// async-signal-safe (an atomic store).
    void stop();
    /// What libpcap warned of while opening the interfaces (each "IFACE: what"), for the
    /// caller to show; empty for a replay.
    std::vector<std::string> warnings() const;
    /// True once stop() was called.
    bool stopped() const;
    /// Cumulative figures (thread-safe; a metrics thread may read it while next() runs).
    LiveTotals totals() const;

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace capgap
