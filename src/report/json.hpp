// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// The report as a JSON document (nlohmann-json, kept out of the public headers): built here
// for Report::to_json, and for the capgap command, which adds members of its own before
// writing it. The renderers that take a Diagnosis let the command compute it once for all the
// outputs it writes from one report (the public functions compute it each time).
#pragma once

#include <capgap/diagnosis.hpp>
#include <capgap/html.hpp>
#include <capgap/report.hpp>

#include <string>

#include <nlohmann/json.hpp>

namespace capgap::detail {

/// A JSON document whose members keep the order they were added in.
using Json = nlohmann::ordered_json;

/// `{"summary": ..., "events": [...], "ingest": ...}`, the document Report::to_json writes.
Json report_json(const Report& report);
/// The same with `diagnosis`, which is report.diagnosis().
Json report_json(const Report& report, const Diagnosis& diagnosis);

/// Report::to_text with `diagnosis`, which is report.diagnosis().
std::string report_text(const Report& report, const Diagnosis& diagnosis);

/// to_html with `diagnosis`, which is report.diagnosis().
std::string html_page(const Report& report, const HtmlOptions& options, const Diagnosis& diagnosis);
/// write_html with `diagnosis`, which is report.diagnosis().
void write_html(const Report& report, const std::string& path, const HtmlOptions& options,
                const Diagnosis& diagnosis);

/// The `diagnosis` member (docs/diagnosis.md).
Json diagnosis_json(const Diagnosis& diagnosis);

/// A double as the report has always written it: the shortest text that reads back as the
/// same value, so a whole number (0, 100) is a JSON integer; null when not finite.
Json json_number(double v);

/// The document as one compact line followed by a newline. Text that is not valid UTF-8 (a
/// file name, say) is written with U+FFFD in place of the bad bytes.
std::string dump_json(const Json& doc);

}  // namespace capgap::detail
