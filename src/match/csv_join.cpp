// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// The joins of the CSV path. The instance join is the Matcher's, as for captures; the socket
// join is kept only to show how far the old manual numbers were off, so it is reproduced as it
// was, port reuse and retransmitted SYNs included.

#include "match/csv_join.hpp"

#include <algorithm>
#include <utility>

#include "report/summary.hpp"

namespace capgap {

Report join_csv_instances(CsvInput in, MatchOptions options) {
    Matcher matcher(std::move(options));
    Report r = matcher.match(std::move(in.sessions), std::move(in.events), in.stats);
    r.summary.join = Join::instance;
    r.summary.unmatched_events += in.unmatched_events;
    return r;
}

Report join_csv_sockets(const std::vector<csv::Row>& syn, const std::vector<csv::Row>& lost,
                        IngestStats ingest, const std::vector<ServerFilter>& servers,
                        const std::vector<std::uint16_t>& ports) {
    Report report;
    report.ingest = std::move(ingest);

    auto kept = [&](const csv::Row& r) {
        Endpoint dst = r.dst();
        if (!servers.empty()) {
            bool any = false;
            for (const ServerFilter& f : servers)
                if ((r.has_ports || !f.port) && f.matches(dst)) any = true;
            if (!any) return false;
        }
        if (!ports.empty()) {
            if (!r.has_ports) return false;
            if (std::find(ports.begin(), ports.end(), r.dst_port) == ports.end()) return false;
        }
        return true;
    };
    // The old key: the Source column's address and the source port (rows without a port
    // cannot be keyed).
    std::vector<Endpoint> lost_keys;
    for (const csv::Row& r : lost)
        if (kept(r) && r.has_ports) lost_keys.push_back(r.src());
    std::sort(lost_keys.begin(), lost_keys.end());

    Summary& sum = report.summary;
    sum.mode = Mode::wireshark;
    sum.join = Join::socket;
    for (const csv::Row& r : syn) {
        if (!kept(r)) {
            ++sum.filtered_out;
            continue;
        }
        SessionRow row;
        row.session = csv::new_session(r);
        row.session.id = report.sessions.size();
        row.bad_wireshark =
            r.has_ports && std::binary_search(lost_keys.begin(), lost_keys.end(), r.src());
        ++sum.total_sessions;
        if (row.bad_wireshark) ++sum.bad_wireshark;
        report.sessions.push_back(row);
    }
    sum.bad_sessions = sum.bad_wireshark;
    set_percentage(sum);
    return report;
}

}  // namespace capgap
