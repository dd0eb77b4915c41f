// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// libFuzzer target: A Wireshark CSV SYN list and lost list (split at the first NUL byte) through
// read_wireshark_csv, the Matcher and socket_join.

#include <cstddef>
#include <cstdint>

#include "fuzz_targets.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    capgap::fuzz::run_csv(data, size);
    return 0;
}
