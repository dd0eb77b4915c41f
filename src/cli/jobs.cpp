// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// --files independent and --jobs N: see jobs.hpp.
//
// With more than one job the groups run in child processes of this one (fork, no exec: the
// CLI is single-threaded when it starts them, the analyses' own threads having ended). Each
// child analyses its group and sends its progress and then its report's bytes
// (report_bytes.hpp), or its error, over a pipe; the parent reads every pipe as it fills
// (poll), reaps each child, decodes the reports and merges them in group order. A process per
// group keeps each group's open flows in its own address space, freed when it ends.

#include "cli/jobs.hpp"

#include <capgap/errors.hpp>
#include <capgap/pcap_source.hpp>
#include <capgap/report_bytes.hpp>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <map>
#include <optional>
#include <stdexcept>
#include <utility>

#include <boost/regex.hpp>

#include "core/errors.hpp"
#include "core/state_io.hpp"

namespace capgap::cli {

Timestamp first_packet_time(const std::string& path, const std::string& bpf) {
    PcapSource source(std::vector<std::string>{path}, bpf);
    RawPacket packet;
    // The filter's verdict does not matter here: the first record read is the first packet.
    if (source.next_batch(&packet, 1) == 0) return Timestamp{};
    return packet.time;
}

namespace {

std::string directory_of(const std::string& path) {
    const std::size_t slash = path.find_last_of('/');
    if (slash == std::string::npos) return ".";
    if (slash == 0) return "/";
    return path.substr(0, slash);
}

}  // namespace

std::vector<CaptureGroup> group_captures(const std::vector<std::string>& paths,
                                         const std::string& sensor_regex, const std::string& bpf) {
    std::optional<boost::regex> re;
    if (!sensor_regex.empty()) re.emplace(sensor_regex, boost::regex::ECMAScript);
    std::map<std::string, std::vector<std::string>> by_key;
    for (const std::string& path : paths) {
        std::string key;
        if (re) {
            boost::smatch m;
            if (!boost::regex_search(path, m, *re)) {
                throw std::invalid_argument("--sensor-regex does not match '" + path + "'");
            }
            key = m.size() > 1 && m[1].matched ? m[1].str() : m[0].str();
        } else {
            key = directory_of(path);
        }
        std::vector<std::string>& files = by_key[key];
        if (std::find(files.begin(), files.end(), path) != files.end()) {
            throw std::invalid_argument("'" + path + "' is given twice");
        }
        files.push_back(path);
    }
    std::vector<CaptureGroup> groups;
    for (auto& [key, files] : by_key) {
        std::vector<std::pair<std::int64_t, std::string>> timed;
        for (const std::string& f : files)
            timed.emplace_back(first_packet_time(f, bpf).ns, f);
        std::sort(timed.begin(), timed.end());
        CaptureGroup g{key, {}};
        for (auto& t : timed)
            g.files.push_back(std::move(t.second));
        groups.push_back(std::move(g));
    }
    return groups;
}

namespace {

// ---- What a child process sends its parent over its pipe ----
//
// Messages, each a `u8` kind, a `u64` length and that many bytes (the flow state's byte
// writer and reader, core/state_io.hpp): progress figures while it reads, then either its
// report's bytes (report_bytes.hpp) or the error that stopped it.

enum class Message : std::uint8_t { progress = 'P', report = 'R', error = 'E' };

// Which exception a child's error was, to throw the same one in the parent.
enum class ErrorKind : std::uint8_t { other, error, io, format, parse, count };

constexpr std::size_t message_header = 9;

// Writes it all, through interruptions; false when the pipe is gone.
bool write_all(int fd, const char* data, std::size_t n) {
    while (n > 0) {
        const ssize_t w = ::write(fd, data, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return false;
        data += w;
        n -= static_cast<std::size_t>(w);
    }
    return true;
}

bool send(int fd, Message kind, const std::string& payload) {
    detail::StateWriter w;
    w(static_cast<std::uint8_t>(kind));
    w(static_cast<std::uint64_t>(payload.size()));
    w.bytes() += payload;
    return write_all(fd, w.bytes().data(), w.bytes().size());
}

std::string progress_payload(const Progress& p) {
    detail::StateWriter w;
    w(p.bytes_done);
    w(p.packets);
    w(p.sessions);
    std::uint64_t elapsed = 0;
    std::memcpy(&elapsed, &p.elapsed_seconds, sizeof elapsed);
    w(elapsed);
    return std::move(w.bytes());
}

Progress progress_from(const std::string& payload, const std::string& name) {
    detail::StateReader r(payload, 0, name);
    Progress p;
    r(p.bytes_done);
    r(p.packets);
    r(p.sessions);
    std::uint64_t elapsed = 0;
    r(elapsed);
    std::memcpy(&p.elapsed_seconds, &elapsed, sizeof elapsed);
    return p;
}

// The exception as its kind and what the parent needs to throw it again.
std::string error_payload(const std::exception_ptr& error) {
    detail::StateWriter w;
    try {
        std::rethrow_exception(error);
    } catch (const parse_error& e) {
        w.enumeration(ErrorKind::parse, 0);
        w(std::string(e.what()));
        w(e.source());
        w(e.line());
        w(e.column());
    } catch (const io_error& e) {
        w.enumeration(ErrorKind::io, 0);
        w(std::string(e.what()));
        w(e.path());
        w(static_cast<std::int32_t>(e.error_number()));
    } catch (const format_error& e) {
        w.enumeration(ErrorKind::format, 0);
        w(std::string(e.what()));
    } catch (const capgap::error& e) {
        w.enumeration(ErrorKind::error, 0);
        w(std::string(e.what()));
    } catch (const std::exception& e) {
        w.enumeration(ErrorKind::other, 0);
        w(std::string(e.what()));
    } catch (...) {
        w.enumeration(ErrorKind::other, 0);
        w(std::string("an unknown exception"));
    }
    return std::move(w.bytes());
}

// The child's exception, thrown again: same type, same message.
std::exception_ptr error_from(const std::string& payload, const std::string& name) {
    detail::StateReader r(payload, 0, name);
    ErrorKind kind = ErrorKind::other;
    r.enumeration(kind, static_cast<std::size_t>(ErrorKind::count));
    std::string message;
    r(message);
    switch (kind) {
        case ErrorKind::parse: {
            std::string source;
            std::uint64_t line = 0, column = 0;
            r(source);
            r(line);
            r(column);
            // parse_error forms its message from the reason: take the reason back out of it.
            const std::string prefix = parse_error(source, line, column, "").what();
            const std::string reason = message.compare(0, prefix.size(), prefix) == 0
                                           ? message.substr(prefix.size())
                                           : message;
            return std::make_exception_ptr(parse_error(source, line, column, reason));
        }
        case ErrorKind::io: {
            std::string path;
            std::int32_t error_number = 0;
            r(path);
            r(error_number);
            return std::make_exception_ptr(io_error(message, path, error_number));
        }
        case ErrorKind::format:
            return std::make_exception_ptr(format_error(message));
        case ErrorKind::error:
            return std::make_exception_ptr(capgap::error(message));
        default:
            return std::make_exception_ptr(std::runtime_error(message));
    }
}

// "group 'sensor-a' (a/1.pcap, a/2.pcap)"
std::string describe(const CaptureGroup& g) {
    std::string s = "group '" + g.key + "' (";
    for (std::size_t i = 0; i < g.files.size(); ++i)
        s += (i > 0 ? ", " : "") + g.files[i];
    return s + ")";
}

// Test hooks, read in the child: CAPGAP_TEST_JOBS_PID_DIR=dir makes each child create the
// empty file dir/GROUP-PID-PARENTPID (which processes analysed which group);
// CAPGAP_TEST_JOBS_CHILD_ABORT=i makes group i's child abort (a child that dies),
// CAPGAP_TEST_JOBS_CHILD_HANG=i makes it wait for a signal (a child still running when the
// parent is interrupted).
void test_hooks(std::size_t index) {
    if (const char* dir = std::getenv("CAPGAP_TEST_JOBS_PID_DIR")) {
        const std::string path = std::string(dir) + "/" + std::to_string(index) + "-" +
                                 std::to_string(getpid()) + "-" + std::to_string(getppid());
        if (FILE* f = std::fopen(path.c_str(), "w")) std::fclose(f);
    }
    if (const char* abort_group = std::getenv("CAPGAP_TEST_JOBS_CHILD_ABORT")) {
        if (std::to_string(index) == abort_group) std::abort();
    }
    if (const char* slow_group = std::getenv("CAPGAP_TEST_JOBS_CHILD_SLOW")) {
        if (std::to_string(index) == slow_group) ::sleep(1);
    }
    if (const char* hang_group = std::getenv("CAPGAP_TEST_JOBS_CHILD_HANG")) {
        if (std::to_string(index) == hang_group) {
            for (;;)
                ::pause();
        }
    }
}

// The child: analyses the group, sends its report or its error, and ends without running the
// parent's exit handlers or flushing its buffers (_exit).
[[noreturn]] void run_child(const CaptureGroup& group, std::size_t index, Options o,
                            bool send_progress, int fd, pid_t parent, const sigset_t& mask) {
    // Interrupted, or stopped by the parent: it ends at once (the parent reaps it and says
    // why), and it ends with the parent.
    std::signal(SIGINT, SIG_DFL);
    std::signal(SIGTERM, SIG_DFL);
    std::signal(SIGPIPE, SIG_DFL);
    sigprocmask(SIG_SETMASK, &mask, nullptr);
#ifdef __linux__
    prctl(PR_SET_PDEATHSIG, SIGTERM);
#endif
    if (getppid() != parent) _exit(3);
    int status = 0;
    try {
        test_hooks(index);
        if (send_progress) {
            // Every call, the last one too: its figures are the group's whole (the parent
            // makes the sum's last call once every group has ended).
            o.progress = [fd](const Progress& p) {
                if (!send(fd, Message::progress, progress_payload(p)))
                    throw std::runtime_error("the parent stopped reading");
            };
        } else {
            o.progress = nullptr;
        }
        const Report report =
            analyze(std::vector<CaptureInput>(group.files.begin(), group.files.end()), o);
        if (!send(fd, Message::report, to_bytes(report))) status = 3;
    } catch (...) {
        try {
            status = send(fd, Message::error, error_payload(std::current_exception())) ? 2 : 3;
        } catch (...) {
            status = 3;
        }
    }
    _exit(status);
}

// The children running, in the parent: each one's pipe, what it sent, its end. Whatever is
// left when it goes (an exception, an interruption) is stopped and reaped: no orphan, no
// zombie.
class Children {
  public:
    struct Child {
        std::size_t group = 0;
        pid_t pid = -1;
        int fd = -1;
        std::string in;  // bytes read, not yet a whole message
        std::string report;
        std::string error;
        bool has_report = false;
        bool has_error = false;
        bool stopped = false;  // stopped by the parent because another group failed
    };

    Children() = default;
    Children(const Children&) = delete;
    Children& operator=(const Children&) = delete;
    ~Children() {
        for (Child& c : running_) {
            if (c.pid > 0) ::kill(c.pid, SIGTERM);
        }
        for (Child& c : running_) {
            if (c.fd >= 0) ::close(c.fd);
            if (c.pid > 0) {
                while (::waitpid(c.pid, nullptr, 0) < 0 && errno == EINTR) {
                }
            }
        }
    }

    std::vector<Child>& running() { return running_; }

    void start(const std::vector<CaptureGroup>& groups, std::size_t index, const Options& o,
               bool send_progress) {
        int fds[2];
        if (::pipe(fds) != 0) throw_os_error("pipe", errno);
#ifdef F_SETPIPE_SZ
        // A report is megabytes: a larger pipe moves it in fewer reads (best effort).
        (void)::fcntl(fds[0], F_SETPIPE_SZ, 1 << 20);
#endif
        // No SIGINT or SIGTERM between fork and the child's own handlers: it would reach the
        // parent's handler in the child, which then would not stop.
        sigset_t block, old;
        sigemptyset(&block);
        sigaddset(&block, SIGINT);
        sigaddset(&block, SIGTERM);
        sigprocmask(SIG_BLOCK, &block, &old);
        const pid_t parent = getpid();
        const pid_t pid = ::fork();
        if (pid == 0) {
            ::close(fds[0]);
            for (Child& c : running_)
                ::close(c.fd);
            run_child(groups[index], index, o, send_progress, fds[1], parent, old);
        }
        const int fork_errno = errno;
        sigprocmask(SIG_SETMASK, &old, nullptr);
        ::close(fds[1]);
        if (pid < 0) {
            ::close(fds[0]);
            throw_os_error("fork", fork_errno);
        }
        Child c;
        c.group = index;
        c.pid = pid;
        c.fd = fds[0];
        running_.push_back(std::move(c));
    }

    // Stops the children of the groups after `group`, which failed. Those before it run on:
    // one of them may fail too, and its error, first in group order, is the one reported.
    void stop_after(std::size_t group) {
        for (Child& c : running_) {
            if (c.group < group || c.stopped) continue;
            ::kill(c.pid, SIGTERM);
            c.stopped = true;
        }
    }

    // Reaps a child whose pipe is closed: its exit status.
    int reap(std::size_t i) {
        Child& c = running_[i];
        ::close(c.fd);
        c.fd = -1;
        int status = 0;
        while (::waitpid(c.pid, &status, 0) < 0) {
            if (errno != EINTR) throw_os_error("waitpid", errno);
        }
        c.pid = -1;
        return status;
    }

    Child take(std::size_t i) {
        Child c = std::move(running_[i]);
        running_.erase(running_.begin() + static_cast<std::ptrdiff_t>(i));
        return c;
    }

  private:
    std::vector<Child> running_;
};

Progress sum_of(const std::vector<Progress>& progress) {
    Progress sum;
    for (const Progress& q : progress) {
        sum.bytes_done += q.bytes_done;
        sum.packets += q.packets;
        sum.sessions += q.sessions;
        sum.elapsed_seconds = std::max(sum.elapsed_seconds, q.elapsed_seconds);
    }
    return sum;
}

// The groups one after the other, in this process.
Report analyze_here(const std::vector<CaptureGroup>& groups, const Options& options) {
    std::vector<Report> reports;
    std::vector<Progress> progress(groups.size());
    for (std::size_t i = 0; i < groups.size(); ++i) {
        Options o = options;
        if (options.progress) {
            // The group's last call gives its whole figures; the sum's last call (done) is
            // made once, at the end.
            o.progress = [&, i](const Progress& p) {
                progress[i] = p;
                progress[i].done = false;
                options.progress(sum_of(progress));
            };
        }
        reports.push_back(
            analyze(std::vector<CaptureInput>(groups[i].files.begin(), groups[i].files.end()), o));
    }
    if (options.progress) {
        Progress done;
        done.done = true;
        options.progress(done);
    }
    return merge_reports(reports);
}

}  // namespace

Report analyze_groups(const std::vector<CaptureGroup>& groups, const Options& options,
                      unsigned jobs) {
    const std::size_t n = std::max<std::size_t>(1, std::min<std::size_t>(jobs, groups.size()));
    if (n == 1) return analyze_here(groups, options);

    std::vector<Report> reports(groups.size());
    std::vector<Progress> progress(groups.size());
    std::vector<std::exception_ptr> errors(groups.size());
    const ProgressCallback& report_progress = options.progress;
    Options child_options = options;
    child_options.progress = nullptr;
    // The groups are the parallelism: with several at once, each tracks on one thread unless
    // --threads says otherwise (the results are the same for any count).
    if (child_options.threads == 0) child_options.threads = 1;

    Children children;
    std::size_t next = 0;
    bool failed = false;
    std::vector<char> buffer(1 << 20);
    for (;;) {
        while (!failed && next < groups.size() && children.running().size() < n)
            children.start(groups, next++, child_options, static_cast<bool>(report_progress));
        std::vector<Children::Child>& running = children.running();
        if (running.empty()) break;
        std::vector<pollfd> fds;
        for (const Children::Child& c : running)
            fds.push_back(pollfd{c.fd, POLLIN, 0});
        const int ready = ::poll(fds.data(), fds.size(), 100);
        if (ready < 0 && errno != EINTR) throw_os_error("poll", errno);
        if (ready <= 0) {
            // A signal, or a while without news: the callback is where an interruption stops
            // the analysis (the children are then stopped and reaped on the way out).
            if (report_progress) report_progress(sum_of(progress));
            continue;
        }
        // Backwards, so that taking a child that ended leaves the others' indices valid.
        for (std::size_t k = fds.size(); k-- > 0;) {
            if ((fds[k].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
            Children::Child& c = running[k];
            const std::string name = "the process analysing " + describe(groups[c.group]);
            const ssize_t got = ::read(c.fd, buffer.data(), buffer.size());
            if (got < 0 && errno == EINTR) continue;
            if (got > 0) {
                c.in.append(buffer.data(), static_cast<std::size_t>(got));
                // Every whole message: progress is summed at once, the rest kept for the end.
                std::size_t at = 0;
                while (c.in.size() - at >= message_header) {
                    detail::StateReader r(c.in, at, name);
                    std::uint8_t kind = 0;
                    std::uint64_t length = 0;
                    r(kind);
                    r(length);
                    if (r.left() < length) break;
                    std::string payload = c.in.substr(r.offset(), length);
                    at = r.offset() + length;
                    if (kind == static_cast<std::uint8_t>(Message::progress)) {
                        progress[c.group] = progress_from(payload, name);
                        if (report_progress && !c.stopped) report_progress(sum_of(progress));
                    } else if (kind == static_cast<std::uint8_t>(Message::report)) {
                        c.report = std::move(payload);
                        c.has_report = true;
                    } else if (kind == static_cast<std::uint8_t>(Message::error)) {
                        c.error = std::move(payload);
                        c.has_error = true;
                    } else {
                        r.fail_at(at, "unknown message " + std::to_string(kind));
                    }
                }
                c.in.erase(0, at);
                continue;
            }
            // The pipe is closed: the child has ended (or is ending): reap it.
            const int status = children.reap(k);
            Children::Child done = children.take(k);
            // A child stopped because an earlier group failed says nothing, unless it had
            // failed on its own already (its error sent before the SIGTERM).
            if (done.stopped && !done.has_error) continue;
            std::exception_ptr error;
            if (done.has_error) {
                error = error_from(done.error, name);
            } else if (done.has_report && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
                try {
                    reports[done.group] = report_from_bytes(done.report, name);
                } catch (...) {
                    error = std::current_exception();
                }
            } else if (WIFSIGNALED(status)) {
                // Ctrl-C reaches the whole process group: a child it ended says less than the
                // interruption, which the callback raises (this process's handler has run).
                if (report_progress) report_progress(sum_of(progress));
                const int sig = WTERMSIG(status);
                error = std::make_exception_ptr(
                    capgap::error(name + " was killed by signal " + std::to_string(sig) + " (" +
                                  strsignal(sig) + ") before its report"));
            } else {
                error = std::make_exception_ptr(
                    capgap::error(name + " exited with status " +
                                  std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : status) +
                                  " without a report"));
            }
            if (error) {
                errors[done.group] = error;
                failed = true;
                children.stop_after(done.group);
            }
        }
    }
    // The first group's error in group order, the one process's error: groups start in that
    // order and a failure stops only later ones, so every group before the first that fails
    // has run to its end (a group stopped because an earlier one failed has none).
    for (const std::exception_ptr& e : errors) {
        if (e) std::rethrow_exception(e);
    }
    if (report_progress) {
        Progress done;
        done.done = true;
        report_progress(done);
    }
    return merge_reports(reports);
}

}  // namespace capgap::cli
