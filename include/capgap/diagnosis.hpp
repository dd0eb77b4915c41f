// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// @file
/// The diagnosis: where, when and why a capture loses (docs/diagnosis.md). Breakdowns by
/// server, port, client prefix, VLAN, tunnel, interface and direction; the timeline; loss
/// against load with a fitted knee; named findings with their figures; reconstructable sessions.
///
/// @code
/// capgap::Report r = capgap::analyze({"capture.pcapng"}, {});
/// capgap::Diagnosis d = r.diagnosis();
/// for (const capgap::Finding& f : d.findings) std::cout << f.title << '\n';
/// @endcode

#include <cstdint>
#include <iosfwd>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <capgap/time.hpp>
#include <capgap/vocabulary.hpp>

namespace capgap {

struct Report;

/// The finding names, one `X(name, description)` line each (see vocabulary.hpp).
#define CAPGAP_FINDINGS(X)                                                                        \
    X(capture_host_drops, "the capture host itself dropped packets (interface or card counters)") \
    X(load_correlated_loss, "loss rises with the traffic rate (oversubscribed mirror port)")      \
    X(one_direction_missing,                                                                      \
      "sessions seen in one direction only (asymmetric routing, a tap leg)")                      \
    X(direction_lossier, "one direction loses significantly more than the other")                 \
    X(loss_concentrated, "loss concentrated on some servers, ports, prefixes, VLANs, tunnels")    \
    X(duplicates, "packets captured twice (ingress and egress both mirrored, routed VLANs)")      \
    X(truncated_payload, "the snaplen or slicing cut payload: not loss, not reconstructable")     \
    X(timestamps_out_of_order, "packets dated out of order (merged ports with skewed clocks)")    \
    X(network_loss, "heavy retransmission with a clean capture: the network loses")               \
    X(loss_unexplained, "capture loss that no pattern above explains, with its interval")         \
    X(clean_capture, "no capture loss, with its interval")

/// A finding's name.
enum class FindingName : std::uint8_t { CAPGAP_FINDINGS(CAPGAP_DETAIL_ENUMERATOR) };

/// Every finding name, in enum order.
inline constexpr Named<FindingName> finding_names[] = {
#define CAPGAP_DETAIL_ROW(name, description) {FindingName::name, #name, description},
    CAPGAP_FINDINGS(CAPGAP_DETAIL_ROW)
#undef CAPGAP_DETAIL_ROW
};
static_assert(detail::in_enum_order(finding_names), "rows in enum order");
const char* to_string(FindingName f);

/// How much a finding matters, least first.
enum class Severity : std::uint8_t { info, warning, critical };
/// "info", "warning" or "critical".
const char* to_string(Severity s);

/// The breakdown tables, in report order.
#define CAPGAP_BREAKDOWNS(X)                                             \
    X(server, "server address and port")                                 \
    X(server_port, "server port")                                        \
    X(client_prefix, "client address prefix (--prefix-v4, --prefix-v6)") \
    X(vlan, "outermost VLAN id of the session's first packet")           \
    X(tunnel, "outer tunnel (with tunnel_key)")                          \
    X(interface, "capture interface (pcapng interface id)")              \
    X(direction, "direction the missing bytes were sent in")

enum class BreakdownTable : std::uint8_t { CAPGAP_BREAKDOWNS(CAPGAP_DETAIL_ENUMERATOR) };
inline constexpr Named<BreakdownTable> breakdown_tables[] = {
#define CAPGAP_DETAIL_ROW(name, description) {BreakdownTable::name, #name, description},
    CAPGAP_BREAKDOWNS(CAPGAP_DETAIL_ROW)
#undef CAPGAP_DETAIL_ROW
};
static_assert(detail::in_enum_order(breakdown_tables), "rows in enum order");
const char* to_string(BreakdownTable t);

/// The diagnosis's settings (the CLI's --top, --bucket, --prefix-v4, --prefix-v6).
struct DiagnosisOptions {
    std::size_t top = 10;        ///< rows per breakdown before the "rest" row
    std::int64_t bucket_ns = 0;  ///< timeline bucket; 0: chosen from the capture's duration
    int prefix_v4 = 24;          ///< client prefix length for IPv4
    int prefix_v6 = 64;          ///< client prefix length for IPv6
    friend bool operator==(const DiagnosisOptions& a, const DiagnosisOptions& b) {
        return a.top == b.top && a.bucket_ns == b.bucket_ns && a.prefix_v4 == b.prefix_v4 &&
               a.prefix_v6 == b.prefix_v6;
    }
};

/// One row of a breakdown table.
struct BreakdownRow {
    std::string group;           ///< e.g. "10.0.0.2:80", "vlan 10", "rest"
    std::uint64_t sessions = 0;  ///< counted sessions in the group
    std::uint64_t bad = 0;       ///< of which bad (confirmed; direction: bad in that direction)
    double percentage = 0.0;     ///< 100 * bad / sessions
    double ci95_low = 0.0;       ///< Wilson interval, percent
    double ci95_high = 0.0;
    std::uint64_t missing_bytes = 0;
    std::uint64_t events = 0;           ///< loss events
    std::uint64_t retransmissions = 0;  ///< retransmitted segments of its sessions
    std::uint64_t duplicates = 0;       ///< duplicate packets of its sessions
    bool significant = false;           ///< loss significantly above the rest (docs/diagnosis.md)
    double z = 0.0;                     ///< the two-proportion z statistic behind `significant`
};

/// One row of the timeline, `bucket_ns` wide.
struct TimelineRow {
    Timestamp start;
    std::uint64_t packets = 0, bytes = 0;
    double packets_per_s = 0.0, bits_per_s = 0.0;
    std::uint64_t new_sessions = 0, bad_sessions = 0;  ///< by SYN time
    std::uint64_t loss_events = 0, missing_bytes = 0;  ///< by the time they were revealed
    std::uint64_t retransmissions = 0, duplicates = 0;
    std::uint64_t acks = 0;             ///< segments with the ACK flag
    std::uint64_t acks_above_hole = 0;  ///< ACKs that revealed an acked_unseen run
    double gap_ack_ratio = 0.0;         ///< acks_above_hole / acks (0 without ACKs)
    std::uint64_t data_segments = 0;
};

/// One point of loss against load (one timeline bucket with traffic).
struct LoadPoint {
    double bits_per_s = 0.0;
    double loss_rate = 0.0;  ///< missing_bytes / (bytes + missing_bytes) in the bucket
};

/// Loss against load.
struct Load {
    std::optional<double> knee_bits_per_s;  ///< rate above which loss appears; none: no knee
    std::string knee_confidence = "none";   ///< "high", "medium", "low" or "none"
    double loss_below = 0.0;                ///< pooled loss rate of the buckets below the knee
    double loss_above = 0.0;                ///< and above it
    std::uint64_t buckets_below = 0, buckets_above = 0;
    double knee_z = 0.0;  ///< z of loss events per data segment above the knee against below
    double peak_bits_per_s_1ms = 0.0;
    double peak_bits_per_s_10ms = 0.0;
    std::vector<LoadPoint> points;
};

/// A breakdown row a finding points at.
struct FindingRow {
    std::string table;
    std::string group;
};

/// One named cause.
struct Finding {
    FindingName name = FindingName::clean_capture;
    Severity severity = Severity::info;
    std::string title;                                    ///< one line for humans
    std::vector<std::pair<std::string, double>> figures;  ///< the numbers behind it, in order
    std::vector<FindingRow> rows;                         ///< breakdown rows that show it
    std::string check;                                    ///< one sentence on what to check
};

/// Sessions whose every byte of both directions was captured.
struct Reconstructable {
    std::uint64_t sessions = 0;
    std::uint64_t total = 0;
    double percentage = 0.0;
};

/// Everything the diagnosis says.
struct Diagnosis {
    std::vector<Finding> findings;  ///< worst first
    Reconstructable reconstructable;
    /// One table per breakdown_tables entry, in that order: worst first, at most `top` rows,
    /// then a "rest" row when rows were left out.
    std::vector<std::pair<std::string, std::vector<BreakdownRow>>> breakdowns;
    std::int64_t bucket_ns = 0;  ///< 0: no timeline (CSV input, or the timeline off)
    std::vector<TimelineRow> timeline;
    Load load;

    /// The table of that name, or nullptr.
    const std::vector<BreakdownRow>* breakdown(const std::string& table) const;
    /// Header + one row per breakdown row, with a leading `table` column.
    void write_breakdown_csv(std::ostream& out) const;
    /// Header + one row per timeline row.
    void write_timeline_csv(std::ostream& out) const;
    /// The compact findings block the text report starts with.
    std::string findings_text() const;
};

/// A time as the diagnosis writes it: "2026-01-02T03:04:05.000000000Z" (UTC).
std::string iso8601(Timestamp t);

/// Computes the diagnosis of a report with its own options (Report::diagnosis_options).
Diagnosis diagnose(const Report& report);
/// The same with other options.
Diagnosis diagnose(const Report& report, const DiagnosisOptions& options);

/// Parses a bucket width: "10ms", "100ms", "1s", "10s", "1m", "10m", "1h" (any whole number
/// with ms, s, m or h). @throws parse_error naming `what`
std::int64_t parse_bucket(const std::string& text, const std::string& what = "--bucket");

}  // namespace capgap
