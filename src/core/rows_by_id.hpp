// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
#pragma once
// Private: the row of a session id, for the passes that join loss events to report rows (the
// matcher, the diagnosis). A report of one run lists its rows by id, usually 0..n-1: then the
// row is the id, and a run of sorted ids is searched in place. Only rows out of order (merged
// or hand-made reports) pay for a hash map, which took 10-20 ms to make and free on the
// benchmark capture's 250,000 sessions. Where an id is on several rows, its first row is
// found, whichever way.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <vector>

namespace capgap::detail {

class RowsById {
  public:
    // `ids[i]` is row i's session id; the vector must outlive this object, unchanged.
    explicit RowsById(const std::vector<std::uint64_t>& ids) : ids_(ids) {
        bool sorted = true, strictly = true;
        for (std::size_t i = 1; i < ids.size(); ++i) {
            sorted = sorted && ids[i - 1] <= ids[i];
            strictly = strictly && ids[i - 1] < ids[i];
        }
        if (strictly && (ids.empty() || (ids.front() == 0 && ids.back() == ids.size() - 1))) {
            how_ = How::dense;
        } else if (sorted) {
            how_ = How::sorted;
        } else {
            how_ = How::hashed;
            map_.reserve(ids.size());
            for (std::size_t i = 0; i < ids.size(); ++i)
                map_.emplace(ids[i], i);  // keeps the first row of an id
        }
    }

    // The row of `id`; `none()` when no row has it.
    std::size_t find(std::uint64_t id) const {
        switch (how_) {
            case How::dense:
                return id < ids_.size() ? static_cast<std::size_t>(id) : none();
            case How::sorted: {
                const auto it = std::lower_bound(ids_.begin(), ids_.end(), id);
                return it != ids_.end() && *it == id ? static_cast<std::size_t>(it - ids_.begin())
                                                     : none();
            }
            case How::hashed:
                break;
        }
        const auto it = map_.find(id);
        return it == map_.end() ? none() : it->second;
    }

    std::size_t none() const { return ids_.size(); }

  private:
    enum class How { dense, sorted, hashed };
    const std::vector<std::uint64_t>& ids_;
    How how_ = How::dense;
    std::unordered_map<std::uint64_t, std::size_t> map_;
};

}  // namespace capgap::detail
