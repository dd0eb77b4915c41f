// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
#pragma once
// Private: orders a vector by a dense id in place, as Tracker::finish orders its sessions.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "core/compiler.hpp"

namespace capgap::detail {

// Orders `items` by id_of(item) (a std::uint64_t). When `dense`, the ids are expected to be 0
// to n-1: each item is swapped to its place, in place (sorting a few hundred thousand
// sessions, or a second array of them, cost more). Ids that turn out not to be such a
// permutation, or !dense, fall back to a sort (equal ids then come in no particular order).
//
// A cycle of swaps visits the positions i, ids[i], ids[ids[i]], ...: read from a small copy of
// the ids, the items a few steps ahead are fetched while the current one is swapped, instead
// of one wait for memory per step.
template <class T, class IdOf>
void place_by_id(std::vector<T>& items, IdOf id_of, bool dense) {
    const std::size_t n = items.size();
    bool placed = dense;
    std::vector<std::uint64_t> ids(placed ? n : 0);
    for (std::size_t p = 0; p < ids.size(); ++p)
        ids[p] = id_of(items[p]);
    auto prefetch_item = [&items](std::size_t p) {
        const auto* line = reinterpret_cast<const char*>(&items[p]);
        for (std::size_t b = 0; b < sizeof(T); b += 64)
            prefetch_line(line + b);
        prefetch_line(line + sizeof(T) - 1);
    };
    constexpr int ahead = 4;
    for (std::size_t i = 0; placed && i < n; ++i) {
        if (ids[i] == i) continue;
        std::uint64_t next = i;  // the position `ahead` steps along the cycle, prefetched
        for (int k = 0; k < ahead && next < n; ++k) {
            next = ids[next];
            if (next < n) prefetch_item(next);
        }
        while (ids[i] != i) {
            const std::uint64_t j = ids[i];
            if (j >= n || ids[j] == j) {
                placed = false;
                break;
            }
            if (next < n) {
                next = ids[next];
                if (next < n) prefetch_item(next);
            }
            std::swap(items[i], items[j]);
            std::swap(ids[i], ids[j]);
        }
    }
    if (!placed) {
        std::sort(items.begin(), items.end(),
                  [&id_of](const T& a, const T& b) { return id_of(a) < id_of(b); });
    }
}

}  // namespace capgap::detail
