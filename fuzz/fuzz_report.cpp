// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// libFuzzer target: report bodies (docs/state-format.md, "Report"), framed with valid checksums,
// read back; bad bytes must give format_error, never a crash, good ones the same bytes again.

#include <cstddef>
#include <cstdint>

#include "fuzz_targets.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    capgap::fuzz::run_report(data, size);
    return 0;
}
