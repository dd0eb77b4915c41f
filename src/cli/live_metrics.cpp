// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// The metrics of `capgap live` (see live_metrics.hpp).

#include "cli/live_metrics.hpp"

#include <iostream>

#include "report/output_file.hpp"

namespace capgap::cli {

detail::MetricsCounters metrics_counters(const LiveTotals& t) {
    detail::MetricsCounters c;
    c.packets = t.packets;
    c.bytes = t.bytes;
    c.sessions = t.sessions;
    c.bad_confirmed = t.bad_confirmed;
    c.bad_wireshark = t.bad_wireshark;
    c.missing_bytes_c2s = t.missing_bytes_c2s;
    c.missing_bytes_s2c = t.missing_bytes_s2c;
    c.intervals = t.intervals;
    c.host_known = t.host.known;
    c.host_received = t.host.received;
    c.host_kernel_dropped = t.host.kernel_dropped;
    c.host_interface_dropped = t.host.interface_dropped;
    return c;
}

detail::MetricsInterval metrics_interval(const IntervalReport& r) {
    detail::MetricsInterval m;
    m.any = true;
    m.begin_ns = r.begin.ns;
    m.end_ns = r.end.ns;
    m.sessions = r.report.summary.total_sessions;
    m.bad_confirmed = r.report.summary.bad_confirmed;
    m.bad_wireshark = r.report.summary.bad_wireshark;
    m.still_open = r.still_open;
    return m;
}

LiveMetrics::LiveMetrics(const MetricsOptions& options, const LiveCapture& capture)
    : options_(options), capture_(capture) {
    if (!options_.file.empty()) detail::write_file_atomically(options_.file, render());
    if (!options_.listen.empty()) {
        const ListenAddress where = parse_listen_address(options_.listen);
        server_ = std::make_unique<MetricsServer>(where, [this] { return render(); });
        const bool v6 = where.host.find(':') != std::string::npos;
        std::cerr << "capgap: metrics at http://" << (v6 ? "[" : "") << where.host
                  << (v6 ? "]" : "") << ':' << server_->port() << "/metrics" << std::endl;
    }
}

LiveMetrics::~LiveMetrics() = default;

std::string LiveMetrics::render() const {
    const LiveTotals t = capture_.totals();
    return registry_.render(metrics_counters(t), t.open_flows);
}

void LiveMetrics::interval(const IntervalReport& r) {
    registry_.set_interval(metrics_interval(r));
    if (options_.file.empty()) return;
    try {
        detail::write_file_atomically(options_.file, render());
    } catch (const std::exception& e) {
        std::cerr << "capgap: " << e.what() << " (the capture goes on)" << std::endl;
    }
}

}  // namespace capgap::cli
