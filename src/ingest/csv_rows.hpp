// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
#pragma once
// The CSV adapter's rows: column detection by header name and one parsed Row per usable data
// record, bad records counted with their line numbers. The sessions and events are built from
// these rows by read_wireshark_csv (csv_reader.cpp); the old socket join keys them directly.

#include <capgap/flow_key.hpp>
#include <capgap/ingest_stats.hpp>
#include <capgap/session.hpp>
#include <capgap/wireshark_csv.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ingest/csv_time.hpp"
#include "ingest/csv_tokenizer.hpp"

namespace capgap::csv {

/// Where each field is in a file (-1: absent).
struct Columns {
    int frame = -1;
    int time = -1;  // the column the time is read from
    TimeColumn time_how = TimeColumn::autodetect;
    int time_relative = -1;  // frame.time_relative, to anchor absolute times
    std::vector<int> src;    // in order of preference
    std::vector<int> dst;
    int src_port = -1;
    int dst_port = -1;
    int stream = -1;
    int seq_raw = -1;
    int flag_syn = -1;
    int flag_ack = -1;
    int lost = -1;
    int ack_lost = -1;
    int info = -1;
};

/// One usable data row.
struct Row {
    std::uint64_t line = 0;
    std::uint64_t frame = no_frame;
    ParsedTime time;
    IpAddress src_addr;
    IpAddress dst_addr;
    bool has_ports = false;
    std::uint16_t src_port = 0;
    std::uint16_t dst_port = 0;
    bool has_stream = false;
    std::uint64_t stream = 0;
    bool has_seq_raw = false;
    std::uint64_t seq_raw = 0;
    int syn = -1;  // -1: unknown
    int ack = -1;
    bool lost = false;
    bool ack_lost = false;
    InfoFields info;

    Endpoint src() const { return Endpoint{src_addr, src_port}; }
    Endpoint dst() const { return Endpoint{dst_addr, dst_port}; }
};

/// A list as read: its columns and usable rows.
struct ParsedFile {
    std::string path;
    Columns cols;
    std::vector<Row> rows;
    std::optional<CsvTimeKind> kind;        // of the first usable row
    std::optional<std::int64_t> origin_ns;  // epoch of the capture's first packet, if known
};

/// Which of the two lists a file is (the lost list needs a loss column).
enum class ListKind { syn, lost };

/// Reads lists into rows, counting rows and bad rows in `stats` and `counts`.
struct Reader {
    IngestStats& stats;
    CsvCounts& counts;

    /// Counts a bad row (IngestStats::csv_bad_rows, its line, CsvCounts' reason and problem).
    void bad_row(const std::string& path, std::uint64_t line, const std::string& reason);
    /// Reads one list: the header's columns and every usable row.
    /// @throws io_error, format_error, parse_error as read_wireshark_csv
    ParsedFile read_file(const std::string& path, ListKind list);

  private:
    std::string read_text(const std::string& path);
    Columns find_columns(const std::string& path, const Record& header,
                         const std::string& header_text, ListKind list);
    static const std::string& field(const Record& r, int i);
    bool parse_row(ParsedFile& f, const Record& r, std::size_t header_size, Row& row);
};

/// Widens stats' first and last time to the rows' times.
void note_times(IngestStats& stats, const ParsedFile& f);

/// The session a SYN row starts: category complete, one packet, one SYN.
Session new_session(const Row& r);

}  // namespace capgap::csv
