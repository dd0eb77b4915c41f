// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
#pragma once
// Private to the capture readers: captures read once, front to back (standard input, a pipe, a
// user's stream, any compressed input), and the decompressors (decompress.cpp).
//
// A capture that is not a plain regular file is read through a Stream: the raw bytes come from
// a ByteSource (a file descriptor, or the read function of a CaptureInput), a decompressor is
// put in front of them when their first bytes are a gzip, zstd or lz4 magic, and the capture
// bytes reach libpcap through an unbuffered FILE (glibc's fopencookie), so that what libpcap
// has read is exactly what the Stream gave: the block reader then reads on from the Stream where
// libpcap stopped. (A pcapng stream of several interfaces goes to the pcapng reader whole.)

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <capgap/pcap_source.hpp>

namespace capgap::detail {

class PcapngDropScanner;

// A problem of the bytes or of reading them, in words for a report ("gzip data corrupt at
// compressed byte 1234: invalid block type"). `io` marks a failed read rather than bad data.
struct StreamError : std::runtime_error {
    StreamError(const std::string& what, bool io_failure)
        : std::runtime_error(what), io(io_failure) {}
    bool io;
};

// Raw bytes. read() returns how many it put in `buffer`, 0 only at the end; it throws
// StreamError, or whatever a user's read function throws.
class ByteSource {
  public:
    virtual ~ByteSource() = default;
    virtual std::size_t read(std::uint8_t* buffer, std::size_t size) = 0;
};

// read(2) on `fd`; closes it when `owned`.
std::unique_ptr<ByteSource> fd_source(int fd, bool owned);
// The read function of a CaptureInput stream.
std::unique_ptr<ByteSource> function_source(CaptureInput::Read read);

// A ByteSource that, from its first read after start(), reads `inner` on a thread of its own,
// a few 1 MB blocks ahead of its reader (read_ahead.cpp); before that it reads `inner`
// directly. The bytes, and a failure after them, come as `inner` gives them; the thread ends
// and its blocks are freed at the end. For sources that never block for long (a regular
// file): the destructor waits for the block being read.
class ReadAheadSource : public ByteSource {
  public:
    virtual void start() = 0;
};
std::unique_ptr<ReadAheadSource> read_ahead_source(std::unique_ptr<ByteSource> inner);

enum class Compression { none, gzip, zstd, lz4 };

// The compression whose magic starts `head` (`size` bytes of it).
Compression compression_of(const std::uint8_t* head, std::size_t size);
const char* to_string(Compression c);
// The decompressed bytes of `compressed` (decompress.cpp); `c` is not none.
std::unique_ptr<ByteSource> decompressor(Compression c, std::unique_ptr<ByteSource> compressed);

// One capture's bytes, read once from the front. Reading never throws: a problem of the data
// (corrupt or cut compressed data, a failed read) is kept in words, and an exception of a
// user's read function is kept to be rethrown unchanged by the reader that met the failure.
class Stream {
  public:
    // Reads the first bytes of `raw` and puts a decompressor in front of it when they say so.
    // `raw_is_file`: `raw` reads a regular file (its decompression may then go on a thread of
    // its own, read_ahead()).
    // @throws StreamError, or what a user's read function throws, when the first bytes cannot
    // be read
    static std::unique_ptr<Stream> open(std::unique_ptr<ByteSource> raw, bool raw_is_file = false);
    ~Stream();

    // From now on, decompresses on a thread of its own, ahead of the reader: compressed input
    // from a regular file only (otherwise nothing changes, and false). The bytes are the same.
    bool read_ahead() {
        if (ahead_ == nullptr) return false;
        ahead_->start();
        return true;
    }

    // Up to `size` capture bytes: how many, 0 at the end, -1 when reading failed.
    std::ptrdiff_t read(std::uint8_t* buffer, std::size_t size);

    // The next `size` bytes without consuming them (fewer at the end or on a failure): they are
    // given again by read(). For looking ahead a little (up to a few MB).
    const std::uint8_t* peek(std::size_t size, std::size_t& available);

    // An unbuffered FILE over read(), for libpcap; fclose leaves the Stream alone.
    std::FILE* make_file();

    Compression compression() const { return compression_; }
    // The first four capture bytes (the pcap magic); false when there are fewer.
    bool first_bytes(std::uint8_t out[4]) const {
        for (int i = 0; i < 4; ++i)
            out[i] = head_[i];
        return head_size_ == 4;
    }
    // Capture bytes handed out so far.
    std::uint64_t offset() const { return offset_; }
    bool failed() const { return failed_; }
    // The pcapng interface drops counted from the bytes read so far (PcapngDropScanner); 0 for
    // content that is not pcapng.
    std::uint64_t pcapng_drops() const;
    // The problem in words; empty when a user's read function threw instead.
    const std::string& problem() const { return problem_; }
    bool io_problem() const { return io_problem_; }
    // Rethrows the exception a user's read function threw, if it did.
    void rethrow_user_exception() const {
        if (user_exception_) std::rethrow_exception(user_exception_);
    }

  private:
    Stream() = default;
    // Puts the decompressor for compression_ in front of source_, behind a read-ahead source
    // when the raw source is a regular file.
    void decompress(bool raw_is_file);
    // Reads more into buffer_ (at least one byte unless at the end or failed).
    bool fill();
    std::size_t read_source(std::uint8_t* buffer, std::size_t size);

    std::unique_ptr<ByteSource> source_;
    ReadAheadSource* ahead_ = nullptr;          // source_, when it is the decompressor's read-ahead
    std::unique_ptr<PcapngDropScanner> drops_;  // for pcapng content
    Compression compression_ = Compression::none;
    // Read from the source, not yet handed out: buffer_[begin_, end_).
    std::vector<std::uint8_t> buffer_;
    std::size_t begin_ = 0, end_ = 0;
    std::uint64_t offset_ = 0;
    std::uint8_t head_[4] = {0, 0, 0, 0};
    std::size_t head_size_ = 0;
    bool at_end_ = false;
    bool failed_ = false;
    bool io_problem_ = false;
    std::string problem_;
    std::exception_ptr user_exception_;
};

// True when a pcapng capture's first section describes more than one interface before its
// first packet: PcapSource then reads it with the pcapng reader, which knows each packet's
// interface (libpcap tells none, and refuses interfaces of different link types or snapshot
// lengths). The stream form looks ahead through Stream::peek, consuming nothing; the other
// reads a regular file with pread, leaving its offset alone.
bool pcapng_several_interfaces(Stream& stream);
bool pcapng_several_interfaces(int fd);

// Every compressed input of `source` read from a regular file decompresses on a thread of its
// own from now on (Stream::read_ahead): for an analysis on more than one thread. True when
// there is such an input.
bool read_ahead(PcapSource& source);

}  // namespace capgap::detail
