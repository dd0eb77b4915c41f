// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// libFuzzer target: flow state bodies (docs/state-format.md), framed with valid checksums,
// resumed into an Analyzer; bad bytes must give capgap::error, never a crash.

#include <cstddef>
#include <cstdint>

#include "fuzz_targets.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    capgap::fuzz::run_state(data, size);
    return 0;
}
