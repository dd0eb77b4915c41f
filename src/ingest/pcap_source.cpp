// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// The libpcap adapter: the one place that includes <pcap/pcap.h>.
//
// Multi-interface pcapng. libpcap 1.10 reads pcapng through its pcap API, which has a single
// link type and snapshot length per handle: pcap_datalink() reports the first interface's
// type, and when pcap_next_ex() meets a later Interface Description Block whose link type or
// snapshot length differs from the first one, it fails with PCAP_ERROR ("an interface has a
// type 0 different from the type of the first interface"), usually before the first packet,
// because writers put all the IDBs up front. Nothing of such a file would be read. When that
// exact error appears, this file switches to a small pcapng block reader of its own for the
// rest of that file (it reopens the file and skips the packets libpcap already returned); it
// gives each packet its own interface's link type, applies the interface's timestamp
// resolution and offset, and compiles the BPF filter once per link type.

#include <capgap/errors.hpp>
#include <capgap/pcap_source.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <utility>

#include <pcap/pcap.h>

#include "core/compiler.hpp"
#include "core/errors.hpp"

namespace capgap {

namespace {
// seconds * 1e9 + ns, saturating: a file may carry any timestamp, and times past 2262 do not
// fit in int64 nanoseconds (they are kept at the largest value rather than wrapping).
std::int64_t seconds_to_ns(std::int64_t seconds, std::int64_t ns) {
    std::int64_t r;
    if (__builtin_mul_overflow(seconds, std::int64_t{1000000000}, &r) ||
        __builtin_add_overflow(r, ns, &r))
        return seconds < 0 ? INT64_MIN : INT64_MAX;
    return r;
}
}  // namespace
namespace {

struct PcapCloser {
    void operator()(pcap_t* p) const noexcept { pcap_close(p); }
};
using PcapPtr = std::unique_ptr<pcap_t, PcapCloser>;

struct FileCloser {
    void operator()(std::FILE* f) const noexcept { std::fclose(f); }
};
using FilePtr = std::unique_ptr<std::FILE, FileCloser>;

struct BpfFree {
    void operator()(bpf_program* p) const noexcept {
        pcap_freecode(p);
        delete p;
    }
};
using BpfPtr = std::unique_ptr<bpf_program, BpfFree>;

constexpr int snaplen_max = 262144;

// Compiles `expr` for the link type of `p`; null with `error` set when it does not compile.
BpfPtr compile_filter(pcap_t* p, const std::string& expr, std::string& error) {
    auto prog = BpfPtr(new bpf_program{});
    if (pcap_compile(p, prog.get(), expr.c_str(), 1, PCAP_NETMASK_UNKNOWN) != 0) {
        error = pcap_geterr(p);
        return nullptr;  // pcap_freecode accepts the empty program
    }
    return prog;
}

// Compiles for a link type without a capture handle.
BpfPtr compile_filter_for(int link_type, const std::string& expr, std::string& error) {
    PcapPtr dead(
        pcap_open_dead_with_tstamp_precision(link_type, snaplen_max, PCAP_TSTAMP_PRECISION_NANO));
    if (!dead) {
        error = "cannot create a pcap handle";
        return nullptr;
    }
    return compile_filter(dead.get(), expr, error);
}

// The fields of one packet, whichever reader produced it.
struct Packet {
    const std::uint8_t* data = nullptr;
    std::uint32_t caplen = 0;
    std::uint32_t len = 0;
    int link_type = 0;
    std::int64_t ns = 0;
};

// A minimal pcapng reader for files libpcap refuses because their interfaces differ in link
// type or snapshot length. Reads Section Header, Interface Description, Enhanced, Simple and
// (obsolete) Packet blocks in either byte order and skips every other block.
class PcapngReader {
  public:
    explicit PcapngReader(FilePtr file) : file_(std::move(file)) {}

    enum Result { packet, end, failed };

    Result next(Packet& out) {
        for (;;) {
            std::uint32_t type = 0;
            const Result r = read_block(type);
            if (r != packet) return r;
            const std::uint32_t size = static_cast<std::uint32_t>(body_.size()) - 4;
            const std::uint8_t* b = body_.data();
            if (type == 0x0a0d0d0a) {
                if (size < 16 || u16(b + 4) != 1) return fail("unsupported section header");
                interfaces_.clear();
            } else if (type == 1) {
                if (size < 8) return fail("interface description block too short");
                Interface ifc;
                ifc.link_type = to_dlt(u16(b));
                if (!read_interface_options(b + 8, size - 8, ifc)) return failed;
                interfaces_.push_back(ifc);
            } else if (type == 6 || type == 2) {
                if (size < 20) return fail("packet block too short");
                const std::uint32_t ifid = type == 6 ? u32(b) : u16(b);
                const std::uint64_t ts = (std::uint64_t{u32(b + 4)} << 32) | u32(b + 8);
                out.caplen = u32(b + 12);
                out.len = u32(b + 16);
                if (out.caplen > size - 20) return fail("packet data beyond the block");
                if (ifid >= interfaces_.size()) return fail("packet on an undescribed interface");
                const Interface& ifc = interfaces_[ifid];
                out.link_type = ifc.link_type;
                out.ns = to_ns(ts, ifc);
                out.data = b + 20;
                return packet;
            } else if (type == 3) {
                if (size < 4) return fail("simple packet block too short");
                if (interfaces_.empty()) return fail("packet on an undescribed interface");
                out.len = u32(b);
                out.caplen = out.len < size - 4 ? out.len : size - 4;
                out.link_type = interfaces_[0].link_type;
                out.ns = 0;  // simple packet blocks carry no timestamp
                out.data = b + 4;
                return packet;
            }
        }
    }

    const std::string& error() const { return error_; }
    std::uint64_t block_offset() const { return block_offset_; }

  private:
    struct Interface {
        int link_type = 0;
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

    // pcapng stores LINKTYPE_ values; the decoder and BPF expect DLT_ values. They are equal
    // except for a few historical ones, of which only raw IP matters here.
    static int to_dlt(std::uint16_t linktype) {
        return linktype == 101 ? DLT_RAW : static_cast<int>(linktype);
    }

    // Reads one block into body_ (body plus trailing length). `packet` means a block was read.
    Result read_block(std::uint32_t& type) {
        block_offset_ = offset_;
        std::uint8_t head[8];
        const std::size_t got = std::fread(head, 1, sizeof head, file_.get());
        if (got == 0 && std::feof(file_.get())) return end;
        if (got != sizeof head) return fail("truncated block header");
        offset_ += sizeof head;
        std::uint8_t bom[4] = {0, 0, 0, 0};
        const bool shb = head[0] == 0x0a && head[1] == 0x0d && head[2] == 0x0d && head[3] == 0x0a;
        if (shb) {
            if (std::fread(bom, 1, 4, file_.get()) != 4) return fail("truncated section header");
            offset_ += 4;
            if (bom[0] == 0x1a && bom[1] == 0x2b && bom[2] == 0x3c && bom[3] == 0x4d) {
                big_ = true;
            } else if (bom[3] == 0x1a && bom[2] == 0x2b && bom[1] == 0x3c && bom[0] == 0x4d) {
                big_ = false;
            } else {
                return fail("bad byte-order magic");
            }
        }
        type = u32(head);
        const std::uint32_t total = u32(head + 4);
        if (total < 16 || total % 4 != 0 || total > (64u << 20) || (shb && total < 28)) {
            return fail("bad block length");
        }
        body_.resize(total - 8);
        std::size_t have = 0;
        if (shb) {
            std::memcpy(body_.data(), bom, 4);
            have = 4;
        }
        const std::size_t want = body_.size() - have;
        if (std::fread(body_.data() + have, 1, want, file_.get()) != want) {
            return fail("truncated block");
        }
        offset_ += want;
        if (u32(body_.data() + body_.size() - 4) != total) {
            return fail("block lengths in header and trailer differ");
        }
        return packet;
    }

    bool read_interface_options(const std::uint8_t* p, std::uint32_t size, Interface& ifc) {
        while (size >= 4) {
            const std::uint16_t code = u16(p);
            const std::uint32_t length = u16(p + 2);
            const std::uint32_t padded = (length + 3) & ~3u;
            if (code == 0) break;
            if (padded > size - 4) {
                error_ = "interface option beyond the block";
                return false;
            }
            const std::uint8_t* v = p + 4;
            if (code == 9 && length >= 1) {  // if_tsresol
                const unsigned exp = v[0] & 0x7fu;
                if (v[0] & 0x80u) {
                    if (exp > 63) return bad_resolution();
                    ifc.ticks_per_second = std::uint64_t{1} << exp;
                } else {
                    if (exp > 19) return bad_resolution();
                    ifc.ticks_per_second = 1;
                    for (unsigned i = 0; i < exp; ++i)
                        ifc.ticks_per_second *= 10;
                }
            } else if (code == 14 && length >= 8) {  // if_tsoffset, seconds
                const std::uint64_t hi = u32(v), lo = u32(v + 4);
                ifc.offset_seconds =
                    static_cast<std::int64_t>(big_ ? (hi << 32) | lo : (lo << 32) | hi);
            }
            p += 4 + padded;
            size -= 4 + padded;
        }
        return true;
    }

    bool bad_resolution() {
        error_ = "unsupported timestamp resolution";
        return false;
    }

    static std::int64_t to_ns(std::uint64_t ts, const Interface& ifc) {
        __extension__ using u128 = unsigned __int128;
        const std::uint64_t tps = ifc.ticks_per_second;
        const u128 ns = u128{ts / tps} * 1000000000u + u128{ts % tps} * 1000000000u / tps;
        const std::int64_t base = ns > u128{INT64_MAX} ? INT64_MAX : static_cast<std::int64_t>(ns);
        return seconds_to_ns(ifc.offset_seconds, base);
    }

    FilePtr file_;
    std::vector<std::uint8_t> body_;
    std::vector<Interface> interfaces_;
    std::uint64_t offset_ = 0;
    std::uint64_t block_offset_ = 0;
    bool big_ = false;
    std::string error_;
};

// Classic pcap records read in large blocks, once libpcap has opened the file and checked its
// file header. Per packet, pcap_next_ex() makes two fread calls and copies the record twice
// (the kernel into stdio's 4 KB buffer, stdio into libpcap's); on a capture in the page cache
// that was most of a bare libpcap loop's time and a fifth of an analysis. Here one pread fills
// a 1 MB buffer that stays in the CPU's caches, and records are parsed where they lie in it.
// (A memory map of the file measured slower: a page fault per 64 KB and every packet's first
// touch missing the caches.) The checks and error messages are libpcap's (sf-pcap.c), so a
// damaged file stops at the same record with the same words.
//
// Files this reader does not take stay with libpcap: pcapng, the old variants of the format
// (versions before 2.4, Kuznetzov's and Navtel's headers), link types whose pseudo-header
// libpcap rewrites in files of the other byte order, link types with another largest snapshot
// length, and what is not a regular file (a pipe).
class BlockPcapReader {
  public:
    enum Result { packet, end, failed };

    // The reader for the file behind `p`, or null when libpcap should go on reading it.
    static std::unique_ptr<BlockPcapReader> open(pcap_t* p) {
        std::FILE* f = pcap_file(p);
        if (f == nullptr) return nullptr;
        const int fd = fileno(f);
        struct stat st {};
        if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) return nullptr;
        std::uint8_t magic[4];
        if (::pread(fd, magic, 4, 0) != 4) return nullptr;
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
        r->size_ = static_cast<std::uint64_t>(st.st_size);
        r->swapped_ = pcap_is_swapped(p) != 0;
        r->micro_ = micro;
        r->snapshot_ = static_cast<std::uint32_t>(snapshot);
        r->link_type_ = dlt;
        r->pos_ = file_header_bytes;
        r->window_ = file_header_bytes;
        return r;
    }

    ~BlockPcapReader() = default;
    BlockPcapReader(const BlockPcapReader&) = delete;
    BlockPcapReader& operator=(const BlockPcapReader&) = delete;

    Result next(Packet& out) {
        const std::uint64_t left = size_ - pos_;
        if (left < header_bytes || !reach(header_bytes)) return left == 0 ? end : bad_record();
        const std::uint8_t* h = buffer_.data() + (pos_ - window_);
        const std::uint32_t caplen = u32(h + 8);
        if (caplen > static_cast<std::uint32_t>(snaplen_max) || left - header_bytes < caplen ||
            !reach(header_bytes + caplen))
            return bad_record();
        take(buffer_.data() + (pos_ - window_), caplen, out);
        return packet;
    }

    // The next record when it lies whole in the buffer and is sound, without reading the file
    // (records handed out before stay where they are). False changes nothing: next() then
    // reads on, or says what is wrong with the record.
    bool next_buffered(Packet& out) {
        // The buffer may hold bytes past size_ when the file grew after it was opened: those
        // are not read, as next() does not read them.
        const std::uint64_t left = size_ - pos_;
        const std::uint64_t buffered = window_ + length_ - pos_;
        if (left < header_bytes || buffered < header_bytes) return false;
        const std::uint8_t* h = buffer_.data() + (pos_ - window_);
        const std::uint32_t caplen = u32(h + 8);
        if (caplen > static_cast<std::uint32_t>(snaplen_max) || left - header_bytes < caplen ||
            buffered - header_bytes < caplen)
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

    // Makes [pos_, pos_ + bytes) part of the buffer (the caller checked it is in the file).
    bool reach(std::uint64_t bytes) { return pos_ + bytes <= window_ + length_ || refill(bytes); }

    // Moves the unread rest of the buffer to its front and reads on from the file until
    // [pos_, pos_ + bytes) is there (bytes never exceeds a record, 16 + 262,144 bytes).
    CAPGAP_NOINLINE bool refill(std::uint64_t bytes) {
        const std::uint64_t keep = window_ + length_ > pos_ ? window_ + length_ - pos_ : 0;
        if (keep > 0) std::memmove(buffer_.data(), buffer_.data() + (pos_ - window_), keep);
        window_ = pos_;
        length_ = keep;
        while (length_ < bytes) {
            const ssize_t got = ::pread(fd_, buffer_.data() + length_, buffer_.size() - length_,
                                        static_cast<off_t>(window_ + length_));
            if (got < 0 && errno == EINTR) continue;
            if (got <= 0) {
                fail(got < 0 ? std::string("error reading dump file: ") + std::strerror(errno)
                             : std::string("the file was cut short while being read"));
                return false;
            }
            length_ += static_cast<std::uint64_t>(got);
        }
        return true;
    }

    // The record at pos_ is damaged: says how, in libpcap's words (or why it could not be read).
    CAPGAP_NOINLINE Result bad_record() {
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

    int fd_ = -1;             // libpcap's, closed by pcap_close
    std::uint64_t size_ = 0;  // at open: a file growing meanwhile is read that far
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

// Opens the file with fopen first so that a missing or unreadable file is told apart from
// one that is not a capture.
FilePtr open_file(const std::string& path) {
    errno = 0;
    FilePtr f(std::fopen(path.c_str(), "rb"));
    if (!f) throw_io_error(path, "", std::strerror(errno != 0 ? errno : EIO));
    struct stat st {};
    if (fstat(fileno(f.get()), &st) == 0 && S_ISDIR(st.st_mode)) {
        throw_io_error(path, "", std::strerror(EISDIR));
    }
    return f;
}

}  // namespace

struct PcapSource::Impl {
    struct Input {
        std::string path;
        PcapPtr pcap;
        std::unique_ptr<PcapngReader> ng;        // set once libpcap gave up on mixed interfaces
        std::unique_ptr<BlockPcapReader> block;  // classic pcap read in large blocks
        int link_type = 0;
        std::uint64_t records = 0;  // packets read from this file so far
        bool done = false;
        Packet pending;
        bool has_pending = false;
        // BPF: the program for the libpcap handle, or per link type for the pcapng reader.
        // A null program means the filter cannot apply to that link type: nothing passes.
        BpfPtr filter;
        std::map<int, BpfPtr> ng_filters;
    };

    std::vector<Input> inputs;
    std::string bpf;
    IngestStats stats;
    std::uint64_t frames = 0;
    std::size_t last = 0;  // input of the packet returned last
    bool started = false;
    bool have_last = false;

    void open(const std::vector<std::string>& paths) {
        inputs.reserve(paths.size());
        for (const std::string& path : paths) {
            FilePtr f = open_file(path);
            char errbuf[PCAP_ERRBUF_SIZE] = "";
            PcapPtr p(pcap_fopen_offline_with_tstamp_precision(f.get(), PCAP_TSTAMP_PRECISION_NANO,
                                                               errbuf));
            if (!p) {
                // libpcap reports a failed read as "error reading dump file: <strerror>";
                // everything else means the content is not a capture it knows.
                if (std::strncmp(errbuf, "error reading", 13) == 0) {
                    throw_io_error(path, "", errbuf);
                }
                throw_format_error(path, "", errbuf);
            }
            f.release();  // pcap_close closes it from now on
            Input in;
            in.path = path;
            in.link_type = pcap_datalink(p.get());
            in.block = BlockPcapReader::open(p.get());
            in.pcap = std::move(p);
            inputs.push_back(std::move(in));
            ++stats.files;
        }
        if (bpf.empty()) return;
        std::string error;
        if (!compile_filter_for(DLT_EN10MB, bpf, error) && inputs.empty()) {
            throw_parse_error("--filter", 0, 0, error);
        }
        for (Input& in : inputs) {
            in.filter = compile_filter(in.pcap.get(), bpf, error);
            if (!in.filter) check_link_specific(error);
        }
    }

    // A filter that compiles for Ethernet but not for some link type ("ether host" on raw IP)
    // is not an error of the expression: it simply matches nothing there. An expression that
    // does not compile for Ethernet either is malformed.
    void check_link_specific(const std::string& error) const {
        std::string ignored;
        if (!compile_filter_for(DLT_EN10MB, bpf, ignored)) {
            throw_parse_error("--filter", 0, 0, error);
        }
    }

    bool passes(Input& in, const Packet& pk) {
        pcap_pkthdr hdr{};
        hdr.caplen = pk.caplen;
        hdr.len = pk.len;
        const bpf_program* prog = nullptr;
        if (!in.ng) {
            prog = in.filter.get();
        } else {
            auto it = in.ng_filters.find(pk.link_type);
            if (it == in.ng_filters.end()) {
                std::string error;
                it = in.ng_filters
                         .emplace(pk.link_type, compile_filter_for(pk.link_type, bpf, error))
                         .first;
            }
            prog = it->second.get();
        }
        return prog != nullptr && pcap_offline_filter(prog, &hdr, pk.data) != 0;
    }

    void problem(Input& in, const std::string& reason) {
        stats.problems.push_back({in.path, "record " + std::to_string(in.records + 1), reason});
        in.done = true;
    }

    // Reads the next packet of `in` into in.pending.
    void advance(Input& in) {
        in.has_pending = false;
        if (in.done) return;
        if (in.block) {
            const BlockPcapReader::Result r = in.block->next(in.pending);
            if (r == BlockPcapReader::packet) {
                in.has_pending = true;
                ++in.records;
            } else {
                block_ended(in, r);
            }
            return;
        }
        advance_other(in);
    }

    // Out of line, so that the per-packet path above stays small.
    CAPGAP_NOINLINE void block_ended(Input& in, BlockPcapReader::Result r) {
        if (r == BlockPcapReader::end) {
            in.done = true;
        } else {
            problem(in, in.block->error() + " (offset " + std::to_string(in.block->offset()) + ")");
        }
    }

    // libpcap's pcap_next_ex, or the pcapng reader.
    CAPGAP_NOINLINE void advance_other(Input& in) {
        if (in.ng) {
            switch (in.ng->next(in.pending)) {
                case PcapngReader::packet:
                    in.has_pending = true;
                    ++in.records;
                    return;
                case PcapngReader::end:
                    in.done = true;
                    return;
                case PcapngReader::failed:
                    problem(in, in.ng->error() + " (offset " +
                                    std::to_string(in.ng->block_offset()) + ")");
                    return;
            }
            return;
        }
        pcap_pkthdr* hdr = nullptr;
        const u_char* data = nullptr;
        const int r = pcap_next_ex(in.pcap.get(), &hdr, &data);
        switch (r) {
            case 1:
                in.pending.data = data;
                in.pending.caplen = hdr->caplen;
                in.pending.len = hdr->len;
                in.pending.link_type = in.link_type;
                // With nanosecond precision requested, tv_usec holds nanoseconds.
                in.pending.ns = seconds_to_ns(static_cast<std::int64_t>(hdr->ts.tv_sec),
                                              static_cast<std::int64_t>(hdr->ts.tv_usec));
                in.has_pending = true;
                ++in.records;
                return;
            case PCAP_ERROR_BREAK:
                in.done = true;
                return;
            case PCAP_ERROR: {
                const std::string error = pcap_geterr(in.pcap.get());
                if (error.find("different from the") != std::string::npos &&
                    error.find("first interface") != std::string::npos) {
                    switch_to_own_reader(in);
                    advance(in);
                } else {
                    problem(in, error);
                }
                return;
            }
            default:
                throw_io_error(in.path, "record " + std::to_string(in.records + 1),
                               "unexpected pcap_next_ex result " + std::to_string(r));
        }
    }

    void switch_to_own_reader(Input& in) {
        in.pcap.reset();
        in.ng = std::make_unique<PcapngReader>(open_file(in.path));
        Packet skipped;
        for (std::uint64_t i = 0; i < in.records; ++i) {
            if (in.ng->next(skipped) != PcapngReader::packet) {
                problem(in, "file changed while reading");
                return;
            }
        }
    }

    bool next(RawPacket& out) {
        std::size_t best = 0;
        if (inputs.size() == 1) {  // one file: nothing to merge
            advance(inputs[0]);
            if (!inputs[0].has_pending) return false;
        } else {
            if (!started) {
                started = true;
                for (Input& in : inputs)
                    advance(in);
            } else if (have_last) {
                advance(inputs[last]);
            }
            have_last = false;
            best = inputs.size();
            for (std::size_t i = 0; i < inputs.size(); ++i) {
                if (inputs[i].has_pending &&
                    (best == inputs.size() || inputs[i].pending.ns < inputs[best].pending.ns)) {
                    best = i;
                }
            }
            if (best == inputs.size()) return false;
            last = best;
            have_last = true;
        }
        hand_out(inputs[best], inputs[best].pending, out);
        return true;
    }

    // Gives the packet `pk` of `in` to the caller, numbered and counted.
    void hand_out(Input& in, const Packet& pk, RawPacket& out) {
        out.data = pk.data;
        out.caplen = pk.caplen;
        out.len = pk.len;
        out.link_type = pk.link_type;
        out.time = Timestamp{pk.ns};
        out.frame = ++frames;
        out.passed_filter = bpf.empty() || passes(in, pk);

        ++stats.packets_read;
        stats.bytes_read += pk.caplen;
        if (!stats.have_time) {
            stats.have_time = true;
            stats.first_time = out.time;
        }
        stats.last_time = out.time;
        if (!out.passed_filter) ++stats.filtered_out;
    }

    // next(), then, from one classic pcap file, the records that follow in the reader's
    // buffer: a loop over memory, with no call per packet through the reading layers.
    std::size_t next_batch(RawPacket* out, std::size_t max) {
        if (max == 0 || !next(out[0])) return 0;
        std::size_t n = 1;
        if (inputs.size() != 1 || !inputs[0].block) return n;
        Input& in = inputs[0];
        Packet pk;
        while (n < max && in.block->next_buffered(pk)) {
            ++in.records;
            hand_out(in, pk, out[n++]);
        }
        return n;
    }
};

PcapSource::PcapSource(const std::vector<std::string>& paths, const std::string& bpf)
    : impl_(std::make_unique<Impl>()) {
    impl_->bpf = bpf;
    impl_->open(paths);
}

PcapSource::~PcapSource() = default;
PcapSource::PcapSource(PcapSource&&) noexcept = default;
PcapSource& PcapSource::operator=(PcapSource&&) noexcept = default;

bool PcapSource::next(RawPacket& out) {
    return impl_->next(out);
}

std::size_t PcapSource::next_batch(RawPacket* out, std::size_t max) {
    return impl_->next_batch(out, max);
}

const IngestStats& PcapSource::stats() const {
    return impl_->stats;
}

std::string link_type_name(int link_type) {
    const char* name = pcap_datalink_val_to_name(link_type);
    return name != nullptr ? std::string(name) : "DLT_" + std::to_string(link_type);
}

}  // namespace capgap
