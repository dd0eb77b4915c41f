// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
#pragma once
// The headline rate, computed in one place for every join that fills a Summary.

#include <capgap/report.hpp>

namespace capgap {

/// Sets Summary::percentage (0 when there are no sessions) and the 95% Wilson interval from
/// bad_sessions out of total_sessions.
void set_percentage(Summary& s);

}  // namespace capgap
