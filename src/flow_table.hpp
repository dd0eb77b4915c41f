// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
#pragma once
// Private: the tracker's flow table. An open-addressing index (linear probing, the full hash
// kept beside each slot) over a pool of values, so that a lookup costs one probe of a dense
// array and one visit of the value, instead of a node-based map's chain of pointers: on
// captures with hundreds of thousands of open flows those cache misses were most of the time.

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include <capgap/flow_key.hpp>

namespace capgap::detail {

// V must have a member `FlowKey key` and be default constructible.
template <class V>
class FlowTable {
  public:
    FlowTable() { slots_.resize(initial_capacity); }

    std::size_t size() const { return size_; }

    // The value for `key`, inserted default-constructed when absent; `inserted` tells which.
    // The reference stays valid until the next insertion.
    V& find_or_insert(const FlowKey& key, bool& inserted) {
        const std::uint64_t h = hash_value(key);
        std::size_t i = h & mask();
        for (; slots_[i].index != empty; i = (i + 1) & mask()) {
            if (slots_[i].hash == h && values_[slots_[i].index].key == key) {
                inserted = false;
                return values_[slots_[i].index];
            }
        }
        inserted = true;
        std::uint32_t index;
        if (!free_.empty()) {
            index = free_.back();
            free_.pop_back();
        } else {
            index = static_cast<std::uint32_t>(values_.size());
            values_.emplace_back();
        }
        values_[index].key = key;
        slots_[i] = Slot{h, index};
        if (++size_ * 2 > slots_.size()) grow();
        return values_[index];
    }

    // The value for `key`, or nullptr.
    V* find(const FlowKey& key) {
        const std::uint64_t h = hash_value(key);
        for (std::size_t i = h & mask(); slots_[i].index != empty; i = (i + 1) & mask())
            if (slots_[i].hash == h && values_[slots_[i].index].key == key)
                return &values_[slots_[i].index];
        return nullptr;
    }

    // Removes `key` (which must be present); its value is reset to release its memory.
    void erase(const FlowKey& key) {
        const std::uint64_t h = hash_value(key);
        std::size_t i = h & mask();
        while (!(slots_[i].hash == h && values_[slots_[i].index].key == key))
            i = (i + 1) & mask();
        values_[slots_[i].index] = V{};
        free_.push_back(slots_[i].index);
        --size_;
        // Backward-shift deletion keeps every probe chain unbroken without tombstones.
        std::size_t j = i;
        for (;;) {
            j = (j + 1) & mask();
            if (slots_[j].index == empty) break;
            const std::size_t home = slots_[j].hash & mask();
            const bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
            if (stays) continue;
            slots_[i] = slots_[j];
            i = j;
        }
        slots_[i] = Slot{};
    }

    // Calls f(V&) for every value present (no insertion or erasure meanwhile).
    template <class F>
    void for_each(F&& f) {
        for (const Slot& s : slots_)
            if (s.index != empty) f(values_[s.index]);
    }

    void clear() {
        slots_.assign(initial_capacity, Slot{});
        values_.clear();
        free_.clear();
        size_ = 0;
    }

  private:
    static constexpr std::uint32_t empty = 0xffffffffu;
    static constexpr std::size_t initial_capacity = 1024;
    struct Slot {
        std::uint64_t hash = 0;
        std::uint32_t index = empty;
    };

    std::size_t mask() const { return slots_.size() - 1; }

    void grow() {
        std::vector<Slot> old(slots_.size() * 2);
        old.swap(slots_);
        for (const Slot& s : old) {
            if (s.index == empty) continue;
            std::size_t i = s.hash & mask();
            while (slots_[i].index != empty)
                i = (i + 1) & mask();
            slots_[i] = s;
        }
    }

    std::vector<Slot> slots_;
    std::vector<V> values_;
    std::vector<std::uint32_t> free_;
    std::size_t size_ = 0;
};

}  // namespace capgap::detail
