// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// libFuzzer target: One packet of a link type picked by the first two input bytes, through
// capgap::detail::decode_packet and capgap::Analyzer::feed_packet.

#include <cstddef>
#include <cstdint>

#include "fuzz_targets.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    capgap::fuzz::run_decode(data, size);
    return 0;
}
