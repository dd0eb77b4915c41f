// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// Output files written whole or not at all (see output_file.hpp). POSIX calls rather than
// std::ofstream: a stream says that a write failed, not why (ENOSPC, EIO, EDQUOT...), and the
// reason is what the user needs to read.

#include "report/output_file.hpp"

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <streambuf>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/errors.hpp"

namespace capgap::detail {

namespace {

std::string reason(const std::string& what_failed, int error_number) {
    return what_failed + ": " + std::strerror(error_number);
}

// A stream buffer over a file descriptor that keeps the first write error's errno.
class FdBuf : public std::streambuf {
  public:
    explicit FdBuf(int fd) : fd_(fd) { setp(buf_, buf_ + sizeof buf_); }
    int error() const { return errno_; }

  protected:
    int_type overflow(int_type ch) override {
        if (sync() != 0) return traits_type::eof();
        if (!traits_type::eq_int_type(ch, traits_type::eof())) {
            *pptr() = traits_type::to_char_type(ch);
            pbump(1);
        }
        return traits_type::not_eof(ch);
    }
    int sync() override {
        if (errno_ == 0)
            errno_ = write_all(fd_, pbase(), static_cast<std::size_t>(pptr() - pbase()));
        setp(buf_, buf_ + sizeof buf_);  // after an error, the rest is dropped
        return errno_ == 0 ? 0 : -1;
    }

  public:
    // Writes every byte; 0, or the errno of the write that failed.
    static int write_all(int fd, const char* p, std::size_t n) {
        while (n > 0) {
            const ssize_t w = ::write(fd, p, n);
            if (w < 0) {
                if (errno == EINTR) continue;
                return errno;
            }
            p += w;
            n -= static_cast<std::size_t>(w);
        }
        return 0;
    }

  private:
    int fd_;
    int errno_ = 0;
    char buf_[1 << 16];
};

// Writes through `fd` (which it closes) and throws on the first failure. `name` is the path
// the user gave.
void write_fd(int fd, const std::string& name, const std::function<void(std::ostream&)>& write) {
    auto buf = std::make_unique<FdBuf>(fd);
    std::ostream out(buf.get());
    try {
        write(out);
    } catch (...) {
        ::close(fd);
        throw;
    }
    out.flush();
    const int write_errno = buf->error();
    const int close_result = ::close(fd);
    if (write_errno != 0) throw output_error(name, "write failed", write_errno);
    if (close_result != 0 && errno != EINTR) throw output_error(name, "write failed", errno);
}

// The directory part of `path` ("." when it has none) and the file name.
void split(const std::string& path, std::string& dir, std::string& base) {
    const std::size_t slash = path.rfind('/');
    if (slash == std::string::npos) {
        dir = ".";
        base = path;
    } else {
        dir = slash == 0 ? "/" : path.substr(0, slash);
        base = path.substr(slash + 1);
    }
}

}  // namespace

output_error::output_error(const std::string& name, const std::string& what_failed,
                           int error_number)
    : io_error(format_message(name, "", reason(what_failed, error_number)), name, error_number) {}

void write_output_file(const std::string& path, const std::function<void(std::ostream&)>& write) {
    const int flags = O_WRONLY | O_CREAT | O_CLOEXEC;
    struct stat st {};
    std::string target = path;
    bool exists = false;
    if (::stat(path.c_str(), &st) == 0) {
        exists = true;
        if (!S_ISREG(st.st_mode)) {
            // A device or a FIFO: written in place (renaming over /dev/stdout would replace
            // the device node, not write to it).
            const int fd = ::open(path.c_str(), flags | O_TRUNC, 0666);
            if (fd < 0) throw output_error(path, "cannot open for writing", errno);
            write_fd(fd, path, write);
            return;
        }
        struct stat lst {};
        if (::lstat(path.c_str(), &lst) == 0 && S_ISLNK(lst.st_mode)) {
            // Replace the link's target, not the link.
            std::unique_ptr<char, decltype(&std::free)> real(::realpath(path.c_str(), nullptr),
                                                             &std::free);
            if (real) target = real.get();
        }
    } else if (errno != ENOENT) {
        throw output_error(path, "cannot open for writing", errno);
    }

    std::string dir, base;
    split(target, dir, base);
    if (base.empty()) throw output_error(path, "cannot open for writing", EISDIR);
    const std::string temp =
        (dir == "/" ? "" : dir) + "/." + base + ".tmp-" + std::to_string(::getpid());
    int fd = ::open(temp.c_str(), flags | O_EXCL, 0666);
    if (fd < 0 && errno == EEXIST) {
        // Left by an earlier run with the same process id that was killed mid-write.
        ::unlink(temp.c_str());
        fd = ::open(temp.c_str(), flags | O_EXCL, 0666);
    }
    if (fd < 0) {
        // The directory may be missing or not writable: name what the user gave.
        throw output_error(path, "cannot open for writing", errno);
    }
    if (exists) (void)::fchmod(fd, st.st_mode & 07777);  // the file keeps its permissions
    try {
        write_fd(fd, path, write);
        if (::rename(temp.c_str(), target.c_str()) != 0)
            throw output_error(path, "cannot rename the finished file into place", errno);
    } catch (...) {
        ::unlink(temp.c_str());
        throw;
    }
}

void write_stdout(std::string_view text) {
    const int e = FdBuf::write_all(STDOUT_FILENO, text.data(), text.size());
    if (e != 0) throw output_error("stdout", "write failed", e);
}

}  // namespace capgap::detail
