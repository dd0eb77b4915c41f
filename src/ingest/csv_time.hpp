// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
#pragma once
// The CSV adapter's time columns: relative seconds, epoch seconds, date-times and times of day,
// parsed exactly to the nanosecond.

#include <capgap/time.hpp>
#include <capgap/wireshark_csv.hpp>

#include <string_view>

namespace capgap::csv {

/// How a time column's text is to be read.
enum class TimeColumn { epoch, relative, absolute_text, autodetect };

/// One parsed time.
struct ParsedTime {
    CsvTimeKind kind = CsvTimeKind::relative;
    Timestamp t;
    bool zone_ignored = false;  ///< a zone name other than UTC/GMT was read as UTC
};

/// Parses a time field read as `column` says; false when it is not a time of that column.
bool parse_time(std::string_view raw, TimeColumn column, ParsedTime& out);

}  // namespace capgap::csv
