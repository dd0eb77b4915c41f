// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// @file
/// The one-call entry point and the streaming Analyzer.
///
/// @code
/// capgap::Options opt;
/// opt.match.window = capgap::TimeWindow::parse("0,60");
/// capgap::Report r = capgap::analyze({"capture.pcapng"}, opt);
///
/// capgap::Analyzer a(opt);                 // packets from your own source
/// a.feed_packet(bytes, caplen, len, link_type, time);
/// capgap::Report r2 = a.finish();
/// @endcode

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include <capgap/matcher.hpp>
#include <capgap/pcap_source.hpp>
#include <capgap/report.hpp>
#include <capgap/segment.hpp>
#include <capgap/tracker.hpp>

namespace capgap {

class FlowState;
struct PieceResult;

/// How far analyze() (or extract_sessions()) has read, for a progress display.
struct Progress {
    std::uint64_t bytes_done = 0;   ///< input bytes read so far (compressed input: compressed)
    std::uint64_t bytes_total = 0;  ///< the inputs' total size; 0 when one is unknown (a pipe)
    std::uint64_t packets = 0;      ///< packets read so far
    std::uint64_t sessions = 0;     ///< session instances started so far
    double elapsed_seconds = 0;     ///< wall-clock time since the reading began
    bool done = false;              ///< true for the last call, once every packet is read
};

/// Called with the progress while the captures are read. An exception it throws stops the
/// reading and reaches the caller of analyze() unchanged (the way to cancel an analysis).
using ProgressCallback = std::function<void(const Progress&)>;

/// Everything analyze() takes.
struct Options {
    TrackerOptions tracker;  ///< detector settings
    MatchOptions match;      ///< window, server filter, mode
    std::string bpf;         ///< optional BPF filter (libpcap syntax); empty: none
    /// Make the outer tunnel (IP-in-IP, GRE, VXLAN, Geneve, GTP-U: outer endpoints and VNI,
    /// key or TEID) part of the flow key, so the same inner connection in two tunnels is two
    /// sessions. Off by default: the inner endpoints alone are the key, and a packet mirrored
    /// through two tunnels is one session (with its copy counted as a duplicate).
    bool tunnel_key = false;
    /// Called at most once per progress_interval_ns of wall-clock time while analyze() reads
    /// (checked every 256 packets or so), and once at the end with Progress::done set. Empty
    /// (the default): never called, and the reading loop does not look at the clock.
    ProgressCallback progress;
    /// The least time between two calls of `progress`, in nanoseconds. Default 100 ms.
    std::int64_t progress_interval_ns = 100'000'000;
    /// Keep the per-packet timeline (Report::timeline) the diagnosis's time and load figures
    /// come from. Off: the diagnosis has breakdowns and findings but no timeline or load.
    bool timeline = true;
    /// The diagnosis's settings, kept in Report::diagnosis_options.
    DiagnosisOptions diagnosis;
    /// Threads. The reading thread reads and decodes; with 2 or more, the segments are sharded
    /// by flow (both directions and every instance of a reused port on one tracker) over this
    /// many trackers, one on the reading thread (with a smaller share) and the others on
    /// threads of their own. The report, sessions and events are the same whatever the count
    /// (only TrackerOptions::max_open_flows is split between the trackers: with the cap
    /// reached, which instances are evicted may differ). 0 (the default): analyze() picks the
    /// machine's cores, at most 8, and 1 for an input under 64 MB; the streaming Analyzer
    /// takes 0 as 1, and with 2 or more needs frame numbers that increase (feed_packet and
    /// PcapSource number them so; a caller of feed_segment must), since the sessions are
    /// numbered in the order of their first frames. The extraction (extract_sessions())
    /// always uses 1.
    unsigned threads = 0;
};

/// The thread count analyze() uses for `options.threads` 0 and inputs of `input_bytes` bytes
/// in all (0: unknown, such as a pipe): the machine's cores, at most 8; 1 for less than 64 MB.
unsigned default_threads(std::uint64_t input_bytes);

/// Decodes packets, tracks sessions and builds the report, one packet at a time.
class Analyzer {
  public:
    explicit Analyzer(Options options = {});
    ~Analyzer();
    Analyzer(Analyzer&&) noexcept;
    Analyzer& operator=(Analyzer&&) noexcept;

    /// Feeds one raw packet (link-layer bytes). Frames are numbered 1, 2, ... in feed order.
    void feed_packet(const std::uint8_t* data, std::uint32_t caplen, std::uint32_t len,
                     int link_type, Timestamp time);
    /// Feeds one packet read by PcapSource (its frame number and filter result are kept).
    void feed(const RawPacket& packet);
    /// Feeds `count` packets in order, as feed() on each (PcapSource::next_batch fills them).
    void feed(const RawPacket* packets, std::size_t count);
    /// Feeds an already decoded segment (counted as read and decoded).
    void feed_segment(const Segment& segment);
    /// Counters so far.
    const IngestStats& stats() const;
    /// Session instances started so far (segments still waiting in the batch not included).
    std::uint64_t sessions_started() const;
    /// Hands the decoded segments waiting in the batch to the tracker now. Results do not
    /// change; the extraction pass calls it after each batch of packets, so that every packet
    /// fed so far is attributed (record_attribution) while its bytes are still at hand.
    void flush();
    /// Tracker::record_attribution: while `out` is set, every segment the tracker takes
    /// appends its frame and session id to `*out`. nullptr (the default) turns it off.
    void record_attribution(std::vector<Attribution>* out);
    /// The tracker, after the segments waiting in the batch were handed to it. Continuous
    /// measurement (live.hpp) takes the finished sessions out and judges open ones through it.
    /// Only with Options::threads 1 (or 0): throws std::logic_error otherwise.
    Tracker& tracker();
    /// Adds counters from a packet source (files, problems) before finish().
    void merge_source_stats(const IngestStats& source);
    /// Finishes tracking and returns the report. Call once.
    /// @throws format_error when packets were read but none could be decoded as TCP/IP and
    /// every one of them had an unsupported link type
    Report finish();

    /// Resumes a chain of pieces (flow_state.hpp) from the state the piece before ended with:
    /// its open flows, clock, ids, frame numbers, fragments, tunnels and timeline windows.
    /// Call before the first packet; an empty state changes nothing.
    /// @throws std::logic_error after packets were fed; format_error for a state that does not
    /// parse (naming it and the byte offset); parse_error naming the option when the state
    /// was made with other options
    void resume(const FlowState& state);
    /// The name of this piece's inputs, kept in the chain's sources (analyze_piece sets it).
    void set_source_name(std::string name);
    /// Ends a piece instead of finish(): the report of the sessions that ended so far, and the
    /// state that the next piece resumes. Call once.
    PieceResult suspend();

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

/// Reads the captures (one capture, merged by time: files, "-" for standard input, streams;
/// see CaptureInput) and returns the report.
/// @throws io_error, format_error, parse_error (see PcapSource and Analyzer::finish), and
/// whatever a stream's read function throws, unchanged
Report analyze(const std::vector<CaptureInput>& inputs, const Options& options = {});

/// The same for a list of paths. (A template only so that a braced list, `{"a.pcap"}`, picks
/// the function above rather than being ambiguous.)
template <class Path, class = std::enable_if_t<std::is_same_v<Path, std::string>>>
Report analyze(const std::vector<Path>& paths, const Options& options = {}) {
    return analyze(std::vector<CaptureInput>(paths.begin(), paths.end()), options);
}

}  // namespace capgap
