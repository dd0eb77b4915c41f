// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// @file
/// The CSV adapter: Wireshark's "Export Packet Dissections > As CSV" files and tshark
/// `-T fields -E header=y -E separator=, -E quote=d` files, turned into sessions and events for
/// the Matcher (SEMANTICS.md section 7).

#include <string>
#include <vector>

#include <capgap/ingest_stats.hpp>
#include <capgap/loss_event.hpp>
#include <capgap/session.hpp>

namespace capgap {

/// Sessions from the SYN list and loss events from the lost list.
struct CsvInput {
    std::vector<Session> sessions;  ///< one per session instance (retransmitted SYNs merged)
    std::vector<LossEvent> events;  ///< one per flagged row, attributed when tcp.stream allows
    IngestStats stats;              ///< rows read, bad rows with line numbers, first time
};

/// Reads a SYN list and a lost list.
/// @throws io_error when a file cannot be read
/// @throws format_error when a file is empty, binary or has no usable header
/// @throws parse_error when a required column is missing (names the header found)
CsvInput read_wireshark_csv(const std::string& syn_path, const std::string& lost_path);

}  // namespace capgap
