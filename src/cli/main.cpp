// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// The capgap command: argument parsing, output and exit codes (0 success, 1 usage error,
// 2 input error). Options live in one table so a new option is one row plus its handler.

#include <capgap/capgap.hpp>

#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <iomanip>
#include <iostream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <boost/regex.hpp>

#include "cli/jobs.hpp"
#include "cli/live.hpp"
#include "core/errors.hpp"
#include "diagnose/diagnose.hpp"
#include "report/json.hpp"
#include "report/output_file.hpp"

namespace {

// A command line that cannot be run: exit status 1 with a short usage.
struct usage_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

enum class Command { analyze, csv };
enum class Format { text, json };

// Everything the command line selects.
struct Cli {
    Command command = Command::analyze;
    std::vector<std::string> captures;
    capgap::Options options;
    Format format = Format::text;
    std::string sessions_out;
    std::string events_out;
    std::string html_out;
    capgap::HtmlOptions html;
    std::string breakdown_out;
    std::string timeline_out;
    std::string syn_csv;
    std::string lost_csv;
    bool mode_given = false;
    capgap::Join join = capgap::Join::instance;  // csv: --join
    bool compare_joins = false;                  // csv: report both joins
    bool help = false;
    bool quiet = false;  // no progress line
    // Extraction: the file, and which sessions (every criterion given narrows the choice).
    std::string extract_out;
    capgap::SessionSelection extract;
    bool extract_selector = false;  // --extract, --extract-server or --extract-category given
    // --files independent: the captures are sensors' files, grouped and run over --jobs.
    bool independent = false;
    unsigned jobs = 1;
    bool jobs_given = false;
    std::string sensor_regex;
    // A piece of a chain (docs/state-format.md): the state resumed from and the one saved.
    std::string resume_state;
    std::string save_state;
};

constexpr unsigned for_analyze = 1;
constexpr unsigned for_csv = 2;

struct OptionSpec {
    const char* name;   // without the leading "--"
    const char* value;  // metavariable; nullptr for a flag
    unsigned commands;  // for_analyze | for_csv
    const char* help;
    std::function<void(Cli&, const std::string&)> apply;
};

int parse_prefix(const std::string& opt, const std::string& v, int most) {
    if (v.empty() || v.size() > 3 || v.find_first_not_of("0123456789") != std::string::npos ||
        std::stoi(v) > most) {
        throw usage_error("--" + opt + ": '" + v + "' is not a prefix length (0-" +
                          std::to_string(most) + ")");
    }
    return std::stoi(v);
}

std::uint16_t parse_port(const std::string& opt, const std::string& v) {
    if (v.empty() || v.size() > 5 || v.find_first_not_of("0123456789") != std::string::npos ||
        std::stoul(v) > 65535) {
        throw usage_error("--" + opt + ": '" + v + "' is not a port number (0-65535)");
    }
    return static_cast<std::uint16_t>(std::stoul(v));
}

void set_extract_out(Cli& c, const char* opt, const std::string& v) {
    if (v.empty()) throw usage_error(std::string("--") + opt + ": an empty file name");
    if (!c.extract_out.empty() && c.extract_out != v) {
        throw usage_error(std::string("--") + opt + ": the extraction already goes to '" +
                          c.extract_out + "' (one file per run)");
    }
    c.extract_out = v;
}

const std::vector<OptionSpec>& option_table() {
    static const std::vector<OptionSpec> table = {
        {"syn", "FILE.csv", for_csv, "SYN list exported from Wireshark or tshark",
         [](Cli& c, const std::string& v) { c.syn_csv = v; }},
        {"lost", "FILE.csv", for_csv, "lost-segment list exported from Wireshark or tshark",
         [](Cli& c, const std::string& v) { c.lost_csv = v; }},
        {"join", "instance|socket", for_csv,
         "instance (default: tcp.stream, else 4-tuple and time) or socket (the old join on the "
         "client address:port; no window)",
         [](Cli& c, const std::string& v) {
             if (v == "instance") {
                 c.join = capgap::Join::instance;
             } else if (v == "socket") {
                 c.join = capgap::Join::socket;
             } else {
                 throw usage_error("--join: expected instance or socket, got '" + v + "'");
             }
         }},
        {"compare-joins", nullptr, for_csv, "also show the other join's figures side by side",
         [](Cli& c, const std::string&) { c.compare_joins = true; }},
        {"server", "CIDR[:PORT]", for_analyze | for_csv,
         "keep sessions whose server is in this range (repeatable; IPv6: [ADDR/LEN]:PORT)",
         [](Cli& c, const std::string& v) {
             c.options.match.servers.push_back(capgap::ServerFilter::parse(v));
         }},
        {"port", "N", for_analyze | for_csv, "keep sessions whose server port is N (repeatable)",
         [](Cli& c, const std::string& v) {
             c.options.match.ports.push_back(parse_port("port", v));
         }},
        {"filter", "BPF", for_analyze, "libpcap filter applied to every packet",
         [](Cli& c, const std::string& v) { c.options.bpf = v; }},
        {"window", "START,END", for_analyze | for_csv,
         "count sessions whose SYN is in [START, END): seconds from the first packet, epoch "
         "seconds or ISO-8601; either side may be empty",
         [](Cli& c, const std::string& v) {
             c.options.match.window = capgap::TimeWindow::parse(v);
             c.html.window = v;
         }},
        {"events-in-window", nullptr, for_analyze | for_csv,
         "count only loss events revealed inside the window",
         [](Cli& c, const std::string&) { c.options.match.events_in_window_only = true; }},
        {"mode", "confirmed|wireshark", for_analyze | for_csv,
         "headline verdict: capture loss (analyze default) or Wireshark's flags (csv default)",
         [](Cli& c, const std::string& v) {
             c.mode_given = true;
             if (!capgap::detail::parse_name(capgap::modes, v, c.options.match.mode)) {
                 throw usage_error("--mode: expected confirmed or wireshark, got '" + v + "'");
             }
         }},
        {"format", "text|json", for_analyze | for_csv, "report format on standard output",
         [](Cli& c, const std::string& v) {
             if (v == "text") {
                 c.format = Format::text;
             } else if (v == "json") {
                 c.format = Format::json;
             } else {
                 throw usage_error("--format: expected text or json, got '" + v + "'");
             }
         }},
        {"sessions-out", "FILE.csv", for_analyze | for_csv,
         "write one row per counted session in the window (columns: docs/tables.md)",
         [](Cli& c, const std::string& v) { c.sessions_out = v; }},
        {"events-out", "FILE.csv", for_analyze | for_csv,
         "write one row per event of those sessions",
         [](Cli& c, const std::string& v) { c.events_out = v; }},
        {"include", "counted|all", for_analyze,
         "rows of --sessions-out and --events-out: counted (default) or all, which adds the "
         "partial and synack_only instances in the window, their events and the unmatched "
         "events; the report does not change",
         [](Cli& c, const std::string& v) {
             if (v == "counted") {
                 c.options.match.include_excluded = false;
             } else if (v == "all") {
                 c.options.match.include_excluded = true;
             } else {
                 throw usage_error("--include: expected counted or all, got '" + v + "'");
             }
         }},
        {"html", "FILE.html", for_analyze | for_csv,
         "write the report as one self-contained HTML page (charts, findings, sortable and "
         "filterable tables; it loads nothing from the network)",
         [](Cli& c, const std::string& v) { c.html_out = v; }},
        {"html-max-sessions", "N", for_analyze | for_csv,
         "the most sessions the HTML page carries (default 300000; past it every bad session "
         "first, then the others in order, and the page says how many were left out)",
         [](Cli& c, const std::string& v) {
             if (v.empty() || v.size() > 12 ||
                 v.find_first_not_of("0123456789") != std::string::npos) {
                 throw usage_error("--html-max-sessions: '" + v + "' is not a number of sessions");
             }
             c.html.max_sessions = static_cast<std::size_t>(std::stoull(v));
         }},
        {"breakdown-out", "FILE.csv", for_analyze | for_csv,
         "write the diagnosis's breakdown tables (server, server_port, client_prefix, vlan, "
         "tunnel, interface, direction), one row per group with a `table` column",
         [](Cli& c, const std::string& v) { c.breakdown_out = v; }},
        {"timeline-out", "FILE.csv", for_analyze | for_csv,
         "write the diagnosis's timeline, one row per bucket",
         [](Cli& c, const std::string& v) { c.timeline_out = v; }},
        {"top", "N", for_analyze | for_csv,
         "rows per breakdown table before the \"rest\" row (default 10)",
         [](Cli& c, const std::string& v) {
             if (v.empty() || v.size() > 6 ||
                 v.find_first_not_of("0123456789") != std::string::npos)
                 throw usage_error("--top: '" + v + "' is not a number of rows");
             c.options.diagnosis.top = std::stoul(v);
         }},
        {"bucket", "WIDTH", for_analyze | for_csv,
         "timeline bucket: 100ms, 1s, 10s, 1m, ... (default from the capture's duration)",
         [](Cli& c, const std::string& v) {
             try {
                 c.options.diagnosis.bucket_ns = capgap::parse_bucket(v);
             } catch (const capgap::parse_error&) {
                 throw usage_error("--bucket: '" + v +
                                   "' is not a bucket width (a whole number with ms, s, m or h)");
             }
         }},
        {"prefix-v4", "LEN", for_analyze | for_csv,
         "client prefix length of the client_prefix breakdown for IPv4 (default 24)",
         [](Cli& c, const std::string& v) {
             c.options.diagnosis.prefix_v4 = parse_prefix("prefix-v4", v, 32);
         }},
        {"prefix-v6", "LEN", for_analyze | for_csv, "client prefix length for IPv6 (default 64)",
         [](Cli& c, const std::string& v) {
             c.options.diagnosis.prefix_v6 = parse_prefix("prefix-v6", v, 128);
         }},
        {"no-diagnosis", nullptr, for_analyze,
         "do not keep the per-packet timeline (no timeline or load figures; breakdowns and "
         "findings stay)",
         [](Cli& c, const std::string&) { c.options.timeline = false; }},
        {"reorder-window", "MS", for_analyze,
         "an ACK seen before its data is reordering when the data follows within MS "
         "milliseconds (default 3)",
         [](Cli& c, const std::string& v) {
             // Milliseconds, parsed exactly: seconds-to-ns of the text is 1000x the answer.
             std::int64_t scaled = -1;
             try {
                 scaled = capgap::parse_seconds_ns(v, "--reorder-window");
             } catch (const capgap::parse_error&) {
                 scaled = -1;
             }
             if (scaled < 0 || scaled % 1000 != 0) {
                 throw usage_error("--reorder-window: '" + v +
                                   "' must be a non-negative number of milliseconds "
                                   "(at most six decimals)");
             }
             c.options.tracker.reorder_window_ns = scaled / 1000;
         }},
        {"drop-duplicates", nullptr, for_analyze,
         "drop exact duplicate packets (two SPAN sources) before tracking; they are counted "
         "either way and never make a session bad",
         [](Cli& c, const std::string&) { c.options.tracker.drop_duplicates = true; }},
        {"extract-bad", "OUT.pcapng", for_analyze,
         "write every packet of the bad sessions (under --mode) to OUT.pcapng, with a comment "
         "on each packet that revealed a loss event (reads the capture twice: files only)",
         [](Cli& c, const std::string& v) {
             set_extract_out(c, "extract-bad", v);
             c.extract.bad = true;
         }},
        {"extract-out", "OUT.pcapng", for_analyze,
         "write every packet of the sessions chosen by --extract, --extract-server and "
         "--extract-category (all of the report's when none is given) to OUT.pcapng",
         [](Cli& c, const std::string& v) { set_extract_out(c, "extract-out", v); }},
        {"extract", "IDS", for_analyze,
         "extract these session ids, as --sessions-out numbers them: 3,7,10-12",
         [](Cli& c, const std::string& v) {
             const auto ids = capgap::SessionSelection::parse_ids(v);
             c.extract.ids.insert(c.extract.ids.end(), ids.begin(), ids.end());
             c.extract_selector = true;
         }},
        {"extract-server", "CIDR[:PORT]", for_analyze,
         "extract only sessions whose server is in this range (repeatable)",
         [](Cli& c, const std::string& v) {
             c.extract.servers.push_back(capgap::ServerFilter::parse(v));
             c.extract_selector = true;
         }},
        {"extract-category", "CATEGORY", for_analyze,
         "extract only sessions of this category: complete, syn_only or one_sided "
         "(repeatable)",
         [](Cli& c, const std::string& v) {
             capgap::SessionCategory cat{};
             if (!capgap::detail::parse_name(capgap::session_categories, v, cat)) {
                 throw usage_error("--extract-category: unknown category '" + v + "'");
             }
             if (!capgap::is_counted(cat)) {
                 throw usage_error("--extract-category: " + v +
                                   " sessions are not counted, so not in the report: choose "
                                   "complete, syn_only or one_sided");
             }
             c.extract.categories.push_back(cat);
             c.extract_selector = true;
         }},
        {"quiet", nullptr, for_analyze,
         "no progress line (shown on standard error when it is a terminal)",
         [](Cli& c, const std::string&) { c.quiet = true; }},
        {"tunnel-key", nullptr, for_analyze,
         "make the outer tunnel (IP-in-IP, GRE, VXLAN, Geneve, GTP-U endpoints and VNI, key or "
         "TEID) part of the session key; the report lists the tunnels and --sessions-out gives "
         "each session's",
         [](Cli& c, const std::string&) { c.options.tunnel_key = true; }},
        {"threads", "N", for_analyze,
         "threads, 1-256 (default: the machine's cores, at most 8; 1 for inputs under 64 MB); "
         "sessions are sharded by flow over N trackers, and the results are the same for "
         "every N",
         [](Cli& c, const std::string& v) {
             if (v.empty() || v.size() > 3 ||
                 v.find_first_not_of("0123456789") != std::string::npos || std::stoul(v) < 1 ||
                 std::stoul(v) > 256)
                 throw usage_error("--threads: '" + v + "' is not a thread count (1-256)");
             c.options.threads = static_cast<unsigned>(std::stoul(v));
         }},
        {"files", "capture|independent", for_analyze,
         "capture (default): the files are one capture, merged by time; independent: they are "
         "sensors' captures, grouped by directory (or --sensor-regex), each group's files in "
         "time order as one capture, the groups' reports merged (session ids renumbered)",
         [](Cli& c, const std::string& v) {
             if (v == "capture") {
                 c.independent = false;
             } else if (v == "independent") {
                 c.independent = true;
             } else {
                 throw usage_error("--files: expected capture or independent, got '" + v + "'");
             }
         }},
        {"jobs", "N", for_analyze,
         "with --files independent: analyse up to N groups at once, in child processes "
         "(default 1: one after the other, in this one)",
         [](Cli& c, const std::string& v) {
             if (v.empty() || v.size() > 4 || v.find_first_not_of("0123456789") != v.npos ||
                 std::stoul(v) == 0) {
                 throw usage_error("--jobs: '" + v + "' is not a number of jobs (1-9999)");
             }
             c.jobs = static_cast<unsigned>(std::stoul(v));
             c.jobs_given = true;
         }},
        {"sensor-regex", "REGEX", for_analyze,
         "with --files independent: group files by what REGEX (ECMAScript) finds in each path "
         "(its first group, else the whole match) instead of by directory",
         [](Cli& c, const std::string& v) {
             try {
                 boost::regex check(v, boost::regex::ECMAScript);
             } catch (const boost::regex_error& e) {
                 throw usage_error("--sensor-regex: '" + v + "': " + e.what());
             }
             c.sensor_regex = v;
         }},
        {"resume-state", "FILE", for_analyze,
         "resume the flows a piece before saved with --save-state (rotated files analysed one "
         "after the other report what one run over them all reports; docs/state-format.md)",
         [](Cli& c, const std::string& v) { c.resume_state = v; }},
        {"save-state", "FILE", for_analyze,
         "save the flows still open at the end in FILE for the next piece's --resume-state; "
         "the report then holds the sessions that ended in this piece",
         [](Cli& c, const std::string& v) { c.save_state = v; }},
    };
    return table;
}

const char* command_name(Command c) {
    return c == Command::csv ? "csv" : "analyze";
}

std::string short_usage() {
    return "usage: capgap analyze CAPTURE... [options]\n"
           "       capgap csv --syn S.csv --lost L.csv [options]\n"
           "       capgap live -i IFACE... | -r CAPTURE [options]\n"
           "       capgap --version | --help | COMMAND --help\n";
}

std::string command_help(Command cmd) {
    const unsigned bit = cmd == Command::csv ? for_csv : for_analyze;
    std::string out;
    if (cmd == Command::analyze) {
        out =
            "usage: capgap analyze CAPTURE... [options]\n\n"
            "Reads pcap/pcapng captures (several files are merged by time) and reports how "
            "many TCP\nsessions that started in the window had a segment the capture "
            "missed. A CAPTURE of - is\nstandard input; gzip, zstd and lz4 compressed "
            "captures are read as they are.\n\noptions:\n";
    } else {
        out =
            "usage: capgap csv --syn S.csv --lost L.csv [options]\n\n"
            "Joins a Wireshark SYN list and lost-segment list (CSV exports) and reports the "
            "same\nfigures as `capgap analyze`.\n\noptions:\n";
    }
    for (const OptionSpec& o : option_table()) {
        if ((o.commands & bit) == 0) continue;
        std::string left = std::string("  --") + o.name;
        if (o.value) left += std::string(" ") + o.value;
        if (left.size() < 30) {
            left.append(30 - left.size(), ' ');
        } else {
            left += "\n" + std::string(30, ' ');
        }
        out += left + o.help + "\n";
    }
    out += "  --help                      this text\n";
    if (cmd == Command::analyze) {
        out +=
            "\nOn a terminal a progress line is drawn on standard error (--quiet: none). "
            "Ctrl-C stops the\nreading and removes unfinished output files (exit status "
            "130); a second Ctrl-C ends\nat once.\n";
    }
    out += "\nexit status: 0 success, 1 usage error, 2 input or output error, 130 interrupted\n";
    return out;
}

std::string general_help() {
    return "capgap: how many TCP sessions did a packet capture damage?\n\n" + short_usage() +
           "\ncommands:\n"
           "  analyze   read captures and report bad sessions\n"
           "  csv       the same from Wireshark CSV exports (SYN list + lost list)\n"
           "  live      measure continuously from interfaces, one report per interval\n\n"
           "Run `capgap COMMAND --help` for the options.\n";
}

Cli parse_args(int argc, char** argv) {
    Cli cli;
    if (argc < 2) throw usage_error("missing command");
    const std::string cmd = argv[1];
    if (cmd == "analyze") {
        cli.command = Command::analyze;
    } else if (cmd == "csv") {
        cli.command = Command::csv;
    } else {
        throw usage_error("unknown command '" + cmd + "'");
    }
    const unsigned bit = cli.command == Command::csv ? for_csv : for_analyze;
    bool options_done = false;
    for (int i = 2; i < argc; ++i) {
        const std::string arg = argv[i];
        if (options_done || arg.size() < 2 || arg[0] != '-') {
            if (cli.command == Command::analyze) {
                cli.captures.push_back(arg);
                continue;
            }
            throw usage_error("unexpected argument '" + arg + "'");
        }
        if (arg == "--") {
            options_done = true;
            continue;
        }
        if (arg == "--help" || arg == "-h") {
            cli.help = true;
            continue;
        }
        if (arg.compare(0, 2, "--") != 0) throw usage_error("unknown option '" + arg + "'");
        const std::size_t eq = arg.find('=');
        const std::string name = arg.substr(2, eq == std::string::npos ? eq : eq - 2);
        const OptionSpec* spec = nullptr;
        for (const OptionSpec& o : option_table()) {
            if (name == o.name) spec = &o;
        }
        if (!spec || (spec->commands & bit) == 0) {
            throw usage_error("unknown option '--" + name + "' for " + command_name(cli.command));
        }
        std::string value;
        if (spec->value) {
            if (eq != std::string::npos) {
                value = arg.substr(eq + 1);
            } else if (i + 1 < argc) {
                value = argv[++i];
            } else {
                throw usage_error("--" + name + " needs a value (" + spec->value + ")");
            }
        } else if (eq != std::string::npos) {
            throw usage_error("--" + name + " takes no value");
        }
        try {
            spec->apply(cli, value);
        } catch (const capgap::parse_error& e) {
            // A malformed option value is a usage error, not an input error. The message
            // names the option instead of the library's generic source.
            std::string msg = e.what();
            if (msg.compare(0, e.source().size(), e.source()) == 0) {
                msg = "--" + name + msg.substr(e.source().size());
            } else {
                msg = "--" + name + ": " + msg;
            }
            throw usage_error(msg);
        }
    }
    if (cli.help) return cli;
    if (cli.command == Command::analyze && cli.captures.empty()) {
        throw usage_error("analyze needs at least one capture file");
    }
    if (std::count(cli.captures.begin(), cli.captures.end(), "-") > 1) {
        throw usage_error("standard input (-) can be read only once");
    }
    // As zcat does: a capture is not typed in, and waiting for one would look like a hang.
    if (std::count(cli.captures.begin(), cli.captures.end(), "-") == 1 && isatty(STDIN_FILENO)) {
        throw usage_error("standard input (-) is a terminal: pipe or redirect a capture into it");
    }
    if (cli.extract_selector && cli.extract_out.empty()) {
        throw usage_error(
            "--extract, --extract-server and --extract-category choose sessions for "
            "--extract-out FILE (or --extract-bad FILE): give one");
    }
    if (!cli.independent && (cli.jobs_given || !cli.sensor_regex.empty())) {
        throw usage_error("--jobs and --sensor-regex go with --files independent");
    }
    if (cli.independent && !cli.extract_out.empty()) {
        throw usage_error("--extract-out reads one capture: not with --files independent");
    }
    if (cli.independent && std::count(cli.captures.begin(), cli.captures.end(), "-") != 0) {
        throw usage_error("--files independent reads files, not standard input (-)");
    }
    if (cli.independent && (!cli.save_state.empty() || !cli.resume_state.empty())) {
        throw usage_error(
            "--save-state and --resume-state carry one capture's flows: not with --files "
            "independent");
    }
    if (!cli.extract_out.empty() && (!cli.save_state.empty() || !cli.resume_state.empty())) {
        throw usage_error(
            "--extract-out reads the whole capture: not with --save-state or "
            "--resume-state");
    }
    if (cli.command == Command::csv && (cli.syn_csv.empty() || cli.lost_csv.empty())) {
        throw usage_error("csv needs --syn FILE and --lost FILE");
    }
    return cli;
}

// --compare-joins has always printed its percentages with 15 significant digits.
double significant15(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.15g", v);
    return std::strtod(buf, nullptr);
}

// The headline figures of two joins of the same CSV lists: a JSON member, or text lines.
capgap::detail::Json compare_joins_json(const capgap::Report& a, const capgap::Report& b) {
    capgap::detail::Json out = capgap::detail::Json::object();
    for (const capgap::Report* r : {&a, &b}) {
        const capgap::Summary& s = r->summary;
        capgap::detail::Json j = capgap::detail::Json::object();
        j["total_sessions"] = s.total_sessions;
        j["bad_sessions"] = s.bad_sessions;
        j["percentage"] = capgap::detail::json_number(significant15(s.percentage));
        out[capgap::to_string(s.join)] = std::move(j);
    }
    return out;
}

std::string compare_joins_text(const capgap::Report& a, const capgap::Report& b) {
    std::ostringstream o;
    o << "\nJoins compared:\n  join         total      bad  percentage\n";
    for (const capgap::Report* r : {&a, &b}) {
        const capgap::Summary& s = r->summary;
        o << "  " << std::left << std::setw(9) << capgap::to_string(s.join) << std::right
          << std::setw(8) << s.total_sessions << std::setw(9) << s.bad_sessions << "  ";
        if (s.total_sessions == 0) {
            o << "no sessions\n";
        } else {
            o << std::fixed << std::setprecision(2) << s.percentage << "%\n";
        }
    }
    return o.str();
}

// ---- Ctrl-C and the progress line ----

// The first SIGINT or SIGTERM sets this and restores the default action: the reading stops at
// its next progress check (within ~100 ms while packets flow), output temporaries are removed
// and the command exits 130; a second one (a reading stalled on a pipe) ends it at once.
volatile std::sig_atomic_t interrupt_signal = 0;

extern "C" void on_interrupt(int sig) {
    interrupt_signal = sig;
}

void catch_interrupts() {
    struct sigaction sa {};
    sa.sa_handler = on_interrupt;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESETHAND | SA_RESTART;
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
}

struct interrupted : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// "1.23 GB": decimal units, three significant digits.
std::string human(double v, const char* unit) {
    static const char* const prefixes[] = {"", " k", " M", " G", " T", " P"};
    std::size_t i = 0;
    while (v >= 999.5 && i + 1 < sizeof prefixes / sizeof prefixes[0]) {
        v /= 1000;
        ++i;
    }
    char buf[48];
    std::snprintf(buf, sizeof buf, i == 0 ? "%.0f%s%s" : "%.3g%s%s", v, prefixes[i], unit);
    return buf;
}

std::string clock_text(double seconds) {
    const auto s = static_cast<long long>(seconds + 0.5);
    char buf[32];
    if (s >= 3600) {
        std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", s / 3600, s / 60 % 60, s % 60);
    } else {
        std::snprintf(buf, sizeof buf, "%lld:%02lld", s / 60, s % 60);
    }
    return buf;
}

// One line of progress, redrawn in place: "capgap: 1.2 GB of 4.0 GB (30%), 1.5 M packets/s,
// 12345 sessions, ETA 0:42". `what` names the reading ("extracting: " for the second one).
std::string progress_text(const capgap::Progress& p, const char* what) {
    std::string line =
        std::string("capgap: ") + what + human(static_cast<double>(p.bytes_done), "B");
    if (p.bytes_total > 0) {
        const double part = static_cast<double>(p.bytes_done) / static_cast<double>(p.bytes_total);
        char pct[16];
        std::snprintf(pct, sizeof pct, " (%.0f%%)", 100 * std::min(part, 1.0));
        line += " of " + human(static_cast<double>(p.bytes_total), "B") + pct;
    } else {
        line += " read";
    }
    if (p.elapsed_seconds > 0) {
        line += ", " + human(static_cast<double>(p.packets) / p.elapsed_seconds, " packets/s");
    }
    line += ", " + std::to_string(p.sessions) + " sessions";
    if (p.bytes_total > 0 && p.bytes_done > 0 && p.bytes_done < p.bytes_total) {
        const double left = p.elapsed_seconds * static_cast<double>(p.bytes_total - p.bytes_done) /
                            static_cast<double>(p.bytes_done);
        line += ", ETA " + clock_text(left);
    }
    return line;
}

void write_stderr(const std::string& text) {
    std::size_t off = 0;
    while (off < text.size()) {
        const ssize_t n = ::write(STDERR_FILENO, text.data() + off, text.size() - off);
        if (n <= 0) return;  // a progress line is not worth an error
        off += static_cast<std::size_t>(n);
    }
}

// The progress callback: stops the reading after a signal, and draws the line on a terminal
// (at most ten times a second: Options::progress_interval_ns), erasing it at the end.
capgap::ProgressCallback progress_callback(bool show, const char* what) {
    return [show, what](const capgap::Progress& p) {
        if (interrupt_signal != 0) {
            if (show) write_stderr("\r\x1b[K");
            throw interrupted("interrupted");
        }
        if (!show) return;
        write_stderr(p.done ? "\r\x1b[K" : "\r" + progress_text(p, what) + "\x1b[K");
    };
}

int run(const Cli& cli) {
    capgap::Report report;
    std::optional<capgap::Report> other;  // --compare-joins: the other join's report
    if (cli.command == Command::analyze) {
        const std::vector<capgap::CaptureInput> inputs(cli.captures.begin(), cli.captures.end());
        // Before the first reading: a capture that cannot be read twice is said at once.
        if (!cli.extract_out.empty()) capgap::check_rereadable(inputs);
        const bool show = !cli.quiet && isatty(STDERR_FILENO) != 0;
        capgap::Options options = cli.options;
        options.progress = progress_callback(show, "");
        if (cli.independent) {
            std::vector<capgap::cli::CaptureGroup> groups;
            try {
                groups = capgap::cli::group_captures(cli.captures, cli.sensor_regex, options.bpf);
            } catch (const std::invalid_argument& e) {
                throw capgap::error(e.what());
            }
            report = capgap::cli::analyze_groups(groups, options, cli.jobs);
        } else if (cli.save_state.empty() && cli.resume_state.empty()) {
            report = capgap::analyze(inputs, options);
        } else {
            capgap::FlowState resume;
            if (!cli.resume_state.empty()) resume = capgap::FlowState::read_file(cli.resume_state);
            capgap::PieceResult piece = capgap::analyze_piece(
                inputs, options, &resume,
                cli.save_state.empty() ? capgap::PieceEnd::finish : capgap::PieceEnd::suspend);
            if (!cli.save_state.empty()) piece.state.write_file(cli.save_state);
            report = std::move(piece.report);
        }
    } else {
        // A lost list carries only Wireshark's flags, so its verdict is the headline unless
        // the user asks otherwise.
        capgap::MatchOptions match = cli.options.match;
        if (!cli.mode_given) match.mode = capgap::Mode::wireshark;
        auto join = [&](capgap::Join how) {
            return how == capgap::Join::socket
                       ? capgap::socket_join(cli.syn_csv, cli.lost_csv, match.servers, match.ports)
                       : capgap::analyze_wireshark_csv(cli.syn_csv, cli.lost_csv, match);
        };
        report = join(cli.join);
        if (cli.compare_joins)
            other = join(cli.join == capgap::Join::socket ? capgap::Join::instance
                                                          : capgap::Join::socket);
    }
    report.diagnosis_options = cli.options.diagnosis;
    if (other) other->diagnosis_options = cli.options.diagnosis;
    // Every write is checked (a report lost to a full disk or a closed pipe is an error, exit
    // 2), and an output file takes its name only once complete (report/output_file.hpp).
    if (!cli.sessions_out.empty()) {
        capgap::detail::write_output_file(cli.sessions_out,
                                          [&](std::ostream& o) { report.write_sessions_csv(o); });
    }
    if (!cli.events_out.empty()) {
        capgap::detail::write_output_file(cli.events_out,
                                          [&](std::ostream& o) { report.write_events_csv(o); });
    }
    // The report on stdout shows the diagnosis, and so may the files below: it is computed
    // once for all of them.
    const capgap::Diagnosis d = capgap::detail::diagnose(
        report, report.diagnosis_options,
        cli.options.threads > 0 ? cli.options.threads : capgap::default_threads(0));
    if (!cli.html_out.empty()) capgap::detail::write_html(report, cli.html_out, cli.html, d);
    if (!cli.breakdown_out.empty())
        capgap::detail::write_output_file(cli.breakdown_out,
                                          [&](std::ostream& o) { d.write_breakdown_csv(o); });
    if (!cli.timeline_out.empty())
        capgap::detail::write_output_file(cli.timeline_out,
                                          [&](std::ostream& o) { d.write_timeline_csv(o); });
    if (cli.format == Format::json) {
        capgap::detail::Json doc = capgap::detail::report_json(report, d);
        if (other) doc["compare_joins"] = compare_joins_json(report, *other);
        capgap::detail::write_stdout(capgap::detail::dump_json(doc));
    } else {
        std::string text = capgap::detail::report_text(report, d);
        if (other) text += compare_joins_text(report, *other);
        capgap::detail::write_stdout(text);
    }
    // The report first, then the second reading for the extraction.
    if (!cli.extract_out.empty()) {
        const std::vector<capgap::CaptureInput> inputs(cli.captures.begin(), cli.captures.end());
        capgap::Options options = cli.options;
        options.progress =
            progress_callback(!cli.quiet && isatty(STDERR_FILENO) != 0, "extracting: ");
        capgap::extract_sessions(inputs, options, report,
                                 capgap::select_sessions(report, cli.extract), cli.extract_out);
    }
    return 0;
}

// Help and version text on stdout, checked like the report.
int print(const std::string& text) {
    try {
        capgap::detail::write_stdout(text);
    } catch (const capgap::error& e) {
        std::cerr << "capgap: " << e.what() << '\n';
        return 2;
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc >= 2 && std::strcmp(argv[1], "live") == 0)
        return capgap::cli::live_main(argc - 1, argv + 1);
    if (argc >= 2 && (std::strcmp(argv[1], "--version") == 0)) {
        return print(std::string("capgap ") + capgap::version + '\n');
    }
    if (argc >= 2 && (std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0 ||
                      std::strcmp(argv[1], "help") == 0)) {
        return print(general_help());
    }
    Cli cli;
    try {
        cli = parse_args(argc, argv);
    } catch (const usage_error& e) {
        std::cerr << "capgap: " << e.what() << '\n' << short_usage();
        return 1;
    }
    if (cli.help) {
        return print(command_help(cli.command));
    }
    catch_interrupts();
    try {
        return run(cli);
    } catch (const interrupted&) {
        std::cerr << "capgap: interrupted\n";
        return 128 + (interrupt_signal != 0 ? static_cast<int>(interrupt_signal) : SIGINT);
    } catch (const capgap::parse_error& e) {
        // The library names the filter after its option (bpf); here it is --filter.
        std::string msg = e.what();
        if (e.source() == "bpf") msg = "--filter" + msg.substr(e.source().size());
        std::cerr << "capgap: " << msg << '\n';
        return 2;
    } catch (const capgap::error& e) {
        std::cerr << "capgap: " << e.what() << '\n';
        return 2;
    } catch (const std::exception& e) {
        std::cerr << "capgap: " << e.what() << '\n';
        return 2;
    }
}
