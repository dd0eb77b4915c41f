// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
#pragma once
// Private: the diagnosis with a thread count, for callers that run with threads (the CLI).

#include <capgap/diagnosis.hpp>
#include <capgap/report.hpp>

namespace capgap::detail {

// capgap::diagnose(report, options), on up to `threads` threads (1: this one only); the
// result is the same for any count. Two are used on large reports.
Diagnosis diagnose(const Report& report, const DiagnosisOptions& options, unsigned threads);

}  // namespace capgap::detail
