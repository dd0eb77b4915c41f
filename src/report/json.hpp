// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// The report as a JSON document (nlohmann-json, kept out of the public headers): built here
// for Report::to_json, and for the capgap command, which adds members of its own before
// writing it.
#pragma once

#include <capgap/diagnosis.hpp>
#include <capgap/report.hpp>

#include <string>

#include <nlohmann/json.hpp>

namespace capgap::detail {

/// A JSON document whose members keep the order they were added in.
using Json = nlohmann::ordered_json;

/// `{"summary": ..., "events": [...], "ingest": ...}`, the document Report::to_json writes.
Json report_json(const Report& report);

/// The `diagnosis` member (docs/diagnosis.md).
Json diagnosis_json(const Diagnosis& diagnosis);

/// A double as the report has always written it: the shortest text that reads back as the
/// same value, so a whole number (0, 100) is a JSON integer; null when not finite.
Json json_number(double v);

/// The document as one compact line followed by a newline. Text that is not valid UTF-8 (a
/// file name, say) is written with U+FFFD in place of the bad bytes.
std::string dump_json(const Json& doc);

}  // namespace capgap::detail
