// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
#pragma once
// Private: the block reader of classic pcap files that PcapSource reads through. The
// per-record functions are inline here, where the PcapSource loop calls them; opening, reading
// the file and describing a damaged record are in pcap_block_reader.cpp.

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/compiler.hpp"
#include "ingest/packet.hpp"

struct pcap;  // pcap_t, from <pcap/pcap.h>, which only the readers' sources include

namespace capgap::detail {

class Stream;

// Classic pcap records read in large blocks, once libpcap has opened the file and checked its
// file header. Per packet, pcap_next_ex() makes two fread calls and copies the record twice
// (the kernel into stdio's 4 KB buffer, stdio into libpcap's); on a capture in the page cache
// that was most of a bare libpcap loop's time and a fifth of an analysis. Here one pread fills
// a 1 MB buffer that stays in the CPU's caches, and records are parsed where they lie in it.
// (A memory map of the file measured slower: a page fault per 64 KB and every packet's first
// touch missing the caches.) The checks and error messages are libpcap's (sf-pcap.c), so a
// damaged file stops at the same record with the same words.
//
// A capture read through a Stream (standard input, a pipe, compressed input) is read on from
// the Stream where libpcap left it after the file header, in the same blocks.
//
// Files this reader does not take stay with libpcap: pcapng, the old variants of the format
// (versions before 2.4, Kuznetzov's and Navtel's headers), link types whose pseudo-header
// libpcap rewrites in files of the other byte order, link types with another largest snapshot
// length, and what is neither a regular file nor a Stream.
class BlockPcapReader {
  public:
    enum Result { packet, end, failed };

    // The reader for the capture behind `p` (opened over `stream` when that is not null), or
    // null when libpcap should go on reading it.
    static std::unique_ptr<BlockPcapReader> open(pcap* p, Stream* stream = nullptr);

    ~BlockPcapReader() = default;
    BlockPcapReader(const BlockPcapReader&) = delete;
    BlockPcapReader& operator=(const BlockPcapReader&) = delete;

    Result next(Packet& out) {
        if (!reach(header_bytes)) return ended();
        const std::uint8_t* h = buffer_.data() + (pos_ - window_);
        const std::uint32_t caplen = u32(h + 8);
        if (caplen > static_cast<std::uint32_t>(snaplen_max) || !reach(header_bytes + caplen))
            return bad_record();
        take(buffer_.data() + (pos_ - window_), caplen, out);
        return packet;
    }

    // The next record when it lies whole in the buffer and is sound, without reading the file
    // (records handed out before stay where they are). False changes nothing: next() then
    // reads on, or says what is wrong with the record.
    bool next_buffered(Packet& out) {
        // The buffer never holds bytes past size_ (a file that grew after it was opened is
        // read as far as it was then).
        const std::uint64_t buffered = window_ + length_ - pos_;
        if (buffered < header_bytes) return false;
        const std::uint8_t* h = buffer_.data() + (pos_ - window_);
        const std::uint32_t caplen = u32(h + 8);
        if (caplen > static_cast<std::uint32_t>(snaplen_max) || buffered - header_bytes < caplen)
            return false;
        take(h, caplen, out);
        return true;
    }

    const std::string& error() const { return error_; }
    std::uint64_t offset() const { return pos_; }

  private:
    static constexpr std::uint64_t header_bytes = 16;
    static constexpr std::uint64_t file_header_bytes = 24;
    // Several records' worth (the largest is 16 + 262,144 bytes), and small enough to stay in
    // the CPU's second-level cache while it is parsed (256 KB to 1 MB measured the same).
    static constexpr std::size_t buffer_bytes = std::size_t{1} << 20;

    BlockPcapReader() = default;

    // The sound record at `h` (pos_) with `caplen` captured bytes, all in the buffer.
    void take(const std::uint8_t* h, std::uint32_t caplen, Packet& out) {
        const std::uint32_t sec = u32(h), frac = u32(h + 4);
        // As libpcap 1.10 reads them: signed 32-bit fields in the host's byte order, unsigned
        // ones in the other (its byte swap yields an unsigned value).
        const auto s = swapped_ ? std::int64_t{sec}
                                : static_cast<std::int64_t>(static_cast<std::int32_t>(sec));
        auto sub = swapped_ ? std::int64_t{frac}
                            : static_cast<std::int64_t>(static_cast<std::int32_t>(frac));
        if (micro_) sub *= 1000;
        out.data = h + header_bytes;
        out.caplen = std::min(caplen, snapshot_);  // libpcap cuts a longer record to the snaplen
        out.len = u32(h + 12);
        out.link_type = link_type_;
        out.ns = seconds_to_ns(s, sub);
        pos_ += header_bytes + caplen;
    }

    std::uint32_t u32(const std::uint8_t* p) const {
        std::uint32_t v;
        std::memcpy(&v, p, 4);
        return swapped_ ? __builtin_bswap32(v) : v;
    }

    Result fail(std::string what) {
        error_ = std::move(what);
        return failed;
    }

    // Makes [pos_, pos_ + bytes) part of the buffer; false when the capture ends before (or
    // reading failed: error_ says so).
    bool reach(std::uint64_t bytes) { return pos_ + bytes <= window_ + length_ || refill(bytes); }

    // Moves the unread rest of the buffer to its front and reads on from the file until
    // [pos_, pos_ + bytes) is there (bytes never exceeds a record, 16 + 262,144 bytes).
    CAPGAP_NOINLINE bool refill(std::uint64_t bytes);

    // No whole record header is left: the end, or a damaged last record.
    CAPGAP_NOINLINE Result ended();

    // The record at pos_ is damaged: says how, in libpcap's words (or why it could not be read).
    CAPGAP_NOINLINE Result bad_record();

    static constexpr std::uint64_t unknown_size = ~std::uint64_t{0};

    int fd_ = -1;  // libpcap's, closed by pcap_close
    Stream* stream_ = nullptr;
    // At open: a file growing meanwhile is read that far. A Stream's is known at its end.
    std::uint64_t size_ = 0;
    bool swapped_ = false;
    bool micro_ = true;
    std::uint32_t snapshot_ = 0;
    int link_type_ = 0;
    std::uint64_t pos_ = 0;     // offset of the next record
    std::uint64_t window_ = 0;  // the file offset buffer_[0] holds
    std::uint64_t length_ = 0;  // bytes of the file in buffer_
    std::vector<std::uint8_t> buffer_ = std::vector<std::uint8_t>(buffer_bytes);
    std::string error_;
};

}  // namespace capgap::detail
