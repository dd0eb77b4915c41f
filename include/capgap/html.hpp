// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// @file
/// The report as one self-contained HTML page: the JSON report and the sessions and events
/// (as compact column arrays) embedded in the page, with Chart.js and capgap's own renderer
/// inlined. The page makes no request: it opens offline, from a file or an e-mail attachment.
///
/// @code
/// capgap::Report r = capgap::analyze({"capture.pcap"}, {});
/// std::string page = capgap::to_html(r, {});
/// @endcode

#include <cstddef>
#include <string>

#include <capgap/report.hpp>

namespace capgap {

/// What the page shows beyond the report itself, and its size bound.
struct HtmlOptions {
    /// The page's title; empty: "capgap report: " followed by the report's sources.
    std::string title;
    /// The window as the user gave it (e.g. "10,70"), shown as is; empty: none given.
    std::string window;
    /// The most sessions the page carries. Past it the page carries every bad session (up to
    /// the bound) and then the good ones in id order, and says how many were left out. Each
    /// session takes about 40 to 60 bytes of the page.
    std::size_t max_sessions = 300000;
    /// The most loss events the page lists (the same rule: events in session order); the
    /// events-by-kind table always counts them all.
    std::size_t max_events = 100000;
};

/// The page, a complete HTML document (UTF-8).
std::string to_html(const Report& report, const HtmlOptions& options = {});

/// Writes the page to `path` as the CSV outputs are written: to a temporary beside it,
/// renamed when complete.
/// @throws io_error (an output error naming the path, with errno) when the write fails
void write_html(const Report& report, const std::string& path, const HtmlOptions& options = {});

}  // namespace capgap
