// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// FlowState: the serialized state checked on load, read from and written to files. What it
// holds is written and read by the Analyzer (analyze.cpp, Analyzer::suspend and resume).

#include <capgap/flow_state.hpp>

#include <cerrno>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>

#include <zlib.h>

#include "core/errors.hpp"
#include "core/state_io.hpp"
#include "pipeline/state_format.hpp"

namespace capgap {

namespace detail {

namespace {

std::uint32_t crc_of(const char* data, std::size_t n) {
    uLong crc = crc32(0L, Z_NULL, 0);
    while (n > 0) {  // crc32 takes a uInt length
        const auto chunk = static_cast<uInt>(std::min<std::size_t>(n, 1u << 30));
        crc = crc32(crc, reinterpret_cast<const Bytef*>(data), chunk);
        data += chunk;
        n -= chunk;
    }
    return static_cast<std::uint32_t>(crc);
}

}  // namespace

std::string frame_bytes(const FrameFormat& format, const std::string& body) {
    StateWriter w;
    w.bytes().append(format.magic, sizeof state_magic);
    w(format.version);
    w(static_cast<std::uint32_t>(state_header_size));
    w(static_cast<std::uint64_t>(body.size()));
    w(crc_of(body.data(), body.size()));
    w(crc_of(w.bytes().data(), w.bytes().size()));
    w.bytes() += body;
    return std::move(w.bytes());
}

void check_frame(const FrameFormat& format, const std::string& bytes, const std::string& name) {
    const std::string what = format.what;
    StateReader r(bytes, 0, name);
    if (bytes.size() < sizeof state_magic ||
        bytes.compare(0, sizeof state_magic, format.magic, sizeof state_magic) != 0) {
        r.fail_at(0, "not a capgap " + what + " (no " +
                         std::string(format.magic, sizeof state_magic) + " magic)");
    }
    StateReader h(bytes, sizeof state_magic, name);
    std::uint32_t version = 0, header = 0, body_crc = 0, header_crc = 0;
    std::uint64_t length = 0;
    h(version);
    if (version != format.version) {
        h.fail_at(8, what + " format version " + std::to_string(version) +
                         ", this capgap reads version " + std::to_string(format.version));
    }
    h(header);
    h(length);
    h(body_crc);
    const std::size_t crc_at = h.offset();
    h(header_crc);
    if (header != state_header_size) h.fail_at(12, "header size " + std::to_string(header));
    if (crc_of(bytes.data(), crc_at) != header_crc) h.fail_at(crc_at, "header CRC-32 mismatch");
    if (bytes.size() - state_header_size != length) {
        h.fail_at(16, "body of " + std::to_string(length) + " bytes, " +
                          std::to_string(bytes.size() - state_header_size) +
                          " present (truncated or extended)");
    }
    if (crc_of(bytes.data() + state_header_size, bytes.size() - state_header_size) != body_crc)
        h.fail_at(24, "body CRC-32 mismatch (the " + what + " is corrupt)");
}

namespace {
const FrameFormat state_frame{state_magic, FlowState::format_version, "flow state"};
}  // namespace

std::string frame_state(const std::string& body) {
    return frame_bytes(state_frame, body);
}

void check_state(const std::string& bytes, const std::string& name) {
    check_frame(state_frame, bytes, name);
}

}  // namespace detail

FlowState FlowState::load(std::string bytes, std::string name) {
    detail::check_state(bytes, name);
    FlowState s;
    detail::StateReader r(bytes, detail::state_header_size, name);
    detail::StateSummary sum;
    detail::state_summary(r, sum);
    s.chain_ = sum.chain;
    s.next_piece_ = sum.next_piece;
    s.frames_ = sum.frames;
    s.next_session_id_ = sum.next_session_id;
    s.clock_started_ = sum.clock_started;
    s.clock_ns_ = sum.clock_ns;
    s.open_sessions_ = sum.open_sessions;
    if (s.chain_ == 0) r.fail_at(detail::state_header_size + 4, "chain identity 0");
    s.bytes_ = std::move(bytes);
    s.name_ = std::move(name);
    return s;
}

FlowState FlowState::read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw_os_error(path, errno);
    std::ostringstream data;
    data << in.rdbuf();
    if (in.bad()) throw_io_error(path, "", "cannot read the flow state");
    return load(data.str(), path);
}

void FlowState::write_file(const std::string& path) const {
    const std::string tmp = path + ".tmp";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        if (!out) throw_os_error(tmp, errno);
        out.write(bytes_.data(), static_cast<std::streamsize>(bytes_.size()));
        out.flush();
        if (!out) {
            const int e = errno;
            std::remove(tmp.c_str());
            throw_os_error(tmp, e);
        }
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
        const int e = errno;
        std::remove(tmp.c_str());
        throw_os_error(path, e);
    }
}

}  // namespace capgap
