// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// The decompressors a Stream puts in front of compressed input: gzip (zlib), zstd (libzstd) and
// lz4 frames (liblz4), each streamed through a fixed input buffer, never the whole input.
// Concatenated members or frames (gzip a b > c, pigz, zstd and lz4 frames back to back) are
// read on as one stream, as the command-line tools do. Input that stops before its compressed
// stream is complete is an error, not an end: a cut file must not look whole.

#include <climits>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include <lz4frame.h>
#include <zlib.h>
#include <zstd.h>

#include "ingest/stream.hpp"

namespace capgap::detail {

namespace {

constexpr std::size_t input_bytes = std::size_t{128} << 10;

// What every decompressor shares: the compressed input, its buffer and the count of compressed
// bytes consumed (the position in problem messages).
class Decompressor : public ByteSource {
  protected:
    explicit Decompressor(std::unique_ptr<ByteSource> in, const char* name)
        : in_(std::move(in)), name_(name) {}

    // Reads more compressed input once the buffer is used up; false at its end.
    bool fill() {
        if (pos_ < size_) return true;
        if (in_end_) return false;
        pos_ = 0;
        size_ = in_->read(buffer_.data(), buffer_.size());
        if (size_ == 0) in_end_ = true;
        return size_ > 0;
    }

    bool input_done() const { return pos_ == size_ && in_end_; }

    // Bad data: thrown now, or, when this read already produced `produced` bytes (the gzip
    // trailer's checksum is checked after its last bytes are out), at the next read, so that
    // every byte before the damage is handed out.
    std::size_t corrupt(const std::string& why, std::size_t produced) {
        deferred_ = std::string(name_) + " data corrupt at compressed byte " +
                    std::to_string(consumed_) + ": " + why;
        if (produced > 0) return produced;
        throw StreamError(deferred_, false);
    }
    void throw_deferred() const {
        if (!deferred_.empty()) throw StreamError(deferred_, false);
    }
    [[noreturn]] void cut_short() const {
        throw StreamError(std::string(name_) + " data cut short after " +
                              std::to_string(consumed_) + " compressed bytes",
                          false);
    }

    std::unique_ptr<ByteSource> in_;
    const char* name_;
    std::vector<std::uint8_t> buffer_ = std::vector<std::uint8_t>(input_bytes);
    std::size_t pos_ = 0, size_ = 0;
    std::uint64_t consumed_ = 0;
    bool in_end_ = false;
    std::string deferred_;
};

class Gzip final : public Decompressor {
  public:
    explicit Gzip(std::unique_ptr<ByteSource> in) : Decompressor(std::move(in), "gzip") {
        // 16 + window bits: a gzip header and trailer (CRC and length are checked).
        if (inflateInit2(&z_, 16 + MAX_WBITS) != Z_OK) {
            throw StreamError("gzip: cannot set up zlib", true);
        }
    }
    ~Gzip() override { inflateEnd(&z_); }
    Gzip(const Gzip&) = delete;
    Gzip& operator=(const Gzip&) = delete;

    std::size_t read(std::uint8_t* out, std::size_t size) override {
        throw_deferred();
        const auto want = static_cast<uInt>(size < UINT_MAX ? size : UINT_MAX);
        z_.next_out = out;
        z_.avail_out = want;
        while (z_.avail_out == want) {
            if (!fill()) {
                if (between_members_) return 0;
                cut_short();
            }
            if (between_members_) {
                // Another member follows; anything else after a complete member is not gzip.
                if (buffer_[pos_] != 0x1f)
                    return corrupt("data after the end of the gzip stream", 0);
                if (inflateReset(&z_) != Z_OK) return corrupt("cannot reset the decompressor", 0);
                between_members_ = false;
            }
            z_.next_in = buffer_.data() + pos_;
            z_.avail_in = static_cast<uInt>(size_ - pos_);
            const int r = inflate(&z_, Z_NO_FLUSH);
            const std::size_t used = (size_ - pos_) - z_.avail_in;
            pos_ += used;
            consumed_ += used;
            if (r == Z_STREAM_END) {
                between_members_ = true;
            } else if (r != Z_OK && r != Z_BUF_ERROR) {
                return corrupt(z_.msg != nullptr ? z_.msg : "zlib error " + std::to_string(r),
                               want - z_.avail_out);
            }
        }
        return want - z_.avail_out;
    }

  private:
    z_stream z_{};
    bool between_members_ = false;
};

class Zstd final : public Decompressor {
  public:
    explicit Zstd(std::unique_ptr<ByteSource> in)
        : Decompressor(std::move(in), "zstd"), d_(ZSTD_createDStream()) {
        if (d_ == nullptr || ZSTD_isError(ZSTD_initDStream(d_))) {
            ZSTD_freeDStream(d_);
            throw StreamError("zstd: cannot set up the decompressor", true);
        }
    }
    ~Zstd() override { ZSTD_freeDStream(d_); }
    Zstd(const Zstd&) = delete;
    Zstd& operator=(const Zstd&) = delete;

    std::size_t read(std::uint8_t* out, std::size_t size) override {
        throw_deferred();
        ZSTD_outBuffer o{out, size, 0};
        for (;;) {
            fill();
            // A complete frame, and nothing after it: the end.
            if (input_done() && last_ == 0) return o.pos;
            ZSTD_inBuffer i{buffer_.data(), size_, pos_};
            const std::size_t r = ZSTD_decompressStream(d_, &o, &i);
            consumed_ += i.pos - pos_;
            pos_ = i.pos;
            if (ZSTD_isError(r)) return corrupt(ZSTD_getErrorName(r), o.pos);
            last_ = r;  // 0: a frame ended and all of it was handed out
            if (o.pos > 0) return o.pos;
            if (input_done() && r != 0) cut_short();
        }
    }

  private:
    ZSTD_DStream* d_;
    std::size_t last_ = 1;
};

class Lz4 final : public Decompressor {
  public:
    explicit Lz4(std::unique_ptr<ByteSource> in) : Decompressor(std::move(in), "lz4") {
        if (LZ4F_isError(LZ4F_createDecompressionContext(&d_, LZ4F_VERSION))) {
            throw StreamError("lz4: cannot set up the decompressor", true);
        }
    }
    ~Lz4() override { LZ4F_freeDecompressionContext(d_); }
    Lz4(const Lz4&) = delete;
    Lz4& operator=(const Lz4&) = delete;

    std::size_t read(std::uint8_t* out, std::size_t size) override {
        throw_deferred();
        for (;;) {
            fill();
            if (input_done() && last_ == 0) return 0;
            std::size_t produced = size, used = size_ - pos_;
            const std::size_t r =
                LZ4F_decompress(d_, out, &produced, buffer_.data() + pos_, &used, nullptr);
            pos_ += used;
            consumed_ += used;
            if (LZ4F_isError(r)) return corrupt(LZ4F_getErrorName(r), produced);
            last_ = r;  // 0: a frame ended and all of it was handed out
            if (produced > 0) return produced;
            if (input_done() && r != 0) cut_short();
        }
    }

  private:
    LZ4F_dctx* d_ = nullptr;
    std::size_t last_ = 1;
};

}  // namespace

std::unique_ptr<ByteSource> decompressor(Compression c, std::unique_ptr<ByteSource> compressed) {
    switch (c) {
        case Compression::gzip:
            return std::make_unique<Gzip>(std::move(compressed));
        case Compression::zstd:
            return std::make_unique<Zstd>(std::move(compressed));
        case Compression::lz4:
            return std::make_unique<Lz4>(std::move(compressed));
        case Compression::none:
            break;
    }
    return compressed;
}

}  // namespace capgap::detail
