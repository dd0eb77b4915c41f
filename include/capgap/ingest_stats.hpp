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

/// Ingest counters. Invariant for captures:
/// packets_read == decoded + filtered_out + sum of the skipped_* counters.
/// A fragmented TCP datagram counts once under decoded (at the fragment that completes it);
/// its other fragments count under skipped_ip_fragment, or under skipped_fragment_incomplete /
/// skipped_fragment_evicted when the datagram never completes.
struct IngestStats {
    std::uint64_t files = 0;                ///< input files opened
    std::uint64_t packets_read = 0;         ///< records read from the captures
    std::uint64_t bytes_read = 0;           ///< captured bytes of those records
    std::uint64_t decoded = 0;              ///< TCP segments handed to the tracker
    std::uint64_t filtered_out = 0;         ///< rejected by the BPF filter
    std::uint64_t skipped_not_ip = 0;       ///< link payload is not IPv4/IPv6 (ARP, LLDP...)
    std::uint64_t skipped_not_tcp = 0;      ///< IP payload is not TCP (UDP, ICMP...)
    std::uint64_t skipped_ip_fragment = 0;  ///< IP fragments held for a completed datagram, or
                                            ///< of a protocol not reassembled (UDP, GRE...)
    std::uint64_t skipped_fragment_incomplete = 0;  ///< fragments of TCP datagrams that never
                                                    ///< completed (30 s timeout, end of input)
    std::uint64_t skipped_fragment_evicted = 0;     ///< fragments dropped to bound memory (more
                                                    ///< than 4096 datagrams pending)
    std::uint64_t skipped_bad_ip_header = 0;        ///< IP header malformed
    std::uint64_t skipped_bad_tcp_header = 0;    ///< TCP data offset < 5 or beyond the IP payload
    std::uint64_t skipped_truncated_header = 0;  ///< snaplen cut before the end of the TCP header
    std::uint64_t skipped_unsupported_link = 0;  ///< link type not decoded (see by_link_type)
    std::uint64_t skipped_encapsulation_depth = 0;  ///< more than 8 tunnel/MPLS/PPPoE layers
    std::uint64_t skipped_encrypted = 0;            ///< 802.11 protected frames, IPsec ESP, MACsec
    std::uint64_t skipped_unsupported_encapsulation = 0;          ///< a tunnel or encapsulation not
                                                                  ///< decoded (see below)
    std::map<std::string, std::uint64_t> unsupported_link_types;  ///< name -> packets skipped
    /// Encapsulation name -> packets skipped, for skipped_unsupported_encapsulation and
    /// skipped_encrypted (e.g. "GRE protocol 0x883e", "UDP port 2152 (GTP-U)").
    std::map<std::string, std::uint64_t> unsupported_encapsulations;
    /// With Options::tunnel_key: the tunnel paths seen, Session::tunnel i + 1 naming tunnels[i]
    /// (e.g. "VXLAN 10.0.0.1 <-> 10.0.0.2 VNI 42").
    std::vector<std::string> tunnels;
    std::uint64_t truncated_packets = 0;     ///< decoded packets whose payload the snaplen cut
    std::uint64_t truncated_bytes = 0;       ///< payload bytes cut by the snaplen (never loss)
    std::uint64_t duplicate_packets = 0;     ///< exact duplicates (SPAN): counted, never loss
    std::uint64_t duplicates_dropped = 0;    ///< of which dropped (TrackerOptions::drop_duplicates)
    std::uint64_t flows_closed_expired = 0;  ///< closed instances finished after closed_timeout
    std::uint64_t flows_idle_expired = 0;    ///< open instances finished after idle_timeout
    std::uint64_t flows_evicted = 0;         ///< instances finished early by max_open_flows
    std::uint64_t holes_cap_hit = 0;         ///< directions that reached max_holes_per_direction
    std::uint64_t open_flows_peak = 0;       ///< most instances open at once
    std::uint64_t csv_rows = 0;              ///< CSV rows read (CSV input)
    std::uint64_t csv_bad_rows = 0;          ///< CSV rows that could not be parsed
    std::vector<std::uint64_t> csv_bad_lines;  ///< their line numbers (first 100 kept)
    std::vector<InputProblem> problems;        ///< reads that stopped early (truncated file, ...)
    bool have_time = false;                    ///< true once a packet or row with a time was read
    Timestamp first_time;  ///< time of the first packet (window bounds are relative to it)
    Timestamp last_time;   ///< time of the last packet

    /// Sum of all skipped_* counters.
    std::uint64_t skipped() const {
        return skipped_not_ip + skipped_not_tcp + skipped_ip_fragment +
               skipped_fragment_incomplete + skipped_fragment_evicted + skipped_bad_ip_header +
               skipped_bad_tcp_header + skipped_truncated_header + skipped_unsupported_link +
               skipped_encapsulation_depth + skipped_encrypted + skipped_unsupported_encapsulation;
    }

    /// The counters as (name, value) pairs in a fixed order, for reports.
    std::vector<std::pair<std::string, std::uint64_t>> counters() const;
};

}  // namespace capgap
