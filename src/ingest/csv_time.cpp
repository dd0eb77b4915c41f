// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// Time columns (wireshark_csv.hpp, "Times"). Boost.Regex stays in the CSV adapter's sources.

#include "ingest/csv_time.hpp"

#include <capgap/errors.hpp>

#include <boost/regex.hpp>

#include <cstddef>
#include <cstdint>
#include <exception>
#include <string>
#include <string_view>

#include "ingest/csv_tokenizer.hpp"

namespace capgap {

const char* to_string(CsvTimeKind k) {
    switch (k) {
        case CsvTimeKind::none:
            return "";
        case CsvTimeKind::relative:
            return "relative";
        case CsvTimeKind::absolute:
            return "absolute";
        case CsvTimeKind::time_of_day:
            return "time_of_day";
    }
    return "";
}

namespace csv {

namespace {

constexpr std::int64_t ns_per_s = 1'000'000'000;

std::string two(int v) {
    std::string s = std::to_string(v);
    return s.size() < 2 ? "0" + s : s;
}

bool civil_from_day_of_year(int year, int doy, int& month, int& day) {
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    if (doy < 1 || doy > (leap ? 366 : 365)) return false;
    for (int m = 0; m < 12; ++m) {
        int n = days[m] + (m == 1 && leap ? 1 : 0);
        if (doy <= n) {
            month = m + 1;
            day = doy;
            return true;
        }
        doy -= n;
    }
    return false;
}

}  // namespace

bool parse_time(std::string_view raw, TimeColumn column, ParsedTime& out) {
    std::string text(trim(raw));
    if (text.empty()) return false;
    static const boost::regex number(R"([+-]?[0-9]+(\.[0-9]+)?)");
    static const boost::regex iso(
        R"([0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:?[0-9]{2})?)");
    static const boost::regex doy(
        R"(([0-9]{4})/([0-9]{3}) ([0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?))");
    static const boost::regex month_name(
        R"(([A-Za-z]{3}) +([0-9]{1,2}), ([0-9]{4}) ([0-9]{1,2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?)(?: +(.+))?)");
    static const boost::regex time_of_day(R"(([0-9]{2}):([0-9]{2}):([0-9]{2}(\.[0-9]+)?))");
    try {
        boost::smatch m;
        if (boost::regex_match(text, number)) {
            std::int64_t ns = parse_seconds_ns(text);
            out.t = Timestamp{ns};
            if (column == TimeColumn::epoch)
                out.kind = CsvTimeKind::absolute;
            else if (column == TimeColumn::relative)
                out.kind = CsvTimeKind::relative;
            else
                out.kind =
                    ns > 1'000'000'000 * ns_per_s ? CsvTimeKind::absolute : CsvTimeKind::relative;
            return true;
        }
        if (column == TimeColumn::epoch || column == TimeColumn::relative) return false;
        if (boost::regex_match(text, m, iso)) {
            std::string s = text;
            // parse_iso8601 wants +HH:MM
            if (m[2].matched && m[2].length() == 5)
                s.insert(static_cast<std::size_t>(m.position(2)) + 3, ":");
            out.t = parse_iso8601(s);
            out.kind = CsvTimeKind::absolute;
            return true;
        }
        if (boost::regex_match(text, m, doy)) {
            int month = 0, day = 0;
            if (!civil_from_day_of_year(std::stoi(m[1]), std::stoi(m[2]), month, day)) return false;
            out.t =
                parse_iso8601(m[1].str() + "-" + two(month) + "-" + two(day) + "T" + m[3].str());
            out.kind = CsvTimeKind::absolute;
            return true;
        }
        if (boost::regex_match(text, m, month_name)) {
            static const char* months[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                           "jul", "aug", "sep", "oct", "nov", "dec"};
            std::string mon = lower(m[1].str());
            int month = 0;
            for (int i = 0; i < 12; ++i)
                if (mon == months[i]) month = i + 1;
            if (month == 0) return false;
            std::string clock = m[4].str();
            if (clock.size() > 1 && clock[1] == ':') clock = "0" + clock;
            out.t = parse_iso8601(m[3].str() + "-" + two(month) + "-" + two(std::stoi(m[2])) + "T" +
                                  clock);
            out.kind = CsvTimeKind::absolute;
            if (m[6].matched) {
                std::string zone = m[6].str();
                out.zone_ignored = !(zone == "UTC" || zone == "GMT" || zone == "Z" ||
                                     zone == "Coordinated Universal Time");
            }
            return true;
        }
        if (boost::regex_match(text, m, time_of_day)) {
            std::int64_t h = std::stoi(m[1]), mi = std::stoi(m[2]);
            if (h > 23 || mi > 59) return false;
            out.t = Timestamp{(h * 3600 + mi * 60) * ns_per_s + parse_seconds_ns(m[3].str())};
            out.kind = CsvTimeKind::time_of_day;
            return true;
        }
    } catch (const capgap::error&) {
        return false;
    } catch (const std::exception&) {
        return false;
    }
    return false;
}

}  // namespace csv

}  // namespace capgap
