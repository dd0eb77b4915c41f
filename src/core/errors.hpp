// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// The helpers that build error messages and throw: private, so src/core/errors.cpp stays the
// one place a message is formed and the public errors.hpp holds only the exceptions.
#pragma once

#include <capgap/errors.hpp>

#include <cstdint>
#include <string>

namespace capgap {

/// Builds the message "source:position: reason" (position omitted when empty).
std::string format_message(const std::string& source, const std::string& position,
                           const std::string& reason);

/// Throws io_error with a message in the common form.
/// @throws io_error always
[[noreturn]] void throw_io_error(const std::string& source, const std::string& position,
                                 const std::string& reason);

/// Throws io_error for a failure of the operating system: "path: strerror(error_number)",
/// with the path and errno kept on the exception.
/// @throws io_error always
[[noreturn]] void throw_os_error(const std::string& path, int error_number);

/// Throws format_error with a message in the common form.
/// @throws format_error always
[[noreturn]] void throw_format_error(const std::string& source, const std::string& position,
                                     const std::string& reason);

/// Throws parse_error (line and column 1-based, 0 when unknown).
/// @throws parse_error always
[[noreturn]] void throw_parse_error(const std::string& source, std::uint64_t line,
                                    std::uint64_t column, const std::string& reason);

}  // namespace capgap
