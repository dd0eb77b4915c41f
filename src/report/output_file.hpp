// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
#pragma once
// Private: writing the outputs (the command's report on stdout, --sessions-out and
// --events-out, Report.write_*_csv in Python) so that a failed write is never silent and a
// half-written file never takes the place of a complete one.

#include <capgap/errors.hpp>

#include <functional>
#include <ostream>
#include <string>
#include <string_view>

namespace capgap::detail {

// A write that failed: the output's name (a path, or "stdout") and errno. Its message is
// "NAME: write failed: STRERROR" (or "cannot open for writing: ..."), as io_error's are.
class output_error : public io_error {
  public:
    output_error(const std::string& name, const std::string& what_failed, int error_number);
    /// The file written (io_error::path()).
    const std::string& name() const noexcept { return path(); }
};

// Writes the file `path` with `write`. A regular file (or a new one) is written to a
// temporary beside it (".NAME.tmp-PID" in the same directory, so that the rename stays on one
// file system) and renamed over `path` only once every byte was written and the file closed
// without error; a symbolic link to a regular file is kept and its target replaced. Anything
// else (a device such as /dev/stdout or /dev/full, a FIFO) is written in place.
// @throws output_error when opening, writing, closing or renaming fails (the temporary is
// removed first); whatever `write` throws, after removing the temporary
void write_output_file(const std::string& path, const std::function<void(std::ostream&)>& write);

// Writes `text` to standard output (file descriptor 1), every byte, or throws.
// @throws output_error named "stdout" when a write fails
void write_stdout(std::string_view text);

}  // namespace capgap::detail
