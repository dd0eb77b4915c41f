// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// A ByteSource read on a thread of its own (stream.hpp, ReadAheadSource): the decompression
// of compressed input, beside the analysis, when the analysis runs on more than one thread.

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "ingest/stream.hpp"

namespace capgap::detail {

namespace {

// Blocks of this size, at most `depth` read ahead: enough to keep the reading thread busy
// while the source's thread fills the next, little enough to stay out of the way (4 MB).
constexpr std::size_t block_bytes = std::size_t{1} << 20;
constexpr std::size_t depth = 4;

class Ahead final : public ReadAheadSource {
  public:
    explicit Ahead(std::unique_ptr<ByteSource> inner) : inner_(std::move(inner)) {}

    ~Ahead() override {
        {
            std::lock_guard<std::mutex> lock(m_);
            stop_ = true;
        }
        changed_.notify_all();
        if (worker_.joinable()) worker_.join();
    }

    // The thread starts at the next read, so that of many inputs merged by time only those
    // being read decompress ahead; it ends, and its blocks are freed, at the source's end.
    void start() override { wanted_ = true; }

    std::size_t read(std::uint8_t* buffer, std::size_t size) override {
        if (state_ == State::direct) {
            if (!wanted_) return inner_->read(buffer, size);
            for (std::size_t k = 0; k < depth; ++k)
                spare_.emplace_back(block_bytes);
            worker_ = std::thread([this] { fill(); });
            state_ = State::running;
        }
        if (state_ == State::over) return 0;
        if (at_ == current_.size) {
            std::unique_lock<std::mutex> lock(m_);
            if (!current_.bytes.empty()) spare_.push_back(std::move(current_.bytes));
            changed_.notify_all();
            changed_.wait(lock, [this] { return !ready_.empty() || done_; });
            if (ready_.empty()) {
                // Every byte was given: the thread has ended. Then the end, or the source's
                // failure as the source gave it.
                lock.unlock();
                worker_.join();
                state_ = State::over;
                current_ = Block{};
                at_ = 0;
                spare_ = {};
                if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
                return 0;
            }
            current_ = std::move(ready_.front());
            ready_.pop_front();
            at_ = 0;
        }
        const std::size_t n = std::min(size, current_.size - at_);
        std::memcpy(buffer, current_.bytes.data() + at_, n);
        at_ += n;
        return n;
    }

  private:
    struct Block {
        std::vector<std::uint8_t> bytes;
        std::size_t size = 0;  // bytes[0, size) are the source's
    };

    // The source's thread: fills blocks in order until the source ends, fails, or stop_.
    void fill() {
        for (;;) {
            Block b;
            {
                std::unique_lock<std::mutex> lock(m_);
                changed_.wait(lock, [this] { return stop_ || !spare_.empty(); });
                if (stop_) return;
                b.bytes = std::move(spare_.back());
                spare_.pop_back();
            }
            bool end = false;
            std::exception_ptr error;
            try {
                while (b.size < b.bytes.size()) {
                    const std::size_t got =
                        inner_->read(b.bytes.data() + b.size, b.bytes.size() - b.size);
                    if (got == 0) {
                        end = true;
                        break;
                    }
                    b.size += got;
                }
            } catch (...) {
                error = std::current_exception();  // after the bytes read before it
            }
            {
                std::lock_guard<std::mutex> lock(m_);
                if (b.size > 0) {
                    ready_.push_back(std::move(b));
                } else {
                    spare_.push_back(std::move(b.bytes));
                }
                if (end || error) {
                    error_ = error;
                    done_ = true;
                }
            }
            changed_.notify_all();
            if (end || error) return;
        }
    }

    // direct: read() reads inner_ itself; running: the worker reads it; over: it has ended.
    enum class State { direct, running, over };

    std::unique_ptr<ByteSource> inner_;  // read by the worker only, while running
    State state_ = State::direct;
    bool wanted_ = false;  // start() was called
    std::thread worker_;
    std::mutex m_;
    std::condition_variable changed_;  // a block ready or given back, the end, or stop_
    std::deque<Block> ready_;          // in order
    std::vector<std::vector<std::uint8_t>> spare_;
    bool done_ = false;  // the worker ended: nothing follows ready_
    bool stop_ = false;
    std::exception_ptr error_;  // the source's failure, after ready_
    Block current_;             // the reader's block (its own, outside the lock)
    std::size_t at_ = 0;        // current_'s bytes given
};

}  // namespace

std::unique_ptr<ReadAheadSource> read_ahead_source(std::unique_ptr<ByteSource> inner) {
    return std::make_unique<Ahead>(std::move(inner));
}

}  // namespace capgap::detail
