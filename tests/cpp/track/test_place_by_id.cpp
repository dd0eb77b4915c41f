// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// track/place_by_id.hpp: the in-place ordering Tracker::finish uses for its sessions.

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <random>
#include <vector>

#include "track/place_by_id.hpp"

using capgap::detail::place_by_id;

namespace {

// Larger than a cache line, as a Session is, so the prefetch of each item spans several.
struct Item {
    std::uint64_t id = 0;
    std::uint64_t check = 0;  // travels with its item
    char pad[150] = {};
};

std::vector<Item> items_with_ids(const std::vector<std::uint64_t>& ids) {
    std::vector<Item> v(ids.size());
    for (std::size_t i = 0; i < ids.size(); ++i) {
        v[i].id = ids[i];
        v[i].check = ids[i] * 7 + 1;
    }
    return v;
}

std::uint64_t id_of(const Item& x) {
    return x.id;
}

void check_ordered(const std::vector<Item>& v) {
    for (std::size_t i = 0; i < v.size(); ++i) {
        if (i > 0) CHECK(v[i - 1].id <= v[i].id);
        CHECK(v[i].check == v[i].id * 7 + 1);
    }
}

}  // namespace

TEST_CASE("place_by_id: a shuffled permutation of 0..n-1 lands each item at its id") {
    std::vector<std::uint64_t> ids(5000);
    std::iota(ids.begin(), ids.end(), std::uint64_t{0});
    std::shuffle(ids.begin(), ids.end(), std::mt19937(11));
    std::vector<Item> v = items_with_ids(ids);
    place_by_id(v, id_of, true);
    REQUIRE(v.size() == 5000);
    for (std::size_t i = 0; i < v.size(); ++i) {
        CHECK(v[i].id == i);
        CHECK(v[i].check == i * 7 + 1);
    }
}

TEST_CASE("place_by_id: the identity stays, an empty vector and one item are fine") {
    std::vector<std::uint64_t> ids(100);
    std::iota(ids.begin(), ids.end(), std::uint64_t{0});
    std::vector<Item> v = items_with_ids(ids);
    place_by_id(v, id_of, true);
    for (std::size_t i = 0; i < v.size(); ++i)
        CHECK(v[i].id == i);
    std::vector<Item> none;
    place_by_id(none, id_of, true);
    CHECK(none.empty());
    std::vector<Item> one = items_with_ids({0});
    place_by_id(one, id_of, true);
    CHECK(one[0].id == 0);
}

TEST_CASE("place_by_id: ids that are not a permutation fall back to a sort") {
    SUBCASE("an id past the end") {
        std::vector<Item> v = items_with_ids({3, 0, 9, 2, 1});
        place_by_id(v, id_of, true);
        check_ordered(v);
        CHECK(v.back().id == 9);
    }
    SUBCASE("a repeated id, found in the middle of a cycle") {
        std::vector<Item> v = items_with_ids({2, 3, 1, 1, 0});
        place_by_id(v, id_of, true);
        check_ordered(v);
        CHECK(v[0].id == 0);
        CHECK(v[4].id == 3);
    }
    SUBCASE("not dense: sorted without trying the cycles") {
        std::vector<Item> v = items_with_ids({4, 1, 0, 3, 2});
        place_by_id(v, id_of, false);
        check_ordered(v);
        CHECK(v[2].id == 2);
    }
}

TEST_CASE("place_by_id: one long cycle, and many short ones") {
    const std::size_t n = 20000;
    std::vector<std::uint64_t> ids(n);
    SUBCASE("one cycle through every position") {
        for (std::size_t i = 0; i < n; ++i)
            ids[i] = (i + 1) % n;
    }
    SUBCASE("pairs swapped") {
        for (std::size_t i = 0; i < n; ++i)
            ids[i] = i ^ 1u;
    }
    std::vector<Item> v = items_with_ids(ids);
    place_by_id(v, id_of, true);
    for (std::size_t i = 0; i < n; ++i) {
        CHECK(v[i].id == i);
        CHECK(v[i].check == i * 7 + 1);
    }
}
