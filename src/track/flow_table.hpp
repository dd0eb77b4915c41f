// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
#pragma once
// Private: the tracker's flow table. An open-addressing index (linear probing; a slot holds
// the full hash and the value's address) over a pool of values, so that a lookup costs one
// probe of a dense array and one visit of the value, instead of a node-based map's chain of
// pointers: on captures with hundreds of thousands of open flows those cache misses were most
// of the time.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <new>
#include <utility>
#include <vector>

#if defined(__linux__)
#include <sys/mman.h>
#endif

#include <capgap/flow_key.hpp>

#include "core/compiler.hpp"
#include "core/hash.hpp"

namespace capgap::detail {

constexpr std::size_t huge_page = std::size_t{2} << 20;

// Memory on 2 MB boundaries, in whole 2 MB pages, with Linux asked for transparent huge pages
// there. Flow lookups land anywhere in tens of megabytes; with 4 KB pages nearly every one
// also missed the TLB (a page walk, doubled under virtualisation), which cost as much as the
// cache miss itself. Release with std::free.
inline void* allocate_huge(std::size_t bytes) {
    const std::size_t rounded = (bytes + huge_page - 1) / huge_page * huge_page;
    void* p = std::aligned_alloc(huge_page, rounded);
    if (p == nullptr) throw std::bad_alloc();
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    (void)::madvise(p, rounded, MADV_HUGEPAGE);  // a hint: failure changes nothing
#endif
    return p;
}

// A std::allocator for the slot array: huge pages (allocate_huge) from one page's size up,
// the plain allocator below.
template <class T>
struct HugePageAllocator {
    using value_type = T;

    HugePageAllocator() = default;
    template <class U>
    HugePageAllocator(const HugePageAllocator<U>&) {}

    T* allocate(std::size_t n) {
        const std::size_t bytes = n * sizeof(T);
        if (bytes < huge_page) return static_cast<T*>(::operator new(bytes));
        return static_cast<T*>(allocate_huge(bytes));
    }
    void deallocate(T* p, std::size_t n) {
        if (n * sizeof(T) < huge_page) {
            ::operator delete(p);
        } else {
            std::free(p);
        }
    }
    friend bool operator==(const HugePageAllocator&, const HugePageAllocator&) { return true; }
    friend bool operator!=(const HugePageAllocator&, const HugePageAllocator&) { return false; }
};

// V must have a member `FlowKey key` and be default constructible.
template <class V>
class FlowTable {
  public:
    FlowTable() { slots_.resize(initial_capacity); }

    std::size_t size() const { return size_; }

    // The value for the flow of endpoints `lo` and `hi` (in key order: lo < hi, or equal) and
    // `tunnel`, inserted default-constructed when absent; `inserted` tells which. `h` is
    // flow_hash(lo, hi, tunnel). No FlowKey is built unless the flow is new: a packet's
    // endpoints are compared where they lie. The reference stays valid until the next
    // insertion.
    V& find_or_insert(const Endpoint& lo, const Endpoint& hi, std::uint32_t tunnel, std::uint64_t h,
                      bool& inserted) {
        std::size_t i = h & mask();
        for (; slots_[i].value != nullptr; i = (i + 1) & mask()) {
            if (slots_[i].hash != h) continue;
            V& v = *slots_[i].value;
            if (v.key.lo == lo && v.key.hi == hi && v.key.tunnel == tunnel) {
                inserted = false;
                return v;
            }
        }
        inserted = true;
        V* v;
        if (!free_.empty()) {
            v = free_.back();
            free_.pop_back();
        } else {
            if (count_ % per_chunk == 0) chunks_.emplace_back();
            v = &chunks_.back().values[count_ % per_chunk];
            ++count_;
        }
        v->key = FlowKey(lo, hi, tunnel);
        slots_[i] = Slot{h, v};
        // At most a quarter full: with half, about a third of the lookups found another flow in
        // their first slot, and the probe's branch on it was mispredicted (cachegrind: 0.6 a
        // packet on the benchmark capture); a slot is 16 bytes, an instance about 700.
        if (++size_ * 4 > slots_.size()) grow();
        return *v;
    }
    V& find_or_insert(const FlowKey& key, bool& inserted) {
        return find_or_insert(key.lo, key.hi, key.tunnel, hash(key), inserted);
    }

    // For prefetching a batch of lookups: prefetch_slot fetches the slot a hash lives in;
    // once that slot is likely cached, first_with_hash names the first value with an equal
    // hash (most likely the flow's, a false guess costs nothing but the fetch), or nullptr.
    void prefetch_slot(std::uint64_t h) const { prefetch_line(&slots_[h & mask()]); }
    const V* first_with_hash(std::uint64_t h) const {
        for (std::size_t i = h & mask(); slots_[i].value != nullptr; i = (i + 1) & mask())
            if (slots_[i].hash == h) return slots_[i].value;
        return nullptr;
    }

    // The value for `key`, or nullptr.
    V* find(const FlowKey& key) {
        const std::uint64_t h = hash(key);
        for (std::size_t i = h & mask(); slots_[i].value != nullptr; i = (i + 1) & mask())
            if (slots_[i].hash == h && slots_[i].value->key == key) return slots_[i].value;
        return nullptr;
    }

    // Removes `key` (which must be present); its value is reset to release its memory.
    void erase(const FlowKey& key) { erase(key, hash(key)); }
    // The same, with the key's hash (flow_hash) already known.
    void erase(const FlowKey& key, std::uint64_t h) {
        std::size_t i = h & mask();
        while (!(slots_[i].hash == h && slots_[i].value->key == key))
            i = (i + 1) & mask();
        erase_slot(i);
    }

    // Calls f(V&) for every value present (no insertion or erasure meanwhile). The values lie
    // anywhere in the pool and most are not in cache (idle and closed flows): the first line
    // of each is prefetched blocks of slots ahead, so that the walk waits for memory once a
    // block rather than once a value. `ahead(const V&)`, a hint, sees each value a block
    // before f does (its first line is in cache by then): it may prefetch what f will read.
    template <class F, class G>
    void for_each(F&& f, G&& ahead) {
        walk(
            0, [&](std::size_t i) { f(*slots_[i].value); }, ahead);
    }
    template <class F>
    void for_each(F&& f) {
        for_each(f, [](const V&) {});
    }

    // Calls f(V&) for every value present, then empties the table as clear() does. The walk
    // goes front to back through the pool, which the processor's prefetcher serves (for_each's
    // order of the slots jumps about it), and each value is destroyed while its lines are in
    // cache, rather than in a second walk. For the end of a run, whose order does not matter:
    // finishing a shard's 70,000 open flows took 20-30 ms in the order of the slots and a
    // second walk to clear them, 18-23 ms in one walk through memory.
    template <class F>
    void drain(F&& f) {
        std::vector<V*> gone(free_);  // values given back: not present
        std::sort(gone.begin(), gone.end(), std::less<V*>());
        for (std::size_t c = 0; c < chunks_.size(); ++c) {
            Chunk& chunk = chunks_[c];
            V* const handed_out =
                chunk.values + (c + 1 < chunks_.size() ? per_chunk : count_ - c * per_chunk);
            auto g = std::lower_bound(gone.begin(), gone.end(), chunk.values, std::less<V*>());
            for (; chunk.live != per_chunk; ++chunk.live) {
                V* const v = chunk.values + chunk.live;
                if (g != gone.end() && *g == v) {
                    ++g;
                } else if (v < handed_out) {
                    f(*v);  // should it throw, the chunk destroys the values from this one on
                }
                v->~V();
            }
        }
        clear();
    }

    // Calls remove(V&) for every value present and erases those for which it returns true, in
    // one walk: a value is erased while its lines are still in cache. The walk starts at an
    // empty slot and goes round once. Backward-shift deletion moves values only back to the
    // slot just erased, from further along the same run of full slots (which cannot cross
    // the starting slot), so that slot is looked at again and no value is skipped or seen
    // twice. `ahead` is a hint, as for for_each.
    template <class F, class G>
    void erase_if(F&& remove, G&& ahead) {
        std::size_t start = 0;
        while (slots_[start].value != nullptr)  // the load factor stays at most 1/4
            ++start;
        walk(
            start,
            [&](std::size_t i) {
                while (slots_[i].value != nullptr && remove(*slots_[i].value))
                    erase_slot(i);
            },
            ahead);
    }

    // Empties the table and gives its memory back.
    void clear() {
        SlotArray(initial_capacity).swap(slots_);
        chunks_.clear();
        count_ = 0;
        std::vector<V*>().swap(free_);
        size_ = 0;
    }

  private:
    static constexpr std::size_t initial_capacity = 1024;
    struct Slot {
        std::uint64_t hash = 0;
        V* value = nullptr;  // nullptr: the slot is empty
    };

    // Calls at(i) for every full slot i, going round once from `start`: the values' first
    // lines are prefetched two blocks ahead, and ahead(value) called one block ahead.
    template <class F, class G>
    void walk(std::size_t start, F&& at, G&& ahead) {
        constexpr std::size_t block = 64;
        const std::size_t n = slots_.size();
        auto each_in_block = [&](std::size_t begin, auto&& f) {
            for (std::size_t k = begin; k < begin + block && k < n; ++k) {
                const Slot& s = slots_[(start + k) & mask()];
                if (s.value != nullptr) f(*s.value);
            }
        };
        auto prefetch = [](const V& v) { prefetch_line(&v); };
        each_in_block(0, prefetch);
        each_in_block(block, prefetch);
        each_in_block(0, ahead);
        for (std::size_t b = 0; b < n; b += block) {
            each_in_block(b + 2 * block, prefetch);
            each_in_block(b + block, ahead);
            for (std::size_t k = b; k < b + block && k < n; ++k) {
                const std::size_t i = (start + k) & mask();
                if (slots_[i].value != nullptr) at(i);
            }
        }
    }

    void erase_slot(std::size_t i) {
        *slots_[i].value = V{};
        free_.push_back(slots_[i].value);
        --size_;
        // Backward-shift deletion keeps every probe chain unbroken without tombstones.
        std::size_t j = i;
        for (;;) {
            j = (j + 1) & mask();
            if (slots_[j].value == nullptr) break;
            const std::size_t home = slots_[j].hash & mask();
            const bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
            if (stays) continue;
            slots_[i] = slots_[j];
            i = j;
        }
        slots_[i] = Slot{};
    }

    std::size_t mask() const { return slots_.size() - 1; }
    static std::uint64_t hash(const FlowKey& k) { return flow_hash(k.lo, k.hi, k.tunnel); }

    void grow() {
        SlotArray old(slots_.size() * 2);
        old.swap(slots_);
        for (const Slot& s : old) {
            if (s.value == nullptr) continue;
            std::size_t i = s.hash & mask();
            while (slots_[i].value != nullptr)
                i = (i + 1) & mask();
            slots_[i] = s;
        }
    }

    using SlotArray = std::vector<Slot, HugePageAllocator<Slot>>;
    SlotArray slots_;
    // Values live in fixed chunks of one huge page each (never moved, so slots can point at
    // them, and growing the table copies nothing and needs no second copy in memory).
    static constexpr std::size_t per_chunk = sizeof(V) < huge_page ? huge_page / sizeof(V) : 1;
    struct Chunk {
        // Always a huge page of its own: per_chunk values fill most of one but not all, and
        // the allocator would hand that size to malloc, off any 2 MB boundary.
        Chunk() : values(static_cast<V*>(allocate_huge(per_chunk * sizeof(V)))) {
            for (std::size_t i = 0; i < per_chunk; ++i)
                new (values + i) V();
        }
        ~Chunk() {
            if (values == nullptr) return;
            for (std::size_t i = live; i < per_chunk; ++i)
                values[i].~V();
            std::free(values);
        }
        Chunk(Chunk&& o) noexcept : values(o.values), live(o.live) { o.values = nullptr; }
        Chunk(const Chunk&) = delete;
        Chunk& operator=(const Chunk&) = delete;
        Chunk& operator=(Chunk&&) = delete;
        V* values;
        std::size_t live = 0;  // values[live..] are alive; those before, destroyed by drain()
    };
    std::vector<Chunk> chunks_;
    std::size_t count_ = 0;  // values handed out (free_ holds the ones given back)
    std::vector<V*> free_;
    std::size_t size_ = 0;
};

}  // namespace capgap::detail
