// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// --files independent and --jobs N: see jobs.hpp.
//
// The groups run on threads of this process rather than in child processes: each group's
// analysis is independent (its own reader, tracker and report), so threads need nothing but
// the reports in memory at the end, where processes would need a binary form of the Report
// sent back over a pipe, which the library does not have. The cost is one address space for
// every group's open flows, as the processes would have had together.

#include "cli/jobs.hpp"

#include <capgap/errors.hpp>
#include <capgap/pcap_source.hpp>

#include <algorithm>
#include <atomic>
#include <exception>
#include <map>
#include <mutex>
#include <optional>
#include <regex>
#include <stdexcept>
#include <thread>
#include <utility>

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
    std::optional<std::regex> re;
    if (!sensor_regex.empty()) re.emplace(sensor_regex, std::regex::ECMAScript);
    std::map<std::string, std::vector<std::string>> by_key;
    for (const std::string& path : paths) {
        std::string key;
        if (re) {
            std::smatch m;
            if (!std::regex_search(path, m, *re)) {
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

Report analyze_groups(const std::vector<CaptureGroup>& groups, const Options& options,
                      unsigned jobs) {
    std::vector<Report> reports(groups.size());
    std::vector<Progress> progress(groups.size());
    std::vector<std::exception_ptr> errors(groups.size());
    std::atomic<std::size_t> next{0};
    std::atomic<bool> stop{false};
    std::mutex progress_mutex;
    const ProgressCallback& report_progress = options.progress;

    const std::size_t n = std::max<std::size_t>(1, std::min<std::size_t>(jobs, groups.size()));
    auto worker = [&] {
        for (;;) {
            const std::size_t i = next.fetch_add(1);
            if (i >= groups.size() || stop.load()) return;
            Options o = options;
            // The groups are the parallelism: with several at once, each tracks on one thread
            // unless --threads says otherwise (the results are the same for any count).
            if (n > 1 && o.threads == 0) o.threads = 1;
            if (report_progress) {
                o.progress = [&, i](const Progress& p) {
                    if (stop.load()) throw std::runtime_error("stopped: another group failed");
                    if (p.done) return;  // the sum's last call is made once, at the end
                    const std::lock_guard<std::mutex> lock(progress_mutex);
                    progress[i] = p;
                    Progress sum;
                    for (const Progress& q : progress) {
                        sum.bytes_done += q.bytes_done;
                        sum.packets += q.packets;
                        sum.sessions += q.sessions;
                        sum.elapsed_seconds = std::max(sum.elapsed_seconds, q.elapsed_seconds);
                    }
                    report_progress(sum);
                };
            }
            try {
                reports[i] = analyze(
                    std::vector<CaptureInput>(groups[i].files.begin(), groups[i].files.end()), o);
            } catch (...) {
                errors[i] = std::current_exception();
                stop.store(true);
            }
        }
    };
    if (n == 1) {
        worker();
    } else {
        std::vector<std::thread> threads;
        for (std::size_t t = 0; t < n; ++t)
            threads.emplace_back(worker);
        for (std::thread& t : threads)
            t.join();
    }
    // The first group's error in group order; a group stopped because another failed says
    // less than the failure itself, so a "stopped" error is reported only when alone.
    std::exception_ptr first;
    for (std::size_t i = 0; i < groups.size(); ++i) {
        if (!errors[i]) continue;
        try {
            std::rethrow_exception(errors[i]);
        } catch (const std::runtime_error& e) {
            if (std::string(e.what()).rfind("stopped: ", 0) == 0 &&
                dynamic_cast<const capgap::error*>(&e) == nullptr) {
                if (!first) first = errors[i];
                continue;
            }
            std::rethrow_exception(errors[i]);
        } catch (...) {
            throw;
        }
    }
    if (first) std::rethrow_exception(first);
    if (report_progress) {
        Progress done;
        done.done = true;
        report_progress(done);
    }
    return merge_reports(reports);
}

}  // namespace capgap::cli
