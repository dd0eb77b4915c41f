// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// @file
/// Reading pcap and pcapng files (opened and checked by libpcap), several files merged into one
/// capture.
///
/// @code
/// capgap::PcapSource src({"a.pcap", "b.pcapng"}, "tcp port 443");
/// capgap::RawPacket p;
/// while (src.next(p)) { /* p.data, p.caplen, p.len, p.link_type, p.time, p.frame */ }
/// @endcode

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <capgap/ingest_stats.hpp>
#include <capgap/time.hpp>

namespace capgap {

/// One record as read from a capture. `data` stays valid until the next call to next().
struct RawPacket {
    const std::uint8_t* data = nullptr;
    std::uint32_t caplen = 0;   ///< bytes captured
    std::uint32_t len = 0;      ///< bytes on the wire
    int link_type = 0;          ///< DLT_/LINKTYPE_ value of the packet's interface
    Timestamp time;             ///< nanosecond timestamp
    std::uint64_t frame = 0;    ///< 1-based frame number in the merged capture
    bool passed_filter = true;  ///< false when a BPF filter was given and rejected it
};

/// Reads one or more capture files (pcap or pcapng, detected by content) as one capture.
///
/// Packets of several files are merged by timestamp, ties in the order the files were given
/// (as mergecap does), and numbered in that merged order. A BPF filter is applied per packet
/// with pcap_offline_filter, so frame numbers still count every packet as Wireshark does.
///
/// libpcap opens every file and checks its header. The records of a classic pcap file are then
/// parsed from 1 MB blocks read with pread, with libpcap's checks and error words (the same
/// packets as pcap_next_ex, at about a third of its cost); pcapng files are read by
/// pcap_next_ex, or, when their interfaces differ in link type, by a small pcapng reader of
/// the library's own.
class PcapSource {
  public:
    /// Opens every file.
    /// @throws io_error when a file cannot be opened
    /// @throws format_error when a file is not a pcap/pcapng capture
    /// @throws parse_error when the BPF filter does not compile
    explicit PcapSource(const std::vector<std::string>& paths, const std::string& bpf = "");
    ~PcapSource();
    PcapSource(PcapSource&&) noexcept;
    PcapSource& operator=(PcapSource&&) noexcept;
    PcapSource(const PcapSource&) = delete;
    PcapSource& operator=(const PcapSource&) = delete;

    /// Reads the next packet in merged order; false at the end of every file.
    /// A file that ends in a truncated or corrupt record stops there: the problem is recorded
    /// in stats().problems, and the packets before it are kept.
    bool next(RawPacket& out);

    /// Reads up to `max` packets, in the order next() gives them, into out[0..n) and returns
    /// n; 0 at the end. Their `data` stays valid until the next call. Fewer than `max` says
    /// nothing about the end: a batch stops where the reader must read on in the file (or
    /// after one packet, where only next()'s way of reading applies).
    std::size_t next_batch(RawPacket* out, std::size_t max);

    /// Counters filled while reading (files, packets_read, bytes_read, problems, times).
    const IngestStats& stats() const;

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

/// A readable name for a DLT/LINKTYPE value ("EN10MB", "LINUX_SLL2", ...) via libpcap.
std::string link_type_name(int link_type);

}  // namespace capgap
