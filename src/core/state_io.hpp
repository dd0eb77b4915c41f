// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// The flow state's byte format (docs/state-format.md): little-endian fixed-width integers,
// written and read by one visitor per structure, so that a field is named once for both.
// Every read is bounded: past the end, a bool other than 0 or 1, an enum value out of range
// or a count larger than the bytes left throws format_error naming the state and the offset.

#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <type_traits>

#include <capgap/flow_key.hpp>
#include <capgap/time.hpp>

#include "core/errors.hpp"

namespace capgap::detail {

// The largest magnitude a lifted sequence number (track/seq_space.hpp) may have in a state:
// 2^56 bytes is far beyond any connection's, and far enough below 2^63 that adding a segment's
// length or a window cannot overflow. A state with more was not written by capgap.
constexpr std::int64_t max_state_seq = std::int64_t{1} << 56;

class StateWriter {
  public:
    std::string& bytes() { return out_; }
    std::size_t offset() const { return out_.size(); }
    // A structure that cannot be written (a visitor's check on what it reads): a bug.
    [[noreturn]] void fail_at(std::size_t at, const std::string& reason) const {
        throw std::logic_error("flow state at offset " + std::to_string(at) + ": " + reason);
    }

    // A lifted sequence number, and a range of them (begin <= end).
    void seq(const std::int64_t& v) { (*this)(v); }
    void seq_range(const std::int64_t& begin, const std::int64_t& end) {
        (*this)(begin);
        (*this)(end);
    }

    template <class T>
    std::enable_if_t<std::is_integral_v<T>> operator()(const T& v) {
        if constexpr (std::is_same_v<T, bool>) {
            out_.push_back(v ? '\1' : '\0');
        } else {
            using U = std::make_unsigned_t<T>;
            auto u = static_cast<U>(v);
            for (std::size_t i = 0; i < sizeof(T); ++i) {
                out_.push_back(static_cast<char>(static_cast<std::uint8_t>(u & 0xff)));
                if constexpr (sizeof(T) > 1) u = static_cast<U>(u >> 8);
            }
        }
    }
    void operator()(const Timestamp& t) { (*this)(t.ns); }
    void operator()(const IpAddress& a) {
        out_.append(reinterpret_cast<const char*>(a.bytes.data()), a.bytes.size());
        (*this)(a.v6);
    }
    void operator()(const Endpoint& e) {
        (*this)(e.addr);
        (*this)(e.port);
    }
    void operator()(const std::string& s) {
        (*this)(static_cast<std::uint64_t>(s.size()));
        out_ += s;
    }
    // An enum as one byte (its values are below `count`).
    template <class E>
    void enumeration(const E& e, std::size_t /*count*/) {
        (*this)(static_cast<std::uint8_t>(e));
    }
    // A count of items that follow, each at least `min_bytes` long.
    void count(std::size_t n, std::size_t /*min_bytes*/) { (*this)(static_cast<std::uint64_t>(n)); }
    // A section's tag, read back by StateReader::expect.
    void tag(std::uint32_t t) { (*this)(t); }

  private:
    std::string out_;
};

class StateReader {
  public:
    StateReader(const std::string& bytes, std::size_t offset, std::string name)
        : data_(bytes), pos_(offset), name_(std::move(name)) {}

    std::size_t offset() const { return pos_; }
    std::size_t left() const { return data_.size() - pos_; }
    const std::string& name() const { return name_; }

    [[noreturn]] void fail(const std::string& reason) const { fail_at(pos_, reason); }
    [[noreturn]] void fail_at(std::size_t at, const std::string& reason) const {
        throw_format_error(name_, "offset " + std::to_string(at), reason);
    }

    // A lifted sequence number: at most max_state_seq in magnitude.
    void seq(std::int64_t& v) {
        const std::size_t at = pos_;
        (*this)(v);
        if (v > max_state_seq || v < -max_state_seq)
            fail_at(at, "a sequence number is out of range (" + std::to_string(v) + ")");
    }
    // A range of them: begin <= end.
    void seq_range(std::int64_t& begin, std::int64_t& end) {
        const std::size_t at = pos_;
        seq(begin);
        seq(end);
        if (begin > end) fail_at(at, "a sequence range ends before it begins");
    }

    template <class T>
    std::enable_if_t<std::is_integral_v<T>> operator()(T& v) {
        need(sizeof(T), "a number");
        if constexpr (std::is_same_v<T, bool>) {
            const auto b = static_cast<std::uint8_t>(data_[pos_]);
            if (b > 1) fail("a flag is " + std::to_string(b) + ", not 0 or 1");
            v = b == 1;
        } else {
            using U = std::make_unsigned_t<T>;
            U u = 0;
            for (std::size_t i = sizeof(T); i-- > 0;) {
                if constexpr (sizeof(T) > 1) u = static_cast<U>(u << 8);
                u = static_cast<U>(u | static_cast<std::uint8_t>(data_[pos_ + i]));
            }
            v = static_cast<T>(u);
        }
        pos_ += sizeof(T);
    }
    void operator()(Timestamp& t) { (*this)(t.ns); }
    void operator()(IpAddress& a) {
        need(a.bytes.size(), "an address");
        for (std::size_t i = 0; i < a.bytes.size(); ++i)
            a.bytes[i] = static_cast<std::uint8_t>(data_[pos_ + i]);
        pos_ += a.bytes.size();
        (*this)(a.v6);
    }
    void operator()(Endpoint& e) {
        (*this)(e.addr);
        (*this)(e.port);
    }
    void operator()(std::string& s) {
        const std::size_t n = count(1);
        s.assign(data_, pos_, n);
        pos_ += n;
    }
    template <class E>
    void enumeration(E& e, std::size_t count) {
        const std::size_t at = pos_;
        std::uint8_t v = 0;
        (*this)(v);
        if (v >= count) fail_at(at, "a kind is " + std::to_string(v) + ", out of range");
        e = static_cast<E>(v);
    }
    // Reads a count of items of at least `min_bytes` each, refusing more than the bytes left.
    std::size_t count(std::size_t min_bytes) {
        const std::size_t at = pos_;
        std::uint64_t n = 0;
        (*this)(n);
        if (min_bytes > 0 ? n > left() / min_bytes : n > left())
            fail_at(at, "a count of " + std::to_string(n) + " exceeds the bytes left");
        return static_cast<std::size_t>(n);
    }
    void count(std::size_t& n, std::size_t min_bytes) { n = count(min_bytes); }
    void tag(std::uint32_t t) {
        const std::size_t at = pos_;
        std::uint32_t v = 0;
        (*this)(v);
        if (v != t) fail_at(at, "expected section " + tag_name(t) + ", found " + tag_name(v));
    }
    static std::string tag_name(std::uint32_t t) {
        std::string s;
        for (int i = 0; i < 4; ++i) {
            const auto c = static_cast<char>((t >> (8 * i)) & 0xff);
            s += c >= ' ' && c <= '~' ? c : '?';
        }
        return "'" + s + "'";
    }

  private:
    void need(std::size_t n, const char* what) const {
        if (left() < n) {
            fail(std::string("truncated: ") + what + " needs " + std::to_string(n) + " bytes, " +
                 std::to_string(left()) + " left");
        }
    }

    const std::string& data_;
    std::size_t pos_;
    std::string name_;
};

// A section tag from four characters, as the format lists them ("TRAK" ...).
constexpr std::uint32_t state_tag(const char (&s)[5]) {
    return static_cast<std::uint32_t>(static_cast<std::uint8_t>(s[0])) |
           static_cast<std::uint32_t>(static_cast<std::uint8_t>(s[1])) << 8 |
           static_cast<std::uint32_t>(static_cast<std::uint8_t>(s[2])) << 16 |
           static_cast<std::uint32_t>(static_cast<std::uint8_t>(s[3])) << 24;
}

}  // namespace capgap::detail

namespace capgap::detail {

// A vector: its count, then each item through `each` (resized first when reading).
template <class IO, class V, class F>
void state_vector(IO& io, V& v, std::size_t min_bytes, F&& each) {
    if constexpr (std::is_same_v<IO, StateReader>) {
        const std::size_t n = io.count(min_bytes);
        v.clear();
        v.resize(n);
    } else {
        io.count(v.size(), min_bytes);
    }
    for (auto& x : v)
        each(x);
}

}  // namespace capgap::detail
