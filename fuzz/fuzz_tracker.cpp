// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// libFuzzer target: Segment sequences chosen field by field through the Tracker and the Matcher,
// with the invariants of sessions, events and verdict counts checked.

#include <cstddef>
#include <cstdint>

#include "fuzz_targets.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    capgap::fuzz::run_tracker(data, size);
    return 0;
}
