// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// `capgap live`: continuous measurement from interfaces or a replayed file (docs/live.md).
// One line (or JSON object) per interval on standard output or --output FILE; SIGINT and
// SIGTERM flush the last interval and exit 0; SIGHUP reopens --output (logrotate).

#include "cli/live.hpp"

#include <csignal>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

#include <capgap/errors.hpp>
#include <capgap/live.hpp>
#include <capgap/matcher.hpp>

namespace capgap::cli {

namespace {

struct live_usage : std::runtime_error {
    using std::runtime_error::runtime_error;
};

LiveCapture* volatile live_instance = nullptr;
volatile std::sig_atomic_t hangup = 0;

extern "C" void on_stop_signal(int) {
    LiveCapture* l = live_instance;
    if (l != nullptr) l->stop();  // an atomic store: safe here
}
extern "C" void on_hangup(int) {
    hangup = 1;
}

// "60", "60s", "500ms", "5m", "1h" -> nanoseconds (> 0).
std::int64_t parse_duration(const std::string& opt, const std::string& v) {
    std::size_t used = 0;
    double x = 0;
    try {
        x = std::stod(v, &used);
    } catch (const std::exception&) {
        throw live_usage(opt + ": '" + v + "' is not a duration (e.g. 60s, 500ms, 5m, 1h)");
    }
    const std::string unit = v.substr(used);
    double scale = 1e9;
    if (unit == "ms") {
        scale = 1e6;
    } else if (unit == "m" || unit == "min") {
        scale = 60e9;
    } else if (unit == "h") {
        scale = 3600e9;
    } else if (!unit.empty() && unit != "s") {
        throw live_usage(opt + ": '" + v + "' is not a duration (e.g. 60s, 500ms, 5m, 1h)");
    }
    if (!(x > 0) || x * scale > 1e18)
        throw live_usage(opt + ": '" + v + "' must be a positive duration");
    return static_cast<std::int64_t>(x * scale);
}

long parse_count(const std::string& opt, const std::string& v, long lo, long hi) {
    char* end = nullptr;
    const long n = std::strtol(v.c_str(), &end, 10);
    if (v.empty() || *end != '\0' || n < lo || n > hi)
        throw live_usage(opt + ": '" + v + "' is not a number from " + std::to_string(lo) + " to " +
                         std::to_string(hi));
    return n;
}

const char* const help_text =
    "usage: capgap live -i IFACE [-i IFACE ...] [options]\n"
    "       capgap live -r CAPTURE [--speed N|max] [options]\n\n"
    "Captures continuously and reports, per interval, the sessions whose SYN fell in it:\n"
    "how many, how many lost data upstream of the capture (both verdicts), and what this\n"
    "host's capture dropped itself (kernel, interface). An interval is reported once its\n"
    "sessions had the chance to show their loss (docs/live.md): all finished or idle for the\n"
    "grace, or at the latest --cap after its end, the sessions still open then marked.\n\n"
    "options:\n"
    "  -i, --interface IFACE       capture from IFACE (repeatable; needs CAP_NET_RAW)\n"
    "  -r, --read CAPTURE          replay a pcap/pcapng file through the same path\n"
    "  --speed N|max               replay at N times real time (default 1); 0 or max: as\n"
    "                              fast as it reads, capture time moving with the packets\n"
    "  --interval DURATION         interval length, aligned on its multiples (default 60s)\n"
    "  --grace DURATION            a session idle this long is judged (default 30s)\n"
    "  --cap DURATION              report at the latest this long after the interval's end\n"
    "                              (default 5m)\n"
    "  --filter BPF                capture filter (libpcap syntax)\n"
    "  --snaplen N                 bytes kept per packet (default 262144)\n"
    "  --buffer-size MB            kernel capture buffer per interface (default 64)\n"
    "  --format text|jsonl         one line of text, or one JSON object, per interval\n"
    "  --output FILE               append the lines to FILE (reopened on SIGHUP)\n"
    "  --mode confirmed|wireshark  headline verdict (default confirmed)\n"
    "  --server CIDR[:PORT]        keep sessions whose server is in CIDR (repeatable)\n"
    "  --port N                    keep sessions whose server port is N (repeatable)\n"
    "  --help                      this text\n\n"
    "SIGINT or SIGTERM reports the interval in progress (marked final) and exits 0; SIGHUP\n"
    "reopens --output. To capture without root: sudo setcap cap_net_raw,cap_net_admin=eip\n"
    "$(command -v capgap)\n\n"
    "exit status: 0 success, 1 usage error, 2 capture or output error\n";

struct LiveCli {
    LiveOptions options;
    bool jsonl = false;
    std::string output;
};

LiveCli parse(int argc, char** argv, bool& help) {
    LiveCli c;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) throw live_usage(a + ": a value is missing");
            return argv[++i];
        };
        if (a == "--help" || a == "-h") {
            help = true;
            return c;
        } else if (a == "-i" || a == "--interface") {
            c.options.interfaces.push_back(value());
        } else if (a == "-r" || a == "--read") {
            c.options.replay_file = value();
        } else if (a == "--speed") {
            const std::string v = value();
            if (v == "max") {
                c.options.speed = 0;
            } else {
                char* end = nullptr;
                c.options.speed = std::strtod(v.c_str(), &end);
                if (v.empty() || *end != '\0' || !(c.options.speed >= 0) || c.options.speed > 1e9)
                    throw live_usage("--speed: '" + v + "' is not a speed (a factor >= 0, or max)");
            }
        } else if (a == "--interval") {
            c.options.interval_ns = parse_duration(a, value());
        } else if (a == "--grace") {
            c.options.grace_ns = parse_duration(a, value());
        } else if (a == "--cap") {
            c.options.cap_ns = parse_duration(a, value());
        } else if (a == "--filter") {
            c.options.analysis.bpf = value();
        } else if (a == "--snaplen") {
            c.options.snaplen = static_cast<int>(parse_count(a, value(), 64, 262144));
        } else if (a == "--buffer-size") {
            c.options.buffer_size_mb = static_cast<int>(parse_count(a, value(), 1, 4096));
        } else if (a == "--format") {
            const std::string v = value();
            if (v != "text" && v != "jsonl")
                throw live_usage("--format: expected text or jsonl, got '" + v + "'");
            c.jsonl = v == "jsonl";
        } else if (a == "--output") {
            c.output = value();
            if (c.output.empty()) throw live_usage("--output: an empty file name");
        } else if (a == "--mode") {
            const std::string v = value();
            if (v == "confirmed") {
                c.options.analysis.match.mode = Mode::confirmed;
            } else if (v == "wireshark") {
                c.options.analysis.match.mode = Mode::wireshark;
            } else {
                throw live_usage("--mode: expected confirmed or wireshark, got '" + v + "'");
            }
        } else if (a == "--server") {
            const std::string v = value();
            try {
                c.options.analysis.match.servers.push_back(ServerFilter::parse(v));
            } catch (const capgap::error& e) {
                throw live_usage(std::string("--server: ") + e.what());
            }
        } else if (a == "--port") {
            c.options.analysis.match.ports.push_back(
                static_cast<std::uint16_t>(parse_count(a, value(), 0, 65535)));
        } else {
            throw live_usage("unknown option '" + a + "'");
        }
    }
    if (c.options.interfaces.empty() == c.options.replay_file.empty())
        throw live_usage("give -i IFACE (one or more) or -r CAPTURE");
    return c;
}

// The output: standard output, or a file opened for appending (reopened on SIGHUP).
class Output {
  public:
    explicit Output(std::string path) : path_(std::move(path)) { open(); }
    ~Output() {
        if (fd_ > STDOUT_FILENO) ::close(fd_);
    }
    void reopen() {
        if (path_.empty()) return;
        ::close(fd_);
        open();
    }
    void line(std::string text) {
        text += '\n';
        std::size_t off = 0;
        while (off < text.size()) {
            const ssize_t n = ::write(fd_, text.data() + off, text.size() - off);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0)
                throw io_error((path_.empty() ? std::string("standard output") : path_) + ": " +
                               std::strerror(errno));
            off += static_cast<std::size_t>(n);
        }
    }

  private:
    void open() {
        if (path_.empty()) {
            fd_ = STDOUT_FILENO;
            return;
        }
        fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (fd_ < 0) throw io_error(path_ + ": " + std::strerror(errno));
    }
    std::string path_;
    int fd_ = -1;
};

}  // namespace

int live_main(int argc, char** argv) {
    LiveCli c;
    bool help = false;
    try {
        c = parse(argc, argv, help);
    } catch (const live_usage& e) {
        std::cerr << "capgap live: " << e.what() << "\n"
                  << "usage: capgap live -i IFACE [-i IFACE ...] [options]\n"
                  << "       capgap live -r CAPTURE [--speed N|max] [options]\n";
        return 1;
    }
    if (help) {
        std::cout << help_text;
        return std::cout.flush() ? 0 : 2;
    }
    try {
        Output out(c.output);
        LiveCapture live(c.options);
        for (const std::string& w : live.warnings())
            std::cerr << "capgap live: warning: " << w << '\n';
        live_instance = &live;
        struct sigaction sa {};
        sa.sa_handler = on_stop_signal;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, nullptr);
        sigaction(SIGTERM, &sa, nullptr);
        sa.sa_handler = on_hangup;
        sigaction(SIGHUP, &sa, nullptr);
        IntervalReport r;
        for (;;) {
            const LiveCapture::Poll p = live.poll(r);
            if (hangup != 0) {
                hangup = 0;
                out.reopen();
            }
            if (p == LiveCapture::Poll::ended) break;
            if (p == LiveCapture::Poll::report) out.line(c.jsonl ? r.to_json() : r.to_text());
        }
        live_instance = nullptr;
        return 0;
    } catch (const std::exception& e) {
        live_instance = nullptr;
        std::cerr << "capgap live: " << e.what() << '\n';
        return 2;
    }
}

}  // namespace capgap::cli
