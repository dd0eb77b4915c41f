// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// The finding rules (docs/diagnosis.md, "Findings"): each looks at the Facts and adds at most
// one finding; the list is then sorted worst first.

#include <algorithm>
#include <cstdio>
#include <string>

#include <capgap/report.hpp>

#include "diagnose/rules.hpp"

namespace capgap::detail {

namespace {

double share(std::uint64_t k, std::uint64_t n) {
    return n > 0 ? static_cast<double>(k) / static_cast<double>(n) : 0.0;
}

std::string pct(double fraction) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2f%%", 100.0 * fraction);
    return buf;
}

std::string rate(double bits_per_s) {
    char buf[32];
    if (bits_per_s >= 1e9) {
        std::snprintf(buf, sizeof buf, "%.2f Gbit/s", bits_per_s / 1e9);
    } else if (bits_per_s >= 1e6) {
        std::snprintf(buf, sizeof buf, "%.2f Mbit/s", bits_per_s / 1e6);
    } else {
        std::snprintf(buf, sizeof buf, "%.0f kbit/s", bits_per_s / 1e3);
    }
    return buf;
}

Finding make(FindingName name, Severity sev, std::string title, std::string check) {
    Finding f;
    f.name = name;
    f.severity = sev;
    f.title = std::move(title);
    f.check = std::move(check);
    return f;
}

void fig(Finding& f, const char* name, double v) {
    f.figures.emplace_back(name, v);
}
void fig(Finding& f, const char* name, std::uint64_t v) {
    f.figures.emplace_back(name, static_cast<double>(v));
}

}  // namespace

std::vector<Finding> find_causes(const Facts& f) {
    std::vector<Finding> out;
    const std::uint64_t drops = f.card_drops + f.host_drops;
    const double loss = share(f.two_way_bad, f.two_way);

    // Out-of-order timestamps first: when most loss is data that came late, the loss rules
    // below say so rather than blame the capture.
    bool late_explains = false;
    if (f.out_of_order >= min_out_of_order &&
        share(f.out_of_order, f.decoded) >= out_of_order_share) {
        const double explains = share(f.wireshark_only, f.bad_wireshark);
        late_explains =
            f.two_way_bad > 0 && share(f.late_only_bad, f.two_way_bad) >= late_explained_share;
        Finding x = make(FindingName::timestamps_out_of_order, Severity::warning,
                         std::to_string(f.out_of_order) + " packets dated before the one ahead (" +
                             pct(share(f.out_of_order, f.decoded)) + "); they explain " +
                             pct(explains) + " of Wireshark's verdict",
                         "Check whether several ports or taps were merged, and their clocks' sync "
                         "(PTP/NTP) or the merge order.");
        fig(x, "packets_out_of_time_order", f.out_of_order);
        fig(x, "share", share(f.out_of_order, f.decoded));
        fig(x, "largest_step_back_ms", static_cast<double>(f.largest_step_back_ns) / 1e6);
        fig(x, "bad_wireshark", f.bad_wireshark);
        fig(x, "wireshark_only", f.wireshark_only);
        fig(x, "explains_wireshark_share", explains);
        fig(x, "late_only_bad", f.late_only_bad);
        out.push_back(std::move(x));
    }
    // A loss finding of the capture is info only when late data explains the loss.
    const Severity loss_warning = late_explains ? Severity::info : Severity::warning;
    const Severity loss_critical = late_explains ? Severity::info : Severity::critical;

    if (drops > 0) {
        const double s = share(drops, f.packets_read + drops);
        Finding x = make(FindingName::capture_host_drops,
                         s >= drops_critical_share ? Severity::critical : Severity::warning,
                         "The capture host dropped " + std::to_string(drops) + " packets (" +
                             pct(s) + " of those offered)",
                         "Check the capture host: its buffer size, CPU and disk keeping up, and "
                         "the interface's drop counters.");
        fig(x, "drops", drops);
        fig(x, "interface_drops", f.host_drops);
        fig(x, "card_drops", f.card_drops);
        fig(x, "share", s);
        out.push_back(std::move(x));
    }

    // Bad sessions in the significant rows of the first table that has any.
    std::uint64_t in_rows = 0;
    for (const auto& r : f.significant_rows)
        if (r.first == f.significant_rows.front().first) in_rows += r.second.bad;
    // Loss on some groups makes their busy moments look like load: when the groups hold most
    // of it, the load finding is kept at info.
    const bool groups_explain =
        !f.significant_rows.empty() && share(in_rows, f.two_way_bad) >= concentrated_explains_share;

    const Load& l = f.load;
    if (l.knee_bits_per_s && (l.knee_confidence == "high" || l.knee_confidence == "medium") &&
        l.loss_above >= knee_ratio * l.loss_below && f.two_way_bad >= min_bad_for_loss) {
        Finding x = make(FindingName::load_correlated_loss,
                         groups_explain                       ? Severity::info
                         : l.loss_above >= load_critical_loss ? loss_critical
                                                              : loss_warning,
                         "Loss appears above " + rate(*l.knee_bits_per_s) + ": " +
                             pct(l.loss_above) + " of bytes lost above, " + pct(l.loss_below) +
                             " below (peak " + rate(l.peak_bits_per_s_1ms) + " over 1 ms)",
                         "Check the mirror port's load against its speed (both directions "
                         "together, microbursts): use a faster port, a tap or a packet broker.");
        fig(x, "knee_bits_per_s", *l.knee_bits_per_s);
        fig(x, "loss_below", l.loss_below);
        fig(x, "loss_above", l.loss_above);
        fig(x, "knee_z", l.knee_z);
        fig(x, "buckets_below", l.buckets_below);
        fig(x, "buckets_above", l.buckets_above);
        fig(x, "peak_bits_per_s_1ms", l.peak_bits_per_s_1ms);
        fig(x, "peak_bits_per_s_10ms", l.peak_bits_per_s_10ms);
        out.push_back(std::move(x));
    }

    const std::uint64_t one_way = f.one_sided + f.synack_only;
    const double ow = share(one_way, f.sessions + f.synack_only);
    if (one_way >= min_one_way && ow >= one_way_warning_share) {
        Finding x = make(
            FindingName::one_direction_missing,
            ow >= one_way_critical_share ? Severity::critical : Severity::warning,
            std::to_string(one_way) + " sessions (" + pct(ow) + ") were seen in one direction only",
            "Check for asymmetric routing (the other direction takes another path) "
            "and that both legs of the tap or both directions of the SPAN are "
            "captured.");
        fig(x, "one_way_sessions", one_way);
        fig(x, "share", ow);
        fig(x, "client_to_server_only", f.one_sided);
        fig(x, "server_to_client_only", f.synack_only);
        x.rows = f.one_way_rows;
        out.push_back(std::move(x));
    }

    const int hi = f.bad_in[1] > f.bad_in[0] ? 1 : 0;
    double dz = 0;
    if (f.bad_in[hi] >= min_direction_bad &&
        static_cast<double>(f.bad_in[hi]) >=
            direction_ratio * static_cast<double>(f.bad_in[1 - hi]) &&
        significant(f.bad_in[hi], f.two_way, f.bad_in[1 - hi], f.two_way, dz)) {
        const char* name = hi == 0 ? "c2s" : "s2c";
        // Loss that follows the load or some groups is lopsided wherever their traffic is
        // (downloads: server to client); those findings are the better explanation.
        bool explained = false;
        for (const Finding& o : out)
            if (o.name == FindingName::load_correlated_loss && o.severity != Severity::info)
                explained = true;
        if (!f.significant_rows.empty() && f.two_way_bad >= min_bad_for_loss && !late_explains)
            explained = true;
        Finding x = make(FindingName::direction_lossier, explained ? Severity::info : loss_warning,
                         std::string("The ") + (hi == 0 ? "client-to-server" : "server-to-client") +
                             " direction loses more: " + std::to_string(f.bad_in[hi]) +
                             " sessions against " + std::to_string(f.bad_in[1 - hi]),
                         "Check the capture of that direction alone: one tap leg or SPAN "
                         "source direction oversubscribed, or filtered.");
        fig(x, "bad_c2s", f.bad_in[0]);
        fig(x, "bad_s2c", f.bad_in[1]);
        fig(x, "sessions", f.two_way);
        fig(x, "z", dz);
        x.rows.push_back(FindingRow{"direction", name});
        out.push_back(std::move(x));
    }

    if (!f.significant_rows.empty() && f.two_way_bad >= min_bad_for_loss) {
        const std::string first =
            f.significant_rows.front().first + " " + f.significant_rows.front().second.group;
        Finding x = make(FindingName::loss_concentrated, loss_warning,
                         "Loss is concentrated: " + first + " loses " +
                             pct(f.significant_rows.front().second.percentage / 100.0) +
                             " of sessions against " + pct(loss) + " overall",
                         "Check the path to the groups named: their VLAN or tunnel's mirror "
                         "session, the switch ports they use, or the server itself.");
        fig(x, "groups", static_cast<std::uint64_t>(f.significant_rows.size()));
        fig(x, "bad_in_groups", in_rows);
        fig(x, "bad_share_in_groups", share(in_rows, f.two_way_bad));
        fig(x, "loss_overall", loss);
        for (const auto& r : f.significant_rows)
            x.rows.push_back(FindingRow{r.first, r.second.group});
        out.push_back(std::move(x));
    }

    if (f.duplicates >= min_duplicates && share(f.duplicates, f.decoded) >= duplicate_share) {
        Finding x = make(FindingName::duplicates, Severity::warning,
                         std::to_string(f.duplicates) + " packets (" +
                             pct(share(f.duplicates, f.decoded)) + ") were captured twice",
                         "Check the SPAN source: mirror ingress or egress, not both, and not "
                         "several routed VLANs carrying the same packets.");
        fig(x, "duplicates", f.duplicates);
        fig(x, "share", share(f.duplicates, f.decoded));
        x.rows = f.duplicate_rows;
        out.push_back(std::move(x));
    }

    if (f.truncated_packets > 0) {
        const bool many = share(f.truncated_packets, f.decoded) >= truncated_share ||
                          share(f.truncated_sessions, f.sessions) >= truncated_share;
        Finding x =
            make(FindingName::truncated_payload, many ? Severity::warning : Severity::info,
                 std::to_string(f.truncated_packets) + " packets had payload cut by the snaplen (" +
                     std::to_string(f.truncated_sessions) +
                     " sessions cannot be reconstructed; this is not loss)",
                 "Capture whole packets (snaplen 0 or 262144) or turn off the packet "
                 "broker's slicing if payload matters.");
        fig(x, "truncated_packets", f.truncated_packets);
        fig(x, "truncated_bytes", f.truncated_bytes);
        fig(x, "truncated_sessions", f.truncated_sessions);
        out.push_back(std::move(x));
    }

    const double rs = share(f.retransmissions, f.data_segments);
    if (f.retransmissions >= min_retransmissions && rs >= retransmission_share) {
        const bool clean = loss < network_clean_loss && drops == 0;
        Finding x = make(FindingName::network_loss, clean ? Severity::warning : Severity::info,
                         std::to_string(f.retransmissions) + " data segments (" + pct(rs) +
                             ") were retransmitted" +
                             (clean ? ": the network loses, not your capture" : ""),
                         "Check the network path between the endpoints (congestion, errors on "
                         "links); the capture itself is not the cause of these.");
        fig(x, "retransmissions", f.retransmissions);
        fig(x, "share", rs);
        fig(x, "capture_loss", loss);
        out.push_back(std::move(x));
    }

    if (f.bad == 0 && drops == 0 && f.sessions > 0) {
        const auto ci = wilson_interval(0, f.sessions);
        char buf[160];
        std::snprintf(buf, sizeof buf,
                      "No capture loss: 0 of %llu sessions lost a segment (0.00%%, 95%% interval "
                      "0.00%% to %.2f%%)",
                      static_cast<unsigned long long>(f.sessions), ci.second);
        Finding x = make(FindingName::clean_capture, Severity::info, buf,
                         "Nothing to fix in the capture; a longer capture narrows the interval.");
        fig(x, "sessions", f.sessions);
        fig(x, "bad", f.bad);
        fig(x, "ci95_high", ci.second);
        out.push_back(std::move(x));
    }

    // Loss that none of the rules above explains is still said, with its interval: a report
    // that leads with "no findings" over bad sessions would read as a clean capture.
    const bool explained = std::any_of(
        out.begin(), out.end(), [](const Finding& x) { return x.severity != Severity::info; });
    if (f.bad > 0 && !explained) {
        const double b = share(f.bad, f.sessions);
        const auto ci = wilson_interval(f.bad, f.sessions);
        char buf[200];
        std::snprintf(buf, sizeof buf,
                      "%llu of %llu sessions lost segments (%.2f%%, 95%% interval %.2f%% to "
                      "%.2f%%) with no pattern in load, direction, group, duplicates, clock or "
                      "drops",
                      static_cast<unsigned long long>(f.bad),
                      static_cast<unsigned long long>(f.sessions), 100.0 * b, ci.first, ci.second);
        const bool warn = f.bad >= min_bad_for_loss && b >= unexplained_warning_share;
        Finding x =
            make(FindingName::loss_unexplained, warn ? Severity::warning : Severity::info, buf,
                 "Loss spread evenly points upstream of the capture host (the mirror port "
                 "or tap, a packet broker): check their drop counters, and open the bad "
                 "sessions' packets (--extract-bad) to see where the gaps sit.");
        fig(x, "sessions", f.sessions);
        fig(x, "bad", f.bad);
        fig(x, "percentage", 100.0 * b);
        fig(x, "ci95_low", ci.first);
        fig(x, "ci95_high", ci.second);
        out.push_back(std::move(x));
    }

    std::stable_sort(out.begin(), out.end(), [](const Finding& a, const Finding& b) {
        if (a.severity != b.severity) return a.severity > b.severity;
        return a.name < b.name;
    });
    return out;
}

}  // namespace capgap::detail
