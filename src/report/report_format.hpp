// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// The report's frame (docs/state-format.md, "Report"): what report_bytes.cpp writes and checks,
// for the tests and the fuzzer that frame a body of their own.

#pragma once

#include "pipeline/state_format.hpp"

namespace capgap::detail {

// Magic CAPGAPRP, report_format_version, "report".
extern const FrameFormat report_frame;

}  // namespace capgap::detail
