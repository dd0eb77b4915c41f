// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// The block reader of classic pcap files: which files it takes, reading the file on, and
// libpcap's words for a damaged record. See pcap_block_reader.hpp.

#include "ingest/pcap_block_reader.hpp"

#include "ingest/stream.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include <pcap/pcap.h>

namespace capgap::detail {

std::unique_ptr<BlockPcapReader> BlockPcapReader::open(pcap_t* p, Stream* stream) {
    int fd = -1;
    std::uint64_t size = unknown_size;
    // libpcap already has the magic in its own terms, but not whether it was the nanosecond one.
    std::uint8_t magic[4];
    if (stream != nullptr) {
        if (!stream->first_bytes(magic)) return nullptr;
    } else {
        std::FILE* f = pcap_file(p);
        if (f == nullptr) return nullptr;
        fd = fileno(f);
        struct stat st {};
        if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) return nullptr;
        if (::pread(fd, magic, 4, 0) != 4) return nullptr;
        size = static_cast<std::uint64_t>(st.st_size);
    }
    const std::uint32_t m = std::uint32_t{magic[0]} | std::uint32_t{magic[1]} << 8 |
                            std::uint32_t{magic[2]} << 16 | std::uint32_t{magic[3]} << 24;
    bool micro;
    switch (pcap_is_swapped(p) ? __builtin_bswap32(m) : m) {
        case 0xa1b2c3d4:
            micro = true;
            break;
        case 0xa1b23c4d:
            micro = false;
            break;
        default:
            return nullptr;  // pcapng, Kuznetzov, Navtel
    }
    if (pcap_major_version(p) != 2 || pcap_minor_version(p) < 4) return nullptr;
    const int dlt = pcap_datalink(p);
    if (dlt == DLT_DBUS || dlt == DLT_USBPCAP || dlt == DLT_EBHSCR) return nullptr;
    if (pcap_is_swapped(p) &&
        (dlt == DLT_PFLOG || dlt == DLT_LINUX_SLL || dlt == DLT_LINUX_SLL2 ||
         dlt == DLT_USB_LINUX || dlt == DLT_USB_LINUX_MMAPPED || dlt == DLT_NFLOG))
        return nullptr;
    const int snapshot = pcap_snapshot(p);
    if (snapshot <= 0 || snapshot > snaplen_max) return nullptr;
    auto r = std::unique_ptr<BlockPcapReader>(new BlockPcapReader());
    r->fd_ = fd;
    r->stream_ = stream;
    r->size_ = size;
    r->swapped_ = pcap_is_swapped(p) != 0;
    r->micro_ = micro;
    r->snapshot_ = static_cast<std::uint32_t>(snapshot);
    r->link_type_ = dlt;
    r->pos_ = file_header_bytes;
    r->window_ = file_header_bytes;
    return r;
}

// Moves the unread rest of the buffer to its front and reads on from the file until
// [pos_, pos_ + bytes) is there (bytes never exceeds a record, 16 + 262,144 bytes).
bool BlockPcapReader::refill(std::uint64_t bytes) {
    const std::uint64_t keep = window_ + length_ > pos_ ? window_ + length_ - pos_ : 0;
    if (keep > 0) std::memmove(buffer_.data(), buffer_.data() + (pos_ - window_), keep);
    window_ = pos_;
    length_ = keep;
    while (length_ < bytes) {
        // Never past size_: a file that grows meanwhile is read as far as it was at open.
        const std::uint64_t room =
            std::min<std::uint64_t>(buffer_.size() - length_, size_ - (window_ + length_));
        if (room == 0) return false;  // the capture ends first
        ssize_t got;
        if (stream_ != nullptr) {
            got = stream_->read(buffer_.data() + length_, room);
            if (got == 0) {
                size_ = window_ + length_;  // the end of the stream: now its size is known
                return false;
            }
        } else {
            got =
                ::pread(fd_, buffer_.data() + length_, room, static_cast<off_t>(window_ + length_));
            if (got < 0 && errno == EINTR) continue;
        }
        if (got <= 0) {
            fail(got < 0 ? std::string("error reading dump file: ") +
                               std::strerror(stream_ != nullptr ? EIO : errno)
                         : std::string("the file was cut short while being read"));
            return false;
        }
        length_ += static_cast<std::uint64_t>(got);
    }
    return true;
}

BlockPcapReader::Result BlockPcapReader::ended() {
    if (!error_.empty()) return failed;  // set by refill()
    return pos_ == size_ ? end : bad_record();
}

// The record at pos_ is damaged: says how, in libpcap's words (or why it could not be read).
BlockPcapReader::Result BlockPcapReader::bad_record() {
    if (!error_.empty()) return failed;  // set by refill()
    const std::uint64_t left = size_ - pos_;
    if (left < header_bytes) {
        return fail("truncated dump file; tried to read 16 header bytes, only got " +
                    std::to_string(left));
    }
    const std::uint32_t caplen = u32(buffer_.data() + (pos_ - window_) + 8);
    if (caplen > static_cast<std::uint32_t>(snaplen_max)) {
        return fail("invalid packet capture length " + std::to_string(caplen) +
                    (caplen > snapshot_
                         ? ", bigger than snaplen of " + std::to_string(snapshot_)
                         : ", bigger than maximum of " + std::to_string(snaplen_max)));
    }
    const std::uint64_t have = left - header_bytes;
    const std::uint32_t tried = caplen > snapshot_ && have < snapshot_ ? snapshot_ : caplen;
    return fail("truncated dump file; tried to read " + std::to_string(tried) +
                " captured bytes, only got " + std::to_string(have));
}

}  // namespace capgap::detail
