// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// Columns and rows of a Wireshark CSV list (wireshark_csv.hpp, "Files" and "Bad rows").

#include "ingest/csv_rows.hpp"
#include "core/errors.hpp"

#include <capgap/errors.hpp>
#include <capgap/segment.hpp>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace capgap::csv {

namespace {

constexpr std::size_t max_bad_lines = 100;

}  // namespace

void Reader::bad_row(const std::string& path, std::uint64_t line, const std::string& reason) {
    ++stats.csv_bad_rows;
    if (stats.csv_bad_lines.size() < max_bad_lines) stats.csv_bad_lines.push_back(line);
    if (counts.bad_rows.size() < max_bad_lines)
        counts.bad_rows.push_back(InputProblem{path, "line " + std::to_string(line), reason});
    ++counts.bad_row_reasons[reason];
}

std::string Reader::read_text(const std::string& path) {
    errno = 0;
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        // filebuf opens with fopen, which sets errno: kept so that bindings can tell a missing
        // file from an unreadable one.
        const int error_number = errno;
        throw io_error(format_message(path, "", "cannot open the file"), path, error_number);
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    if (in.bad()) throw_io_error(path, "", "read error");
    return ss.str();
}

Columns Reader::find_columns(const std::string& path, const Record& header,
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

const std::string& Reader::field(const Record& r, int i) {
    static const std::string empty;
    return i >= 0 && static_cast<std::size_t>(i) < r.fields.size()
               ? r.fields[static_cast<std::size_t>(i)]
               : empty;
}

// Parses one data record; false (and a bad row counted) when it cannot be used.
bool Reader::parse_row(ParsedFile& f, const Record& r, std::size_t header_size, Row& row) {
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

ParsedFile Reader::read_file(const std::string& path, ListKind list) {
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
        if (!f.origin_ns && row.time.kind == CsvTimeKind::absolute && f.cols.time_relative >= 0 &&
            f.cols.time_relative != f.cols.time) {
            ParsedTime rel;
            if (parse_time(field(rec, f.cols.time_relative), TimeColumn::relative, rel))
                f.origin_ns = row.time.t.ns - rel.t.ns;
        }
        f.rows.push_back(std::move(row));
    }
    return f;
}

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

}  // namespace capgap::csv
