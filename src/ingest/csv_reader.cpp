// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// The Wireshark CSV adapter. The only source that uses Boost.Regex: the Info column is free
// text written for people, so it is matched with patterns rather than split by position.

#include <capgap/errors.hpp>
#include <capgap/flow_key.hpp>
#include <capgap/segment.hpp>
#include <capgap/time.hpp>
#include <capgap/wireshark_csv.hpp>

#include <boost/regex.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/errors.hpp"

namespace capgap {

namespace {

constexpr std::size_t max_bad_lines = 100;
constexpr std::int64_t ns_per_s = 1'000'000'000;

// ---------------------------------------------------------------------------------------------
// Text helpers

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

struct Record {
    std::uint64_t line = 0;  // 1-based line where the record starts
    std::vector<std::string> fields;
    bool malformed = false;  // broken quoting
};

class CsvTokenizer {
  public:
    explicit CsvTokenizer(std::string_view text) : s_(text) {}

    // Reads the next non-blank record; false at the end of the text.
    bool next(Record& r) {
        while (p_ < s_.size()) {
            r.line = line_;
            r.fields.clear();
            r.malformed = false;
            bool any = read_record(r);
            if (any) return true;
        }
        return false;
    }

  private:
    // Reads one record up to and including its line end; false when the line was blank.
    bool read_record(Record& r) {
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

    std::string_view s_;
    std::size_t p_ = 0;
    std::uint64_t line_ = 1;
};

// ---------------------------------------------------------------------------------------------
// Info column

const boost::regex& marker_re() {
    static const boost::regex re(R"(\[TCP ([^\]]*)\])");
    return re;
}

const boost::regex& ports_re() {
    // "50680 > 443 [SYN]" (old Wireshark) or "50680 → 443 [SYN, ACK]" (3.0 and later)
    static const boost::regex re(R"((?<![0-9])([0-9]{1,5}) *(?:>|)"
                                 "\xE2\x86\x92"
                                 R"() *([0-9]{1,5}) *\[(<None>|[A-Za-z]+(?:, ?[A-Za-z]+)*)\])");
    return re;
}

const boost::regex& field_re() {
    static const boost::regex re(R"((?<![A-Za-z])(Seq|Ack|Len)=([0-9]+))");
    return re;
}

ExpertMarker marker_kind(const std::string& name) {
    static const std::vector<std::pair<const char*, ExpertMarker>> names = {
        {"Previous segment not captured", ExpertMarker::previous_segment_not_captured},
        {"ACKed unseen segment", ExpertMarker::acked_unseen_segment},
        {"Retransmission", ExpertMarker::retransmission},
        {"Fast Retransmission", ExpertMarker::fast_retransmission},
        {"Spurious Retransmission", ExpertMarker::spurious_retransmission},
        {"Out-Of-Order", ExpertMarker::out_of_order},
        {"Keep-Alive", ExpertMarker::keep_alive},
        {"Keep-Alive ACK", ExpertMarker::keep_alive_ack},
        {"ZeroWindow", ExpertMarker::zero_window},
        {"ZeroWindowProbe", ExpertMarker::zero_window_probe},
        {"ZeroWindowProbeAck", ExpertMarker::zero_window_probe_ack},
        {"Window Update", ExpertMarker::window_update},
        {"Window Full", ExpertMarker::window_full},
        {"Port numbers reused", ExpertMarker::port_numbers_reused},
        {"segment of a reassembled PDU", ExpertMarker::segment_of_reassembled_pdu},
    };
    std::string_view n = trim(name);
    for (const auto& [text, kind] : names)
        if (n == text) return kind;
    if (n.substr(0, 7) == "Dup ACK") return ExpertMarker::dup_ack;
    return ExpertMarker::other;
}

std::uint8_t flag_bits(const std::string& list) {
    std::uint8_t bits = 0;
    std::size_t start = 0;
    while (start <= list.size()) {
        std::size_t comma = list.find(',', start);
        if (comma == std::string::npos) comma = list.size();
        std::string_view name = trim(std::string_view(list).substr(start, comma - start));
        if (name == "SYN") bits |= tcp_flags::syn;
        if (name == "ACK") bits |= tcp_flags::ack;
        if (name == "FIN") bits |= tcp_flags::fin;
        if (name == "RST") bits |= tcp_flags::rst;
        if (name == "PSH") bits |= tcp_flags::psh;
        if (name == "URG") bits |= tcp_flags::urg;
        start = comma + 1;
    }
    return bits;
}

// ---------------------------------------------------------------------------------------------
// Times

enum class TimeKind { relative, absolute, time_of_day };

const char* time_kind_name(TimeKind k) {
    switch (k) {
        case TimeKind::relative:
            return "relative";
        case TimeKind::absolute:
            return "absolute";
        case TimeKind::time_of_day:
            return "time_of_day";
    }
    return "relative";
}

// How a time column's text is to be read.
enum class TimeColumn { epoch, relative, absolute_text, autodetect };

struct ParsedTime {
    TimeKind kind = TimeKind::relative;
    Timestamp t;
    bool zone_ignored = false;
};

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
                out.kind = TimeKind::absolute;
            else if (column == TimeColumn::relative)
                out.kind = TimeKind::relative;
            else
                out.kind = ns > 1'000'000'000 * ns_per_s ? TimeKind::absolute : TimeKind::relative;
            return true;
        }
        if (column == TimeColumn::epoch || column == TimeColumn::relative) return false;
        if (boost::regex_match(text, m, iso)) {
            std::string s = text;
            // parse_iso8601 wants +HH:MM
            if (m[2].matched && m[2].length() == 5)
                s.insert(static_cast<std::size_t>(m.position(2)) + 3, ":");
            out.t = parse_iso8601(s);
            out.kind = TimeKind::absolute;
            return true;
        }
        if (boost::regex_match(text, m, doy)) {
            int month = 0, day = 0;
            if (!civil_from_day_of_year(std::stoi(m[1]), std::stoi(m[2]), month, day)) return false;
            out.t =
                parse_iso8601(m[1].str() + "-" + two(month) + "-" + two(day) + "T" + m[3].str());
            out.kind = TimeKind::absolute;
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
            out.kind = TimeKind::absolute;
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
            out.kind = TimeKind::time_of_day;
            return true;
        }
    } catch (const capgap::error&) {
        return false;
    } catch (const std::exception&) {
        return false;
    }
    return false;
}

// ---------------------------------------------------------------------------------------------
// Columns and rows

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

struct ParsedFile {
    std::string path;
    Columns cols;
    std::vector<Row> rows;
    std::optional<TimeKind> kind;
    std::optional<std::int64_t> origin_ns;  // epoch of the capture's first packet, if known
};

enum class ListKind { syn, lost };

struct Reader {
    IngestStats& stats;
    CsvCounts& counts;

    void bad_row(const std::string& path, std::uint64_t line, const std::string& reason) {
        ++stats.csv_bad_rows;
        if (stats.csv_bad_lines.size() < max_bad_lines) stats.csv_bad_lines.push_back(line);
        if (counts.bad_rows.size() < max_bad_lines)
            counts.bad_rows.push_back(InputProblem{path, "line " + std::to_string(line), reason});
        ++counts.bad_row_reasons[reason];
    }

    std::string read_text(const std::string& path) {
        std::ifstream in(path, std::ios::binary);
        if (!in) throw_io_error(path, "", "cannot open the file");
        std::ostringstream ss;
        ss << in.rdbuf();
        if (in.bad()) throw_io_error(path, "", "read error");
        return ss.str();
    }

    Columns find_columns(const std::string& path, const Record& header,
                         const std::string& header_text, ListKind list) {
        Columns c;
        int time_epoch = -1, time_abs = -1, time_gui = -1;
        int ip_src = -1, ipv6_src = -1, gui_src = -1, ip_dst = -1, ipv6_dst = -1, gui_dst = -1;
        for (std::size_t i = 0; i < header.fields.size(); ++i) {
            std::string n = lower(trim(header.fields[i]));
            int idx = static_cast<int>(i);
            auto set = [&](int& slot) {
                if (slot < 0) slot = idx;
            };
            if (n == "no." || n == "frame.number" || n == "_ws.col.no." || n == "_ws.col.number")
                set(c.frame);
            else if (n == "frame.time_epoch")
                set(time_epoch);
            else if (n == "frame.time" || n == "frame.time_utc")
                set(time_abs);
            else if (n == "frame.time_relative")
                set(c.time_relative);
            else if (n == "time" || n == "_ws.col.time")
                set(time_gui);
            else if (n == "ip.src")
                set(ip_src);
            else if (n == "ipv6.src")
                set(ipv6_src);
            else if (n == "source" || n == "_ws.col.source" || n == "_ws.col.def_src")
                set(gui_src);
            else if (n == "ip.dst")
                set(ip_dst);
            else if (n == "ipv6.dst")
                set(ipv6_dst);
            else if (n == "destination" || n == "_ws.col.destination" || n == "_ws.col.def_dst")
                set(gui_dst);
            else if (n == "tcp.srcport" || n == "source port" || n == "src port")
                set(c.src_port);
            else if (n == "tcp.dstport" || n == "destination port" || n == "dst port")
                set(c.dst_port);
            else if (n == "tcp.stream" || n == "stream index")
                set(c.stream);
            else if (n == "tcp.seq_raw")
                set(c.seq_raw);
            else if (n == "tcp.flags.syn")
                set(c.flag_syn);
            else if (n == "tcp.flags.ack")
                set(c.flag_ack);
            else if (n == "tcp.analysis.lost_segment")
                set(c.lost);
            else if (n == "tcp.analysis.ack_lost_segment")
                set(c.ack_lost);
            else if (n == "info" || n == "_ws.col.info")
                set(c.info);
        }
        if (time_epoch >= 0) {
            c.time = time_epoch;
            c.time_how = TimeColumn::epoch;
        } else if (time_abs >= 0) {
            c.time = time_abs;
            c.time_how = TimeColumn::absolute_text;
        } else if (time_gui >= 0) {
            c.time = time_gui;
            c.time_how = TimeColumn::autodetect;
        } else if (c.time_relative >= 0) {
            c.time = c.time_relative;
            c.time_how = TimeColumn::relative;
        }
        for (int i : {ip_src, ipv6_src, gui_src})
            if (i >= 0) c.src.push_back(i);
        for (int i : {ip_dst, ipv6_dst, gui_dst})
            if (i >= 0) c.dst.push_back(i);

        std::vector<std::string> missing;
        if (c.frame < 0) missing.push_back("No. (frame.number)");
        if (c.time < 0) missing.push_back("Time (frame.time_epoch, frame.time_relative)");
        if (c.src.empty()) missing.push_back("Source (ip.src, ipv6.src)");
        if (c.dst.empty()) missing.push_back("Destination (ip.dst, ipv6.dst)");
        if (c.info < 0 && (c.src_port < 0 || c.dst_port < 0))
            missing.push_back("Info (or tcp.srcport and tcp.dstport)");
        if (list == ListKind::lost && c.info < 0 && c.lost < 0 && c.ack_lost < 0)
            missing.push_back("Info (or tcp.analysis.lost_segment, tcp.analysis.ack_lost_segment)");
        if (!missing.empty()) {
            std::string reason = "missing required column";
            reason += missing.size() > 1 ? "s " : " ";
            for (std::size_t i = 0; i < missing.size(); ++i)
                reason += (i ? ", " : "") + missing[i];
            std::string shown =
                header_text.size() > 300 ? header_text.substr(0, 300) + "..." : header_text;
            reason += "; the header found is: " + shown;
            throw_parse_error(path, header.line, 0, reason);
        }
        return c;
    }

    static const std::string& field(const Record& r, int i) {
        static const std::string empty;
        return i >= 0 && static_cast<std::size_t>(i) < r.fields.size()
                   ? r.fields[static_cast<std::size_t>(i)]
                   : empty;
    }

    // Parses one data record; false (and a bad row counted) when it cannot be used.
    bool parse_row(ParsedFile& f, const Record& r, std::size_t header_size, Row& row) {
        const Columns& c = f.cols;
        row.line = r.line;
        if (r.malformed) {
            bad_row(f.path, r.line, "broken quoting");
            return false;
        }
        if (r.fields.size() != header_size) {
            bad_row(f.path, r.line, "field count differs from the header's");
            return false;
        }
        if (!parse_uint(field(r, c.frame), row.frame) || row.frame == no_frame) {
            bad_row(f.path, r.line, "bad frame number");
            return false;
        }
        if (!parse_time(field(r, c.time), c.time_how, row.time)) {
            bad_row(f.path, r.line, "bad time");
            return false;
        }
        if (f.kind && *f.kind != row.time.kind) {
            bad_row(f.path, r.line, "time of another kind than the file's first row");
            return false;
        }
        auto address = [&](const std::vector<int>& cols, IpAddress& out) -> int {
            for (int i : cols) {
                std::string_view v = last_occurrence(field(r, i));
                if (v.empty()) continue;
                try {
                    out = IpAddress::parse(v);
                    return 1;
                } catch (const capgap::error&) {
                    return 0;
                }
            }
            return -1;  // every address column empty
        };
        int sa = address(c.src, row.src_addr);
        int da = address(c.dst, row.dst_addr);
        if (sa < 0 || da < 0) {
            bad_row(f.path, r.line, "empty address");
            return false;
        }
        if (sa == 0 || da == 0) {
            bad_row(f.path, r.line, "address is not numeric IPv4 or IPv6");
            return false;
        }
        if (c.info >= 0) row.info = parse_info(field(r, c.info));
        if (c.src_port >= 0 && c.dst_port >= 0) {
            std::uint64_t sp = 0, dp = 0;
            std::string_view a = last_occurrence(field(r, c.src_port));
            std::string_view b = last_occurrence(field(r, c.dst_port));
            if (!a.empty() || !b.empty()) {
                if (!parse_uint(a, sp) || !parse_uint(b, dp) || sp > 65535 || dp > 65535) {
                    bad_row(f.path, r.line, "bad port");
                    return false;
                }
                row.has_ports = true;
                row.src_port = static_cast<std::uint16_t>(sp);
                row.dst_port = static_cast<std::uint16_t>(dp);
            }
        }
        if (!row.has_ports && row.info.has_ports) {
            row.has_ports = true;
            row.src_port = row.info.src_port;
            row.dst_port = row.info.dst_port;
        }
        if (c.stream >= 0) {
            std::string_view v = last_occurrence(field(r, c.stream));
            if (!v.empty()) {
                if (!parse_uint(v, row.stream)) {
                    bad_row(f.path, r.line, "bad tcp.stream");
                    return false;
                }
                row.has_stream = true;
            }
        }
        if (c.seq_raw >= 0) row.has_seq_raw = parse_uint(field(r, c.seq_raw), row.seq_raw);
        if (c.flag_syn >= 0) row.syn = parse_flag(field(r, c.flag_syn));
        if (c.flag_ack >= 0) row.ack = parse_flag(field(r, c.flag_ack));
        if (row.info.has_flags) {
            if (row.syn < 0) row.syn = row.info.flags & tcp_flags::syn ? 1 : 0;
            if (row.ack < 0) row.ack = row.info.flags & tcp_flags::ack ? 1 : 0;
        }
        row.lost = (c.lost >= 0 && parse_flag(field(r, c.lost)) == 1) ||
                   row.info.has(ExpertMarker::previous_segment_not_captured);
        row.ack_lost = (c.ack_lost >= 0 && parse_flag(field(r, c.ack_lost)) == 1) ||
                       row.info.has(ExpertMarker::acked_unseen_segment);
        if (row.time.zone_ignored) ++counts.times_zone_ignored;
        if (!row.has_ports) ++counts.rows_without_ports;
        return true;
    }

    ParsedFile read_file(const std::string& path, ListKind list) {
        ParsedFile f;
        f.path = path;
        std::string text = read_text(path);
        ++stats.files;
        std::size_t start = 0;
        if (text.compare(0, 3, "\xEF\xBB\xBF") == 0) start = 3;
        if (text.find_first_not_of(" \t\r\n", start) == std::string::npos)
            throw_format_error(path, "", "empty file: no header line and no rows");
        std::size_t probe = std::min<std::size_t>(text.size(), start + 1024);
        if (text.find('\0', start) < probe || !valid_utf8_prefix(text.substr(start), 1024))
            throw_format_error(path, "",
                               "binary file, not CSV text (NUL bytes or invalid UTF-8 at the "
                               "start); expected a Wireshark CSV export");

        std::string_view body(text);
        body.remove_prefix(start);
        CsvTokenizer tok(body);
        Record header;
        tok.next(header);
        std::size_t eol = body.find_first_of("\r\n");
        std::string header_text(body.substr(0, eol));
        if (header.fields.size() == 1) {
            const std::string& h = header.fields[0];
            for (char d : {';', '\t', '|'}) {
                if (h.find(d) != std::string::npos) {
                    std::string name = d == ';' ? "';'" : d == '\t' ? "a tab" : "'|'";
                    throw_format_error(path, "line " + std::to_string(header.line),
                                       "wrong delimiter: the header is separated by " + name +
                                           ", expected commas (export As CSV, or tshark "
                                           "-E separator=,)");
                }
            }
        }
        f.cols = find_columns(path, header, header_text, list);

        Record rec;
        while (tok.next(rec)) {
            ++stats.csv_rows;
            if (list == ListKind::syn)
                ++counts.syn_rows;
            else
                ++counts.lost_rows;
            Row row;
            if (!parse_row(f, rec, header.fields.size(), row)) continue;
            if (!f.kind) f.kind = row.time.kind;
            if (!f.origin_ns && row.time.kind == TimeKind::absolute && f.cols.time_relative >= 0 &&
                f.cols.time_relative != f.cols.time) {
                ParsedTime rel;
                if (parse_time(field(rec, f.cols.time_relative), TimeColumn::relative, rel))
                    f.origin_ns = row.time.t.ns - rel.t.ns;
            }
            f.rows.push_back(std::move(row));
        }
        return f;
    }
};

void note_times(IngestStats& stats, const ParsedFile& f) {
    for (const Row& r : f.rows) {
        if (!stats.have_time) {
            stats.have_time = true;
            stats.first_time = r.time.t;
            stats.last_time = r.time.t;
        }
        stats.first_time = std::min(stats.first_time, r.time.t);
        stats.last_time = std::max(stats.last_time, r.time.t);
    }
}

bool started_by_retransmission(const Row& r) {
    return r.info.has(ExpertMarker::retransmission) ||
           r.info.has(ExpertMarker::fast_retransmission) ||
           r.info.has(ExpertMarker::spurious_retransmission);
}

// A session under construction.
struct Building {
    Session s;
    bool ports_known = true;
    bool first_marked_retransmission = false;
    bool adopted = false;  // already took an earlier row without ports
};

Session new_session(const Row& r) {
    Session s;
    s.client = r.src();
    s.server = r.dst();
    s.category = SessionCategory::complete;
    s.syn_frame = r.frame;
    s.syn_time = r.time.t;
    s.first_frame = r.frame;
    s.first_time = r.time.t;
    s.last_time = r.time.t;
    s.packets = 1;
    s.packets_c2s = 1;
    s.syn_count = 1;
    return s;
}

void merge_syn(Building& b, const Row& r) {
    ++b.s.syn_count;
    ++b.s.packets;
    ++b.s.packets_c2s;
    b.s.last_time = std::max(b.s.last_time, r.time.t);
    if (!b.ports_known && r.has_ports) {
        b.s.client = r.src();
        b.s.server = r.dst();
        b.ports_known = true;
    }
}

bool same_address_pair(const Session& s, const IpAddress& a, const IpAddress& b) {
    return (s.client.addr == a && s.server.addr == b) || (s.client.addr == b && s.server.addr == a);
}

}  // namespace

// -------------------------------------------------------------------------------------------------

const char* to_string(ExpertMarker m) {
    switch (m) {
        case ExpertMarker::previous_segment_not_captured:
            return "Previous segment not captured";
        case ExpertMarker::acked_unseen_segment:
            return "ACKed unseen segment";
        case ExpertMarker::retransmission:
            return "Retransmission";
        case ExpertMarker::fast_retransmission:
            return "Fast Retransmission";
        case ExpertMarker::spurious_retransmission:
            return "Spurious Retransmission";
        case ExpertMarker::out_of_order:
            return "Out-Of-Order";
        case ExpertMarker::dup_ack:
            return "Dup ACK";
        case ExpertMarker::keep_alive:
            return "Keep-Alive";
        case ExpertMarker::keep_alive_ack:
            return "Keep-Alive ACK";
        case ExpertMarker::zero_window:
            return "ZeroWindow";
        case ExpertMarker::zero_window_probe:
            return "ZeroWindowProbe";
        case ExpertMarker::zero_window_probe_ack:
            return "ZeroWindowProbeAck";
        case ExpertMarker::window_update:
            return "Window Update";
        case ExpertMarker::window_full:
            return "Window Full";
        case ExpertMarker::port_numbers_reused:
            return "Port numbers reused";
        case ExpertMarker::segment_of_reassembled_pdu:
            return "segment of a reassembled PDU";
        case ExpertMarker::other:
            return "other";
    }
    return "other";
}

bool InfoFields::has(ExpertMarker m) const {
    return std::find(markers.begin(), markers.end(), m) != markers.end();
}

InfoFields parse_info(const std::string& info) {
    InfoFields f;
    for (boost::sregex_iterator it(info.begin(), info.end(), marker_re()), end; it != end; ++it)
        f.markers.push_back(marker_kind((*it)[1].str()));
    boost::smatch m;
    if (boost::regex_search(info, m, ports_re())) {
        std::uint64_t sp = 0, dp = 0;
        if (parse_uint(m[1].str(), sp) && parse_uint(m[2].str(), dp) && sp <= 65535 &&
            dp <= 65535) {
            f.has_ports = true;
            f.src_port = static_cast<std::uint16_t>(sp);
            f.dst_port = static_cast<std::uint16_t>(dp);
            f.has_flags = true;
            f.flags = flag_bits(m[3].str());
            auto rest_begin = m[0].second;
            for (boost::sregex_iterator it(rest_begin, info.end(), field_re()), end; it != end;
                 ++it) {
                std::uint64_t v = 0;
                if (!parse_uint((*it)[2].str(), v)) continue;
                std::string name = (*it)[1].str();
                if (name == "Seq" && !f.has_seq) {
                    f.has_seq = true;
                    f.seq = v;
                } else if (name == "Ack" && !f.has_ack) {
                    f.has_ack = true;
                    f.ack = v;
                } else if (name == "Len" && !f.has_len) {
                    f.has_len = true;
                    f.len = v;
                }
            }
        }
    }
    return f;
}

CsvInput read_wireshark_csv(const std::string& syn_path, const std::string& lost_path) {
    CsvInput in;
    Reader reader{in.stats, in.counts};
    ParsedFile syn = reader.read_file(syn_path, ListKind::syn);
    ParsedFile lost = reader.read_file(lost_path, ListKind::lost);

    if (syn.kind && lost.kind && *syn.kind != *lost.kind)
        throw_format_error(lost_path, "",
                           std::string("times are ") + time_kind_name(*lost.kind) + " but " +
                               syn_path + " has " + time_kind_name(*syn.kind) +
                               " times; export both lists with the same time format");
    std::optional<TimeKind> kind = syn.kind ? syn.kind : lost.kind;
    if (kind) in.counts.time_kind = time_kind_name(*kind);
    note_times(in.stats, syn);
    note_times(in.stats, lost);
    if (kind == TimeKind::relative) {
        // GUI relative times count from the capture's first packet: epoch 0 here.
        in.stats.have_time = true;
        in.stats.first_time = Timestamp{0};
    } else if (kind == TimeKind::absolute && (syn.origin_ns || lost.origin_ns)) {
        in.stats.first_time = Timestamp{syn.origin_ns ? *syn.origin_ns : *lost.origin_ns};
    }

    const bool by_stream = syn.cols.stream >= 0 && lost.cols.stream >= 0;
    in.counts.has_stream = by_stream;

    // ---- sessions from the SYN list
    std::vector<Building> built;
    std::map<std::uint64_t, std::size_t> by_stream_index;
    struct KeyState {
        std::size_t index = 0;
        bool seq_known = false;
        std::uint64_t seq = 0;
    };
    std::map<FlowKey, KeyState> by_key;
    std::vector<const Row*> portless;
    for (const Row& r : syn.rows) {
        if ((r.syn == 0) || (r.ack == 1)) {
            ++in.counts.syn_rows_not_syn;
            continue;
        }
        if (by_stream) {
            if (!r.has_stream) {
                reader.bad_row(syn_path, r.line, "empty tcp.stream");
                continue;
            }
            auto it = by_stream_index.find(r.stream);
            if (it != by_stream_index.end()) {
                merge_syn(built[it->second], r);
                ++in.counts.syn_merged;
                continue;
            }
            by_stream_index.emplace(r.stream, built.size());
            Building b{new_session(r), r.has_ports, started_by_retransmission(r), false};
            built.push_back(b);
            continue;
        }
        if (!r.has_ports) {
            portless.push_back(&r);
            continue;
        }
        FlowKey key(r.src(), r.dst());
        auto it = by_key.find(key);
        bool join = false;
        if (it != by_key.end() && !r.info.has(ExpertMarker::port_numbers_reused)) {
            if (r.has_seq_raw && it->second.seq_known)
                join = r.seq_raw == it->second.seq;
            else
                join = started_by_retransmission(r);
        }
        if (join) {
            merge_syn(built[it->second.index], r);
            ++in.counts.syn_merged;
            continue;
        }
        by_key[key] = KeyState{built.size(), r.has_seq_raw, r.seq_raw};
        built.push_back(Building{new_session(r), true, started_by_retransmission(r), false});
    }
    // A SYN whose Info an application dissector replaced (TCP Fast Open data: "Client Hello")
    // has no ports; its retransmissions do. Give it to the first instance of the same address
    // pair that a retransmitted SYN started at or after it; otherwise it is a session of its
    // own with unknown (0) ports.
    for (const Row* r : portless) {
        Building* best = nullptr;
        for (Building& b : built) {
            if (b.adopted || !b.first_marked_retransmission) continue;
            if (b.s.client.addr != r->src_addr || b.s.server.addr != r->dst_addr) continue;
            if (b.s.syn_time < r->time.t) continue;
            if (!best || b.s.syn_time < best->s.syn_time) best = &b;
        }
        if (best) {
            best->adopted = true;
            best->s.syn_frame = best->s.first_frame = r->frame;
            best->s.syn_time = best->s.first_time = r->time.t;
            ++best->s.syn_count;
            ++best->s.packets;
            ++best->s.packets_c2s;
            ++in.counts.syn_merged;
        } else {
            built.push_back(Building{new_session(*r), false, false, false});
        }
    }
    // Ids in order of the first SYN (file order is frame order; portless adoption can move a
    // session earlier).
    std::vector<std::size_t> order(built.size());
    for (std::size_t i = 0; i < order.size(); ++i)
        order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
        const Session& x = built[a].s;
        const Session& y = built[b].s;
        return x.syn_time != y.syn_time ? x.syn_time < y.syn_time : x.syn_frame < y.syn_frame;
    });
    std::vector<std::uint64_t> id_of(built.size());
    in.sessions.reserve(built.size());
    for (std::size_t k = 0; k < order.size(); ++k) {
        id_of[order[k]] = k;
        Session s = built[order[k]].s;
        s.id = k;
        in.sessions.push_back(s);
    }

    // ---- events from the lost list
    // Per 4-tuple, instance ids in SYN-time order: rows with ports are left to the Matcher's
    // join, but their direction is set here from the instance that join will pick.
    std::map<FlowKey, std::vector<std::uint64_t>> instances;
    for (const Session& s : in.sessions)
        instances[FlowKey(s.client, s.server)].push_back(s.id);
    auto direction_of = [&](const Session& s, const Row& r) {
        if (r.has_ports) return r.src() == s.client ? Direction::c2s : Direction::s2c;
        return r.src_addr == s.client.addr ? Direction::c2s : Direction::s2c;
    };
    for (const Row& r : lost.rows) {
        int flags = (r.lost ? 1 : 0) + (r.ack_lost ? 1 : 0);
        if (flags == 0) {
            ++in.counts.lost_rows_unflagged;
            continue;
        }
        std::uint64_t session = no_session;
        if (by_stream) {
            if (!r.has_stream) {
                reader.bad_row(lost_path, r.line, "empty tcp.stream");
                continue;
            }
            auto it = by_stream_index.find(r.stream);
            if (it == by_stream_index.end()) {
                in.unmatched_events += static_cast<std::uint64_t>(flags);
                continue;
            }
            session = id_of[it->second];
        } else if (!r.has_ports) {
            // Join by address pair: the latest instance of each 4-tuple between the two
            // addresses that started at or before the row; usable only when one 4-tuple has
            // such an instance.
            std::map<FlowKey, std::uint64_t> latest;
            for (const Session& s : in.sessions) {
                if (s.syn_time > r.time.t || !same_address_pair(s, r.src_addr, r.dst_addr))
                    continue;
                latest[FlowKey(s.client, s.server)] = s.id;  // ids ascend with time
            }
            if (latest.size() != 1) {
                if (latest.size() > 1)
                    in.counts.ambiguous_events += static_cast<std::uint64_t>(flags);
                in.unmatched_events += static_cast<std::uint64_t>(flags);
                continue;
            }
            session = latest.begin()->second;
            in.counts.joined_by_address += static_cast<std::uint64_t>(flags);
        }
        LossEvent e;
        e.session_id = session;
        e.frame = r.frame;
        e.time = r.time.t;
        e.src = r.src();
        e.dst = r.dst();
        if (session == no_session) {
            auto it = instances.find(FlowKey(e.src, e.dst));
            if (it != instances.end()) {
                for (std::uint64_t id : it->second)
                    if (in.sessions[id].syn_time <= e.time)
                        e.direction = direction_of(in.sessions[id], r);
            }
        } else {
            const Session& s = in.sessions[session];
            e.direction = direction_of(s, r);
            if (!r.has_ports) {
                // Fill the ports from the session so the event rows read sensibly.
                e.src = e.direction == Direction::c2s ? s.client : s.server;
                e.dst = e.direction == Direction::c2s ? s.server : s.client;
            }
        }
        if (r.lost) {
            e.kind = EventKind::ws_lost_segment;
            in.events.push_back(e);
        }
        if (r.ack_lost) {
            e.kind = EventKind::ws_ack_lost_segment;
            in.events.push_back(e);
        }
    }
    return in;
}

Report analyze_wireshark_csv(const std::string& syn_path, const std::string& lost_path,
                             MatchOptions options) {
    CsvInput in = read_wireshark_csv(syn_path, lost_path);
    Matcher matcher(std::move(options));
    Report r = matcher.match(std::move(in.sessions), std::move(in.events), in.stats);
    r.summary.join = "instance";
    r.summary.unmatched_events += in.unmatched_events;
    return r;
}

Report socket_join(const std::string& syn_path, const std::string& lost_path,
                   const std::vector<ServerFilter>& servers,
                   const std::vector<std::uint16_t>& ports) {
    Report report;
    CsvCounts counts;
    Reader reader{report.ingest, counts};
    ParsedFile syn = reader.read_file(syn_path, ListKind::syn);
    ParsedFile lost = reader.read_file(lost_path, ListKind::lost);
    note_times(report.ingest, syn);
    note_times(report.ingest, lost);

    auto kept = [&](const Row& r) {
        Endpoint dst = r.dst();
        if (!servers.empty()) {
            bool any = false;
            for (const ServerFilter& f : servers)
                if ((r.has_ports || !f.port) && f.matches(dst)) any = true;
            if (!any) return false;
        }
        if (!ports.empty()) {
            if (!r.has_ports) return false;
            if (std::find(ports.begin(), ports.end(), r.dst_port) == ports.end()) return false;
        }
        return true;
    };
    // The old key: the Source column's address and the source port (rows without a port
    // cannot be keyed).
    std::vector<Endpoint> lost_keys;
    for (const Row& r : lost.rows)
        if (kept(r) && r.has_ports) lost_keys.push_back(r.src());
    std::sort(lost_keys.begin(), lost_keys.end());

    Summary& sum = report.summary;
    sum.mode = Mode::wireshark;
    sum.join = "socket";
    for (const Row& r : syn.rows) {
        if (!kept(r)) {
            ++sum.filtered_out;
            continue;
        }
        SessionRow row;
        row.session = new_session(r);
        row.session.id = report.sessions.size();
        row.bad_wireshark =
            r.has_ports && std::binary_search(lost_keys.begin(), lost_keys.end(), r.src());
        ++sum.total_sessions;
        if (row.bad_wireshark) ++sum.bad_wireshark;
        report.sessions.push_back(row);
    }
    sum.bad_sessions = sum.bad_wireshark;
    if (sum.total_sessions > 0)
        sum.percentage =
            100.0 * static_cast<double>(sum.bad_sessions) / static_cast<double>(sum.total_sessions);
    auto ci = wilson_interval(sum.bad_sessions, sum.total_sessions);
    sum.ci95_low = ci.first;
    sum.ci95_high = ci.second;
    return report;
}

}  // namespace capgap
