// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// @file
/// Timestamps in nanoseconds and the monitoring window, parsed exactly (never via double).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace capgap {

/// A point in time: nanoseconds since the Unix epoch (UTC). Regular value type.
struct Timestamp {
    std::int64_t ns = 0;  ///< nanoseconds since 1970-01-01T00:00:00Z

    friend bool operator==(Timestamp a, Timestamp b) { return a.ns == b.ns; }
    friend bool operator!=(Timestamp a, Timestamp b) { return a.ns != b.ns; }
    friend bool operator<(Timestamp a, Timestamp b) { return a.ns < b.ns; }
    friend bool operator<=(Timestamp a, Timestamp b) { return a.ns <= b.ns; }
    friend bool operator>(Timestamp a, Timestamp b) { return a.ns > b.ns; }
    friend bool operator>=(Timestamp a, Timestamp b) { return a.ns >= b.ns; }
};

/// Epoch seconds with nine decimals, e.g. "1700000000.000000001" (exact).
std::string to_string(Timestamp t);

/// ISO-8601 in UTC with nine decimals, e.g. "2023-11-14T22:13:20.000000001Z" (exact; the form
/// the CSV tables use, which pandas and Arrow read to the nanosecond).
std::string to_iso8601(Timestamp t);

/// Parses a decimal number of seconds ("12", "12.5", "-0.000000001") to nanoseconds exactly.
/// Digits beyond the ninth decimal are rejected rather than rounded.
/// @throws parse_error on anything that is not such a number (source names `what`)
std::int64_t parse_seconds_ns(std::string_view text, const std::string& what = "time");

/// Parses an ISO-8601 date-time "YYYY-MM-DDTHH:MM:SS[.fraction][Z|+HH:MM|-HH:MM]" (a space may
/// replace the T; no zone means UTC) to an exact Timestamp.
/// @throws parse_error when the text is not such a date-time
Timestamp parse_iso8601(std::string_view text, const std::string& what = "time");

/// One bound of a monitoring window as the user wrote it.
struct WindowBound {
    enum class Kind {
        relative,  ///< seconds from the first packet of the capture
        absolute   ///< an absolute time (epoch seconds above 1e9, or ISO-8601)
    };
    Kind kind = Kind::relative;
    std::int64_t ns = 0;  ///< offset (relative) or epoch nanoseconds (absolute)

    /// Resolves the bound against the capture's first packet time.
    Timestamp resolve(Timestamp first_packet) const {
        return kind == Kind::relative ? Timestamp{first_packet.ns + ns} : Timestamp{ns};
    }
};

/// The half-open monitoring window [begin, end). A missing bound is open.
///
/// @code
/// auto w = capgap::TimeWindow::parse("10,70");      // seconds from the first packet
/// auto v = capgap::TimeWindow::parse("2024-05-01T10:00:00Z,2024-05-01T11:00:00Z");
/// @endcode
struct TimeWindow {
    std::optional<WindowBound> begin;  ///< none: from the start of the capture
    std::optional<WindowBound> end;    ///< none: to the end of the capture

    /// Parses "START,END" where each side is relative seconds, epoch seconds (above 1e9) or
    /// ISO-8601, and either side may be empty.
    /// @throws parse_error on a malformed bound or START > END of the same kind
    static TimeWindow parse(std::string_view text);

    /// True when t lies in [begin, end) once resolved against the first packet time.
    bool contains(Timestamp t, Timestamp first_packet) const {
        if (begin && t < begin->resolve(first_packet)) return false;
        if (end && !(t < end->resolve(first_packet))) return false;
        return true;
    }
};

}  // namespace capgap
