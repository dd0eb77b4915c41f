// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// The CSV adapter's text layer: RFC 4180 records and the field helpers.

#include "ingest/csv_tokenizer.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace capgap::csv {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
        s.remove_suffix(1);
    return s;
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

bool parse_uint(std::string_view s, std::uint64_t& out) {
    s = trim(s);
    if (s.empty() || s.size() > 19) return false;
    std::uint64_t v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return false;
        v = v * 10 + static_cast<std::uint64_t>(c - '0');
    }
    out = v;
    return true;
}

// tshark prints several occurrences of a field (tunnels: outer and inner IP) separated by
// commas; the TCP packet belongs to the innermost, which is printed last.
std::string_view last_occurrence(std::string_view s) {
    std::size_t comma = s.rfind(',');
    return comma == std::string_view::npos ? trim(s) : trim(s.substr(comma + 1));
}

// Boolean fields: tshark 4.0 prints 1/0, later versions True/False; FT_NONE fields such as
// tcp.analysis.lost_segment print "1" when present and nothing when absent.
int parse_flag(std::string_view s) {
    s = last_occurrence(s);
    if (s.empty()) return -1;
    std::string l = lower(s);
    if (l == "0" || l == "false" || l == "not set") return 0;
    return 1;
}

// True when the first `limit` bytes are valid UTF-8 (a sequence cut at the limit is fine).
bool valid_utf8_prefix(const std::string& text, std::size_t limit) {
    std::size_t n = std::min(text.size(), limit);
    std::size_t i = 0;
    while (i < n) {
        auto c = static_cast<unsigned char>(text[i]);
        std::size_t len = 0;
        if (c < 0x80)
            len = 1;
        else if (c >= 0xC2 && c <= 0xDF)
            len = 2;
        else if (c >= 0xE0 && c <= 0xEF)
            len = 3;
        else if (c >= 0xF0 && c <= 0xF4)
            len = 4;
        else
            return false;
        for (std::size_t k = 1; k < len; ++k) {
            if (i + k >= text.size()) return true;  // the file ends inside it: tolerate
            if (i + k >= n) return true;            // cut by the limit
            auto cc = static_cast<unsigned char>(text[i + k]);
            if ((cc & 0xC0) != 0x80) return false;
        }
        i += len;
    }
    return true;
}

// ---------------------------------------------------------------------------------------------
// RFC 4180 records

// Reads one record up to and including its line end; false when the line was blank.
bool CsvTokenizer::read_record(Record& r) {
    std::string field;
    bool any = false;
    while (true) {
        field.clear();
        if (p_ < s_.size() && s_[p_] == '"') {
            any = true;
            ++p_;
            bool closed = false;
            while (p_ < s_.size()) {
                char c = s_[p_];
                if (c == '"') {
                    if (p_ + 1 < s_.size() && s_[p_ + 1] == '"') {
                        field += '"';
                        p_ += 2;
                        continue;
                    }
                    ++p_;
                    closed = true;
                    break;
                }
                if (c == '\n') ++line_;
                if (c == '\r' && !(p_ + 1 < s_.size() && s_[p_ + 1] == '\n')) ++line_;
                field += c;
                ++p_;
            }
            if (!closed) r.malformed = true;
            // Anything between the closing quote and the delimiter breaks RFC 4180.
            while (p_ < s_.size() && s_[p_] != ',' && s_[p_] != '\n' && s_[p_] != '\r') {
                r.malformed = true;
                field += s_[p_++];
            }
        } else {
            while (p_ < s_.size() && s_[p_] != ',' && s_[p_] != '\n' && s_[p_] != '\r') {
                if (s_[p_] == '"') r.malformed = true;
                if (s_[p_] != ' ' && s_[p_] != '\t') any = true;
                field += s_[p_++];
            }
        }
        r.fields.push_back(field);
        if (p_ >= s_.size()) return any || r.fields.size() > 1;
        char c = s_[p_];
        if (c == ',') {
            any = true;
            ++p_;
            continue;
        }
        // line end: CRLF, LF or a lone CR
        ++p_;
        if (c == '\r' && p_ < s_.size() && s_[p_] == '\n') ++p_;
        ++line_;
        return any;
    }
}

bool CsvTokenizer::next(Record& r) {
    while (p_ < s_.size()) {
        r.line = line_;
        r.fields.clear();
        r.malformed = false;
        bool any = read_record(r);
        if (any) return true;
    }
    return false;
}

}  // namespace capgap::csv
