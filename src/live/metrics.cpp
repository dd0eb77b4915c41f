// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// The Prometheus text of `capgap live` and the atomic metrics file (see metrics.hpp).

#include "live/metrics.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <string_view>

#include "report/output_file.hpp"

namespace capgap::detail {
namespace {

struct Writer {
    std::string out;

    void family(std::string_view name, std::string_view type, std::string_view help) {
        out += "# HELP ";
        out += name;
        out += ' ';
        out += help;
        out += "\n# TYPE ";
        out += name;
        out += ' ';
        out += type;
        out += '\n';
    }
    void sample(std::string_view name, std::string_view labels, std::uint64_t v) {
        char buf[24];
        std::snprintf(buf, sizeof buf, "%" PRIu64, v);
        line(name, labels, buf);
    }
    void sample(std::string_view name, std::string_view labels, double v) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.17g", v);
        line(name, labels, buf);
    }
    void line(std::string_view name, std::string_view labels, const char* value) {
        out += name;
        if (!labels.empty()) {
            out += '{';
            out += labels;
            out += '}';
        }
        out += ' ';
        out += value;
        out += '\n';
    }
    void counter(std::string_view name, std::string_view help, std::uint64_t v) {
        family(name, "counter", help);
        sample(name, {}, v);
    }
};

double ratio(std::uint64_t k, std::uint64_t n) {
    return n == 0 ? 0.0 : static_cast<double>(k) / static_cast<double>(n);
}

}  // namespace

std::string render_metrics(const MetricsCounters& c, std::uint64_t open_flows,
                           const MetricsInterval& last) {
    Writer w;
    w.counter("capgap_packets_total", "Packets captured (or replayed) since start.", c.packets);
    w.counter("capgap_bytes_total", "Bytes of those packets on the wire (original length).",
              c.bytes);
    w.counter("capgap_sessions_total",
              "TCP sessions judged (SYN inside an interval emitted so far).", c.sessions);
    w.family("capgap_bad_sessions_total", "counter",
             "Sessions judged bad (capture loss), by verdict: confirmed (default) or wireshark.");
    w.sample("capgap_bad_sessions_total", "verdict=\"confirmed\"", c.bad_confirmed);
    w.sample("capgap_bad_sessions_total", "verdict=\"wireshark\"", c.bad_wireshark);
    w.family("capgap_missing_bytes_total", "counter",
             "Payload bytes the capture missed in the judged sessions, by direction.");
    w.sample("capgap_missing_bytes_total", "direction=\"c2s\"", c.missing_bytes_c2s);
    w.sample("capgap_missing_bytes_total", "direction=\"s2c\"", c.missing_bytes_s2c);
    w.counter("capgap_intervals_total", "Interval reports emitted since start.", c.intervals);
    if (c.host_known) {
        w.counter("capgap_host_received_packets_total",
                  "Packets the capture host's kernel handed to capture (pcap_stats ps_recv).",
                  c.host_received);
        w.counter("capgap_host_kernel_dropped_packets_total",
                  "Packets dropped on the capture host for want of buffer space (ps_drop): "
                  "capture loss of this host, not upstream.",
                  c.host_kernel_dropped);
        w.counter("capgap_host_interface_dropped_packets_total",
                  "Packets dropped by the capture interface or its driver (ps_ifdrop).",
                  c.host_interface_dropped);
    }
    w.family("capgap_open_flows", "gauge", "TCP flows being tracked now.");
    w.sample("capgap_open_flows", {}, open_flows);
    if (last.any) {
        w.family("capgap_interval_bad_ratio", "gauge",
                 "Share of the last interval's sessions judged bad (0 to 1), by verdict.");
        w.sample("capgap_interval_bad_ratio", "verdict=\"confirmed\"",
                 ratio(last.bad_confirmed, last.sessions));
        w.sample("capgap_interval_bad_ratio", "verdict=\"wireshark\"",
                 ratio(last.bad_wireshark, last.sessions));
        w.family("capgap_interval_sessions", "gauge", "Sessions judged in the last interval.");
        w.sample("capgap_interval_sessions", {}, last.sessions);
        w.family("capgap_interval_still_open_sessions", "gauge",
                 "Sessions of the last interval reported while still open (at the cap).");
        w.sample("capgap_interval_still_open_sessions", {}, last.still_open);
        w.family("capgap_interval_start_seconds", "gauge",
                 "Start of the last interval's SYN window, seconds since the Unix epoch.");
        w.sample("capgap_interval_start_seconds", {}, static_cast<double>(last.begin_ns) / 1e9);
        w.family("capgap_interval_end_seconds", "gauge",
                 "End of the last interval's SYN window, seconds since the Unix epoch.");
        w.sample("capgap_interval_end_seconds", {}, static_cast<double>(last.end_ns) / 1e9);
    }
    return std::move(w.out);
}

void MetricsRegistry::set_interval(const MetricsInterval& last) {
    std::lock_guard<std::mutex> lock(mutex_);
    last_ = last;
}

std::string MetricsRegistry::render(const MetricsCounters& counters,
                                    std::uint64_t open_flows) const {
    MetricsInterval last;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        last = last_;
    }
    return render_metrics(counters, open_flows, last);
}

void write_file_atomically(const std::string& path, const std::string& text) {
    const auto slash = path.rfind('/');
    const std::string dir = slash == std::string::npos ? "." : path.substr(0, slash);
    const std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
    const std::string temp =
        (dir == "/" ? "" : dir) + "/." + base + ".tmp-" + std::to_string(::getpid());
    const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) throw output_error(path, "cannot open for writing", errno);
    auto fail = [&](const char* what) {
        const int e = errno;
        ::close(fd);
        ::unlink(temp.c_str());
        throw output_error(path, what, e);
    };
    std::size_t done = 0;
    while (done < text.size()) {
        const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            fail("write failed");
        }
        done += static_cast<std::size_t>(n);
    }
    if (::fsync(fd) != 0) fail("fsync failed");
    if (::close(fd) != 0) {
        const int e = errno;
        ::unlink(temp.c_str());
        throw output_error(path, "write failed", e);
    }
    if (::rename(temp.c_str(), path.c_str()) != 0) {
        const int e = errno;
        ::unlink(temp.c_str());
        throw output_error(path, "cannot rename the finished file into place", e);
    }
}

}  // namespace capgap::detail
