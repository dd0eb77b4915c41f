// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// The sharded tracker of Options::threads (docs/architecture.md, "Threads").
//
// The reading thread (the Analyzer's) runs the clock over every segment in capture order and
// appends the segment, with the clock's value after it, to the current batch of its shard;
// a sweep is appended to every shard's batch at its place. Full batches cross to the shard's
// thread through a bounded single-producer single-consumer queue (Boost.Lockfree) and come
// back, emptied, through a second one: batches are recycled, nothing is allocated per packet.
// finish() numbers the shards' instances in the order of their first frames (the order one
// tracker numbers them in) and replays the shards' open-count changes in frame order for
// open_flows_peak (number_all), on shard 1's thread or the reading thread, whichever is free
// first: one finishes its tracker, the other makes the report's rows meanwhile. Then the
// sessions are placed in their rows on both threads, the events' ids mapped the same way and
// the counters summed.

#include "pipeline/parallel.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstring>
#include <exception>
#include <stdexcept>
#include <thread>
#include <type_traits>
#include <utility>

#include <boost/lockfree/spsc_queue.hpp>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "core/compiler.hpp"
#include "core/hash.hpp"
#include "diagnose/accumulator.hpp"
#include "track/clock.hpp"
#include "track/shard.hpp"

namespace capgap::detail {

namespace {

// Batches per shard: 64 to begin with, about 1.6 ms of the reading thread's work. A shard's
// sweep can take longer (it finishes every flow that expired in the last second of capture
// time, some ten thousand on the benchmark capture): rather than wait, the reading thread
// then makes more batches, up to 512 (14 MB), and reads on while the shard catches up.
constexpr std::size_t batches_at_start = 64;
constexpr std::size_t batches_max = 512;
using BatchQueue =
    boost::lockfree::spsc_queue<ShardBatch*, boost::lockfree::capacity<batches_max + 1>>;

// Waits until `ready()`: spins a little, then yields, then sleeps in short steps (the machine
// may have fewer cores than threads; a waiting thread must not take the worker's core).
template <class Ready>
void wait_until(Ready&& ready) {
    for (unsigned k = 0; !ready(); ++k) {
        if (k < 256) {
#if defined(__x86_64__) || defined(__i386__)
            __builtin_ia32_pause();
#endif
        } else {
            std::this_thread::sleep_for(std::chrono::microseconds(50));
        }
    }
}

// Writes `src` to `dst` (in a batch for another thread) with non-temporal stores where the
// processor has them. An ordinary store first fetches the line for itself, and the line was
// last read by the shard's core: when the two cores are far apart (on a virtual machine, as
// the host places them) that fetch made the copy of the segments a third of the reading
// thread's time. A non-temporal store sends the line to memory without fetching it; the
// shard reads the batch in order, which the prefetcher serves. The batch is published
// after a store fence (Shard::send).
template <class T>
void store_for_other_core(T& dst, const T& src) {
    static_assert(std::is_trivially_copyable_v<T> && sizeof(T) % 8 == 0 && alignof(T) >= 8);
#if defined(__x86_64__)
    const auto* from = reinterpret_cast<const unsigned char*>(&src);
    auto* to = reinterpret_cast<long long*>(&dst);
    for (std::size_t i = 0; i < sizeof(T) / 8; ++i) {
        long long word;
        std::memcpy(&word, from + 8 * i, 8);
        _mm_stream_si64(to + i, word);
    }
#else
    dst = src;
#endif
}

// Makes the non-temporal stores before it visible before any store after it.
inline void store_fence() {
#if defined(__x86_64__)
    _mm_sfence();
#endif
}

// Shard 0 runs on the reading thread, which reads and decodes besides: it takes
// 1 / (inline_divisor N) of the hash space, shards 1 to N-1 share the rest evenly. The reading
// thread is the one both wait on: with 1 / (4 N), the shard's thread of `--threads 2` was
// idle 110-160 ms of its 0.8 s on the benchmark capture; 1 / (8 N) ran 3-4% faster, in turn
// with it (12 runs each, two hours of the host), and 1 / (12 N) in between.
constexpr unsigned inline_divisor = 8;

// Which shard a segment goes to: by the flow key's hash (both directions alike), its high
// 32 bits, so that the choice does not follow the slots of the shard's own table (the low
// bits). Shard 0 takes the lowest part (see inline_divisor).
class ShardChooser {
  public:
    explicit ShardChooser(std::uint32_t shards)
        : inline_end_((std::uint64_t{1} << 32) / (inline_divisor * std::uint64_t{shards})),
          scale_((std::uint64_t{shards - 1} << 32) / ((std::uint64_t{1} << 32) - inline_end_)) {}

    // The shard of a segment whose flow hash is `hash`.
    std::uint32_t operator()(std::uint64_t hash) const {
        const std::uint64_t x = hash >> 32;
        if (x < inline_end_) return 0;
        return 1 + static_cast<std::uint32_t>(((x - inline_end_) * scale_) >> 32);
    }

  private:
    std::uint64_t inline_end_;  // hashes below it: shard 0
    std::uint64_t scale_;       // (shards - 1) / (2^32 - inline_end_), 32.32 fixed point
};

}  // namespace

struct Shard {
    // `threaded`: the shard gets a thread of its own (shard 0, fed on the reading thread,
    // needs one batch).
    Shard(const TrackerOptions& o, bool marks, bool threaded) : tracker(o) {
        make_shard(tracker, &open_log, marks ? &marked : nullptr, &starts, &sessions);
        pool.reserve(threaded ? batches_max : 1);
        for (std::size_t k = 0; k < (threaded ? batches_at_start : 1); ++k)
            spare.push_back(make_batch());
        current = spare.back();
        spare.pop_back();
    }

    ShardBatch* make_batch() {
        pool.push_back(std::make_unique<ShardBatch>());
        pool.back()->sweeps.reserve(8);
        return pool.back().get();
    }

    // The shard's thread, first: every batch in order until the last, then the results.
    void take_batches() {
        for (;;) {
            ShardBatch* b = nullptr;
            wait_until([&] { return full.pop(b); });
            const bool last = b->last;
            if (!error) {
                try {
                    feed_shard(tracker, *b);
                    started.store(tracker.sessions_started(), std::memory_order_relaxed);
                } catch (...) {
                    error = std::current_exception();  // the batches still come back
                }
            }
            empty.push(b);
            if (last) {
                fed.store(true, std::memory_order_release);  // after `started`'s last value
                take_results();
                taken.store(true, std::memory_order_release);
                return;
            }
        }
    }

    // The shard's thread, last: the first half of its sessions into the report's rows, while
    // the reading thread places the second (ShardedTracker::finish).
    void place_first_half() {
        wait_until([&] { return place.load(std::memory_order_acquire) != place_wait; });
        if (place.load(std::memory_order_acquire) == place_go)
            place_sessions(0, sessions.size() / 2);
        placed.store(true, std::memory_order_release);
    }

    // The shard's thread, once the reading thread has read all it needs of the shard: frees
    // the shard's results and batches (some 70 MB on the benchmark capture) while the reading
    // thread goes on to the report, rather than at its end.
    void release_memory() {
        wait_until([&] { return released.load(std::memory_order_acquire); });
        sessions = SessionBlocks();
        std::vector<LossEvent>().swap(events);
        std::vector<std::unique_ptr<ShardBatch>>().swap(pool);
        std::vector<OpenChange>().swap(open_log);
        std::vector<MarkedTime>().swap(marked);
        std::vector<std::uint64_t>().swap(starts);
        std::vector<std::uint64_t>().swap(global);
    }

    // Finishes the tracker (on the shard's own thread, beside the others) and takes its
    // sessions and events.
    void take_results() {
        if (error) return;
        try {
            tracker.finish();
            sessions.blocks.push_back(tracker.take_sessions());
            events = tracker.take_events();
        } catch (...) {
            error = std::current_exception();
        }
    }

    // Moves sessions [begin, end) to their rows (`rows`, by `global`), numbering them there.
    // Another thread may place the others meanwhile: the rows are distinct.
    void place_sessions(std::size_t begin, std::size_t end) {
        sessions.for_range(begin, end, [&](Session& s) {
            if (s.id >= global.size()) {  // every id was started: a bug, reported by finish()
                misplaced.store(true, std::memory_order_relaxed);
                return;
            }
            const std::uint64_t id = global[s.id];
            rows[id].session = std::move(s);
            rows[id].session.id = id;
        });
    }

    // Reading thread: sends the current batch and takes an empty one. The reading thread's
    // own shard (no thread) takes it at once.
    void send() {
        if (!thread.joinable()) {
            feed_shard(tracker, *current);
            started.store(tracker.sessions_started(), std::memory_order_relaxed);
            current->clear();
            return;
        }
        store_fence();  // the batch's contents before the push that hands it over
        full.push(current);
        current = nullptr;
        // The batches the shard gave back, the last one on top: it is the one most likely
        // still in a cache, and the ones below are left alone while the shard keeps up.
        empty.consume_all([this](ShardBatch* b) { spare.push_back(b); });
        if (spare.empty()) {
            if (pool.size() < batches_max) {
                spare.push_back(make_batch());
            } else {
                // The shard is far behind: wait until a quarter of its batches are back,
                // rather than waking for each one.
                wait_until([&] { return empty.read_available() >= batches_max / 4; });
                empty.consume_all([this](ShardBatch* b) { spare.push_back(b); });
            }
        }
        current = spare.back();
        spare.pop_back();
        current->clear();
    }
    // Reading thread: sends the current batch as the last one.
    void send_last() {
        store_fence();
        current->last = true;
        full.push(current);
        current = nullptr;
    }

    Tracker tracker;
    std::vector<OpenChange> open_log;
    std::vector<MarkedTime> marked;
    std::vector<std::unique_ptr<ShardBatch>> pool;  // every batch made, at most batches_max
    BatchQueue full, empty;
    std::vector<ShardBatch*> spare;  // the reading thread's empty batches (from `empty`)
    ShardBatch* current = nullptr;   // the reading thread's batch being filled
    std::atomic<std::uint64_t> started{0};
    std::atomic<bool> fed{false};   // the shard's thread took its last batch: `started` is final
    std::exception_ptr error;       // read once `taken` (set before it)
    SessionBlocks sessions;         // the results, in the order they finished
    std::vector<LossEvent> events;  // by session id (the shard's), then frame
    std::vector<std::uint64_t> starts;  // the first frame of each instance, by the shard's id
    // The end (ShardedTracker::finish): the global id of each instance, by the shard's id; the
    // report's rows; whether the shard's thread is to place its half of the sessions there.
    std::atomic<bool> taken{false};  // the shard's thread took its results (or failed to)
    enum Place : int { place_wait, place_go, place_drop };
    std::atomic<int> place{place_wait};
    std::atomic<bool> placed{false};    // the shard's thread placed its half (or dropped it)
    std::atomic<bool> released{false};  // the reading thread is done with the shard
    std::vector<std::uint64_t> global;
    SessionRow* rows = nullptr;
    std::atomic<bool> misplaced{false};
    std::thread thread;
};

struct ShardedTracker::Impl {
    Impl(const TrackerOptions& o, unsigned n, bool marks)
        : options(o),
          clock(o),
          sweeps(o.closed_timeout_ns > 0 || o.idle_timeout_ns > 0),
          choose(n) {
        // The cap on open instances is global; each shard takes the part of it its share of
        // the hash space gives (rounded up).
        for (unsigned i = 0; i < n; ++i) {
            TrackerOptions per_shard = o;
            if (o.max_open_flows > 0) {
                const double inline_share = 1.0 / (inline_divisor * n);
                const double share = i == 0 ? inline_share : (1.0 - inline_share) / (n - 1);
                per_shard.max_open_flows = static_cast<std::size_t>(
                    std::ceil(static_cast<double>(o.max_open_flows) * share));
            }
            shards.push_back(std::make_unique<Shard>(per_shard, marks, i > 0));
        }
        for (std::size_t k = 1; k < shards.size(); ++k) {
            shards[k]->thread = std::thread([this, p = shards[k].get(), numbers = k == 1] {
                p->take_batches();
                if (numbers) number_once();  // see finish()
                p->place_first_half();
                p->release_memory();
            });
        }
    }

    ~Impl() { stop(); }

    // Ends the shards' threads. Those that finish() did not reach take a last batch; results
    // not yet placed are dropped.
    void stop() {
        if (!stopped) {
            stopped = true;
            shards[0]->fed.store(true, std::memory_order_release);  // see number_all()
            for (auto& s : shards) {
                if (s->thread.joinable()) {
                    if (s->current == nullptr) wait_until([&] { return s->empty.pop(s->current); });
                    s->current->clear();
                    s->send_last();
                }
            }
        }
        for (auto& s : shards) {
            if (!s->thread.joinable()) continue;
            int wait = Shard::place_wait;
            s->place.compare_exchange_strong(wait, Shard::place_drop, std::memory_order_acq_rel);
            s->released.store(true, std::memory_order_release);
            s->thread.join();
        }
    }

    void feed(const Segment* segs, std::size_t count) {
        for (std::size_t i = 0; i < count; ++i) {
            const Segment& seg = segs[i];
            const bool on_time = clock.advance(seg.time.ns, counters);
            if (clock.sweep_due() && sweeps) {
                for (auto& s : shards)
                    s->current->sweeps.push_back(
                        SweepMark{s->current->count, clock.now_ns, seg.frame});
            }
            const std::uint64_t hash = flow_hash(seg.src, seg.dst, seg.tunnel);
            const std::uint32_t k = choose(hash);
            Shard& s = *shards[k];
            ShardBatch& b = *s.current;
            if (k == 0) {  // read back by this thread
                b.segs[b.count] = seg;
                b.hash[b.count] = hash;
                b.now_ns[b.count] = clock.now_ns;
            } else {
                store_for_other_core(b.segs[b.count], seg);
                store_for_other_core(b.hash[b.count], hash);
                store_for_other_core(b.now_ns[b.count], clock.now_ns);
            }
            b.on_time[b.count] = on_time;
            if (++b.count == ShardBatch::capacity) s.send();
        }
    }

    ShardedResult finish(TimelineAccumulator* timeline) {
        // Each shard's thread finishes its tracker beside the others; the reading thread
        // finishes its own meanwhile.
        for (std::size_t k = 1; k < shards.size(); ++k)
            shards[k]->send_last();
        stopped = true;     // every shard has its last batch (see stop())
        shards[0]->send();  // the reading thread's shard takes its last batch
        shards[0]->take_results();
        shards[0]->fed.store(true, std::memory_order_release);
        // The rows' memory is mapped while the shards' threads work through the batches they
        // have left (about 10 ms of them at the end of the benchmark capture): room for the
        // instances started so far and some more. Once every shard has taken its last batch,
        // every instance has started: this thread makes the rows while shard 1's finishes its
        // tracker, and the first of the two done numbers the instances (number_once).
        ShardedResult r;
        const std::uint64_t guess = sessions_started() * 65 / 64 + 4096;
        r.rows.reserve(guess);
        map_for_writing(r.rows.data(), guess * sizeof(SessionRow));
        std::uint64_t total = 0;
        for (std::size_t k = 0; k < shards.size(); ++k) {
            wait_until([&] { return shards[k]->fed.load(std::memory_order_acquire); });
            total += shards[k]->starts.size();
        }
        if (total > r.rows.capacity()) {  // more started than guessed
            r.rows.reserve(total);
            map_for_writing(r.rows.data(), total * sizeof(SessionRow));
        }
        r.rows.resize(total);
        number_once();
        wait_until([&] { return numbered.load(std::memory_order_acquire); });
        if (number_error) std::rethrow_exception(number_error);
        // Each session moves straight to its row: each shard's thread places the first half
        // of its sessions, this thread its own shard's and the second half of the others'.
        for (auto& s : shards) {
            s->rows = r.rows.data();
            s->place.store(Shard::place_go, std::memory_order_release);
        }
        shards[0]->place_sessions(0, shards[0]->sessions.size());
        for (std::size_t k = 1; k < shards.size(); ++k) {
            Shard& s = *shards[k];
            wait_until([&] { return s.taken.load(std::memory_order_acquire); });
            s.place_sessions(s.sessions.size() / 2, s.sessions.size());
        }
        for (std::size_t k = 1; k < shards.size(); ++k)
            wait_until([&] { return shards[k]->placed.load(std::memory_order_acquire); });
        for (auto& s : shards)
            if (s->error) std::rethrow_exception(s->error);
        for (auto& s : shards) {
            if (s->misplaced.load() || s->sessions.size() != s->starts.size())
                throw std::logic_error("a shard reported other sessions than it started");
        }

        r.counters = counters;  // the clock's
        for (std::size_t k = 0; k < shards.size(); ++k) {
            const TrackerCounters& c = shards[k]->tracker.counters();
            // A shard's clock counters are 0 (its clock is set, never advanced).
#define CAPGAP_ADD_COUNTER(name, group, description) r.counters.name += c.name;
            CAPGAP_TRACKER_COUNTERS(CAPGAP_ADD_COUNTER)
#undef CAPGAP_ADD_COUNTER
            if (timeline != nullptr)
                for (const MarkedTime& m : shards[k]->marked)
                    timeline->marks(m.ns, m.marks);
        }
        r.counters.open_flows_peak = open_peak;

        // Events by session, then frame: each shard's are in that order, and stay so under
        // its ids' map to the global ones, which keeps their order.
        std::size_t events = 0;
        for (std::size_t k = 0; k < shards.size(); ++k) {
            for (LossEvent& e : shards[k]->events)
                if (e.session_id != no_session) e.session_id = shards[k]->global[e.session_id];
            events += shards[k]->events.size();
        }
        r.events.reserve(events);
        merge_runs([&](std::size_t k) -> std::vector<LossEvent>& { return shards[k]->events; },
                   [](const LossEvent& a, const LossEvent& b) {
                       return a.session_id != b.session_id ? a.session_id < b.session_id
                                                           : a.frame < b.frame;
                   },
                   [&](std::size_t k, std::size_t i) { r.events.push_back(shards[k]->events[i]); });
        for (std::size_t k = 1; k < shards.size(); ++k)  // each frees its memory (the join: stop())
            shards[k]->released.store(true, std::memory_order_release);
        return r;
    }

    // number_all(), on the first thread to call it; the other goes on at once.
    void number_once() {
        if (!numbering.exchange(true, std::memory_order_acq_rel)) number_all();
    }

    // Once every shard has taken its last batch (or the pipeline stops), numbers the instances
    // as one tracker numbers them, as they start, which is the order of their first frames (a
    // frame starts one instance at most), and replays the open counts for open_flows_peak.
    void number_all() {
        for (auto& s : shards)
            wait_until([&] { return s->fed.load(std::memory_order_acquire); });
        try {
            std::uint64_t id = 0;
            for (auto& s : shards)
                s->global.resize(s->starts.size());
            merge_runs(
                [&](std::size_t k) -> std::vector<std::uint64_t>& { return shards[k]->starts; },
                std::less<std::uint64_t>(),
                [&](std::size_t k, std::size_t i) { shards[k]->global[i] = id++; });
            open_peak = open_flows_peak();
        } catch (...) {
            number_error = std::current_exception();
        }
        numbered.store(true, std::memory_order_release);
    }

    // Merges the shards' lists, each sorted by `less`, calling `take(k, i)` for item i of
    // shard k's list in the order of one sorted list; ties go to the lower shard, as in a
    // stable sort of the lists put end to end. Each shard makes its lists in order; one that
    // is not (which would be a bug) is sorted first, so the result is right either way.
    template <class List, class Less, class Take>
    void merge_runs(List&& list, Less less, Take&& take) {
        const std::size_t n = shards.size();
        for (std::size_t k = 0; k < n; ++k) {
            auto& l = list(k);
            if (!std::is_sorted(l.begin(), l.end(), less))
                std::stable_sort(l.begin(), l.end(), less);
        }
        std::vector<std::size_t> at(n, 0);
        for (;;) {
            std::size_t best = n;
            for (std::size_t k = 0; k < n; ++k) {
                if (at[k] == list(k).size()) continue;
                if (best == n || less(list(k)[at[k]], list(best)[at[best]])) best = k;
            }
            if (best == n) return;
            take(best, at[best]++);
        }
    }

    // The most instances open at once over all shards, measured where one tracker measures
    // it: after each insert. Each frame lives in one shard, so merging the shards' changes by
    // frame (removals of a frame before its insert) replays the global count. Each shard
    // logs its changes in that order.
    std::uint64_t open_flows_peak() {
        std::int64_t open = 0, peak = 0;
        merge_runs([&](std::size_t k) -> std::vector<OpenChange>& { return shards[k]->open_log; },
                   [](const OpenChange& a, const OpenChange& b) {
                       return a.frame != b.frame ? a.frame < b.frame : a.delta < b.delta;
                   },
                   [&](std::size_t k, std::size_t i) {
                       const OpenChange& c = shards[k]->open_log[i];
                       open += c.delta;
                       if (c.delta > 0) peak = std::max(peak, open);
                   });
        return static_cast<std::uint64_t>(peak);
    }

    std::uint64_t sessions_started() const {
        std::uint64_t n = 0;
        for (const auto& s : shards)
            n += s->started.load(std::memory_order_relaxed);
        return n;
    }

    TrackerOptions options;
    TrackerClock clock;
    TrackerCounters counters;  // the clock's
    const bool sweeps;         // a timeout is set: sweeps are sent
    const ShardChooser choose;
    bool stopped = false;
    std::vector<std::unique_ptr<Shard>> shards;
    std::atomic<bool> numbering{false};  // a thread took number_all() on
    // number_all()'s results, read once `numbered`.
    std::atomic<bool> numbered{false};
    std::exception_ptr number_error;
    std::uint64_t open_peak = 0;
};

ShardedTracker::ShardedTracker(const TrackerOptions& options, unsigned shards, bool marks)
    : impl_(std::make_unique<Impl>(options, shards, marks)) {}
ShardedTracker::~ShardedTracker() = default;

void ShardedTracker::feed(const Segment* segs, std::size_t count) {
    impl_->feed(segs, count);
}
std::uint64_t ShardedTracker::sessions_started() const {
    return impl_->sessions_started();
}
ShardedResult ShardedTracker::finish(TimelineAccumulator* timeline) {
    return impl_->finish(timeline);
}

}  // namespace capgap::detail
