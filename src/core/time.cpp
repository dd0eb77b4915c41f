// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// Exact time parsing: every number is read as a decimal string into integer nanoseconds,
// never through a double, so window bounds compare exactly with packet timestamps.

#include <capgap/time.hpp>

#include <cstdint>
#include <cstdio>
#include <limits>
#include <string>
#include <string_view>

#include "core/errors.hpp"

namespace capgap {

namespace {

constexpr std::int64_t ns_per_s = 1'000'000'000;
constexpr std::uint64_t max_ns =
    static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

[[noreturn]] void fail(const std::string& what, std::string_view text, const std::string& why) {
    throw_parse_error(what, 0, 0, "'" + std::string(text) + "': " + why);
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
        s.remove_suffix(1);
    return s;
}

// Reads exactly `n` digits at `pos` as an integer; false when they are not all digits.
bool fixed_digits(std::string_view s, std::size_t pos, std::size_t n, int& out) {
    if (pos + n > s.size()) return false;
    int v = 0;
    for (std::size_t i = 0; i < n; ++i) {
        char c = s[pos + i];
        if (!is_digit(c)) return false;
        v = v * 10 + (c - '0');
    }
    out = v;
    return true;
}

// Days since 1970-01-01 of a proleptic Gregorian date (the classic days-from-civil method:
// count in 400-year eras starting on March 1st so the leap day is the last day of a year).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
    y -= m <= 2 ? 1 : 0;
    const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
    const auto yoe = static_cast<std::uint64_t>(y - era * 400);       // [0, 399]
    const std::uint64_t mp = m > 2 ? m - 3 : m + 9;                   // March = 0
    const std::uint64_t doy = (153 * mp + 2) / 5 + d - 1;             // [0, 365]
    const std::uint64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;  // [0, 146096]
    return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

bool is_leap(int y) {
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int days_in_month(int y, int m) {
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

}  // namespace

std::string to_iso8601(Timestamp t) {
    // Floor division so times before 1970 keep a fraction in [0, 1 s).
    std::int64_t secs = t.ns / ns_per_s;
    std::int64_t frac = t.ns % ns_per_s;
    if (frac < 0) {
        frac += ns_per_s;
        --secs;
    }
    std::int64_t days = secs / 86400;
    std::int64_t sod = secs % 86400;
    if (sod < 0) {
        sod += 86400;
        --days;
    }
    // civil-from-days, the inverse of days_from_civil above.
    const std::int64_t z = days + 719468;
    const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const auto doe = static_cast<std::uint64_t>(z - era * 146097);                    // [0, 146096]
    const std::uint64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;  // [0, 399]
    const std::uint64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);                // [0, 365]
    const std::uint64_t mp = (5 * doy + 2) / 153;                                     // March = 0
    const auto d = static_cast<unsigned>(doy - (153 * mp + 2) / 5 + 1);
    const auto m = static_cast<unsigned>(mp < 10 ? mp + 3 : mp - 9);
    const std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2 ? 1 : 0);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02lld:%02lld:%02lld.%09lldZ",
                  static_cast<long long>(y), m, d, static_cast<long long>(sod / 3600),
                  static_cast<long long>(sod / 60 % 60), static_cast<long long>(sod % 60),
                  static_cast<long long>(frac));
    return buf;
}

std::string to_string(Timestamp t) {
    const bool neg = t.ns < 0;
    // Magnitude as unsigned so INT64_MIN is representable.
    const std::uint64_t mag =
        neg ? static_cast<std::uint64_t>(-(t.ns + 1)) + 1 : static_cast<std::uint64_t>(t.ns);
    const std::uint64_t secs = mag / static_cast<std::uint64_t>(ns_per_s);
    const std::uint64_t frac = mag % static_cast<std::uint64_t>(ns_per_s);
    std::string f = std::to_string(frac);
    std::string out;
    if (neg) out += '-';
    out += std::to_string(secs);
    out += '.';
    out.append(9 - f.size(), '0');
    out += f;
    return out;
}

std::int64_t parse_seconds_ns(std::string_view text, const std::string& what) {
    std::string_view s = text;
    bool neg = false;
    std::size_t i = 0;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
        neg = s[i] == '-';
        ++i;
    }
    std::uint64_t secs = 0;
    std::size_t int_digits = 0;
    for (; i < s.size() && is_digit(s[i]); ++i, ++int_digits) {
        if (secs > max_ns / static_cast<std::uint64_t>(ns_per_s)) fail(what, text, "out of range");
        secs = secs * 10 + static_cast<std::uint64_t>(s[i] - '0');
    }
    std::uint64_t frac = 0;
    std::size_t frac_digits = 0;
    if (i < s.size() && s[i] == '.') {
        ++i;
        for (; i < s.size() && is_digit(s[i]); ++i, ++frac_digits) {
            if (frac_digits == 9) fail(what, text, "more than nine decimals (nanoseconds)");
            frac = frac * 10 + static_cast<std::uint64_t>(s[i] - '0');
        }
        if (frac_digits == 0) fail(what, text, "expected digits after the decimal point");
    }
    if (int_digits == 0 && frac_digits == 0) fail(what, text, "not a number of seconds");
    if (i != s.size()) fail(what, text, "not a number of seconds");
    for (std::size_t k = frac_digits; k < 9; ++k)
        frac *= 10;
    if (secs > max_ns / static_cast<std::uint64_t>(ns_per_s)) fail(what, text, "out of range");
    const std::uint64_t whole = secs * static_cast<std::uint64_t>(ns_per_s);
    if (whole > max_ns - frac) fail(what, text, "out of range");
    const auto v = static_cast<std::int64_t>(whole + frac);
    return neg ? -v : v;
}

Timestamp parse_iso8601(std::string_view text, const std::string& what) {
    std::string_view s = text;
    int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
    const char* bad = "not an ISO-8601 date-time (YYYY-MM-DDTHH:MM:SS[.frac][Z|+HH:MM])";
    if (!fixed_digits(s, 0, 4, year) || s.size() < 19 || s[4] != '-' ||
        !fixed_digits(s, 5, 2, month) || s[7] != '-' || !fixed_digits(s, 8, 2, day) ||
        (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || !fixed_digits(s, 11, 2, hour) ||
        s[13] != ':' || !fixed_digits(s, 14, 2, minute) || s[16] != ':' ||
        !fixed_digits(s, 17, 2, second)) {
        fail(what, text, bad);
    }
    if (month < 1 || month > 12 || day < 1 || day > days_in_month(year, month) || hour > 23 ||
        minute > 59 || second > 59) {
        fail(what, text, "date or time field out of range");
    }
    std::size_t i = 19;
    std::int64_t frac = 0;
    if (i < s.size() && (s[i] == '.' || s[i] == ',')) {
        ++i;
        std::size_t n = 0;
        for (; i < s.size() && is_digit(s[i]); ++i, ++n) {
            if (n == 9) fail(what, text, "more than nine decimals (nanoseconds)");
            frac = frac * 10 + (s[i] - '0');
        }
        if (n == 0) fail(what, text, bad);
        for (; n < 9; ++n)
            frac *= 10;
    }
    std::int64_t offset_s = 0;
    if (i < s.size()) {
        if (s[i] == 'Z' || s[i] == 'z') {
            ++i;
        } else if (s[i] == '+' || s[i] == '-') {
            const int sign = s[i] == '-' ? -1 : 1;
            ++i;
            int oh = 0, om = 0;
            if (!fixed_digits(s, i, 2, oh)) fail(what, text, bad);
            i += 2;
            if (i < s.size() && s[i] == ':') ++i;
            if (i < s.size()) {
                if (!fixed_digits(s, i, 2, om)) fail(what, text, bad);
                i += 2;
            }
            if (oh > 23 || om > 59) fail(what, text, "zone offset out of range");
            offset_s = sign * (oh * 3600 + om * 60);
        }
    }
    if (i != s.size()) fail(what, text, bad);
    const std::int64_t days =
        days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
    const std::int64_t secs = days * 86400 + hour * 3600 + minute * 60 + second - offset_s;
    // Representable range of int64 nanoseconds: about 1677-09-21 to 2262-04-11.
    constexpr std::int64_t lim = std::numeric_limits<std::int64_t>::max() / ns_per_s;
    if (secs >= lim || secs <= -lim) fail(what, text, "out of range (years 1678 to 2261)");
    return Timestamp{secs * ns_per_s + frac};
}

TimeWindow TimeWindow::parse(std::string_view text) {
    const std::string what = "window";
    const std::size_t comma = text.find(',');
    if (comma == std::string_view::npos || text.find(',', comma + 1) != std::string_view::npos) {
        fail(what, text, "expected START,END (either side may be empty)");
    }
    auto side = [&](std::string_view raw) -> std::optional<WindowBound> {
        const std::string_view v = trim(raw);
        if (v.empty()) return std::nullopt;
        WindowBound b;
        // A plain number is seconds; above 1e9 it can only be an epoch time.
        bool numeric = true;
        for (char c : v) {
            if (!is_digit(c) && c != '.' && c != '+' && c != '-') numeric = false;
        }
        if (numeric && v.size() > 1 && v.find('-', 1) != std::string_view::npos) numeric = false;
        if (numeric) {
            b.ns = parse_seconds_ns(v, what);
            b.kind = b.ns > 1'000'000'000 * ns_per_s ? WindowBound::Kind::absolute
                                                     : WindowBound::Kind::relative;
        } else {
            if (v.size() < 10 || v[4] != '-') {
                fail(what, v, "expected seconds, epoch seconds or an ISO-8601 date-time");
            }
            b.ns = parse_iso8601(v, what).ns;
            b.kind = WindowBound::Kind::absolute;
        }
        return b;
    };
    TimeWindow w;
    w.begin = side(text.substr(0, comma));
    w.end = side(text.substr(comma + 1));
    if (w.begin && w.end && w.begin->kind == w.end->kind && w.begin->ns > w.end->ns) {
        fail(what, text, "START is after END");
    }
    return w;
}

}  // namespace capgap
