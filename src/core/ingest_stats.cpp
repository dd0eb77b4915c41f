// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause

#include <capgap/ingest_stats.hpp>

#include <iterator>

namespace capgap {

std::vector<std::pair<std::string, std::uint64_t>> IngestStats::counters() const {
    std::vector<std::pair<std::string, std::uint64_t>> out;
    out.reserve(std::size(ingest_counters));
    for (const IngestCounter& c : ingest_counters)
        out.emplace_back(c.name, this->*c.member);
    return out;
}

}  // namespace capgap
