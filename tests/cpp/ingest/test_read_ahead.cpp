// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// The read-ahead source (src/ingest/read_ahead.cpp): the bytes of its source in order, read
// directly before start() and on its thread after, and the source's failure after them.

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ingest/stream.hpp"

using capgap::detail::ByteSource;
using capgap::detail::read_ahead_source;
using capgap::detail::StreamError;

namespace {

std::uint8_t byte_at(std::size_t i) {
    return static_cast<std::uint8_t>((i * 7 + i / 251) % 256);
}

// `total` bytes (byte_at), in reads of 1 to 9,999 bytes, then the end, or a StreamError
// "failed at <total>" when `fail`.
class Numbered final : public ByteSource {
  public:
    Numbered(std::size_t total, bool fail) : total_(total), fail_(fail) {}
    std::size_t read(std::uint8_t* buffer, std::size_t size) override {
        if (at_ == total_) {
            if (fail_) throw StreamError("failed at " + std::to_string(at_), false);
            return 0;
        }
        const std::size_t n = std::min({size, total_ - at_, 1 + (calls_++ * 7919) % 9999});
        for (std::size_t k = 0; k < n; ++k)
            buffer[k] = byte_at(at_ + k);
        at_ += n;
        return n;
    }

  private:
    std::size_t total_, at_ = 0, calls_ = 0;
    bool fail_;
};

// Reads everything from `s` in reads of up to `step` bytes, started after `before` bytes;
// `error` gets the failure's words.
std::vector<std::uint8_t> drain(capgap::detail::ReadAheadSource& s, std::size_t before,
                                std::size_t step, std::string& error) {
    std::vector<std::uint8_t> out;
    std::vector<std::uint8_t> buf(step);
    bool started = false;
    for (;;) {
        if (!started && out.size() >= before) {
            s.start();
            started = true;
        }
        std::size_t got = 0;
        try {
            got = s.read(buf.data(), std::min(step, started ? step : before - out.size() + 1));
        } catch (const StreamError& e) {
            error = e.what();
            return out;
        }
        if (got == 0) return out;
        out.insert(out.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(got));
    }
}

}  // namespace

TEST_CASE("read-ahead: every byte in order, started at any point, then the end") {
    const std::size_t total = 5'500'000;  // five blocks and a half
    for (const std::size_t before : {std::size_t{0}, std::size_t{1}, std::size_t{1'234'567}}) {
        for (const std::size_t step : {std::size_t{1} << 20, std::size_t{65'537}}) {
            CAPTURE(before);
            CAPTURE(step);
            auto s = read_ahead_source(std::make_unique<Numbered>(total, false));
            std::string error;
            const std::vector<std::uint8_t> got = drain(*s, before, step, error);
            CHECK(error.empty());
            REQUIRE(got.size() == total);
            std::size_t wrong = 0;
            for (std::size_t i = 0; i < total; ++i)
                wrong += got[i] != byte_at(i) ? 1 : 0;
            CHECK(wrong == 0);
            std::uint8_t b;
            CHECK(s->read(&b, 1) == 0);  // and again at the end
        }
    }
}

TEST_CASE("read-ahead: the source's failure comes after every byte before it") {
    for (const std::size_t total : {std::size_t{0}, std::size_t{3'000'001}}) {
        CAPTURE(total);
        auto s = read_ahead_source(std::make_unique<Numbered>(total, true));
        std::string error;
        const std::vector<std::uint8_t> got = drain(*s, 0, 100'000, error);
        CHECK(got.size() == total);
        CHECK(error == "failed at " + std::to_string(total));
    }
}

TEST_CASE("read-ahead: given up early, it stops its thread") {
    // The thread has filled its blocks and waits for room; the destructor must end it.
    auto s = read_ahead_source(std::make_unique<Numbered>(50'000'000, false));
    s->start();
    std::uint8_t b[10];
    CHECK(s->read(b, sizeof b) == sizeof b);
    CHECK(b[3] == byte_at(3));
    s.reset();  // returns: the test would hang otherwise
    auto never = read_ahead_source(std::make_unique<Numbered>(10, false));
    never->start();  // never read
}
