// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// @file
/// The exception hierarchy for fatal input problems.
///
/// Fatal problems (a file that cannot be opened, a file that is not a capture at all, a
/// capture in which nothing could be decoded, a CSV without its required columns) throw one
/// of these. Per-record problems (a truncated packet, a non-TCP packet, a malformed CSV row)
/// never throw: they are named counters in IngestStats.
///
/// Every message has the form "source:position: reason", built in one place
/// (src/core/errors.cpp).

#include <cstdint>
#include <stdexcept>
#include <string>

namespace capgap {

/// Base of every exception capgap throws on purpose.
class error : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

/// A file could not be opened or read (missing, unreadable, I/O failure).
///
/// When the failure came from the operating system, `error_number()` is its errno and
/// `path()` the file, so that bindings can raise their own errors (Python's
/// FileNotFoundError, PermissionError) with both; otherwise they are 0 and empty.
class io_error : public error {
  public:
    using error::error;
    io_error(const std::string& message, std::string path, int error_number);
    /// The file that failed (empty when unknown).
    const std::string& path() const noexcept { return path_; }
    /// The errno of the failure, 0 when it did not come from the operating system.
    int error_number() const noexcept { return errno_; }

  private:
    std::string path_;
    int errno_ = 0;
};

/// A file is not in a format capgap reads (not a capture, unknown header, nothing decodable).
class format_error : public error {
  public:
    using error::error;
};

/// Text input (CSV, a command-line value) could not be parsed.
///
/// `source` names the file (or the option), `line` and `column` are 1-based; 0 means unknown.
class parse_error : public error {
  public:
    parse_error(std::string source, std::uint64_t line, std::uint64_t column,
                const std::string& reason);
    const std::string& source() const noexcept { return source_; }
    std::uint64_t line() const noexcept { return line_; }
    std::uint64_t column() const noexcept { return column_; }

  private:
    std::string source_;
    std::uint64_t line_;
    std::uint64_t column_;
};

}  // namespace capgap
