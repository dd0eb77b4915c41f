// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause

#include <capgap/ingest_stats.hpp>

namespace capgap {

std::vector<std::pair<std::string, std::uint64_t>> IngestStats::counters() const {
    // The order is part of the report formats (text, JSON): keep it stable.
    return {
        {"files", files},
        {"packets_read", packets_read},
        {"bytes_read", bytes_read},
        {"decoded", decoded},
        {"filtered_out", filtered_out},
        {"skipped_not_ip", skipped_not_ip},
        {"skipped_not_tcp", skipped_not_tcp},
        {"skipped_ip_fragment", skipped_ip_fragment},
        {"skipped_fragment_incomplete", skipped_fragment_incomplete},
        {"skipped_fragment_evicted", skipped_fragment_evicted},
        {"skipped_bad_ip_header", skipped_bad_ip_header},
        {"skipped_bad_tcp_header", skipped_bad_tcp_header},
        {"skipped_truncated_header", skipped_truncated_header},
        {"skipped_unsupported_link", skipped_unsupported_link},
        {"skipped_encapsulation_depth", skipped_encapsulation_depth},
        {"skipped_encrypted", skipped_encrypted},
        {"skipped_unsupported_encapsulation", skipped_unsupported_encapsulation},
        {"truncated_packets", truncated_packets},
        {"truncated_bytes", truncated_bytes},
        {"duplicate_packets", duplicate_packets},
        {"duplicates_dropped", duplicates_dropped},
        {"flows_closed_expired", flows_closed_expired},
        {"flows_idle_expired", flows_idle_expired},
        {"flows_evicted", flows_evicted},
        {"holes_cap_hit", holes_cap_hit},
        {"open_flows_peak", open_flows_peak},
        {"csv_rows", csv_rows},
        {"csv_bad_rows", csv_bad_rows},
    };
}

}  // namespace capgap
