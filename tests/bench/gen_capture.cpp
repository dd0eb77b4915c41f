// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// gen_capture: writes a large, realistic TCP capture (classic pcap, Ethernet) and its ground
// truth, for the benchmark in this directory.
//
// A pool of concurrently open sessions is interleaved in time; each finished session is replaced
// by a new one. Every session follows a script: 3-way handshake, request/response rounds
// (requests of 200-800 bytes, responses of 1-64 KB in MSS segments, the receiver ACKing every
// second segment and the last one), sometimes a bulk transfer of 1-5 MB, then a FIN or RST
// close. Some sessions are IPv6, some carry an 802.1Q tag, some reuse the endpoints of a closed
// session with a new ISN, some ISNs sit just below 2^32. The sessions of the initial pool are
// already in flight: their packets before a random data segment are not written, so they have no
// SYN (docs/counting-rules.md: partial, never counted). A fraction of the data frames are cut to a
// 96-byte snaplen (caplen < len: not loss).
//
// Loss: each session that starts with a SYN is, with probability --loss, chosen to lose one data
// segment (never a handshake or close packet). Because every receiver ACKs everything it got,
// any later packet of that session proves the hole (acked_unseen, or gap_unacked below a later
// segment). The truth counts a session bad when the segment was dropped and such a packet was
// written before the capture ended.
//
// Output: PATH (the capture), PATH.truth.json (counts) and PATH.truth-sessions.csv (one row per
// session with a SYN: its SYN frame, endpoints, verdict and what was dropped).

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

namespace {

// ---------------------------------------------------------------- random numbers

// xoshiro256** seeded through splitmix64: fast, and the same sequence on every platform.
class Rng {
  public:
    explicit Rng(std::uint64_t seed) {
        for (auto& w : s_) {
            seed += 0x9E3779B97F4A7C15ULL;
            std::uint64_t z = seed;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
            w = z ^ (z >> 31);
        }
    }
    std::uint64_t next() {
        const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
        const std::uint64_t t = s_[1] << 17;
        s_[2] ^= s_[0];
        s_[3] ^= s_[1];
        s_[1] ^= s_[2];
        s_[0] ^= s_[3];
        s_[2] ^= t;
        s_[3] = rotl(s_[3], 45);
        return result;
    }
    /// Uniform in [0, n).
    std::uint64_t below(std::uint64_t n) {
        // Multiply-shift on the top 32 bits: no modulo, no 128-bit type; n stays far below 2^32.
        return ((next() >> 32) * n) >> 32;
    }
    /// Uniform in [lo, hi].
    std::uint64_t range(std::uint64_t lo, std::uint64_t hi) { return lo + below(hi - lo + 1); }
    /// Uniform in [0, 1).
    double unit() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
    bool chance(double p) { return unit() < p; }

  private:
    static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
    std::uint64_t s_[4];
};

// ---------------------------------------------------------------- options

struct Options {
    std::uint64_t packets = 10'000'000;
    std::string out = "capture.pcap";
    std::uint64_t seed = 1;
    double loss = 0.02;             // fraction of SYN sessions that lose one data segment
    double trunc = 0.9;             // fraction of data frames cut to the snaplen
    std::uint32_t snaplen = 96;     // caplen of a truncated frame
    double ipv6 = 0.05;             // fraction of sessions over IPv6
    double vlan = 0.10;             // fraction of sessions with an 802.1Q tag
    double reuse = 0.03;            // fraction of new sessions reusing a closed session's ports
    double bulk = 0.001;            // fraction of sessions with a 1-5 MB bulk transfer
    double rst = 0.15;              // fraction of sessions closed by RST (the rest: FIN)
    double isn_wrap = 0.02;         // fraction of ISNs within 100 KB below 2^32
    std::uint64_t concurrency = 0;  // open sessions; 0: packets / 3500 (about 1% of sessions)
    std::uint64_t gap_ns = 2000;    // mean gap between packets
    bool usec = false;              // microsecond pcap instead of nanosecond
};

[[noreturn]] void usage(const char* msg) {
    if (msg) std::fprintf(stderr, "gen_capture: %s\n", msg);
    std::fprintf(stderr,
                 "usage: gen_capture [--packets N] [--out PATH] [--seed S] [--loss P]\n"
                 "                   [--trunc P] [--snaplen N] [--ipv6 P] [--vlan P] [--reuse P]\n"
                 "                   [--bulk P] [--rst P] [--isn-wrap P] [--concurrency N]\n"
                 "                   [--gap-ns N] [--usec]\n"
                 "Writes PATH, PATH.truth.json and PATH.truth-sessions.csv.\n");
    std::exit(msg ? 1 : 0);
}

std::uint64_t parse_u64(const char* name, const char* v) {
    char* end = nullptr;
    errno = 0;
    // Accept 10_000_000 as well as 10000000.
    std::string digits;
    for (const char* p = v; *p; ++p)
        if (*p != '_') digits += *p;
    const unsigned long long x = std::strtoull(digits.c_str(), &end, 10);
    if (errno || digits.empty() || *end) {
        std::fprintf(stderr, "gen_capture: %s: not a number: %s\n", name, v);
        std::exit(1);
    }
    return x;
}

double parse_prob(const char* name, const char* v) {
    char* end = nullptr;
    const double x = std::strtod(v, &end);
    if (!*v || *end || !(x >= 0.0 && x <= 1.0)) {
        std::fprintf(stderr, "gen_capture: %s: not a probability: %s\n", name, v);
        std::exit(1);
    }
    return x;
}

Options parse_args(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--help" || a == "-h") usage(nullptr);
        if (a == "--usec") {
            o.usec = true;
            continue;
        }
        if (i + 1 >= argc) usage(("missing value for " + a).c_str());
        const char* v = argv[++i];
        if (a == "--packets")
            o.packets = parse_u64("--packets", v);
        else if (a == "--out")
            o.out = v;
        else if (a == "--seed")
            o.seed = parse_u64("--seed", v);
        else if (a == "--loss")
            o.loss = parse_prob("--loss", v);
        else if (a == "--trunc")
            o.trunc = parse_prob("--trunc", v);
        else if (a == "--snaplen")
            o.snaplen = static_cast<std::uint32_t>(parse_u64("--snaplen", v));
        else if (a == "--ipv6")
            o.ipv6 = parse_prob("--ipv6", v);
        else if (a == "--vlan")
            o.vlan = parse_prob("--vlan", v);
        else if (a == "--reuse")
            o.reuse = parse_prob("--reuse", v);
        else if (a == "--bulk")
            o.bulk = parse_prob("--bulk", v);
        else if (a == "--rst")
            o.rst = parse_prob("--rst", v);
        else if (a == "--isn-wrap")
            o.isn_wrap = parse_prob("--isn-wrap", v);
        else if (a == "--concurrency")
            o.concurrency = parse_u64("--concurrency", v);
        else if (a == "--gap-ns")
            o.gap_ns = std::max<std::uint64_t>(1, parse_u64("--gap-ns", v));
        else
            usage(("unknown option " + a).c_str());
    }
    // The widest header is Ethernet + VLAN + IPv6 + TCP with timestamps: 14 + 4 + 40 + 32.
    if (o.snaplen < 90) usage("--snaplen must be at least 90 (the largest data-packet header)");
    if (o.concurrency == 0) o.concurrency = std::clamp<std::uint64_t>(o.packets / 3500, 8, 200000);
    return o;
}

// ---------------------------------------------------------------- session scripts

constexpr std::uint32_t mss = 1448;  // payload of a full segment (1500 MTU, TCP timestamps)
constexpr int max_rounds = 4;

constexpr std::uint8_t f_fin = 0x01, f_syn = 0x02, f_rst = 0x04, f_psh = 0x08, f_ack = 0x10;

enum Phase : std::uint8_t {
    kSyn,
    kSynAck,
    kHsAck,
    kRequest,
    kXfer,
    kClose1,
    kClose2,
    kClose3,
    kDone
};

/// Who talks to whom: enough to rebuild the frame templates, and reused as a whole for port
/// reuse.
struct Endpoints {
    std::uint32_t client = 0;  // client address index
    std::uint32_t server = 0;  // server address index
    std::uint16_t cport = 0;
    std::uint16_t sport = 0;
    std::uint16_t vlan = 0;  // 0: untagged
    bool v6 = false;
};

/// One packet of a script, before it becomes bytes.
struct Pkt {
    int dir = 0;  // 0: client to server, 1: server to client
    std::uint8_t flags = 0;
    std::uint32_t len = 0;   // payload bytes on the wire
    std::uint64_t seq = 0;   // offset from the sender's ISN
    std::uint64_t ack = 0;   // offset from the receiver's ISN
    std::int64_t data = -1;  // index of this data segment in the session, or -1
};

struct Session {
    Endpoints ep;
    std::uint8_t tmpl[2][64];  // per direction: Ethernet [+ VLAN] + IP + TCP ports
    std::uint8_t l3 = 0;       // offset of the IP header
    std::uint8_t l4 = 0;       // offset of the TCP header
    std::uint32_t isn[2] = {0, 0};
    std::uint64_t next[2] = {0, 0};  // next sequence offset per direction (SYN/FIN count one)
    std::uint16_t ipid[2] = {0, 0};

    // Script.
    Phase phase = kSyn;
    std::uint8_t rounds = 1;
    std::uint8_t round = 0;
    std::uint32_t request[max_rounds] = {};
    std::uint32_t response[max_rounds] = {};
    std::uint32_t bulk = 0;
    std::uint8_t bulk_dir = 1;
    bool in_bulk = false;
    bool rst_close = false;
    std::uint8_t closer = 0;
    // Current transfer.
    std::uint8_t xdir = 1;
    std::uint64_t xleft = 0;
    std::uint8_t since_ack = 0;
    bool need_ack = false;

    std::int64_t data_count = 0;  // data segments in the whole script
    std::int64_t data_index = 0;  // data segments emitted so far

    // In flight at the start: nothing is written before data segment `skip_until`.
    bool in_flight = false;
    bool skipping = false;
    std::int64_t skip_until = -1;
    // Loss: data segment `drop_index` is not written.
    std::int64_t drop_index = -1;
    bool dropped = false;
    bool evidence = false;
    int drop_dir = 0;
    std::uint64_t drop_seq = 0;  // offset
    std::uint32_t drop_len = 0;
    std::uint64_t drop_after_frame = 0;

    // What was written.
    bool syn_written = false;
    bool wrote_any = false;
    bool reused = false;
    std::uint64_t syn_frame = 0;
    std::uint64_t syn_ns = 0;
};

/// Counts for the truth file.
struct Truth {
    std::uint64_t packets = 0, bytes_on_disk = 0, wire_bytes = 0;
    std::uint64_t truncated_packets = 0, truncated_bytes = 0;
    std::uint64_t total_sessions = 0, bad_sessions = 0, partial = 0;
    std::uint64_t lossy_chosen = 0, dropped = 0, dropped_without_evidence = 0;
    std::uint64_t drop_c2s = 0, drop_s2c = 0;
    std::uint64_t ipv6 = 0, vlan = 0, reused = 0, bulk = 0, isn_near_wrap = 0;
    std::uint64_t fin_closed = 0, rst_closed = 0, unfinished = 0, in_flight_unwritten = 0;
    std::uint64_t syn_only_at_end = 0;
};

// ---------------------------------------------------------------- frames

void put16(std::uint8_t* p, std::uint32_t v) {
    p[0] = static_cast<std::uint8_t>(v >> 8);
    p[1] = static_cast<std::uint8_t>(v);
}
void put32(std::uint8_t* p, std::uint32_t v) {
    p[0] = static_cast<std::uint8_t>(v >> 24);
    p[1] = static_cast<std::uint8_t>(v >> 16);
    p[2] = static_cast<std::uint8_t>(v >> 8);
    p[3] = static_cast<std::uint8_t>(v);
}
void putle32(std::uint8_t* p, std::uint32_t v) {
    std::memcpy(p, &v, 4);
}  // x86/ARM: little

// Address of client/server number `i`: IPv4 10.64.0.0/10 for clients, 172.16.0.0/12 for servers;
// IPv6 fd00:c::/64 and fd00:5::/64.
void put_addr(std::uint8_t* p, bool v6, bool server, std::uint32_t i) {
    if (!v6) {
        put32(p, (server ? 0xAC100000u : 0x0A400000u) + 1 + i);
        return;
    }
    std::memset(p, 0, 16);
    p[0] = 0xfd;
    p[3] = server ? 0x05 : 0x0c;
    put32(p + 12, 1 + i);
}

std::string addr_string(bool v6, bool server, std::uint32_t i) {
    char buf[64];
    if (!v6) {
        const std::uint32_t a = (server ? 0xAC100000u : 0x0A400000u) + 1 + i;
        std::snprintf(buf, sizeof buf, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255,
                      a & 255);
    } else {
        const std::uint32_t a = 1 + i;
        if (a >> 16)
            std::snprintf(buf, sizeof buf, "fd00:%x::%x:%x", server ? 5 : 0xc, a >> 16, a & 0xffff);
        else
            std::snprintf(buf, sizeof buf, "fd00:%x::%x", server ? 5 : 0xc, a);
    }
    return buf;
}

void build_templates(Session& s) {
    const Endpoints& e = s.ep;
    for (int d = 0; d < 2; ++d) {
        std::uint8_t* t = s.tmpl[d];
        std::memset(t, 0, sizeof s.tmpl[d]);
        // MACs: 02:00:00:00:00:01 is the client side router, ...:02 the server side.
        t[5] = static_cast<std::uint8_t>(d == 0 ? 2 : 1);   // dst
        t[11] = static_cast<std::uint8_t>(d == 0 ? 1 : 2);  // src
        t[0] = t[6] = 0x02;
        std::size_t o = 12;
        if (e.vlan) {
            put16(t + o, 0x8100);
            put16(t + o + 2, e.vlan);
            o += 4;
        }
        put16(t + o, e.v6 ? 0x86DD : 0x0800);
        o += 2;
        s.l3 = static_cast<std::uint8_t>(o);
        const bool src_server = d == 1;
        const std::uint32_t src = src_server ? e.server : e.client;
        const std::uint32_t dst = src_server ? e.client : e.server;
        if (!e.v6) {
            t[o] = 0x45;
            put16(t + o + 6, 0x4000);  // DF
            t[o + 8] = 64;
            t[o + 9] = 6;
            put_addr(t + o + 12, false, src_server, src);
            put_addr(t + o + 16, false, !src_server, dst);
            o += 20;
        } else {
            t[o] = 0x60;
            t[o + 6] = 6;
            t[o + 7] = 64;
            put_addr(t + o + 8, true, src_server, src);
            put_addr(t + o + 24, true, !src_server, dst);
            o += 40;
        }
        s.l4 = static_cast<std::uint8_t>(o);
        put16(t + o, d == 0 ? e.cport : e.sport);
        put16(t + o + 2, d == 0 ? e.sport : e.cport);
    }
}

std::uint32_t log_uniform(Rng& r, double lo, double hi) {
    return static_cast<std::uint32_t>(
        std::exp(std::log(lo) + r.unit() * (std::log(hi) - std::log(lo))));
}

std::uint32_t pick_isn(Rng& r, const Options& o, Truth& truth) {
    if (r.chance(o.isn_wrap)) {
        ++truth.isn_near_wrap;
        return static_cast<std::uint32_t>(0x100000000ULL - r.range(1, 100000));
    }
    return static_cast<std::uint32_t>(r.next());
}

std::int64_t segments(std::uint64_t bytes) {
    return static_cast<std::int64_t>((bytes + mss - 1) / mss);
}

/// A new script. `in_flight`: the session started before the capture.
void new_session(Session& s, Rng& r, const Options& o, Truth& truth, const Endpoints& ep,
                 bool reused, std::uint32_t old_isn, bool in_flight) {
    s = Session{};
    s.ep = ep;
    s.reused = reused;
    build_templates(s);
    s.isn[0] = pick_isn(r, o, truth);
    if (reused && s.isn[0] == old_isn) s.isn[0] += 0x10000;  // port reuse: always a new ISN
    s.isn[1] = pick_isn(r, o, truth);
    const double u = r.unit();
    s.rounds = static_cast<std::uint8_t>(u < 0.55 ? 1 : u < 0.85 ? 2 : u < 0.96 ? 3 : 4);
    for (int i = 0; i < s.rounds; ++i) {
        s.request[i] = static_cast<std::uint32_t>(r.range(200, 800));
        s.response[i] = log_uniform(r, 1024, 65536);
        s.data_count += 1 + segments(s.response[i]);
    }
    if (r.chance(o.bulk)) {
        s.bulk = static_cast<std::uint32_t>(r.range(1'000'000, 5'000'000));
        s.bulk_dir = r.chance(0.8) ? 1 : 0;
        s.data_count += segments(s.bulk);
        ++truth.bulk;
    }
    s.rst_close = r.chance(o.rst);
    s.closer = static_cast<std::uint8_t>(r.below(2));
    s.ipid[0] = static_cast<std::uint16_t>(r.next());
    s.ipid[1] = static_cast<std::uint16_t>(r.next());
    if (in_flight) {
        s.in_flight = s.skipping = true;
        s.skip_until = static_cast<std::int64_t>(r.below(static_cast<std::uint64_t>(s.data_count)));
    } else if (r.chance(o.loss)) {
        ++truth.lossy_chosen;
        s.drop_index = static_cast<std::int64_t>(r.below(static_cast<std::uint64_t>(s.data_count)));
    }
    if (ep.v6) ++truth.ipv6;
    if (ep.vlan) ++truth.vlan;
    if (reused) ++truth.reused;
}

/// The next packet of the script; false when the session is over.
bool step(Session& s, Pkt& p) {
    auto data = [&](int dir, std::uint32_t len, std::uint8_t flags) {
        p.dir = dir;
        p.flags = flags;
        p.len = len;
        p.seq = s.next[dir];
        p.ack = s.next[1 - dir];
        p.data = s.data_index++;
        s.next[dir] += len;
    };
    auto control = [&](int dir, std::uint8_t flags) {
        p.dir = dir;
        p.flags = flags;
        p.len = 0;
        p.seq = s.next[dir];
        p.ack = (flags & f_ack) ? s.next[1 - dir] : 0;
        p.data = -1;
        if (flags & (f_syn | f_fin)) s.next[dir] += 1;
    };
    auto after_transfer = [&]() {
        if (!s.in_bulk && s.round + 1 < s.rounds) {
            ++s.round;
            s.phase = kRequest;
        } else if (!s.in_bulk && s.bulk) {
            s.in_bulk = true;
            s.xdir = s.bulk_dir;
            s.xleft = s.bulk;
            s.since_ack = 0;
            s.phase = kXfer;
        } else {
            s.in_bulk = false;
            s.phase = kClose1;
        }
    };
    switch (s.phase) {
        case kSyn:
            control(0, f_syn);
            s.phase = kSynAck;
            return true;
        case kSynAck:
            control(1, f_syn | f_ack);
            s.phase = kHsAck;
            return true;
        case kHsAck:
            control(0, f_ack);
            s.phase = kRequest;
            return true;
        case kRequest:
            data(0, s.request[s.round], f_psh | f_ack);
            s.xdir = 1;
            s.xleft = s.response[s.round];
            s.since_ack = 0;
            s.phase = kXfer;
            return true;
        case kXfer:
            if (s.need_ack) {
                control(1 - s.xdir, f_ack);
                s.need_ack = false;
                s.since_ack = 0;
                if (s.xleft == 0) after_transfer();
                return true;
            } else {
                const auto len = static_cast<std::uint32_t>(std::min<std::uint64_t>(mss, s.xleft));
                s.xleft -= len;
                data(s.xdir, len, s.xleft == 0 ? f_psh | f_ack : f_ack);
                if (++s.since_ack == 2 || s.xleft == 0) s.need_ack = true;
                return true;
            }
        case kClose1:
            if (s.rst_close) {
                control(s.closer, f_rst | f_ack);
                s.phase = kDone;
            } else {
                control(s.closer, f_fin | f_ack);
                s.phase = kClose2;
            }
            return true;
        case kClose2:
            control(1 - s.closer, f_fin | f_ack);
            s.phase = kClose3;
            return true;
        case kClose3:
            control(s.closer, f_ack);
            s.phase = kDone;
            return true;
        case kDone:
            return false;
    }
    return false;
}

// ---------------------------------------------------------------- output

class Writer {
  public:
    Writer(const std::string& path, bool usec) : buf_(new std::uint8_t[cap]) {
        f_ = std::fopen(path.c_str(), "wb");
        if (!f_) {
            std::fprintf(stderr, "gen_capture: cannot write %s: %s\n", path.c_str(),
                         std::strerror(errno));
            std::exit(2);
        }
        std::uint8_t h[24] = {};
        putle32(h, usec ? 0xA1B2C3D4u : 0xA1B23C4Du);
        h[4] = 2;  // version 2.4, little endian
        h[6] = 4;
        putle32(h + 16, 262144);  // the file's snaplen: the largest frame it may hold
        putle32(h + 20, 1);       // LINKTYPE_ETHERNET
        std::memcpy(buf_.get(), h, sizeof h);
        used_ = sizeof h;
    }
    ~Writer() { close(); }
    /// Room for one record of at most `n` bytes.
    std::uint8_t* reserve(std::size_t n) {
        if (used_ + n > cap) flush();
        return buf_.get() + used_;
    }
    void commit(std::size_t n) { used_ += n; }
    void close() {
        if (!f_) return;
        flush();
        if (std::fclose(f_) != 0) fail();
        f_ = nullptr;
    }

  private:
    static constexpr std::size_t cap = 8u << 20;
    void flush() {
        if (used_ && std::fwrite(buf_.get(), 1, used_, f_) != used_) fail();
        used_ = 0;
    }
    [[noreturn]] void fail() {
        std::fprintf(stderr, "gen_capture: write failed: %s\n", std::strerror(errno));
        std::exit(2);
    }
    std::FILE* f_ = nullptr;
    std::unique_ptr<std::uint8_t[]> buf_;
    std::size_t used_ = 0;
};

struct PayloadPattern {
    std::uint8_t bytes[mss];
    PayloadPattern() {
        const char* text = "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n\r\n";
        const std::size_t n = std::strlen(text);
        for (std::size_t i = 0; i < mss; ++i)
            bytes[i] = static_cast<std::uint8_t>(text[i % n]);
    }
};

/// Writes one packet of `s` as a pcap record at time `ns`.
void write_packet(Writer& w, Session& s, const Pkt& p, std::uint64_t ns, bool truncate,
                  const Options& o, const PayloadPattern& pay, Truth& truth) {
    const bool synpkt = (p.flags & f_syn) != 0;
    const std::uint32_t tcp_len = synpkt ? 40 : 32;
    const std::uint32_t hdr = s.l4 + tcp_len;
    const std::uint32_t wire = hdr + p.len;
    const std::uint32_t cap = truncate && wire > o.snaplen ? o.snaplen : wire;
    std::uint8_t* rec = w.reserve(16 + hdr + mss);
    putle32(rec, static_cast<std::uint32_t>(ns / 1'000'000'000));
    putle32(rec + 4,
            static_cast<std::uint32_t>(o.usec ? ns % 1'000'000'000 / 1000 : ns % 1'000'000'000));
    putle32(rec + 8, cap);
    putle32(rec + 12, wire);
    std::uint8_t* f = rec + 16;
    std::memcpy(f, s.tmpl[p.dir], s.l4 + 4u);
    std::uint8_t* ip = f + s.l3;
    if (!s.ep.v6) {
        put16(ip + 2, wire - s.l3);
        put16(ip + 4, s.ipid[p.dir]++);
    } else {
        put16(ip + 4, tcp_len + p.len);
    }
    std::uint8_t* t = f + s.l4;
    const std::uint32_t peer = static_cast<std::uint32_t>(1 - p.dir);
    put32(t + 4, s.isn[p.dir] + static_cast<std::uint32_t>(p.seq));
    put32(t + 8, (p.flags & f_ack) ? s.isn[peer] + static_cast<std::uint32_t>(p.ack) : 0);
    t[12] = static_cast<std::uint8_t>((tcp_len / 4) << 4);
    t[13] = p.flags;
    put16(t + 14, synpkt ? 64240 : 502);
    put16(t + 16, 0);  // checksum (offloaded, as on most capture hosts)
    put16(t + 18, 0);
    const auto tsval = static_cast<std::uint32_t>(ns / 1'000'000);
    std::uint8_t* opt = t + 20;
    if (synpkt) {
        const std::uint8_t syn_opts[20] = {2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0,
                                           0, 0, 0,    0,    0, 0, 1, 3,  3, 7};
        std::memcpy(opt, syn_opts, sizeof syn_opts);
        put32(opt + 8, tsval);
        put32(opt + 12, p.dir ? tsval : 0);
    } else {
        opt[0] = opt[1] = 1;
        opt[2] = 8;
        opt[3] = 10;
        put32(opt + 4, tsval);
        put32(opt + 8, tsval - 1);
    }
    if (cap > hdr) std::memcpy(f + hdr, pay.bytes, cap - hdr);
    w.commit(16 + cap);

    truth.bytes_on_disk += 16 + cap;
    truth.wire_bytes += wire;
    if (cap < wire) {
        ++truth.truncated_packets;
        truth.truncated_bytes += wire - cap;
    }
}

// ---------------------------------------------------------------- the run

struct TruthRow {
    std::uint64_t syn_frame;
    std::uint64_t syn_ns;
    Endpoints ep;
    bool bad;
    bool reused;
    bool bulk;
    bool rst;
    bool finished;
    int drop_dir;  // -1: nothing dropped
    std::uint32_t drop_seq;
    std::uint32_t drop_len;
    std::uint64_t drop_after_frame;
};

void finish_session(const Session& s, bool finished, Truth& truth, std::vector<TruthRow>& rows) {
    if (s.in_flight) {
        if (s.wrote_any)
            ++truth.partial;
        else
            ++truth.in_flight_unwritten;
    }
    if (finished) {
        if (s.rst_close)
            ++truth.rst_closed;
        else
            ++truth.fin_closed;
    } else {
        ++truth.unfinished;
    }
    if (s.dropped && !s.evidence) ++truth.dropped_without_evidence;
    if (!s.syn_written) return;
    ++truth.total_sessions;
    if (!finished && s.phase == kSynAck) ++truth.syn_only_at_end;
    const bool bad = s.dropped && s.evidence;
    if (bad) ++truth.bad_sessions;
    rows.push_back(TruthRow{s.syn_frame, s.syn_ns, s.ep, bad, s.reused, s.bulk != 0, s.rst_close,
                            finished, s.dropped ? s.drop_dir : -1,
                            s.isn[s.drop_dir] + static_cast<std::uint32_t>(s.drop_seq), s.drop_len,
                            s.drop_after_frame});
}

std::string endpoint_string(const Endpoints& e, bool server) {
    const std::string a = addr_string(e.v6, server, server ? e.server : e.client);
    const unsigned port = server ? e.sport : e.cport;
    return e.v6 ? "[" + a + "]:" + std::to_string(port) : a + ":" + std::to_string(port);
}

void write_truth(const Options& o, const Truth& t, double seconds,
                 const std::vector<TruthRow>& rows) {
    const std::string json = o.out + ".truth.json";
    std::FILE* f = std::fopen(json.c_str(), "w");
    if (!f) {
        std::fprintf(stderr, "gen_capture: cannot write %s\n", json.c_str());
        std::exit(2);
    }
    std::fprintf(f,
                 "{\n"
                 "  \"generator\": {\"packets\": %llu, \"seed\": %llu, \"loss\": %g, \"trunc\": %g,"
                 " \"snaplen\": %u, \"ipv6\": %g, \"vlan\": %g, \"reuse\": %g, \"bulk\": %g,"
                 " \"rst\": %g, \"isn_wrap\": %g, \"concurrency\": %llu, \"gap_ns\": %llu,"
                 " \"precision\": \"%s\"},\n",
                 static_cast<unsigned long long>(o.packets),
                 static_cast<unsigned long long>(o.seed), o.loss, o.trunc, o.snaplen, o.ipv6,
                 o.vlan, o.reuse, o.bulk, o.rst, o.isn_wrap,
                 static_cast<unsigned long long>(o.concurrency),
                 static_cast<unsigned long long>(o.gap_ns), o.usec ? "usec" : "nsec");
    auto u = [](std::uint64_t v) { return static_cast<unsigned long long>(v); };
    std::fprintf(f,
                 "  \"total_sessions\": %llu,\n  \"bad_sessions\": %llu,\n  \"partial\": %llu,\n"
                 "  \"packets\": %llu,\n  \"file_bytes\": %llu,\n  \"wire_bytes\": %llu,\n"
                 "  \"truncated_packets\": %llu,\n  \"truncated_bytes\": %llu,\n"
                 "  \"lossy_sessions_chosen\": %llu,\n  \"segments_dropped\": %llu,\n"
                 "  \"dropped_c2s\": %llu,\n  \"dropped_s2c\": %llu,\n"
                 "  \"dropped_without_evidence\": %llu,\n"
                 "  \"sessions_ipv6\": %llu,\n  \"sessions_vlan\": %llu,\n"
                 "  \"sessions_port_reused\": %llu,\n  \"sessions_bulk\": %llu,\n"
                 "  \"isns_near_wrap\": %llu,\n  \"fin_closed\": %llu,\n  \"rst_closed\": %llu,\n"
                 "  \"unfinished_at_end\": %llu,\n  \"syn_only_at_end\": %llu,\n"
                 "  \"in_flight_unwritten\": %llu,\n  \"generate_seconds\": %.3f\n}\n",
                 u(t.total_sessions), u(t.bad_sessions), u(t.partial), u(t.packets),
                 u(t.bytes_on_disk + 24), u(t.wire_bytes), u(t.truncated_packets),
                 u(t.truncated_bytes), u(t.lossy_chosen), u(t.dropped), u(t.drop_c2s),
                 u(t.drop_s2c), u(t.dropped_without_evidence), u(t.ipv6), u(t.vlan), u(t.reused),
                 u(t.bulk), u(t.isn_near_wrap), u(t.fin_closed), u(t.rst_closed), u(t.unfinished),
                 u(t.syn_only_at_end), u(t.in_flight_unwritten), seconds);
    std::fclose(f);

    const std::string csv = o.out + ".truth-sessions.csv";
    f = std::fopen(csv.c_str(), "w");
    if (!f) {
        std::fprintf(stderr, "gen_capture: cannot write %s\n", csv.c_str());
        std::exit(2);
    }
    std::fprintf(f,
                 "syn_frame,syn_time,client,server,vlan,bad,reused,bulk,close,finished,"
                 "drop_dir,drop_seq,drop_len,drop_after_frame\n");
    for (const TruthRow& r : rows) {
        const char* dir = r.drop_dir < 0 ? "" : r.drop_dir == 0 ? "c2s" : "s2c";
        std::fprintf(f, "%llu,%llu.%09llu,%s,%s,%u,%d,%d,%d,%s,%d,%s,", u(r.syn_frame),
                     u(r.syn_ns / 1'000'000'000), u(r.syn_ns % 1'000'000'000),
                     endpoint_string(r.ep, false).c_str(), endpoint_string(r.ep, true).c_str(),
                     r.ep.vlan, r.bad ? 1 : 0, r.reused ? 1 : 0, r.bulk ? 1 : 0,
                     r.rst ? "rst" : "fin", r.finished ? 1 : 0, dir);
        if (r.drop_dir < 0)
            std::fprintf(f, ",,\n");
        else
            std::fprintf(f, "%u,%u,%llu\n", r.drop_seq, r.drop_len, u(r.drop_after_frame));
    }
    std::fclose(f);
}

}  // namespace

int main(int argc, char** argv) {
    const Options o = parse_args(argc, argv);
    const auto started = std::chrono::steady_clock::now();
    Rng rng(o.seed);
    Truth truth;
    std::vector<TruthRow> rows;
    rows.reserve(o.packets / 30);
    const PayloadPattern pay;
    Writer out(o.out, o.usec);

    // Fresh client endpoints: each client address has its own ephemeral port counter, so fresh
    // sessions never share a key; only deliberate port reuse does.
    const std::uint32_t n_clients = 20000, n_servers = 500;
    std::vector<std::uint16_t> next_port(n_clients);
    for (auto& p : next_port)
        p = static_cast<std::uint16_t>(rng.range(32768, 60999));
    const std::uint16_t server_ports[] = {443, 443, 443, 80, 80, 8080, 5432, 6379, 22, 3306};
    auto fresh_endpoints = [&]() {
        Endpoints e;
        e.v6 = rng.chance(o.ipv6);
        e.client = static_cast<std::uint32_t>(rng.below(n_clients));
        e.server = static_cast<std::uint32_t>(rng.below(n_servers));
        e.sport = server_ports[rng.below(std::size(server_ports))];
        std::uint16_t& port = next_port[e.client];
        e.cport = port;
        port = port >= 60999 ? 32768 : static_cast<std::uint16_t>(port + 1);
        if (rng.chance(o.vlan)) e.vlan = static_cast<std::uint16_t>(rng.range(100, 120));
        return e;
    };
    // Closed sessions whose endpoints a new session may take again (each at most once).
    struct Closed {
        Endpoints ep;
        std::uint32_t isn;
    };
    std::vector<Closed> closed;
    closed.reserve(4096);

    std::vector<Session> pool(o.concurrency);
    for (auto& s : pool)
        new_session(s, rng, o, truth, fresh_endpoints(), false, 0, true);

    std::uint64_t ns = 1'767'225'600ULL * 1'000'000'000ULL;  // 2026-01-01T00:00:00Z
    Pkt p;
    while (truth.packets < o.packets) {
        Session& s = pool[rng.below(pool.size())];
        // Bulk transfers send in larger bursts than request/response traffic.
        int burst = s.in_bulk ? 16 : 1;
        while (burst > 0 && truth.packets < o.packets) {
            if (!step(s, p)) {
                finish_session(s, true, truth, rows);
                if (!s.in_flight) {
                    if (closed.size() < 4096)
                        closed.push_back({s.ep, s.isn[0]});
                    else
                        closed[rng.below(closed.size())] = {s.ep, s.isn[0]};
                }
                if (!closed.empty() && rng.chance(o.reuse)) {
                    const std::size_t i = rng.below(closed.size());
                    const Closed c = closed[i];
                    closed[i] = closed.back();
                    closed.pop_back();
                    new_session(s, rng, o, truth, c.ep, true, c.isn, false);
                } else {
                    new_session(s, rng, o, truth, fresh_endpoints(), false, 0, false);
                }
                break;
            }
            if (s.skipping) {
                if (p.data != s.skip_until) continue;
                s.skipping = false;
            }
            if (p.data >= 0 && p.data == s.drop_index) {
                s.dropped = true;
                s.drop_dir = p.dir;
                s.drop_seq = p.seq;
                s.drop_len = p.len;
                s.drop_after_frame = truth.packets;
                ++truth.dropped;
                ++(p.dir == 0 ? truth.drop_c2s : truth.drop_s2c);
                continue;
            }
            if (s.dropped && !s.evidence && !(p.flags & f_rst)) {
                // A later packet of the sender at or past the hole's end, or an ACK of the
                // receiver covering it (RST packets are never evidence).
                const std::uint64_t end = s.drop_seq + s.drop_len;
                if (p.dir == s.drop_dir ? p.seq >= end : ((p.flags & f_ack) && p.ack >= end))
                    s.evidence = true;
            }
            ns += 1 + rng.below(2 * o.gap_ns);
            const bool truncate = p.len > 0 && rng.chance(o.trunc);
            ++truth.packets;
            if (p.flags == f_syn) {
                s.syn_written = true;
                s.syn_frame = truth.packets;
                s.syn_ns = o.usec ? ns / 1000 * 1000 : ns;
            }
            s.wrote_any = true;
            write_packet(out, s, p, ns, truncate, o, pay, truth);
            --burst;
        }
    }
    for (const auto& s : pool)
        finish_session(s, false, truth, rows);
    out.close();
    std::sort(rows.begin(), rows.end(),
              [](const TruthRow& a, const TruthRow& b) { return a.syn_frame < b.syn_frame; });
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    write_truth(o, truth, secs, rows);
    std::fprintf(stderr,
                 "gen_capture: %s: %llu packets, %.1f MB, %llu sessions with SYN (%llu bad), "
                 "%llu partial, %llu truncated frames, %.1f s\n",
                 o.out.c_str(), static_cast<unsigned long long>(truth.packets),
                 static_cast<double>(truth.bytes_on_disk + 24) / 1e6,
                 static_cast<unsigned long long>(truth.total_sessions),
                 static_cast<unsigned long long>(truth.bad_sessions),
                 static_cast<unsigned long long>(truth.partial),
                 static_cast<unsigned long long>(truth.truncated_packets), secs);
    return 0;
}
