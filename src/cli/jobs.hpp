// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
#pragma once
// `capgap analyze --files independent`: the captures are several sensors' files, grouped by
// sensor (the directory, or a key taken from the name by --sensor-regex), each group's files
// in time order, the groups analysed in up to --jobs N processes and their reports merged.

#include <capgap/analyze.hpp>
#include <capgap/report.hpp>

#include <string>
#include <vector>

namespace capgap::cli {

/// One sensor's files, in time order.
struct CaptureGroup {
    std::string key;                 ///< the directory, or what --sensor-regex matched
    std::vector<std::string> files;  ///< by first packet time, ties by name
};

/// The first packet's time of a capture file (the epoch's start when it has none).
/// @throws io_error, format_error as PcapSource does
Timestamp first_packet_time(const std::string& path, const std::string& bpf);

/// Groups the files: by the key `sensor_regex` finds in each path (its first capture group,
/// else the whole match; a path it does not match is a usage problem: std::invalid_argument
/// naming it), or by directory when the regex is empty. Groups in key order.
std::vector<CaptureGroup> group_captures(const std::vector<std::string>& paths,
                                         const std::string& sensor_regex, const std::string& bpf);

/// Analyses each group as one capture (its files merged by time, which for rotated files is
/// their time order) and merges the reports in group order (merge_reports: groups are
/// independent captures). With `jobs` above 1, in up to `jobs` child processes at once
/// (fork), each sending its report's bytes (report_bytes.hpp) or its error over a pipe; else
/// one group after the other in this process. The first error in group order is thrown, the
/// same exception (type and message) a one-process run throws; when one group fails, the
/// children still running are stopped (SIGTERM) and no new one starts. A child that dies
/// without a report (a signal, an exit) gives capgap::error naming the group's files and the
/// signal or status. Every child is reaped before it returns or throws, an exception from
/// `options.progress` (an interruption) included. `options.progress`, when set, is called with
/// the sums over the groups (in this process; a child sends its figures over its pipe). With
/// more than one group at once and `options.threads` 0 (automatic), each group tracks on one
/// thread. Test hooks (environment, read by the children): CAPGAP_TEST_JOBS_CHILD_ABORT=i
/// aborts group i's child, CAPGAP_TEST_JOBS_CHILD_HANG=i makes it wait for a signal, and
/// CAPGAP_TEST_JOBS_PID_DIR=dir has each child create dir/GROUP-PID-PARENTPID.
Report analyze_groups(const std::vector<CaptureGroup>& groups, const Options& options,
                      unsigned jobs);

}  // namespace capgap::cli
