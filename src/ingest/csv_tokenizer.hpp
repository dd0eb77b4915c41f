// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
#pragma once
// RFC 4180 records and the small text helpers the CSV adapter's sources share.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace capgap::csv {

/// `s` without leading and trailing blanks and tabs.
std::string_view trim(std::string_view s);
/// ASCII lower case.
std::string lower(std::string_view s);
/// A decimal of at most 19 digits (blanks around it ignored); false when it is not one.
bool parse_uint(std::string_view s, std::uint64_t& out);
/// The last of several comma-separated occurrences of a tshark field, trimmed.
std::string_view last_occurrence(std::string_view s);
/// A boolean tshark field: 1, 0, or -1 when empty.
int parse_flag(std::string_view s);
/// True when the first `limit` bytes are valid UTF-8 (a sequence cut at the limit is fine).
bool valid_utf8_prefix(const std::string& text, std::size_t limit);

/// One CSV record.
struct Record {
    std::uint64_t line = 0;  ///< 1-based line where the record starts
    std::vector<std::string> fields;
    bool malformed = false;  ///< broken quoting
};

/// Splits RFC 4180 text into records: quoted fields with `""` and line ends inside, CRLF, LF or
/// a lone CR between records, blank lines skipped.
class CsvTokenizer {
  public:
    explicit CsvTokenizer(std::string_view text) : s_(text) {}

    /// Reads the next non-blank record; false at the end of the text.
    bool next(Record& r);

  private:
    bool read_record(Record& r);

    std::string_view s_;
    std::size_t p_ = 0;
    std::uint64_t line_ = 1;
};

}  // namespace capgap::csv
