// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// @file
/// Reading pcap and pcapng captures (opened and checked by libpcap) from files, standard input
/// or any stream of bytes, plain or compressed, several merged into one capture.
///
/// @code
/// capgap::PcapSource src({"a.pcap", "b.pcapng.gz"}, "tcp port 443");
/// capgap::RawPacket p;
/// while (src.next(p)) { /* p.data, p.caplen, p.len, p.link_type, p.time, p.frame */ }
/// @endcode

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <capgap/ingest_stats.hpp>
#include <capgap/time.hpp>

namespace capgap {

namespace detail {
struct PcapSourceAccess;  // the pipeline's access (src/ingest/pcap_source.cpp)
}  // namespace detail

/// One record as read from a capture. `data` stays valid until the next call to next().
struct RawPacket {
    const std::uint8_t* data = nullptr;
    std::uint32_t caplen = 0;     ///< bytes captured
    std::uint32_t len = 0;        ///< bytes on the wire
    int link_type = 0;            ///< DLT_/LINKTYPE_ value of the packet's interface
    Timestamp time;               ///< nanosecond timestamp
    std::uint64_t frame = 0;      ///< 1-based frame number in the merged capture
    bool passed_filter = true;    ///< false when a BPF filter was given and rejected it
    std::uint32_t interface = 0;  ///< pcapng interface id (files of several interfaces); 0 else
};

/// One capture to read: a file by path ("-" is standard input) or a stream of bytes read
/// through a function (a socket, a decompressor, a Python file object).
///
/// @code
/// std::vector<capgap::CaptureInput> in{capgap::CaptureInput::file("a.pcap"),
///                                      capgap::CaptureInput::stream("net", read_some)};
/// capgap::Report r = capgap::analyze(in);
/// @endcode
class CaptureInput {
  public:
    /// Reads up to `size` bytes into `buffer` and returns how many it read (fewer is fine);
    /// 0 only at the end. An exception it throws stops the reading and reaches the caller of
    /// PcapSource (or analyze) unchanged.
    using Read = std::function<std::size_t(std::uint8_t* buffer, std::size_t size)>;

    /// The file at `path`; "-" reads standard input (named "stdin" in messages).
    CaptureInput(std::string path);  // NOLINT(google-explicit-constructor): a path is an input
    /// The same, from a C string (so that `{"a.pcap", "b.pcap"}` is a list of inputs).
    CaptureInput(const char* path) : CaptureInput(std::string(path)) {}  // NOLINT
    /// The file at `path`, as the constructor.
    static CaptureInput file(std::string path) { return CaptureInput(std::move(path)); }
    /// The bytes `read` gives, named `name` in messages and reports.
    static CaptureInput stream(std::string name, Read read);

    /// The path, or the stream's name; "stdin" for "-".
    const std::string& name() const { return name_; }
    /// The path as given (empty for a stream).
    const std::string& path() const { return path_; }
    /// True for standard input ("-").
    bool is_stdin() const { return path_ == "-"; }
    /// The read function of a stream (empty for a file).
    const Read& read() const { return read_; }

  private:
    CaptureInput() = default;
    std::string name_;
    std::string path_;
    Read read_;
};

/// Reads one or more capture files (pcap or pcapng, detected by content) as one capture.
///
/// Packets of several files are merged by timestamp, ties in the order the files were given
/// (as mergecap does), and numbered in that merged order. A BPF filter is applied per packet
/// with pcap_offline_filter, so frame numbers still count every packet as Wireshark does.
///
/// libpcap opens every file and checks its header. The records of a classic pcap file are then
/// parsed from 1 MB blocks read with pread, with libpcap's checks and error words (the same
/// packets as pcap_next_ex, at about a third of its cost); pcapng files of one interface are
/// read by pcap_next_ex, those describing several interfaces by a small pcapng reader of the
/// library's own, which gives each packet its interface id and its interface's link type.
///
/// Input compressed with gzip, zstd or lz4 (told by its first bytes, not by its name) is
/// decompressed as it is read, never whole. Standard input ("-"), pipes and streams are read
/// once, front to back, through the same readers. A corrupt or cut compressed stream stops
/// that input like a truncated file: its packets before the damage are kept and the problem
/// is recorded with the positions in the compressed and in the capture bytes.
class PcapSource {
  public:
    /// Opens every input: files ("-": standard input) and streams.
    /// @throws io_error when a file cannot be opened, or "-" is given twice
    /// @throws format_error when a file is not a pcap/pcapng capture
    /// @throws parse_error when the BPF filter does not compile
    /// @throws whatever a stream's read function throws, unchanged
    explicit PcapSource(const std::vector<CaptureInput>& inputs, const std::string& bpf = "");
    /// The same for a list of paths. (A template only so that a braced list, `{"a.pcap"}`,
    /// picks the constructor above rather than being ambiguous.)
    template <class Path, class = std::enable_if_t<std::is_same_v<Path, std::string>>>
    explicit PcapSource(const std::vector<Path>& paths, const std::string& bpf = "")
        : PcapSource(std::vector<CaptureInput>(paths.begin(), paths.end()), bpf) {}
    ~PcapSource();
    PcapSource(PcapSource&&) noexcept;
    PcapSource& operator=(PcapSource&&) noexcept;
    PcapSource(const PcapSource&) = delete;
    PcapSource& operator=(const PcapSource&) = delete;

    /// Reads the next packet in merged order; false at the end of every file.
    /// A file that ends in a truncated or corrupt record (or compressed data) stops there: the
    /// problem is recorded in stats().problems, and the packets before it are kept.
    /// @throws whatever a stream's read function throws, unchanged
    bool next(RawPacket& out);

    /// Reads up to `max` packets, in the order next() gives them, into out[0..n) and returns
    /// n; 0 at the end. Their `data` stays valid until the next call. Fewer than `max` says
    /// nothing about the end: a batch stops where the reader must read on in the file (or
    /// after one packet, where only next()'s way of reading applies).
    std::size_t next_batch(RawPacket* out, std::size_t max);

    /// Counters filled while reading (files, packets_read, bytes_read, problems, times).
    const IngestStats& stats() const;

    /// How far the reading is, in bytes of the inputs as stored (compressed input: compressed
    /// bytes), for a progress display: the sum over the inputs of the offset reached (read
    /// ahead included). When the position of an input cannot be told (a pipe, a stream), the
    /// capture bytes handed out so far (IngestStats::bytes_read) instead.
    std::uint64_t bytes_consumed() const;
    /// The inputs' total size as stored; 0 when one of them has no known size (standard input
    /// from a pipe, a stream).
    std::uint64_t bytes_total() const;

  private:
    friend struct detail::PcapSourceAccess;
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

/// A readable name for a DLT/LINKTYPE value ("EN10MB", "LINUX_SLL2", ...) via libpcap.
std::string link_type_name(int link_type);

}  // namespace capgap
