// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
#pragma once
// Private to the pipeline: the reading loop analyze() and extract_sessions() share (every
// packet of a PcapSource into an Analyzer, with the progress calls of Options::progress).

#include <capgap/analyze.hpp>

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

namespace capgap::detail {

// The inputs' names joined by ", " (a report's source, an error's file).
std::string input_names(const std::vector<CaptureInput>& inputs);

// Feeds every packet of `src` to `a`, calling options.progress as documented there, then
// merges the source's counters into `a`. `after_batch`, when set, sees each batch after it was
// fed (its bytes still valid).
// @throws format_error (named after `inputs`) when no packet could be decoded because every
// link type was unsupported; whatever the source or the progress callback throws
void read_all(PcapSource& src, Analyzer& a, const Options& options,
              const std::vector<CaptureInput>& inputs,
              const std::function<void(const RawPacket*, std::size_t)>& after_batch,
              bool require_decodable = true);

}  // namespace capgap::detail
