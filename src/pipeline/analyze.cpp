// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// The streaming Analyzer: decode, count, track, then match. The per-packet path allocates
// nothing: the segment lives on the stack and counters are plain integers.

#include <capgap/analyze.hpp>
#include <capgap/flow_state.hpp>

#include <algorithm>
#include <chrono>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/compiler.hpp"
#include "core/errors.hpp"
#include "decode/decode.hpp"
#include "decode/reassembly.hpp"
#include "diagnose/accumulator.hpp"
#include "ingest/stream.hpp"
#include "match/match_rows.hpp"
#include "pipeline/parallel.hpp"
#include "pipeline/read_all.hpp"
#include "pipeline/state_format.hpp"

namespace capgap {

namespace {

// Text naming every unsupported link type seen, e.g. "IEEE802_11 (12 packets)".
std::string describe_links(const IngestStats& st) {
    std::string out;
    for (const auto& l : st.unsupported_link_types) {
        if (!out.empty()) out += ", ";
        out += l.first + " (" + std::to_string(l.second) + " packets)";
    }
    return out;
}

bool nothing_decodable(const IngestStats& st) {
    return st.packets_read > 0 && st.skipped_unsupported_link == st.packets_read;
}

// Counts a segment the snaplen cut, without a branch: where the snaplen cuts the larger
// packets only, whether a packet was cut follows its size, which the processor cannot
// predict (half the packets of the benchmark capture).
inline void count_truncated(IngestStats& st, const Segment& seg) {
    st.truncated_packets += seg.truncated_bytes > 0 ? 1 : 0;
    st.truncated_bytes += seg.truncated_bytes;
}

}  // namespace

// What an Analyzer knows of the chain of pieces it is part of (flow_state.hpp).
struct Chain {
    bool resumed = false;
    std::uint64_t id = 0;                  // 0 until resumed or suspended
    std::uint32_t piece = 0;               // this piece's index
    std::vector<std::string> sources;      // every piece's inputs before this one
    std::vector<std::uint64_t> first_ids;  // the first session id of every piece before
    std::string source_name;               // this piece's inputs
    bool have_anchor = false;              // the chain's first packet time (relative windows)
    Timestamp anchor;
    TrackerCounters before;  // the tracker's counters when resumed (a piece reports its own)
    // The timeline's bucket grid so far (width and origin; width 0: none yet). The next piece
    // buckets on it, so that a piece that starts at an outlier time does not move the grid.
    std::int64_t grid_base_ns = 0;
    std::int64_t grid_origin_ns = 0;
};

struct Analyzer::Impl {
    explicit Impl(Options o) : options(std::move(o)), tracker(options.tracker) {
        batch.resize(batch_size);
        if (options.threads > 1)
            sharded = std::make_unique<detail::ShardedTracker>(options.tracker, options.threads,
                                                               options.timeline);
    }

    // The chain of pieces (below Analyzer::finish).
    Report piece_report();
    void save(detail::StateWriter& out);
    void restore(detail::StateReader& in);
    bool ended = false;  // suspend() was called

    Options options;
    Tracker tracker;                                  // with threads 1
    std::unique_ptr<detail::ShardedTracker> sharded;  // with threads 2 or more
    // Decoded segments wait here in capture order and reach the tracker a batch at a time,
    // which lets it fetch the flow state of the next ones while it works on the current one.
    // Packets are decoded in place into the next free entry, so a segment is never copied.
    static constexpr std::size_t batch_size = 256;
    std::vector<Segment> batch;  // batch_size entries, the first `batched` of them in use
    std::size_t batched = 0;
    IngestStats stats;
    detail::Reassembler reassembler;  // fragmented TCP and tunnel datagrams (counts its pieces)
    std::uint64_t frames = 0;
    std::uint64_t frame_base = 0;  // added to a RawPacket's frame: frames before this piece
    bool fed = false;              // a packet was fed (resume() comes first)
    Chain chain;                   // the chain of pieces, when resumed or suspended
    // Link type -> libpcap name, filled on first sight so the hot path never formats names.
    std::vector<std::pair<int, std::string>> link_names;

    // The entry the next segment is decoded into.
    Segment& next_entry() { return batch[batched]; }
    // Takes the entry next_entry() returned (already filled) into the batch.
    void commit_entry() {
        if (++batched == batch_size) flush();
    }
    void track(const Segment& seg) {
        next_entry() = seg;
        commit_entry();
    }
    void flush() {
        if (sharded) {
            // The timeline's marks come from the shards at the end (ShardedTracker::finish).
            if (options.timeline)
                for (std::size_t i = 0; i < batched; ++i)
                    timeline.segment(batch[i], 0);
            sharded->feed(batch.data(), batched);
        } else if (options.timeline) {
            tracker.feed(batch.data(), batched, marks);
            for (std::size_t i = 0; i < batched; ++i)
                timeline.segment(batch[i], marks[i]);
        } else {
            tracker.feed(batch.data(), batched);
        }
        batched = 0;
    }
    detail::TimelineAccumulator timeline;  // with options.timeline
    std::uint8_t marks[batch_size];        // the tracker's feed_marks of the batch

    void note_time(Timestamp t) {
        if (!stats.have_time) {
            stats.have_time = true;
            stats.first_time = t;
        }
        stats.last_time = t;
    }

    void count_unsupported(int link_type) {
        ++stats.skipped_unsupported_link;
        for (const auto& ln : link_names) {
            if (ln.first == link_type) {
                ++stats.unsupported_link_types[ln.second];
                return;
            }
        }
        link_names.emplace_back(link_type, link_type_name(link_type));
        ++stats.unsupported_link_types[link_names.back().second];
    }

    // Tunnel paths seen (tunnel_key): hash -> (path, id), ids from 1.
    std::unordered_multimap<std::uint64_t, std::pair<detail::TunnelPath, std::uint32_t>> tunnel_ids;
    detail::TunnelPath path;

    CAPGAP_NOINLINE std::uint32_t tunnel_id(const detail::TunnelPath& p) {
        if (p.depth == 0) return 0;
        const std::uint64_t h = p.hash();
        const auto range = tunnel_ids.equal_range(h);
        for (auto it = range.first; it != range.second; ++it)
            if (it->second.first == p) return it->second.second;
        stats.tunnels.push_back(p.describe());
        const auto id = static_cast<std::uint32_t>(stats.tunnels.size());
        tunnel_ids.emplace(h, std::make_pair(p, id));
        return id;
    }

    // Encapsulation -> name, filled on first sight like link_names.
    std::vector<std::pair<detail::EncapInfo, std::string>> encap_names;

    void count_encapsulation(detail::EncapInfo e) {
        for (const auto& en : encap_names) {
            if (en.first == e) {
                ++stats.unsupported_encapsulations[en.second];
                return;
            }
        }
        encap_names.emplace_back(e, detail::encapsulation_name(e));
        ++stats.unsupported_encapsulations[encap_names.back().second];
    }

    // Decodes into the next batch entry. A TCP result sets every field of the segment but
    // frame, time and tunnel (decode_tcp_header the TCP ones, the IP layer or the reassembler
    // the addresses), so the entry is not cleared first.
    void decode(const std::uint8_t* data, std::uint32_t caplen, std::uint32_t len, int link_type,
                std::uint64_t frame, Timestamp time, std::uint32_t interface) {
        Segment& seg = next_entry();
        seg.vlan = no_vlan;
        seg.interface = interface;
        detail::TunnelPath* tunnels = options.tunnel_key ? &path : nullptr;
        detail::Decoded d;
        if (tunnels != nullptr || !detail::decode_common(data, caplen, len, link_type, seg, d)) {
            if (!decode_other(data, caplen, len, link_type, time, seg, tunnels)) return;
        } else if (d != detail::Decoded::tcp) {
            count_skipped(d, link_type, detail::EncapInfo{});
            return;
        }
        seg.frame = frame;
        seg.time = time;
        seg.tunnel = tunnels != nullptr ? tunnel_id(path) : 0;
        ++stats.decoded;
        count_truncated(stats, seg);
        commit_entry();
    }

    // Every packet decode_common does not take (other link types, tunnels, fragments, and all
    // with tunnel_key): the general decoder, the reassembler for a fragment, and the count of a
    // packet that gave no segment. Out of line, so that decode() stays small enough to be
    // inlined into the per-packet loop. True when `seg` holds a TCP segment.
    CAPGAP_NOINLINE bool decode_other(const std::uint8_t* data, std::uint32_t caplen,
                                      std::uint32_t len, int link_type, Timestamp time,
                                      Segment& seg, detail::TunnelPath* tunnels) {
        if (link_type == detail::link_type_erf) count_card_drops(data, caplen);
        detail::IpFragment frag;
        detail::EncapInfo encap;
        detail::Decoded d =
            detail::decode_packet(data, caplen, len, link_type, seg, &frag, &encap, tunnels);
        if (d == detail::Decoded::tcp_fragment)
            d = reassembler.add(frag, time, seg, stats, &encap, tunnels);
        if (d != detail::Decoded::tcp) {
            count_skipped(d, link_type, encap);
            return false;
        }
        return true;
    }

    // An ERF record's loss counter: records the capture card dropped before it. Read for
    // every record, filtered out or not (never on the common path: decode_common takes only
    // Ethernet).
    CAPGAP_NOINLINE void count_card_drops(const std::uint8_t* data, std::uint32_t caplen) {
        stats.capture_card_drops += detail::erf_loss_counter(data, caplen);
    }

    // A packet the BPF filter rejected (out of line, as count_skipped): an ERF record's loss
    // counter still counts.
    CAPGAP_NOINLINE void count_filtered(const RawPacket& packet) {
        ++stats.filtered_out;
        if (packet.link_type == detail::link_type_erf) count_card_drops(packet.data, packet.caplen);
    }

    // A packet that gave no segment, counted by why (out of line: the per-packet path above
    // stays small).
    CAPGAP_NOINLINE void count_skipped(detail::Decoded d, int link_type, detail::EncapInfo encap) {
        switch (d) {
            case detail::Decoded::tcp:  // not skipped: never passed here
                return;
            case detail::Decoded::not_ip:
                ++stats.skipped_not_ip;
                return;
            case detail::Decoded::not_tcp:
                ++stats.skipped_not_tcp;
                return;
            case detail::Decoded::ip_fragment:
                ++stats.skipped_ip_fragment;
                return;
            case detail::Decoded::bad_ip_header:
                ++stats.skipped_bad_ip_header;
                return;
            case detail::Decoded::bad_tcp_header:
                ++stats.skipped_bad_tcp_header;
                return;
            case detail::Decoded::truncated_header:
                ++stats.skipped_truncated_header;
                return;
            case detail::Decoded::unsupported_link:
                count_unsupported(link_type);
                return;
            case detail::Decoded::tcp_fragment:  // held by the reassembler, which counted it
                return;
            case detail::Decoded::encapsulation_depth:
                ++stats.skipped_encapsulation_depth;
                return;
            case detail::Decoded::encrypted:
                ++stats.skipped_encrypted;
                count_encapsulation(encap);
                return;
            case detail::Decoded::unsupported_encapsulation:
                ++stats.skipped_unsupported_encapsulation;
                count_encapsulation(encap);
                return;
        }
    }
};

Analyzer::Analyzer(Options options) : impl_(std::make_unique<Impl>(std::move(options))) {}
Analyzer::~Analyzer() = default;
Analyzer::Analyzer(Analyzer&&) noexcept = default;
Analyzer& Analyzer::operator=(Analyzer&&) noexcept = default;

void Analyzer::feed_packet(const std::uint8_t* data, std::uint32_t caplen, std::uint32_t len,
                           int link_type, Timestamp time) {
    Impl& im = *impl_;
    const std::uint64_t frame = ++im.frames;
    im.fed = true;
    ++im.stats.packets_read;
    im.stats.bytes_read += caplen;
    im.note_time(time);
    if (im.options.timeline) im.timeline.packet(time.ns, len);
    im.decode(data, caplen, len, link_type, frame, time, 0);
}

void Analyzer::feed(const RawPacket& packet) {
    Impl& im = *impl_;
    const std::uint64_t frame = packet.frame + im.frame_base;
    if (frame > im.frames) im.frames = frame;
    im.fed = true;
    ++im.stats.packets_read;
    im.stats.bytes_read += packet.caplen;
    im.note_time(packet.time);
    if (im.options.timeline) im.timeline.packet(packet.time.ns, packet.len);
    if (!packet.passed_filter) {
        im.count_filtered(packet);
        return;
    }
    im.decode(packet.data, packet.caplen, packet.len, packet.link_type, frame, packet.time,
              packet.interface);
}

void Analyzer::feed(const RawPacket* packets, std::size_t count) {
    for (std::size_t i = 0; i < count; ++i)
        feed(packets[i]);
}

void Analyzer::feed_segment(const Segment& segment) {
    Impl& im = *impl_;
    if (segment.frame > im.frames) im.frames = segment.frame;
    im.fed = true;
    ++im.stats.packets_read;
    ++im.stats.decoded;
    im.note_time(segment.time);
    if (im.options.timeline) im.timeline.packet(segment.time.ns, segment.payload_len);
    count_truncated(im.stats, segment);
    im.track(segment);
}

const IngestStats& Analyzer::stats() const {
    return impl_->stats;
}

std::uint64_t Analyzer::sessions_started() const {
    if (impl_->sharded) return impl_->sharded->sessions_started();
    return impl_->tracker.sessions_started();
}

void Analyzer::flush() {
    impl_->flush();
}

Tracker& Analyzer::tracker() {
    if (impl_->sharded) throw std::logic_error("Analyzer::tracker needs Options::threads 1");
    impl_->flush();
    return impl_->tracker;
}

void Analyzer::record_attribution(std::vector<Attribution>* out) {
    if (impl_->sharded && out != nullptr)
        throw std::logic_error("record_attribution needs Options::threads 1");
    impl_->tracker.record_attribution(out);
}

void Analyzer::merge_source_stats(const IngestStats& source) {
    // Packet counters and times are counted here as packets are fed; a source contributes
    // only what the Analyzer cannot see: its input counters (files opened, CSV rows) and
    // reads that stopped early.
    IngestStats& st = impl_->stats;
    for (const IngestCounter& c : ingest_counters) {
        if (c.group == CounterGroup::input) st.*c.member += source.*c.member;
    }
    st.problems.insert(st.problems.end(), source.problems.begin(), source.problems.end());
    st.csv_bad_lines.insert(st.csv_bad_lines.end(), source.csv_bad_lines.begin(),
                            source.csv_bad_lines.end());
    if (!st.have_time && source.have_time) {
        st.have_time = true;
        st.first_time = source.first_time;
        st.last_time = source.last_time;
    }
}

Report Analyzer::finish() {
    Impl& im = *impl_;
    im.reassembler.flush(im.stats);
    im.flush();
    std::vector<Session> sessions;
    std::vector<SessionRow> rows;  // with threads: the shards' sessions, merged into rows
    std::vector<LossEvent> events;
    TrackerCounters c;
    if (im.sharded) {
        detail::ShardedResult r = im.sharded->finish(im.options.timeline ? &im.timeline : nullptr);
        rows = std::move(r.rows);
        events = std::move(r.events);
        c = r.counters;
    } else {
        im.tracker.finish();
        if (im.chain.resumed) return im.piece_report();
        sessions = im.tracker.take_sessions();
        events = im.tracker.take_events();
        c = im.tracker.counters();
    }
#define CAPGAP_COPY_COUNTER(name, group, description) im.stats.name = c.name;
    CAPGAP_TRACKER_COUNTERS(CAPGAP_COPY_COUNTER)
#undef CAPGAP_COPY_COUNTER
    if (nothing_decodable(im.stats)) {
        throw_format_error(
            "capture", "",
            "no packet could be decoded: unsupported link type " + describe_links(im.stats));
    }
    Report report =
        im.sharded
            ? detail::match_rows(im.options.match, std::move(rows), std::move(events), im.stats)
            : Matcher(im.options.match).match(std::move(sessions), std::move(events), im.stats);
    if (im.options.timeline) report.timeline = im.timeline.take();
    report.diagnosis_options = im.options.diagnosis;
    return report;
}

namespace detail {

std::string input_names(const std::vector<CaptureInput>& inputs) {
    std::string names;
    for (const CaptureInput& in : inputs)
        names += (names.empty() ? "" : ", ") + in.name();
    return names;
}

namespace {

// Calls Options::progress at most once per interval. The clock is read once per 256 packets
// or so (a batch of the block reader; pcap_next_ex gives one packet at a time), so the
// per-packet cost is a counter.
class ProgressPoll {
    using Clock = std::chrono::steady_clock;

  public:
    ProgressPoll(const Options& o, const PcapSource& src, const Analyzer& a)
        : options_(o), src_(src), a_(a), start_(Clock::now()), last_(start_) {}

    void tick(std::size_t packets) {
        unchecked_ += packets;
        if (unchecked_ < 256) return;
        unchecked_ = 0;
        const Clock::time_point now = Clock::now();
        if (now - last_ < std::chrono::nanoseconds(options_.progress_interval_ns)) return;
        last_ = now;
        report(false, now);
    }

    void report(bool done, Clock::time_point now = Clock::now()) {
        Progress p;
        p.bytes_total = src_.bytes_total();
        p.bytes_done = done && p.bytes_total > 0 ? p.bytes_total : src_.bytes_consumed();
        p.packets = a_.stats().packets_read;
        p.sessions = a_.sessions_started();
        p.elapsed_seconds = std::chrono::duration<double>(now - start_).count();
        p.done = done;
        options_.progress(p);
    }

  private:
    const Options& options_;
    const PcapSource& src_;
    const Analyzer& a_;
    Clock::time_point start_, last_;
    std::size_t unchecked_ = 0;
};

}  // namespace

void read_all(PcapSource& src, Analyzer& a, const Options& options,
              const std::vector<CaptureInput>& inputs,
              const std::function<void(const RawPacket*, std::size_t)>& after_batch,
              bool require_decodable) {
    std::vector<RawPacket> batch(256);
    if (!options.progress && !after_batch) {  // analyze()'s loop as it always was
        while (const std::size_t n = src.next_batch(batch.data(), batch.size()))
            a.feed(batch.data(), n);
    } else if (!options.progress) {
        while (const std::size_t n = src.next_batch(batch.data(), batch.size())) {
            a.feed(batch.data(), n);
            after_batch(batch.data(), n);
        }
    } else {
        ProgressPoll poll(options, src, a);
        while (const std::size_t n = src.next_batch(batch.data(), batch.size())) {
            a.feed(batch.data(), n);
            if (after_batch) after_batch(batch.data(), n);
            poll.tick(n);
        }
        a.flush();  // so that the last call counts every session
        poll.report(true);
    }
    a.merge_source_stats(src.stats());
    if (require_decodable && nothing_decodable(a.stats())) {
        throw_format_error(
            input_names(inputs), "",
            "no packet could be decoded: unsupported link type " + describe_links(a.stats()));
    }
}

}  // namespace detail

unsigned default_threads(std::uint64_t input_bytes) {
    constexpr std::uint64_t small_input = 64ULL << 20;
    if (input_bytes > 0 && input_bytes < small_input) return 1;
    return std::clamp(std::thread::hardware_concurrency(), 1U, 8U);
}

Report analyze(const std::vector<CaptureInput>& inputs, const Options& options) {
    PcapSource src(inputs, options.bpf);
    Options o = options;
    if (o.threads == 0) o.threads = default_threads(src.bytes_total());
    // With threads, a compressed file decompresses on a thread of its own, which is one of
    // them: on two cores, decompressing beside one tracker was faster than two trackers with
    // the reading thread decompressing too (docs/architecture.md, "Compressed files").
    if (o.threads > 1 && detail::read_ahead(src)) --o.threads;
    Analyzer a(o);
    detail::read_all(src, a, options, inputs, nullptr);
    Report report = a.finish();
    // One capture merged by time: every session's source is the list of its files.
    report.sources.push_back(detail::input_names(inputs));
    return report;
}

}  // namespace capgap

// ---- pieces of a chain (flow_state.hpp, docs/state-format.md) -------------------------------

namespace capgap {

namespace {

// The options a state depends on, by name: resuming with any of them changed is refused.
std::vector<std::pair<std::string, std::uint64_t>> state_options(const Options& o) {
    const TrackerOptions& t = o.tracker;
    auto u = [](std::int64_t v) { return static_cast<std::uint64_t>(v); };
    return {{"tracker.reorder_window_ns", u(t.reorder_window_ns)},
            {"tracker.max_holes_per_direction", t.max_holes_per_direction},
            {"tracker.closed_timeout_ns", u(t.closed_timeout_ns)},
            {"tracker.idle_timeout_ns", u(t.idle_timeout_ns)},
            {"tracker.max_open_flows", t.max_open_flows},
            {"tracker.clock_jump_limit_ns", u(t.clock_jump_limit_ns)},
            {"tracker.clock_confirm_packets", t.clock_confirm_packets},
            {"tracker.duplicate_window_ns", u(t.duplicate_window_ns)},
            {"tracker.drop_duplicates", t.drop_duplicates ? 1u : 0u},
            {"tunnel_key", o.tunnel_key ? 1u : 0u},
            {"timeline", o.timeline ? 1u : 0u}};
}

template <class IO, class P>
void state_tunnel_path(IO& io, P& p) {
    std::uint32_t depth = p.depth;
    const std::size_t at = io.offset();
    io(depth);
    if (depth > detail::max_encapsulation_depth) {
        io.fail_at(at, "a tunnel path of " + std::to_string(depth) + " layers");
    }
    if constexpr (!std::is_const_v<P>) p.depth = depth;
    for (unsigned i = 0; i < depth; ++i) {
        auto& l = p.layers[i];
        io.enumeration(l.kind, 5);
        io(l.has_id);
        io(l.id);
        io(l.a);
        io(l.b);
    }
}

// Counters that hold a peak (carried as they stand, not as this piece's part).
bool peak_counter(const char* name) {
    return std::string(name) == "open_flows_peak" ||
           std::string(name) == "timestamp_largest_step_back_ns";
}

std::uint64_t new_chain_id() {
    std::random_device rd;
    std::uint64_t id = 0;
    while (id == 0)
        id = (std::uint64_t{rd()} << 32) ^ rd();
    return id;
}

}  // namespace

Report Analyzer::Impl::piece_report() {
    const TrackerCounters& c = tracker.counters();
#define CAPGAP_PIECE_COUNTER(name, group, description) \
    stats.name = peak_counter(#name) ? c.name : c.name - chain.before.name;
    CAPGAP_TRACKER_COUNTERS(CAPGAP_PIECE_COUNTER)
#undef CAPGAP_PIECE_COUNTER
    if (!chain.have_anchor && stats.have_time) {
        chain.have_anchor = true;
        chain.anchor = stats.first_time;
    }
    // A relative window counts from the chain's first packet, as in one run.
    IngestStats for_match = stats;
    if (chain.have_anchor) {
        for_match.have_time = true;
        for_match.first_time = chain.anchor;
    }
    Matcher matcher(options.match);
    Report report = matcher.match(tracker.take_sessions(), tracker.take_events(), for_match);
    report.ingest.have_time = stats.have_time;
    report.ingest.first_time = stats.first_time;
    report.ingest.last_time = stats.last_time;
    if (options.timeline) {
        report.timeline = timeline.take();
        if (!report.timeline.empty()) {
            chain.grid_base_ns = report.timeline.base_ns;
            chain.grid_origin_ns = report.timeline.origin_ns;
        }
    }
    report.diagnosis_options = options.diagnosis;
    report.sources = chain.sources;
    report.sources.push_back(chain.source_name);
    for (SessionRow& row : report.sessions) {
        const auto it =
            std::upper_bound(chain.first_ids.begin(), chain.first_ids.end(), row.session.id);
        row.source = static_cast<std::uint32_t>(it - chain.first_ids.begin()) - 1;
    }
    ReportPart part;
    part.chain = chain.id;
    part.first_piece = part.last_piece = chain.piece;
    part.ids = tracker.sessions_started();
    part.sources = static_cast<std::uint32_t>(report.sources.size());
    part.tunnels = static_cast<std::uint32_t>(report.ingest.tunnels.size());
    report.parts.push_back(part);
    return report;
}

void Analyzer::Impl::save(detail::StateWriter& out) {
    detail::StateSummary sum;
    sum.chain = chain.id;
    sum.next_piece = chain.piece + 1;
    sum.frames = frames;
    sum.next_session_id = tracker.sessions_started();
    sum.clock_started = tracker.clock_started();
    sum.clock_ns = tracker.clock_ns();
    sum.open_sessions = tracker.open_sessions();
    detail::state_summary(out, sum);

    out.tag(detail::state_tag("OPTS"));
    const auto opts = state_options(options);
    out.count(opts.size(), 0);
    for (const auto& [name, value] : opts) {
        out(name);
        out(value);
    }
    out(options.bpf);

    out.tag(detail::state_tag("CHAN"));
    std::vector<std::string> sources = chain.sources;
    sources.push_back(chain.source_name);
    out.count(sources.size(), 0);
    for (const std::string& src : sources)
        out(src);
    out.count(chain.first_ids.size(), 0);
    for (const std::uint64_t id : chain.first_ids)
        out(id);
    out(chain.have_anchor);
    out(chain.anchor);

    out.tag(detail::state_tag("TUNL"));
    out.count(stats.tunnels.size(), 0);
    for (const std::string& t : stats.tunnels)
        out(t);
    std::vector<std::pair<std::uint32_t, const detail::TunnelPath*>> paths;
    for (const auto& entry : tunnel_ids)
        paths.emplace_back(entry.second.second, &entry.second.first);
    std::sort(paths.begin(), paths.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    out.count(paths.size(), 0);
    for (const auto& [id, p] : paths) {
        out(id);
        state_tunnel_path(out, *p);
    }

    tracker.save(out);
    reassembler.save(out);
    out.tag(detail::state_tag("TIME"));
    timeline.state_windows(out);
    out(chain.grid_base_ns);
    out(chain.grid_origin_ns);
    out.tag(detail::state_tag("END."));
}

void Analyzer::Impl::restore(detail::StateReader& in) {
    detail::StateSummary sum;
    detail::state_summary(in, sum);

    in.tag(detail::state_tag("OPTS"));
    const auto opts = state_options(options);
    const std::size_t n_opts = in.count(9);
    for (std::size_t i = 0; i < n_opts; ++i) {
        const std::size_t at = in.offset();
        std::string name;
        std::uint64_t value = 0;
        in(name);
        in(value);
        const auto it =
            std::find_if(opts.begin(), opts.end(), [&](const auto& o) { return o.first == name; });
        if (it == opts.end()) in.fail_at(at, "unknown option " + name);
        if (it->second != value) {
            throw_parse_error(in.name(), 0, 0,
                              "the state was made with " + name + " = " + std::to_string(value) +
                                  ", this analysis has " + std::to_string(it->second) +
                                  ": resume with the same options");
        }
    }
    if (n_opts != opts.size()) in.fail("the state lists " + std::to_string(n_opts) + " options");
    std::string bpf;
    in(bpf);
    if (bpf != options.bpf) {
        throw_parse_error(in.name(), 0, 0,
                          "the state was made with the filter \"" + bpf +
                              "\", this analysis has \"" + options.bpf + "\"");
    }

    in.tag(detail::state_tag("CHAN"));
    chain.sources.resize(in.count(8));
    for (std::string& src : chain.sources)
        in(src);
    chain.first_ids.resize(in.count(8));
    std::uint64_t prev = 0;
    for (std::uint64_t& id : chain.first_ids) {
        const std::size_t at = in.offset();
        in(id);
        if (id < prev || id > sum.next_session_id) in.fail_at(at, "piece ids out of order");
        prev = id;
    }
    if (chain.first_ids.size() != chain.sources.size() || chain.sources.size() != sum.next_piece)
        in.fail("the chain's pieces and sources disagree");
    in(chain.have_anchor);
    in(chain.anchor);

    in.tag(detail::state_tag("TUNL"));
    stats.tunnels.resize(in.count(8));
    for (std::string& t : stats.tunnels)
        in(t);
    const std::size_t n_paths = in.count(8);
    for (std::size_t i = 0; i < n_paths; ++i) {
        const std::size_t at = in.offset();
        std::uint32_t id = 0;
        in(id);
        detail::TunnelPath p;
        state_tunnel_path(in, p);
        if (id == 0 || id > stats.tunnels.size() || p.depth == 0)
            in.fail_at(at, "a tunnel id out of range");
        tunnel_ids.emplace(p.hash(), std::make_pair(p, id));
    }

    tracker.restore(in);
    reassembler.restore(in);
    in.tag(detail::state_tag("TIME"));
    timeline.state_windows(in);
    const std::size_t grid_at = in.offset();
    in(chain.grid_base_ns);
    in(chain.grid_origin_ns);
    if (!Timeline::valid_grid(chain.grid_base_ns, chain.grid_origin_ns))
        in.fail_at(grid_at, "the timeline's bucket width or origin is not one capgap makes");
    timeline.seed(chain.grid_base_ns, chain.grid_origin_ns);
    in.tag(detail::state_tag("END."));
    if (in.left() != 0) in.fail("bytes after the end of the state");
    if (tracker.sessions_started() != sum.next_session_id ||
        tracker.open_sessions() != sum.open_sessions)
        in.fail("the summary disagrees with the state");

    chain.resumed = true;
    chain.id = sum.chain;
    chain.piece = sum.next_piece;
    chain.first_ids.push_back(tracker.sessions_started());
    chain.before = tracker.counters();
    frames = sum.frames;
    frame_base = sum.frames;
}

void Analyzer::resume(const FlowState& state) {
    Impl& im = *impl_;
    if (im.fed || im.ended) throw std::logic_error("Analyzer::resume: call it before any packet");
    if (state.empty()) return;
    if (im.chain.resumed) throw std::logic_error("Analyzer::resume: already resumed");
    if (im.sharded) throw std::logic_error("Analyzer::resume needs Options::threads 1");
    detail::check_state(state.bytes(), state.name());
    detail::StateReader in(state.bytes(), detail::state_header_size, state.name());
    im.restore(in);
}

void Analyzer::set_source_name(std::string name) {
    impl_->chain.source_name = std::move(name);
}

PieceResult Analyzer::suspend() {
    Impl& im = *impl_;
    if (im.ended) throw std::logic_error("Analyzer::suspend: the piece has ended");
    if (im.sharded) throw std::logic_error("Analyzer::suspend needs Options::threads 1");
    im.ended = true;
    im.flush();
    im.tracker.suspend();
    if (im.chain.id == 0) im.chain.id = new_chain_id();
    if (im.chain.first_ids.empty()) im.chain.first_ids.push_back(0);
    PieceResult out;
    out.report = im.piece_report();
    detail::StateWriter w;
    im.save(w);
    out.state = FlowState::load(detail::frame_state(w.bytes()), "flow state");
    return out;
}

PieceResult analyze_piece(const std::vector<CaptureInput>& inputs, const Options& options,
                          const FlowState* resume, PieceEnd end) {
    // A piece's open flows are saved from, and resumed into, one tracker: the sharded
    // trackers of Options::threads do not take part in chains.
    Options one = options;
    one.threads = 1;
    PcapSource src(inputs, one.bpf);
    Analyzer a(one);
    if (resume != nullptr) a.resume(*resume);
    a.set_source_name(detail::input_names(inputs));
    detail::read_all(src, a, one, inputs, nullptr, false);
    if (end == PieceEnd::suspend) return a.suspend();
    PieceResult out;
    const bool resumed = resume != nullptr && !resume->empty();
    out.report = a.finish();
    if (!resumed) out.report.sources.push_back(detail::input_names(inputs));
    return out;
}

}  // namespace capgap
