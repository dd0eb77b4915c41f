// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// A shard's finished sessions, kept in blocks: a range of them, read across the blocks, must
// be the same range of the blocks put end to end, whatever the blocks' sizes.

#include <doctest/doctest.h>

#include <cstdint>
#include <vector>

#include "track/shard.hpp"

using capgap::Session;
using capgap::detail::SessionBlocks;

TEST_CASE("session blocks: ranges across blocks of any size, empty ones too") {
    SessionBlocks sb;
    std::vector<std::uint64_t> flat;  // the ids, blocks end to end
    std::uint64_t id = 0;
    for (std::size_t size : {3, 0, 1, 5, 0, 4}) {
        std::vector<Session> block(size);
        for (Session& s : block) {
            s.id = id++;
            flat.push_back(s.id);
        }
        sb.blocks.push_back(std::move(block));
    }
    REQUIRE(sb.size() == flat.size());
    for (std::size_t begin = 0; begin <= flat.size(); ++begin) {
        for (std::size_t end = begin; end <= flat.size(); ++end) {
            std::vector<std::uint64_t> seen;
            sb.for_range(begin, end, [&](Session& s) { seen.push_back(s.id); });
            CHECK(seen == std::vector<std::uint64_t>(flat.begin() + begin, flat.begin() + end));
        }
    }
}
