// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// Captures read once from the front: byte sources, the Stream and its FILE for libpcap, and the
// look-ahead at a pcapng stream's interfaces. See stream.hpp.

#include "ingest/stream.hpp"

#include "ingest/pcapng_reader.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "ingest/packet.hpp"

namespace capgap::detail {

namespace {

class FdSource final : public ByteSource {
  public:
    FdSource(int fd, bool owned) : fd_(fd), owned_(owned) {}
    ~FdSource() override {
        if (owned_) ::close(fd_);
    }
    FdSource(const FdSource&) = delete;
    FdSource& operator=(const FdSource&) = delete;

    std::size_t read(std::uint8_t* buffer, std::size_t size) override {
        for (;;) {
            const ssize_t got = ::read(fd_, buffer, size);
            if (got >= 0) return static_cast<std::size_t>(got);
            if (errno != EINTR) {
                throw StreamError(std::string("error reading: ") + std::strerror(errno), true);
            }
        }
    }

  private:
    int fd_;
    bool owned_;
};

class FunctionSource final : public ByteSource {
  public:
    explicit FunctionSource(CaptureInput::Read read) : read_(std::move(read)) {}
    std::size_t read(std::uint8_t* buffer, std::size_t size) override {
        const std::size_t got = read_(buffer, size);
        if (got > size) {
            throw StreamError("the read function reported " + std::to_string(got) +
                                  " bytes for a buffer of " + std::to_string(size),
                              true);
        }
        return got;
    }

  private:
    CaptureInput::Read read_;
};

// Larger reads go straight to the caller's buffer (the block reader reads 1 MB at a time);
// smaller ones (libpcap's, a record header at a time) are served from here.
constexpr std::size_t buffer_bytes = std::size_t{64} << 10;

}  // namespace

std::unique_ptr<ByteSource> fd_source(int fd, bool owned) {
    return std::make_unique<FdSource>(fd, owned);
}

std::unique_ptr<ByteSource> function_source(CaptureInput::Read read) {
    return std::make_unique<FunctionSource>(std::move(read));
}

Compression compression_of(const std::uint8_t* head, std::size_t size) {
    if (size >= 2 && head[0] == 0x1f && head[1] == 0x8b) return Compression::gzip;
    if (size >= 4 && head[0] == 0x28 && head[1] == 0xb5 && head[2] == 0x2f && head[3] == 0xfd)
        return Compression::zstd;
    if (size >= 4 && head[0] == 0x04 && head[1] == 0x22 && head[2] == 0x4d && head[3] == 0x18)
        return Compression::lz4;
    return Compression::none;
}

const char* to_string(Compression c) {
    switch (c) {
        case Compression::gzip:
            return "gzip";
        case Compression::zstd:
            return "zstd";
        case Compression::lz4:
            return "lz4";
        case Compression::none:
            break;
    }
    return "none";
}

std::unique_ptr<Stream> Stream::open(std::unique_ptr<ByteSource> raw, bool raw_is_file) {
    auto s = std::unique_ptr<Stream>(new Stream());
    s->buffer_.resize(buffer_bytes);
    s->source_ = std::move(raw);
    // The raw source's first bytes decide; they are read again, in front of the rest.
    while (s->end_ < 4) {
        const std::size_t got = s->source_->read(s->buffer_.data() + s->end_, 4 - s->end_);
        if (got == 0) break;
        s->end_ += got;
    }
    s->compression_ = compression_of(s->buffer_.data(), s->end_);
    if (s->compression_ != Compression::none) s->decompress(raw_is_file);
    std::size_t have = 0;
    const std::uint8_t* head = s->peek(4, have);
    std::memcpy(s->head_, head, have);
    s->head_size_ = have;
    if (have == 4 && head[0] == 0x0a && head[1] == 0x0d && head[2] == 0x0d && head[3] == 0x0a) {
        // Every byte read so far is in the buffer; read_source shows it the rest.
        s->drops_ = std::make_unique<PcapngDropScanner>();
        s->drops_->feed(s->buffer_.data() + s->begin_, s->end_ - s->begin_);
    }
    return s;
}

void Stream::decompress(bool raw_is_file) {
    // A source that gives the bytes already read, then the rest of the raw source.
    class Replay final : public ByteSource {
      public:
        Replay(std::vector<std::uint8_t> head, std::unique_ptr<ByteSource> rest)
            : head_(std::move(head)), rest_(std::move(rest)) {}
        std::size_t read(std::uint8_t* buffer, std::size_t size) override {
            if (next_ < head_.size()) {
                const std::size_t n = std::min(size, head_.size() - next_);
                std::memcpy(buffer, head_.data() + next_, n);
                next_ += n;
                return n;
            }
            return rest_->read(buffer, size);
        }

      private:
        std::vector<std::uint8_t> head_;
        std::size_t next_ = 0;
        std::unique_ptr<ByteSource> rest_;
    };
    std::vector<std::uint8_t> head(buffer_.begin(),
                                   buffer_.begin() + static_cast<std::ptrdiff_t>(end_));
    end_ = 0;
    source_ =
        decompressor(compression_, std::make_unique<Replay>(std::move(head), std::move(source_)));
    if (raw_is_file) {
        auto ahead = read_ahead_source(std::move(source_));
        ahead_ = ahead.get();
        source_ = std::move(ahead);
    }
}

std::uint64_t Stream::pcapng_drops() const {
    return drops_ ? drops_->drops() : 0;
}

Stream::~Stream() = default;

std::size_t Stream::read_source(std::uint8_t* buffer, std::size_t size) {
    if (at_end_ || failed_) return 0;
    try {
        const std::size_t got = source_->read(buffer, size);
        if (got == 0) at_end_ = true;
        if (drops_) drops_->feed(buffer, got);
        return got;
    } catch (const StreamError& e) {
        problem_ = e.what();
        io_problem_ = e.io;
    } catch (...) {
        user_exception_ = std::current_exception();
    }
    failed_ = true;
    return 0;
}

bool Stream::fill() {
    if (begin_ == end_) begin_ = end_ = 0;
    if (end_ == buffer_.size()) {
        std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
        end_ -= begin_;
        begin_ = 0;
        if (end_ == buffer_.size()) buffer_.resize(buffer_.size() * 2);
    }
    const std::size_t got = read_source(buffer_.data() + end_, buffer_.size() - end_);
    end_ += got;
    return got > 0;
}

std::ptrdiff_t Stream::read(std::uint8_t* buffer, std::size_t size) {
    if (size == 0) return 0;
    if (begin_ == end_) {
        if (size >= buffer_bytes) {
            const std::size_t got = read_source(buffer, size);
            offset_ += got;
            return got > 0 || !failed_ ? static_cast<std::ptrdiff_t>(got) : -1;
        }
        if (!fill()) return failed_ ? -1 : 0;
    }
    const std::size_t n = std::min(size, end_ - begin_);
    std::memcpy(buffer, buffer_.data() + begin_, n);
    begin_ += n;
    offset_ += n;
    return static_cast<std::ptrdiff_t>(n);
}

const std::uint8_t* Stream::peek(std::size_t size, std::size_t& available) {
    while (end_ - begin_ < size) {
        if (begin_ > 0 && buffer_.size() - begin_ < size) {
            std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
            end_ -= begin_;
            begin_ = 0;
        }
        if (buffer_.size() < size) buffer_.resize(size);
        if (!fill()) break;
    }
    available = std::min(size, end_ - begin_);
    return buffer_.data() + begin_;
}

std::FILE* Stream::make_file() {
    cookie_io_functions_t io{};
    io.read = [](void* cookie, char* buffer, std::size_t size) -> ssize_t {
        const std::ptrdiff_t got =
            static_cast<Stream*>(cookie)->read(reinterpret_cast<std::uint8_t*>(buffer), size);
        if (got < 0) errno = EIO;
        return got;
    };
    io.close = [](void*) { return 0; };
    std::FILE* f = fopencookie(this, "rb", io);
    // Unbuffered: stdio then reads from the Stream exactly what libpcap asks for, and nothing
    // libpcap has not used stays hidden in a stdio buffer.
    if (f != nullptr) std::setvbuf(f, nullptr, _IONBF, 0);
    return f;
}

namespace {

// Walks the first section's blocks up to the first packet through `peek(size, available)`
// (the first `size` bytes of the input, `available` of them there) and tells whether they
// describe more than one interface.
template <typename Peek>
bool several_interfaces(Peek&& peek) {
    // Writers put every Interface Description Block before the first packet; an interface
    // added later of another link type still reaches libpcap's refusal (see pcap_source.cpp).
    constexpr std::size_t limit = std::size_t{16} << 20;
    std::size_t have = 0;
    const std::uint8_t* p = peek(12, have);
    if (have < 12) return false;
    bool big;
    if (p[8] == 0x1a && p[9] == 0x2b && p[10] == 0x3c && p[11] == 0x4d) {
        big = true;
    } else if (p[11] == 0x1a && p[10] == 0x2b && p[9] == 0x3c && p[8] == 0x4d) {
        big = false;
    } else {
        return false;
    }
    auto u32 = [big](const std::uint8_t* b) {
        return big ? (std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) |
                         (std::uint32_t{b[2]} << 8) | b[3]
                   : (std::uint32_t{b[3]} << 24) | (std::uint32_t{b[2]} << 16) |
                         (std::uint32_t{b[1]} << 8) | b[0];
    };
    std::size_t at = 0;
    bool first = true;
    unsigned interfaces = 0;
    while (at + 12 <= limit) {
        p = peek(at + 16, have);
        if (have < at + 16) return false;
        const std::uint32_t type = u32(p + at), total = u32(p + at + 4);
        if (total < 12 || total % 4 != 0 || total > limit - at) return false;
        if (type == 0x0a0d0d0a && !first) return false;  // the next section
        first = false;
        if (type == 2 || type == 3 || type == 6) return false;  // the first packet
        if (type == 1) {
            if (total < 20) return false;
            if (++interfaces > 1) return true;
        }
        at += total;
    }
    return false;
}

}  // namespace

bool pcapng_several_interfaces(Stream& stream) {
    return several_interfaces(
        [&stream](std::size_t size, std::size_t& have) { return stream.peek(size, have); });
}

bool pcapng_several_interfaces(int fd) {
    std::vector<std::uint8_t> buffer;
    std::size_t filled = 0;
    bool end = false;
    return several_interfaces([&](std::size_t size, std::size_t& have) {
        if (size > buffer.size()) buffer.resize(std::max(size, buffer.size() * 2));
        while (!end && filled < size) {
            const ssize_t got = ::pread(fd, buffer.data() + filled, buffer.size() - filled,
                                        static_cast<off_t>(filled));
            if (got <= 0) {
                end = true;  // a read error here is met again, and reported, by the reader
            } else {
                filled += static_cast<std::size_t>(got);
            }
        }
        have = std::min(size, filled);
        return static_cast<const std::uint8_t*>(buffer.data());
    });
}

}  // namespace capgap::detail
