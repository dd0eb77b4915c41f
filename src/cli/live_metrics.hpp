// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
#pragma once
// The metrics of `capgap live`: --metrics-listen ADDR:PORT (GET /metrics, Prometheus text) and
// --metrics-file PATH (the same text, rewritten atomically after every interval, for
// node_exporter's textfile collector). docs/live.md lists the metrics.
//
// The command makes one LiveMetrics after opening the capture and hands it every interval:
//
//     capgap::cli::LiveMetrics metrics(cli.metrics, capture);  // binds, writes the first file
//     while (capture.next(r)) { ...; metrics.interval(r); }

#include <capgap/live.hpp>

#include <memory>
#include <string>

#include "cli/metrics_server.hpp"
#include "live/metrics.hpp"

namespace capgap::cli {

struct MetricsOptions {
    std::string listen;  // --metrics-listen ADDR:PORT ("" for none)
    std::string file;    // --metrics-file PATH ("" for none)
    bool any() const { return !listen.empty() || !file.empty(); }
};

// The registry's counters from the capture's totals.
detail::MetricsCounters metrics_counters(const LiveTotals& t);
// The registry's last-interval gauges from one interval's report.
detail::MetricsInterval metrics_interval(const IntervalReport& r);

class LiveMetrics {
  public:
    // Starts the HTTP endpoint (prints "capgap: metrics at http://HOST:PORT/metrics" on
    // standard error, the port chosen when 0 was asked) and writes the metrics file once, so
    // that a bad address or an unwritable directory fails before the capture starts.
    // @throws std::invalid_argument for a listen address that is not ADDR:PORT
    // @throws io_error (output_error for the file) naming the address or the file
    LiveMetrics(const MetricsOptions& options, const LiveCapture& capture);
    ~LiveMetrics();

    // After each interval: the last-interval gauges, the counters, and the file rewritten. A
    // failed file write is reported on standard error and the capture goes on (the next
    // interval tries again): a sensor must not stop measuring because a disk filled.
    void interval(const IntervalReport& r);

    // The HTTP port bound (0 without --metrics-listen).
    int port() const { return server_ ? server_->port() : 0; }

  private:
    std::string render() const;

    MetricsOptions options_;
    const LiveCapture& capture_;
    detail::MetricsRegistry registry_;
    std::unique_ptr<MetricsServer> server_;
};

}  // namespace capgap::cli
