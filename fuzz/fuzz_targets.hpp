// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
#pragma once
// The bodies of the fuzz targets, shared by the libFuzzer entry points (fuzz/fuzz_*.cpp) and by
// the regression tests (tests/cpp/test_fuzz_regressions.cpp), so that a crash reproducer runs
// exactly the code path the fuzzer found it on. Every check that fails calls abort().

#include <capgap/analyze.hpp>
#include <capgap/analyze_csv.hpp>
#include <capgap/errors.hpp>
#include <capgap/flow_state.hpp>
#include <capgap/matcher.hpp>
#include <capgap/pcap_source.hpp>
#include <capgap/report.hpp>
#include <capgap/report_bytes.hpp>
#include <capgap/tracker.hpp>
#include <capgap/wireshark_csv.hpp>

#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <pcap/pcap.h>

#include "decode/decode.hpp"
#include "pipeline/state_format.hpp"
#include "report/report_format.hpp"

namespace capgap::fuzz {

// Prints what broke and aborts (libFuzzer then saves the input as a crash).
[[noreturn]] inline void violated(const char* what, const char* file, int line) {
    std::fprintf(stderr, "fuzz invariant violated at %s:%d: %s\n", file, line, what);
    std::abort();
}

#define CAPGAP_FUZZ_CHECK(cond) \
    ((cond) ? static_cast<void>(0) : ::capgap::fuzz::violated(#cond, __FILE__, __LINE__))

// A uint64 counter that went "negative" wraps to a huge value.
constexpr std::uint64_t sane_limit = std::uint64_t{1} << 62;

// Reads the input front to back; past the end every read gives zero.
class Reader {
  public:
    Reader(const std::uint8_t* data, std::size_t size) : p_(data), end_(data + size) {}
    std::size_t left() const { return static_cast<std::size_t>(end_ - p_); }
    std::uint8_t u8() { return p_ < end_ ? *p_++ : 0; }
    std::uint16_t u16() {
        const std::uint16_t hi = u8();
        return static_cast<std::uint16_t>((hi << 8) | u8());
    }
    std::uint32_t u32() {
        const std::uint32_t hi = u16();
        return (hi << 16) | u16();
    }
    const std::uint8_t* rest() const { return p_; }

  private:
    const std::uint8_t* p_;
    const std::uint8_t* end_;
};

// A file in the temporary directory, one name per process (libFuzzer workers are processes),
// removed when it goes out of scope.
class TempFile {
  public:
    TempFile(const char* tag, const std::uint8_t* data, std::size_t size) {
        const char* dir = std::getenv("TMPDIR");
        path_ = std::string(dir && *dir ? dir : "/tmp") + "/capgap-fuzz-" +
                std::to_string(static_cast<long>(getpid())) + "-" + tag;
        std::FILE* f = std::fopen(path_.c_str(), "wb");
        if (f == nullptr) violated("cannot create the temporary file", __FILE__, __LINE__);
        if (size > 0 && std::fwrite(data, 1, size, f) != size) {
            std::fclose(f);
            violated("cannot write the temporary file", __FILE__, __LINE__);
        }
        std::fclose(f);
    }
    ~TempFile() { std::remove(path_.c_str()); }
    TempFile(const TempFile&) = delete;
    TempFile& operator=(const TempFile&) = delete;
    const std::string& path() const { return path_; }

  private:
    std::string path_;
};

// Ingest counters of a capture: every packet read is decoded, filtered or skipped by name.
inline void check_ingest(const IngestStats& st) {
    CAPGAP_FUZZ_CHECK(st.packets_read == st.decoded + st.filtered_out + st.skipped());
    CAPGAP_FUZZ_CHECK(st.truncated_packets <= st.decoded);
    CAPGAP_FUZZ_CHECK(st.truncated_bytes < sane_limit);
}

// Events: a run is never reversed, its payload never exceeds its length and never wraps.
inline void check_event(const LossEvent& e) {
    CAPGAP_FUZZ_CHECK(e.seq_begin <= e.seq_end);
    CAPGAP_FUZZ_CHECK(e.missing_bytes <= e.seq_end - e.seq_begin);
    CAPGAP_FUZZ_CHECK(e.missing_bytes < sane_limit);
    CAPGAP_FUZZ_CHECK(e.seq_end < sane_limit);
}

// A Report, whichever ingest path built it: consistent counts, unique rows, and the renderers
// run to the end.
inline void check_report(const Report& r) {
    const Summary& s = r.summary;
    CAPGAP_FUZZ_CHECK(s.total_sessions < sane_limit);
    CAPGAP_FUZZ_CHECK(s.bad_confirmed <= s.total_sessions);
    CAPGAP_FUZZ_CHECK(s.bad_wireshark <= s.total_sessions);
    CAPGAP_FUZZ_CHECK(s.bad_sessions <= s.total_sessions);
    if (s.join == Join::instance) {
        CAPGAP_FUZZ_CHECK(s.bad_data_missing + s.bad_control_only == s.bad_confirmed);
        CAPGAP_FUZZ_CHECK(s.bad_sessions ==
                          (s.mode == Mode::confirmed ? s.bad_confirmed : s.bad_wireshark));
        CAPGAP_FUZZ_CHECK(s.wireshark_only <= s.bad_wireshark);
        CAPGAP_FUZZ_CHECK(s.confirmed_only <= s.bad_confirmed);
        CAPGAP_FUZZ_CHECK(s.bad_wireshark - s.wireshark_only == s.bad_confirmed - s.confirmed_only);
    }
    CAPGAP_FUZZ_CHECK(s.percentage >= 0.0 && s.percentage <= 100.0);
    CAPGAP_FUZZ_CHECK(s.ci95_low >= 0.0 && s.ci95_low <= s.ci95_high && s.ci95_high <= 100.0);
    CAPGAP_FUZZ_CHECK(s.unmatched_events < sane_limit);
    std::set<std::uint64_t> ids;
    for (const SessionRow& row : r.sessions) {
        CAPGAP_FUZZ_CHECK(ids.insert(row.session.id).second);
        CAPGAP_FUZZ_CHECK(row.session.packets_c2s <= row.session.packets);
        CAPGAP_FUZZ_CHECK(row.missing_bytes < sane_limit);
        CAPGAP_FUZZ_CHECK(!row.data_missing || row.bad);
    }
    for (const LossEvent& e : r.events)
        check_event(e);
    std::ostringstream out;
    out << r.to_text() << r.to_json();
    r.write_sessions_csv(out);
    r.write_events_csv(out);
}

// ---------------------------------------------------------------------------------------------
// fuzz_decode: 2 bytes choose the link type and the on-wire length, the rest is the packet.

// The link types decode_packet knows (DLT_ values below 1024, asked once so that the list follows
// the decoder), most of the time; otherwise any value up to 511, known or not.
inline int pick_link_type(std::uint16_t sel) {
    static const std::vector<int> known = [] {
        std::vector<int> v;
        for (int lt = 0; lt < 1024; ++lt) {
            if (detail::link_type_supported(lt)) v.push_back(lt);
        }
        return v;
    }();
    if ((sel & 0x8000) != 0 || known.empty()) return sel & 0x1ff;
    return known[(sel & 0xffu) % known.size()];
}

inline void run_decode(const std::uint8_t* data, std::size_t size) {
    Reader in(data, size);
    const std::uint16_t sel = in.u16();
    const int link_type = pick_link_type(sel);
    // The packet goes into its own allocation so that ASan catches a read past caplen.
    const std::vector<std::uint8_t> packet(in.rest(), in.rest() + in.left());
    const auto caplen = static_cast<std::uint32_t>(packet.size());
    const std::uint32_t len = caplen + ((sel >> 8) & 0x3fu) * 97u;  // on-wire >= captured

    Segment seg;
    const detail::Decoded d = detail::decode_packet(packet.data(), caplen, len, link_type, seg);
    if (!detail::link_type_supported(link_type)) {
        CAPGAP_FUZZ_CHECK(d == detail::Decoded::unsupported_link);
    }
    if (d == detail::Decoded::tcp) {
        // payload_len comes from the IP total length (docs/counting-rules.md section 4) and may
        // exceed the frame; what the snaplen cut is part of it.
        CAPGAP_FUZZ_CHECK(seg.truncated_bytes <= seg.payload_len);
    }
    // With fragments described (as the Analyzer asks): every piece of a fragmented TCP
    // datagram is tcp_fragment, pointing inside the packet; anything else decodes as before.
    Segment fseg;
    detail::IpFragment frag;
    const detail::Decoded df =
        detail::decode_packet(packet.data(), caplen, len, link_type, fseg, &frag);
    if (df == detail::Decoded::tcp_fragment) {
        CAPGAP_FUZZ_CHECK(frag.captured <= frag.length);
        CAPGAP_FUZZ_CHECK(
            frag.captured == 0 ||
            (frag.data >= packet.data() && frag.data + frag.captured <= packet.data() + caplen));
    } else if (df != detail::Decoded::ip_fragment && d != detail::Decoded::ip_fragment) {
        // (A later fragment is ip_fragment statelessly before its IP header is checked whole.)
        CAPGAP_FUZZ_CHECK(df == d);
    }

    // The inline common case (Ethernet, IPv4, TCP) agrees with decode_packet as the Analyzer
    // calls it (fragments described) whenever it takes a packet.
    Segment cseg;
    detail::Decoded dc = detail::Decoded::not_ip;
    if (detail::decode_common(packet.data(), caplen, len, link_type, cseg, dc)) {
        CAPGAP_FUZZ_CHECK(link_type == 1);
        CAPGAP_FUZZ_CHECK(dc == df);
        if (dc == detail::Decoded::tcp) {
            CAPGAP_FUZZ_CHECK(cseg.src == fseg.src && cseg.dst == fseg.dst);
            CAPGAP_FUZZ_CHECK(cseg.seq == fseg.seq && cseg.ack == fseg.ack);
            CAPGAP_FUZZ_CHECK(cseg.flags == fseg.flags && cseg.window == fseg.window);
            CAPGAP_FUZZ_CHECK(cseg.checksum == fseg.checksum);
            CAPGAP_FUZZ_CHECK(cseg.payload_len == fseg.payload_len);
            CAPGAP_FUZZ_CHECK(cseg.truncated_bytes == fseg.truncated_bytes);
        }
    }

    // Asking which encapsulation stopped it and which tunnels it came through changes nothing,
    // and the answers are consistent.
    Segment tseg;
    detail::IpFragment tfrag;
    detail::EncapInfo encap;
    detail::TunnelPath path;
    const detail::Decoded dt =
        detail::decode_packet(packet.data(), caplen, len, link_type, tseg, &tfrag, &encap, &path);
    CAPGAP_FUZZ_CHECK(dt == df);
    const bool named =
        dt == detail::Decoded::unsupported_encapsulation || dt == detail::Decoded::encrypted;
    CAPGAP_FUZZ_CHECK(named == (encap.kind != detail::Encap::none));
    if (named) CAPGAP_FUZZ_CHECK(!detail::encapsulation_name(encap).empty());
    CAPGAP_FUZZ_CHECK(path.depth <= detail::max_encapsulation_depth);
    CAPGAP_FUZZ_CHECK((path.depth == 0) == path.describe().empty());

    // The same packet through the Analyzer, twice (a retransmission), then the report.
    Options options;
    options.tunnel_key = (sel & 0x4000) != 0;
    Analyzer a(options);
    a.feed_packet(packet.data(), caplen, len, link_type, Timestamp{1'700'000'000'000'000'000});
    a.feed_packet(packet.data(), caplen, len, link_type, Timestamp{1'700'000'000'000'000'001});
    check_ingest(a.stats());
    CAPGAP_FUZZ_CHECK(a.stats().packets_read == 2);
    if (df == detail::Decoded::tcp) {
        CAPGAP_FUZZ_CHECK(a.stats().decoded == 2);
    } else if (df == detail::Decoded::tcp_fragment) {
        CAPGAP_FUZZ_CHECK(a.stats().decoded <= 2);  // held, or reassembled from the two copies
    } else {
        CAPGAP_FUZZ_CHECK(a.stats().decoded == 0);
    }
    try {
        const Report r = a.finish();
        check_report(r);
    } catch (const capgap::error&) {
        // format_error: nothing decodable and every packet of an unsupported link type.
        CAPGAP_FUZZ_CHECK(d == detail::Decoded::unsupported_link);
    }
}

// ---------------------------------------------------------------------------------------------
// fuzz_capture: the input is a capture file (pcap or pcapng), analysed from a temporary file.

// A classic pcap file (PcapSource parses its records itself) must read exactly as
// libpcap reads it: the same packets, bytes and times, and a problem exactly when libpcap
// reports an error.
inline void compare_with_libpcap(const std::string& path, const std::uint8_t* data,
                                 std::size_t size) {
    if (size < 4) return;
    std::uint32_t magic;
    std::memcpy(&magic, data, 4);
    if (magic != 0xa1b2c3d4 && magic != 0xa1b23c4d && magic != 0xd4c3b2a1 && magic != 0x4d3cb2a1)
        return;
    char errbuf[PCAP_ERRBUF_SIZE] = "";
    pcap_t* p =
        pcap_open_offline_with_tstamp_precision(path.c_str(), PCAP_TSTAMP_PRECISION_NANO, errbuf);
    std::vector<capgap::RawPacket> ours;
    std::vector<std::vector<std::uint8_t>> bytes;
    bool our_problem = false;
    try {
        PcapSource src({path});
        RawPacket r;
        while (src.next(r)) {
            ours.push_back(r);
            bytes.emplace_back(r.data, r.data + r.caplen);
        }
        our_problem = !src.stats().problems.empty();
        // Read in batches, the same packets and the same problem.
        PcapSource batched({path});
        std::vector<RawPacket> batch(1 + size % 16);
        std::size_t k = 0;
        while (const std::size_t n = batched.next_batch(batch.data(), batch.size())) {
            CAPGAP_FUZZ_CHECK(n <= batch.size());
            for (std::size_t j = 0; j < n; ++j, ++k) {
                CAPGAP_FUZZ_CHECK(k < ours.size());
                const RawPacket& b = batch[j];
                CAPGAP_FUZZ_CHECK(b.frame == ours[k].frame && b.caplen == ours[k].caplen &&
                                  b.len == ours[k].len && b.time.ns == ours[k].time.ns);
                CAPGAP_FUZZ_CHECK(std::equal(bytes[k].begin(), bytes[k].end(), b.data));
            }
        }
        CAPGAP_FUZZ_CHECK(k == ours.size());
        const auto& p1 = src.stats().problems;
        const auto& p2 = batched.stats().problems;
        CAPGAP_FUZZ_CHECK(p1.size() == p2.size());
        for (std::size_t j = 0; j < p1.size() && j < p2.size(); ++j)
            CAPGAP_FUZZ_CHECK(p1[j].position == p2[j].position && p1[j].reason == p2[j].reason);
    } catch (const capgap::error&) {
        CAPGAP_FUZZ_CHECK(p == nullptr);  // refused at open by both
        return;
    }
    CAPGAP_FUZZ_CHECK(p != nullptr);
    pcap_pkthdr* h = nullptr;
    const u_char* d = nullptr;
    std::size_t i = 0;
    int r;
    while ((r = pcap_next_ex(p, &h, &d)) == 1) {
        CAPGAP_FUZZ_CHECK(i < ours.size());
        CAPGAP_FUZZ_CHECK(ours[i].caplen == h->caplen && ours[i].len == h->len);
        CAPGAP_FUZZ_CHECK(std::equal(bytes[i].begin(), bytes[i].end(), d));
        const std::int64_t ns = static_cast<std::int64_t>(h->ts.tv_sec) * 1000000000 +
                                static_cast<std::int64_t>(h->ts.tv_usec);
        CAPGAP_FUZZ_CHECK(ours[i].time.ns == ns);
        ++i;
    }
    CAPGAP_FUZZ_CHECK(i == ours.size());
    CAPGAP_FUZZ_CHECK(our_problem == (r == PCAP_ERROR));
    pcap_close(p);
}

inline void run_capture(const std::uint8_t* data, std::size_t size) {
    const TempFile file("capture", data, size);
    compare_with_libpcap(file.path(), data, size);
    try {
        const Report r = analyze({file.path()});
        check_ingest(r.ingest);
        check_report(r);
    } catch (const capgap::error&) {
        // Not a capture, unreadable header, nothing decodable: a clean refusal.
    }
}

// ---------------------------------------------------------------------------------------------
// fuzz_csv: the input is a SYN list and a lost list separated by the first NUL byte (without
// one, the input is both lists).

inline void run_csv(const std::uint8_t* data, std::size_t size) {
    const auto* sep = static_cast<const std::uint8_t*>(std::memchr(data, 0, size));
    const std::size_t syn_size = sep ? static_cast<std::size_t>(sep - data) : size;
    const std::uint8_t* lost = sep ? sep + 1 : data;
    const std::size_t lost_size = sep ? size - syn_size - 1 : size;
    const TempFile syn_file("syn.csv", data, syn_size);
    const TempFile lost_file("lost.csv", lost, lost_size);

    CsvInput in;
    try {
        in = read_wireshark_csv(syn_file.path(), lost_file.path());
    } catch (const capgap::error&) {
        return;
    }
    std::set<std::uint64_t> ids;
    for (const Session& s : in.sessions)
        CAPGAP_FUZZ_CHECK(ids.insert(s.id).second);
    for (const LossEvent& e : in.events) {
        check_event(e);
        CAPGAP_FUZZ_CHECK(e.session_id == no_session || ids.count(e.session_id) == 1);
    }
    CAPGAP_FUZZ_CHECK(in.counts.syn_merged <= in.counts.syn_rows);
    CAPGAP_FUZZ_CHECK(in.stats.csv_bad_rows <= in.stats.csv_rows);

    for (const Mode mode : {Mode::confirmed, Mode::wireshark}) {
        MatchOptions opt;
        opt.mode = mode;
        try {
            const Report r = Matcher(opt).match(in.sessions, in.events, in.stats);
            check_report(r);
            // The lists carry only Wireshark flags: nothing is confirmed bad.
            CAPGAP_FUZZ_CHECK(r.summary.bad_confirmed == 0);
        } catch (const capgap::error&) {
        }
    }
    try {
        check_report(socket_join(syn_file.path(), lost_file.path(), {}));
    } catch (const capgap::error&) {
    }
}

// ---------------------------------------------------------------------------------------------
// fuzz_tracker: segment sequences chosen field by field.
//
// Header (3 bytes): tracker options and the start time. Then 11 bytes per segment:
//   ctl    bits 0-1 the connection (4 of them over 3 endpoints, so keys share ports), bit 2 the
//          direction, bit 3 absolute seq/ack (else relative to what was sent so far), bit 4
//          truncated payload, bit 5 time goes back a little
//   flags  the TCP flag byte as is
//   seq    int16 delta from the sender's next number (or the high half of an absolute seq)
//   ack    int16 delta from the peer's next number (or the low half of an absolute seq)
//   len    uint16 on-wire payload length
//   dt     uint8 time step (bit 7: milliseconds, else microseconds)
//   trunc  uint8 payload bytes cut by the snaplen (when ctl bit 4)
//   win    uint8 window

struct Conn {
    Endpoint client;
    Endpoint server;
    std::uint32_t next[2] = {0, 0};  // per direction: the next number the sender would use
};

inline Endpoint endpoint_v4(std::uint8_t last, std::uint16_t port) {
    const std::uint8_t b[4] = {10, 0, 0, last};
    Endpoint e;
    e.addr = IpAddress::v4(b);
    e.port = port;
    return e;
}

inline void run_tracker(const std::uint8_t* data, std::size_t size) {
    Reader in(data, size);
    TrackerOptions topt;
    const std::uint8_t o = in.u8();
    topt.reorder_window_ns = std::int64_t{o & 0x0f} * 1'000'000;  // 0 to 15 ms
    topt.max_holes_per_direction = (o & 0x80) != 0 ? std::size_t{1} + ((o >> 4) & 0x07) : 4096;
    std::int64_t t = std::int64_t{in.u16()} * 1'000'000'000 + 1'600'000'000'000'000'000;

    // Three endpoints: two clients on the same port and one server; connection 3 is connection
    // 0 reversed, so a key can be reused with the roles swapped.
    const Endpoint a = endpoint_v4(1, 40000), b = endpoint_v4(2, 40000), srv = endpoint_v4(9, 80);
    Conn conns[4];
    conns[0].client = a, conns[0].server = srv;
    conns[1].client = b, conns[1].server = srv;
    conns[2].client = a, conns[2].server = b;
    conns[3].client = srv, conns[3].server = a;
    for (Conn& c : conns)
        c.next[0] = 1000, c.next[1] = 500000;

    Tracker tracker(topt);
    std::vector<Segment> fed;
    constexpr std::size_t max_segments = 4096;
    while (in.left() >= 11 && fed.size() < max_segments) {
        const std::uint8_t ctl = in.u8();
        Segment s;
        s.flags = in.u8();
        const std::uint16_t seq_f = in.u16();
        const std::uint16_t ack_f = in.u16();
        s.payload_len = in.u16();
        const std::uint8_t dt = in.u8();
        const std::uint8_t trunc = in.u8();
        s.window = in.u8();
        Conn& c = conns[ctl & 3];
        const int dir = (ctl >> 2) & 1;
        s.src = dir == 0 ? c.client : c.server;
        s.dst = dir == 0 ? c.server : c.client;
        if ((ctl & 0x08) != 0) {
            s.seq = (std::uint32_t{seq_f} << 16) | ack_f;
            s.ack = (std::uint32_t{ack_f} << 16) | seq_f;
        } else {
            s.seq = c.next[dir] + static_cast<std::uint32_t>(static_cast<std::int16_t>(seq_f));
            s.ack = c.next[1 - dir] + static_cast<std::uint32_t>(static_cast<std::int16_t>(ack_f));
        }
        if ((ctl & 0x10) != 0) s.truncated_bytes = std::min<std::uint32_t>(trunc, s.payload_len);
        const std::int64_t step = std::int64_t{dt & 0x7f} * ((dt & 0x80) != 0 ? 1'000'000 : 1'000);
        t += (ctl & 0x20) != 0 ? -step : step;
        s.time = Timestamp{t};
        s.frame = fed.size() + 1;
        c.next[dir] = s.seq + s.payload_len + (s.has(tcp_flags::syn) ? 1u : 0u) +
                      (s.has(tcp_flags::fin) ? 1u : 0u);
        tracker.feed(s);
        fed.push_back(s);
    }
    tracker.finish();
    CAPGAP_FUZZ_CHECK(tracker.open_sessions() == 0);

    const std::vector<Session>& sessions = tracker.sessions();
    const std::vector<LossEvent>& events = tracker.events();

    // Batch feeding (what the Analyzer does, with prefetching) must change nothing.
    Tracker batched(topt);
    const std::size_t batch = 1 + (o >> 4);  // 1 to 16
    for (std::size_t i = 0; i < fed.size(); i += batch)
        batched.feed(fed.data() + i, std::min(batch, fed.size() - i));
    batched.finish();
    CAPGAP_FUZZ_CHECK(batched.sessions() == sessions);
    CAPGAP_FUZZ_CHECK(batched.events() == events);

    // So must sending every packet down the general path (no header prediction).
    TrackerOptions general_opt = topt;
    general_opt.header_prediction = false;
    Tracker general(general_opt);
    for (const Segment& s : fed)
        general.feed(s);
    general.finish();
    CAPGAP_FUZZ_CHECK(general.sessions() == sessions);
    CAPGAP_FUZZ_CHECK(general.events() == events);

    std::set<std::uint64_t> ids;
    std::uint64_t packets = 0;
    for (std::size_t i = 0; i < sessions.size(); ++i) {
        const Session& s = sessions[i];
        CAPGAP_FUZZ_CHECK(ids.insert(s.id).second);
        CAPGAP_FUZZ_CHECK(i == 0 || sessions[i - 1].id < s.id);
        CAPGAP_FUZZ_CHECK(s.packets_c2s <= s.packets);
        CAPGAP_FUZZ_CHECK(s.packets > 0);
        CAPGAP_FUZZ_CHECK(s.first_frame != no_frame && s.first_frame <= fed.size());
        CAPGAP_FUZZ_CHECK(s.syn_frame == no_frame || s.syn_frame <= fed.size());
        CAPGAP_FUZZ_CHECK(s.bytes_c2s < sane_limit && s.bytes_s2c < sane_limit);
        CAPGAP_FUZZ_CHECK(s.truncated_bytes <= s.bytes_c2s + s.bytes_s2c);
        packets += s.packets;
    }
    CAPGAP_FUZZ_CHECK(packets == fed.size());
    for (std::size_t i = 0; i < events.size(); ++i) {
        const LossEvent& e = events[i];
        CAPGAP_FUZZ_CHECK(ids.count(e.session_id) == 1);
        CAPGAP_FUZZ_CHECK(e.frame <= fed.size());
        CAPGAP_FUZZ_CHECK(i == 0 || events[i - 1].session_id <= e.session_id);
        check_event(e);
    }

    IngestStats st;
    st.have_time = !fed.empty();
    if (!fed.empty()) st.first_time = fed.front().time, st.last_time = fed.back().time;
    st.packets_read = st.decoded = fed.size();
    for (const Mode mode : {Mode::confirmed, Mode::wireshark}) {
        MatchOptions mopt;
        mopt.mode = mode;
        const Report r = Matcher(mopt).match(sessions, events, st);
        check_report(r);
        CAPGAP_FUZZ_CHECK(r.summary.unmatched_events == 0);
        std::uint64_t counted = 0;
        for (const Session& s : sessions)
            counted += is_counted(s.category) ? 1 : 0;
        CAPGAP_FUZZ_CHECK(r.summary.total_sessions == counted);
    }
}

// A flow state's body (the sections after the 32-byte header: docs/state-format.md), framed
// with a correct header and CRCs so that the fuzzer reaches the section parser rather than the
// checksum. Loading and resuming either throw capgap::error naming the state, or give an
// Analyzer whose state, saved again, resumes again, and whose report is consistent.
inline void run_state(const std::uint8_t* data, std::size_t size) {
    const std::string body(reinterpret_cast<const char*>(data), size);
    Analyzer a;
    try {
        a.resume(FlowState::load(detail::frame_state(body), "fuzz.state"));
    } catch (const capgap::error&) {
        return;  // refused with the state's name and offset: the outcome wanted for bad bytes
    }
    PieceResult piece = a.suspend();
    check_report(piece.report);
    Analyzer again;
    again.resume(piece.state);  // what capgap saved, capgap must take back
    check_report(again.finish());
}

// A report's body (the sections after the 32-byte header: docs/state-format.md, "Report"),
// framed with a correct header and CRCs so that the fuzzer reaches the section reader. Reading
// either throws format_error naming the bytes and an offset, or gives a report that writes
// back the very bytes read and renders to the end. Its figures are whatever the bytes said, so
// check_report's consistency is not asked of it; its diagnosis options are put back to the
// defaults first (a report's own come from a checked command line, not from the bytes).
inline void run_report(const std::uint8_t* data, std::size_t size) {
    const std::string bytes = detail::frame_bytes(
        detail::report_frame, std::string(reinterpret_cast<const char*>(data), size));
    Report r;
    try {
        r = report_from_bytes(bytes, "fuzz.report");
    } catch (const format_error& e) {
        CAPGAP_FUZZ_CHECK(std::strncmp(e.what(), "fuzz.report:offset ", 19) == 0);
        return;
    }
    CAPGAP_FUZZ_CHECK(to_bytes(r) == bytes);
    for (const LossEvent& e : r.events)
        CAPGAP_FUZZ_CHECK(e.seq_begin <= e.seq_end && e.missing_bytes <= e.seq_end - e.seq_begin);
    r.diagnosis_options = DiagnosisOptions{};
    std::ostringstream out;
    out << r.to_text() << r.to_json();
    r.write_sessions_csv(out);
    r.write_events_csv(out);
}

}  // namespace capgap::fuzz
