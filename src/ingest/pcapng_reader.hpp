// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
#pragma once
// Private: the pcapng reader PcapSource switches to for multi-interface files (see
// pcap_source.cpp).

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "ingest/packet.hpp"

namespace capgap::detail {

// Option codes of the pcapng Interface Statistics Block: packets dropped by the interface and
// by the operating system since the capture started.
constexpr std::uint16_t isb_ifdrop = 5;
constexpr std::uint16_t isb_osdrop = 7;

// The drops a pcapng file reports. The interface statistics (cumulative: the last block of each
// interface counts; `closed`: those of earlier sections) and the enhanced packet blocks' drop
// counts describe the same lost packets, so where a file carries both, the larger total is
// the file's count, never their sum.
inline std::uint64_t combined_drops(std::uint64_t closed,
                                    const std::map<std::uint32_t, std::uint64_t>& isb,
                                    std::uint64_t epb) {
    std::uint64_t statistics = closed;
    for (const auto& d : isb)
        statistics += d.second;
    return statistics > epb ? statistics : epb;
}

// A drop figure a pcapng file carries, where it carries it (replay's per-interval host drops,
// live.hpp): an interface statistics block's cumulative counters, or an enhanced packet
// block's drop count (packets lost since the packet before on that interface).
struct DropMark {
    std::int64_t ns = 0;      // the block's timestamp
    bool statistics = false;  // true: an ISB (cumulative, of `interface`); false: an EPB
    std::uint32_t interface = 0;
    std::uint64_t received = 0;   // isb_ifrecv
    std::uint64_t ifdrop = 0;     // isb_ifdrop
    std::uint64_t osdrop = 0;     // isb_osdrop
    std::uint64_t epb_drops = 0;  // epb_dropcount
};

// Every drop figure of the pcapng file at `path`, in file order; empty for anything else (a
// classic pcap, a compressed file). Stops quietly at a damaged block: the reading proper
// reports it.
std::vector<DropMark> pcapng_drop_marks(const std::string& path);

// A minimal pcapng reader for files of several interfaces, whose packets libpcap cannot tell
// apart by interface (and refuses when the interfaces differ in link type or snapshot
// length). Reads Section Header, Interface Description, Enhanced, Simple and (obsolete)
// Packet blocks in either byte order and skips every other block.
class PcapngReader {
  public:
    explicit PcapngReader(FilePtr file) : file_(std::move(file)) {}

    enum Result { packet, end, failed };

    // The next packet, each with its own interface's link type and timestamp resolution.
    Result next(Packet& out);

    const std::string& error() const { return error_; }
    std::uint64_t block_offset() const { return block_offset_; }
    // Packets the interfaces dropped, so far: the last interface statistics block of each
    // interface (isb_ifdrop + isb_osdrop) and every enhanced packet block's epb_dropcount.
    std::uint64_t drops() const;
    // While set, every drop figure read is appended here (pcapng_drop_marks).
    std::vector<DropMark>* marks = nullptr;

  private:
    struct Interface {
        int link_type = 0;
        // The snapshot length when it bounds the packets as libpcap checks it; 0: no bound.
        std::uint32_t snaplen = 0;
        std::uint64_t ticks_per_second = 1000000;
        std::int64_t offset_seconds = 0;
    };

    Result fail(const char* what) {
        error_ = what;
        return failed;
    }

    std::uint16_t u16(const std::uint8_t* p) const {
        return big_ ? static_cast<std::uint16_t>((p[0] << 8) | p[1])
                    : static_cast<std::uint16_t>((p[1] << 8) | p[0]);
    }
    std::uint32_t u32(const std::uint8_t* p) const {
        return big_ ? (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) |
                          (std::uint32_t{p[2]} << 8) | p[3]
                    : (std::uint32_t{p[3]} << 24) | (std::uint32_t{p[2]} << 16) |
                          (std::uint32_t{p[1]} << 8) | p[0];
    }

    static int to_dlt(std::uint16_t linktype);
    Result read_block(std::uint32_t& type);
    bool read_interface_options(const std::uint8_t* p, std::uint32_t size, Interface& ifc);
    bool bad_resolution();
    std::uint64_t option_u64(const std::uint8_t* p, std::uint32_t size, std::uint16_t code) const;
    static std::int64_t to_ns(std::uint64_t ts, const Interface& ifc);

    FilePtr file_;
    std::vector<std::uint8_t> body_;
    std::vector<Interface> interfaces_;
    std::uint64_t offset_ = 0;
    std::uint64_t block_offset_ = 0;
    bool big_ = false;
    std::string error_;
    std::map<std::uint32_t, std::uint64_t> isb_drops_;  // this section's, by interface
    std::uint64_t closed_drops_ = 0;                    // of the sections before
    std::uint64_t epb_drops_ = 0;
};

// The same drops counted from the bytes of a pcapng stream as they pass (a Stream read by
// libpcap, which keeps none of them): fed every byte once, in order, from the first.
class PcapngDropScanner {
  public:
    void feed(const std::uint8_t* p, std::size_t n);
    std::uint64_t drops() const;

  private:
    void block_done();
    std::uint32_t u32(const std::uint8_t* p) const {
        return big_ ? (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) |
                          (std::uint32_t{p[2]} << 8) | p[3]
                    : (std::uint32_t{p[3]} << 24) | (std::uint32_t{p[2]} << 16) |
                          (std::uint32_t{p[1]} << 8) | p[0];
    }
    std::uint8_t head_[12] = {};
    std::size_t head_have_ = 0;
    std::uint32_t type_ = 0;
    std::uint64_t body_ = 0;      // body bytes of the current block (after the header read)
    std::uint64_t pos_ = 0;       // of which passed
    std::uint64_t skip_end_ = 0;  // EPB: the packet data [20, skip_end_) is not kept
    std::vector<std::uint8_t> keep_;
    bool big_ = false;
    bool dead_ = false;     // not pcapng, or a bad block: stop counting
    bool started_ = false;  // the first section header was read
    std::map<std::uint32_t, std::uint64_t> isb_drops_;
    std::uint64_t closed_drops_ = 0, epb_drops_ = 0;
};

// The drops (PcapngReader::drops) of a pcapng file read by libpcap, which keeps none of them:
// its blocks read again from the start. 0 for a file that is not pcapng or cannot be read
// (reading it for its packets reports that).
std::uint64_t pcapng_file_drops(const std::string& path);

}  // namespace capgap::detail
