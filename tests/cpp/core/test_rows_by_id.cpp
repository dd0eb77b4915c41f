// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// The row of a session id, whichever way the rows are listed: the answer must be what a
// search of the rows from the first would give, the first row holding the id or none.

#include <doctest/doctest.h>

#include <cstdint>
#include <vector>

#include "core/rows_by_id.hpp"

using capgap::detail::RowsById;

namespace {

std::size_t first_row(const std::vector<std::uint64_t>& ids, std::uint64_t id) {
    for (std::size_t i = 0; i < ids.size(); ++i)
        if (ids[i] == id) return i;
    return ids.size();
}

void check_every_id(const std::vector<std::uint64_t>& ids) {
    const RowsById rows(ids);
    CHECK(rows.none() == ids.size());
    for (std::uint64_t id = 0; id < 40; ++id) {
        CAPTURE(id);
        CHECK(rows.find(id) == first_row(ids, id));
    }
    CHECK(rows.find(~std::uint64_t{0}) == rows.none());
}

}  // namespace

TEST_CASE("rows by id: dense, sorted with gaps and repeats, out of order, empty") {
    check_every_id({});
    check_every_id({0});
    check_every_id({0, 1, 2, 3, 4, 5});   // a report of one run: the row is the id
    check_every_id({1, 2, 3, 4, 5, 6});   // sorted, not from 0
    check_every_id({0, 1, 2, 3, 4, 9});   // sorted, a gap at the end
    check_every_id({0, 0, 1, 2, 3});      // as many rows as 0..4, an id twice
    check_every_id({0, 1, 1, 1, 7, 30});  // repeats and gaps
    check_every_id({5, 3, 9, 3, 0, 12});  // merged reports: out of order, 3 twice
    check_every_id({2, 1, 0});
}
