// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// The headline rate, one computation for every summary (the Matcher's and the socket join's),
// and the names of the joins.

#include "report/summary.hpp"

#include <utility>

namespace capgap {

const char* to_string(Join j) {
    return j == Join::socket ? "socket" : "instance";
}

void set_percentage(Summary& s) {
    s.percentage = s.total_sessions == 0 ? 0.0
                                         : 100.0 * static_cast<double>(s.bad_sessions) /
                                               static_cast<double>(s.total_sessions);
    const std::pair<double, double> ci = wilson_interval(s.bad_sessions, s.total_sessions);
    s.ci95_low = ci.first;
    s.ci95_high = ci.second;
}

}  // namespace capgap
