// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
#pragma once
// Private: the diagnosis's statistics and finding rules, apart from the Report so that tests
// can give them synthetic inputs. Every threshold is a named constant here and a line of
// docs/diagnosis.md.

#include <cstdint>
#include <string>
#include <vector>

#include <capgap/diagnosis.hpp>

namespace capgap::detail {

// ---- significance (breakdown rows) -------------------------------------------------------
// A group is significant when its loss is above the rest's with z >= significance_z
// (one-sided p < 0.0005; strict, as every row of every table is one more test), the group has
// at least min_group_sessions sessions and min_group_bad bad ones, and the rest has sessions.
constexpr double significance_z = 3.29;
constexpr std::uint64_t min_group_sessions = 20;
constexpr std::uint64_t min_group_bad = 3;

// The pooled two-proportion z statistic of k1/n1 against k2/n2 (positive: the first is
// higher); 0 when either n is 0 or the pooled proportion is 0 or 1.
double two_proportion_z(std::uint64_t k1, std::uint64_t n1, std::uint64_t k2, std::uint64_t n2);
// The rule above.
bool significant(std::uint64_t k, std::uint64_t n, std::uint64_t rest_k, std::uint64_t rest_n,
                 double& z);

// ---- loss against load -------------------------------------------------------------------
struct LoadSample {
    double bits_per_s = 0.0;
    double bytes = 0.0;             // on-wire bytes in the bucket
    double missing = 0.0;           // missing bytes revealed in it
    std::uint64_t segments = 0;     // data segments captured in it
    std::uint64_t loss_events = 0;  // loss events revealed in it
};
// Fewest buckets with traffic before a knee is fitted.
constexpr std::size_t knee_min_buckets = 4;
// Least share of the data segments the buckets below the knee must hold: loss can only be
// revealed where data flows, so a "knee" above nearly idle buckets proves nothing.
constexpr double knee_min_below_share = 0.1;
// The knee's test: loss events per data segment above against below, two-proportion z.
constexpr double knee_z_medium = 3.29;
constexpr double knee_z_high = 5.0;
// Fits a step: loss ~ a below a rate, ~ b > a above it (least squares over the buckets' loss
// rates), and fills out.knee_*, loss_below/above, buckets_below/above and points. The
// confidence is the z test of the loss events per data segment above against below: "high"
// (z >= knee_z_high), "medium" (>= knee_z_medium), else "low".
void fit_knee(std::vector<LoadSample> samples, Load& out);

// ---- bucket width ------------------------------------------------------------------------
// Most rows the automatic bucket gives.
constexpr std::uint64_t auto_bucket_rows = 300;
// The bucket: `requested` (0: the smallest of 10 ms, 100 ms, 1 s, 10 s, 1 min, 10 min, 1 h,
// 1 day giving at most auto_bucket_rows rows over `span_ns`), rounded up to a multiple of
// `base_ns` (0: no base).
std::int64_t choose_bucket(std::int64_t requested, std::int64_t span_ns, std::int64_t base_ns);

// ---- findings ----------------------------------------------------------------------------
// What the rules look at, gathered from a report (or built by a test).
struct Facts {
    bool wireshark_mode = false;
    std::uint64_t sessions = 0;  // counted sessions
    std::uint64_t bad = 0;       // of which bad (headline verdict)
    std::uint64_t two_way = 0;   // counted sessions seen in both directions (complete)
    std::uint64_t two_way_bad = 0;
    std::uint64_t late_only_bad = 0;   // two-way bad whose every loss event is late_filled
    std::uint64_t bad_in[2] = {0, 0};  // two-way sessions bad in c2s, in s2c
    std::uint64_t one_sided = 0;       // counted, packets in one direction only
    std::uint64_t synack_only = 0;     // SYN-ACK without its SYN (not counted)
    std::uint64_t packets_read = 0, decoded = 0, data_segments = 0;
    std::uint64_t retransmissions = 0, duplicates = 0;
    std::uint64_t truncated_packets = 0, truncated_bytes = 0, truncated_sessions = 0;
    std::uint64_t out_of_order = 0, largest_step_back_ns = 0;
    std::uint64_t card_drops = 0, host_drops = 0;
    std::uint64_t bad_wireshark = 0, wireshark_only = 0;
    Load load;
    // Breakdown rows (all but direction) whose loss is significant, by table order then z.
    std::vector<std::pair<std::string, BreakdownRow>> significant_rows;
    // Server rows where most sessions were seen one way; rows with most duplicates.
    std::vector<FindingRow> one_way_rows, duplicate_rows;
};

// Thresholds of the rules (docs/diagnosis.md, "Findings").
constexpr double drops_critical_share = 0.001;  // host drops per packet offered
constexpr double knee_ratio = 5.0;              // loss above / loss below the knee
constexpr double load_critical_loss = 0.01;     // loss rate above the knee
constexpr std::uint64_t min_bad_for_loss = 3;   // fewest bad sessions behind a loss finding
constexpr double one_way_warning_share = 0.02;  // one-way instances per instance
constexpr double one_way_critical_share = 0.5;
constexpr std::uint64_t min_one_way = 3;
constexpr double direction_ratio = 3.0;  // bad in one direction / in the other
constexpr std::uint64_t min_direction_bad = 5;
constexpr double duplicate_share = 0.01;  // duplicates per decoded segment
constexpr std::uint64_t min_duplicates = 10;
constexpr double truncated_share = 0.01;      // truncated per decoded, or per session
constexpr double out_of_order_share = 0.001;  // out-of-order per decoded segment
constexpr std::uint64_t min_out_of_order = 10;
constexpr double late_explained_share = 0.5;         // late-only bad per two-way bad
constexpr double concentrated_explains_share = 0.8;  // bad in significant rows per two-way bad
constexpr double retransmission_share = 0.01;        // retransmissions per data segment
constexpr std::uint64_t min_retransmissions = 20;
constexpr double network_clean_loss = 0.01;         // capture loss below which it is "clean"
constexpr double unexplained_warning_share = 0.01;  // bad per session: a warning from here

// The findings, worst first.
std::vector<Finding> find_causes(const Facts& f);

}  // namespace capgap::detail
