// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// The one place where error messages are formed, so every message reads
// "source:position: reason".

#include "core/errors.hpp"

#include <cstring>
#include <string>
#include <utility>

namespace capgap {

namespace {

std::string parse_position(std::uint64_t line, std::uint64_t column) {
    if (line == 0) return {};
    std::string pos = "line " + std::to_string(line);
    if (column != 0) pos += ", column " + std::to_string(column);
    return pos;
}

}  // namespace

std::string format_message(const std::string& source, const std::string& position,
                           const std::string& reason) {
    std::string msg;
    msg.reserve(source.size() + position.size() + reason.size() + 4);
    msg += source;
    if (!position.empty()) {
        msg += ':';
        msg += position;
    }
    msg += ": ";
    msg += reason;
    return msg;
}

parse_error::parse_error(std::string source, std::uint64_t line, std::uint64_t column,
                         const std::string& reason)
    : error(format_message(source, parse_position(line, column), reason)),
      source_(std::move(source)),
      line_(line),
      column_(column) {}

io_error::io_error(const std::string& message, std::string path, int error_number)
    : error(message), path_(std::move(path)), errno_(error_number) {}

void throw_io_error(const std::string& source, const std::string& position,
                    const std::string& reason) {
    throw io_error(format_message(source, position, reason));
}

void throw_os_error(const std::string& path, int error_number) {
    throw io_error(format_message(path, "", std::strerror(error_number)), path, error_number);
}

void throw_format_error(const std::string& source, const std::string& position,
                        const std::string& reason) {
    throw format_error(format_message(source, position, reason));
}

void throw_parse_error(const std::string& source, std::uint64_t line, std::uint64_t column,
                       const std::string& reason) {
    throw parse_error(source, line, column, reason);
}

}  // namespace capgap
