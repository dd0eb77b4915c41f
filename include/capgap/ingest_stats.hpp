// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// @file
/// Named counters for everything read: each packet (or CSV row) is decoded or skipped under a
/// named reason, never silently dropped.

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <capgap/time.hpp>

namespace capgap {

/// A problem that stopped reading one file early (the packets before it are kept).
struct InputProblem {
    std::string source;    ///< file name
    std::string position;  ///< e.g. "offset 1234", "record 17", "line 9"
    std::string reason;    ///< what was wrong
};

/// Who counts a counter, which decides how the pipeline fills it in.
enum class CounterGroup : std::uint8_t {
    input,    ///< the reader of the files (PcapSource, the CSV reader): added by the Analyzer
    packet,   ///< the Analyzer, for every packet read
    skipped,  ///< the Analyzer, for a packet that gave no segment; IngestStats::skipped() sums them
    tracker,  ///< the Tracker (TrackerCounters): copied into IngestStats when it finishes
};

/// The tracker's counters, one `X(name, group, description)` line each; they are
/// TrackerCounters' members and IngestStats' (see CAPGAP_INGEST_COUNTERS).
#define CAPGAP_TRACKER_COUNTERS(X)                                                           \
    X(duplicate_packets, tracker, "exact duplicates (SPAN): counted, never loss")            \
    X(duplicates_dropped, tracker, "of which dropped (TrackerOptions::drop_duplicates)")     \
    X(flows_closed_expired, tracker, "closed instances finished after closed_timeout")       \
    X(flows_idle_expired, tracker, "open instances finished after idle_timeout")             \
    X(flows_evicted, tracker, "instances finished early by max_open_flows")                  \
    X(holes_cap_hit, tracker, "directions that reached max_holes_per_direction")             \
    X(open_flows_peak, tracker, "most instances open at once")                               \
    X(packets_out_of_time_order, tracker, "segments dated earlier than the one before them") \
    X(timestamp_jumps_forward, tracker,                                                      \
      "times a segment was dated more than clock_jump_limit ahead of the tracker's clock")   \
    X(timestamp_steps_back, tracker,                                                         \
      "times a segment was dated more than clock_jump_limit behind the tracker's clock")     \
    X(timestamp_largest_step_back_ns, tracker,                                               \
      "the most any segment was dated behind the tracker's clock, in nanoseconds")           \
    X(timestamp_jumps_followed, tracker,                                                     \
      "jumps and steps the clock followed: clock_confirm_packets segments in a row agreed")

/// Every ingest counter, in report order (text, JSON, counters()), one
/// `X(name, group, description)` line each: a new counter is one line here. Each line is a
/// std::uint64_t member of IngestStats and a row of ingest_counters.
#define CAPGAP_INGEST_COUNTERS(X)                                                              \
    X(files, input, "input files opened")                                                      \
    X(packets_read, packet, "records read from the captures")                                  \
    X(bytes_read, packet, "captured bytes of those records")                                   \
    X(decoded, packet, "TCP segments handed to the tracker")                                   \
    X(filtered_out, packet, "rejected by the BPF filter")                                      \
    X(skipped_not_ip, skipped, "link payload is not IPv4/IPv6 (ARP, LLDP...)")                 \
    X(skipped_not_tcp, skipped, "IP payload is not TCP (UDP, ICMP...)")                        \
    X(skipped_ip_fragment, skipped,                                                            \
      "IP fragments held for a completed datagram, or of a protocol not reassembled (ICMP, "   \
      "ESP...)")                                                                               \
    X(skipped_fragment_incomplete, skipped,                                                    \
      "fragments of datagrams that never completed (30 s timeout, end of input)")              \
    X(skipped_fragment_evicted, skipped,                                                       \
      "fragments dropped to bound memory (more than 4096 datagrams or 8 MB pending)")          \
    X(skipped_bad_ip_header, skipped, "IP header malformed")                                   \
    X(skipped_bad_tcp_header, skipped, "TCP data offset < 5 or beyond the IP payload")         \
    X(skipped_truncated_header, skipped, "snaplen cut before the end of the TCP header")       \
    X(skipped_unsupported_link, skipped, "link type not decoded (see unsupported_link_types)") \
    X(skipped_encapsulation_depth, skipped, "more than 8 tunnel/MPLS/PPPoE layers")            \
    X(skipped_encrypted, skipped, "802.11 protected frames, IPsec ESP, MACsec")                \
    X(skipped_unsupported_encapsulation, skipped,                                              \
      "a tunnel or encapsulation not decoded (see unsupported_encapsulations)")                \
    X(truncated_packets, packet, "decoded packets whose payload the snaplen cut")              \
    X(truncated_bytes, packet, "payload bytes cut by the snaplen (never loss)")                \
    X(capture_card_drops, packet,                                                              \
      "records the capture card lost before those read (ERF loss counters, summed)")           \
    X(interface_drops, input,                                                                  \
      "packets the capture interfaces dropped (pcapng statistics: ifdrop, osdrop, EPB drops)") \
    CAPGAP_TRACKER_COUNTERS(X)                                                                 \
    X(csv_rows, input, "CSV rows read (CSV input)")                                            \
    X(csv_bad_rows, input, "CSV rows that could not be parsed")

/// Expands one line of a counter list to a member `std::uint64_t name = 0;`.
#define CAPGAP_DETAIL_COUNTER_FIELD(name, group, description) std::uint64_t name = 0;

/// Ingest counters. Invariant for captures:
/// packets_read == decoded + filtered_out + skipped().
/// A fragmented datagram (TCP, or a tunnel carrying TCP) counts once under decoded, or under
/// the reason decoding it gives, at the fragment that completes it; its other fragments count under
/// skipped_ip_fragment, or under skipped_fragment_incomplete / skipped_fragment_evicted when the
/// datagram never completes.
///
/// The counters (`stats.decoded`, `stats.skipped_not_tcp`, ...) are the members listed in
/// CAPGAP_INGEST_COUNTERS, each described there; ingest_counters iterates them.
struct IngestStats {
    CAPGAP_INGEST_COUNTERS(CAPGAP_DETAIL_COUNTER_FIELD)

    std::map<std::string, std::uint64_t> unsupported_link_types;  ///< name -> packets skipped
    /// Encapsulation name -> packets skipped, for skipped_unsupported_encapsulation and
    /// skipped_encrypted (e.g. "GRE protocol 0x883e", "UDP port 2152 (GTP-U)").
    std::map<std::string, std::uint64_t> unsupported_encapsulations;
    /// With Options::tunnel_key: the tunnel paths seen, Session::tunnel i + 1 naming tunnels[i]
    /// (e.g. "VXLAN 10.0.0.1 <-> 10.0.0.2 VNI 42").
    std::vector<std::string> tunnels;
    std::vector<std::uint64_t> csv_bad_lines;  ///< line numbers of bad CSV rows (first 100 kept)
    std::vector<InputProblem> problems;        ///< reads that stopped early (truncated file, ...)
    bool have_time = false;                    ///< true once a packet or row with a time was read
    Timestamp first_time;  ///< time of the first packet (window bounds are relative to it)
    Timestamp last_time;   ///< time of the last packet

    /// Sum of the counters of group `skipped` (every skipped_* counter).
    std::uint64_t skipped() const;

    /// The counters as (name, value) pairs in report order.
    std::vector<std::pair<std::string, std::uint64_t>> counters() const;
};

/// One ingest counter: a row of ingest_counters.
struct IngestCounter {
    const char* name;                    ///< the member's name, as reports write it
    std::uint64_t IngestStats::*member;  ///< the member: `stats.*c.member`
    CounterGroup group;                  ///< who counts it
    const char* description;             ///< one line on what it counts
};

/// Every ingest counter, in report order.
inline constexpr IngestCounter ingest_counters[] = {
#define CAPGAP_DETAIL_ROW(name, group, description) \
    {#name, &IngestStats::name, CounterGroup::group, description},
    CAPGAP_INGEST_COUNTERS(CAPGAP_DETAIL_ROW)
#undef CAPGAP_DETAIL_ROW
};

inline std::uint64_t IngestStats::skipped() const {
    std::uint64_t sum = 0;
    for (const IngestCounter& c : ingest_counters) {
        if (c.group == CounterGroup::skipped) sum += this->*c.member;
    }
    return sum;
}

}  // namespace capgap
