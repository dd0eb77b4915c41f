// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
#pragma once
// Private: the metrics of `capgap live` (--metrics-listen, --metrics-file) in the Prometheus
// text exposition format (version 0.0.4). docs/live.md lists every metric.
//
// The registry holds two things: the cumulative counters since start (packets, bytes, sessions
// by verdict, missing bytes by direction, the capture host's drops) and the figures of the last
// interval emitted (its bad-session ratio for both verdicts). Both are plain numbers, filled from
// LiveTotals and IntervalReport by the command; the registry knows nothing of the capture, so
// its rendering is tested with numbers alone. Labels are only of low cardinality: verdict
// (confirmed, wireshark) and direction (c2s, s2c). No per-session or per-address label ever.

#include <cstdint>
#include <mutex>
#include <string>

namespace capgap::detail {

// Cumulative since the start of `capgap live`: counters, never decreasing.
struct MetricsCounters {
    std::uint64_t packets = 0;                 // packets captured (or replayed)
    std::uint64_t bytes = 0;                   // their bytes on the wire (original length)
    std::uint64_t sessions = 0;                // sessions judged in the intervals emitted so far
    std::uint64_t bad_confirmed = 0;           // of which bad under the default verdict
    std::uint64_t bad_wireshark = 0;           // of which bad under the Wireshark verdict
    std::uint64_t missing_bytes_c2s = 0;       // payload bytes the capture missed, client to server
    std::uint64_t missing_bytes_s2c = 0;       // and server to client
    std::uint64_t intervals = 0;               // intervals emitted
    bool host_known = false;                   // false: the source reports no host drops (a file)
    std::uint64_t host_received = 0;           // pcap_stats ps_recv (or the file's statistics)
    std::uint64_t host_kernel_dropped = 0;     // ps_drop: no room in the capture buffer
    std::uint64_t host_interface_dropped = 0;  // ps_ifdrop: dropped by the interface/driver
};

// The last interval emitted.
struct MetricsInterval {
    bool any = false;           // false until the first interval is emitted
    std::int64_t begin_ns = 0;  // its SYN window [begin, end), ns since the Unix epoch
    std::int64_t end_ns = 0;
    std::uint64_t sessions = 0;       // sessions judged
    std::uint64_t bad_confirmed = 0;  // bad, default verdict
    std::uint64_t bad_wireshark = 0;  // bad, Wireshark verdict
    std::uint64_t still_open = 0;     // reported at the cap while still open
};

// The exposition text of these figures: HELP and TYPE lines, `capgap_` names, `_total`
// counters, base units (bytes, seconds), ratios from 0 to 1. A family that has no value yet is
// left out (the interval gauges before the first interval; the host drops when unknown).
std::string render_metrics(const MetricsCounters& counters, std::uint64_t open_flows,
                           const MetricsInterval& last);

// The last interval, shared between the capture loop (writer) and the HTTP thread (reader).
// The counters are not kept: each rendering takes a fresh snapshot of them, so a scrape between
// two intervals sees the packets counted so far, and no two scrapes see a counter go back.
class MetricsRegistry {
  public:
    void set_interval(const MetricsInterval& last);
    std::string render(const MetricsCounters& counters, std::uint64_t open_flows) const;

  private:
    mutable std::mutex mutex_;
    MetricsInterval last_;
};

// Writes `text` to `path` so that a reader (node_exporter's textfile collector) sees either
// the old file or the new one whole: a temporary in the same directory (".NAME.tmp-PID"),
// written, fsync'ed, closed, then renamed over `path`.
// @throws output_error naming `path` when any step fails (the temporary is removed)
void write_file_atomically(const std::string& path, const std::string& text);

}  // namespace capgap::detail
