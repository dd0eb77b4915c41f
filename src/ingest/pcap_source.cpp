// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// The libpcap adapter: PcapSource opens files through libpcap, merges several by time and
// applies the BPF filter; the records themselves come from one of three readers.
//
// Multi-interface pcapng. libpcap 1.10 reads pcapng through its pcap API, which has a single
// link type and snapshot length per handle and no interface id per packet: every packet of a
// multi-port capture (`dumpcap -i eth0 -i eth1`) would look as if it came from one port, and
// the diagnosis's interface breakdown could not tell the ports apart. Worse, when
// pcap_next_ex() meets an Interface Description Block whose link type or snapshot length
// differs from the first one, it fails with PCAP_ERROR ("an interface has a type 0 different
// from the type of the first interface") and nothing after it would be read.
//
// So a pcapng whose first section describes more than one interface before its first packet
// (writers put all the IDBs up front; pcapng_several_interfaces in stream.cpp looks) is read
// by a small pcapng block reader of this library's own, from the start: it gives each packet
// its interface id and its interface's link type, applies the interface's timestamp resolution
// and offset, and the BPF filter is compiled once per link type. A file opened by name is
// still opened by libpcap first, which checks its header with its usual errors; the pcapng
// reader then reopens it. A capture that cannot be read again (standard input, a pipe, a
// user's stream, compressed input) goes to the pcapng reader whole, after the look-ahead.
// Single-interface pcapng stays with pcap_next_ex and classic pcap with the block reader.
//
// An interface of another link type that appears only after packets (rare) still meets
// libpcap's refusal: for a file, this file then switches to the pcapng reader for the rest
// (it reopens the file and skips the packets libpcap already returned); a stream ends there
// with that problem reported.
//
// The readers: libpcap's pcap_next_ex, pcap_block_reader (classic pcap read in large blocks,
// the common case) and pcapng_reader (multi-interface pcapng, above). Those two and this file are
// the only sources that include <pcap/pcap.h>. Streams and decompression: stream.cpp and
// decompress.cpp.

#include <capgap/errors.hpp>
#include <capgap/pcap_source.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <utility>

#include <pcap/pcap.h>

#include "core/compiler.hpp"
#include "core/errors.hpp"
#include "ingest/packet.hpp"
#include "ingest/pcap_block_reader.hpp"
#include "ingest/pcapng_reader.hpp"
#include "ingest/stream.hpp"

namespace capgap {

using detail::BlockPcapReader;
using detail::FilePtr;
using detail::Packet;
using detail::PcapngReader;
using detail::seconds_to_ns;
using detail::snaplen_max;
using detail::Stream;

namespace {

struct PcapCloser {
    void operator()(pcap_t* p) const noexcept { pcap_close(p); }
};
using PcapPtr = std::unique_ptr<pcap_t, PcapCloser>;

struct BpfFree {
    void operator()(bpf_program* p) const noexcept {
        pcap_freecode(p);
        delete p;
    }
};
using BpfPtr = std::unique_ptr<bpf_program, BpfFree>;

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

// Opens the file with fopen first so that a missing or unreadable file is told apart from
// one that is not a capture.
FilePtr open_file(const std::string& path) {
    errno = 0;
    FilePtr f(std::fopen(path.c_str(), "rb"));
    if (!f) throw_os_error(path, errno != 0 ? errno : EIO);
    struct stat st {};
    if (fstat(fileno(f.get()), &st) == 0 && S_ISDIR(st.st_mode)) {
        throw_os_error(path, EISDIR);
    }
    return f;
}

// The Section Header Block's type, the first four bytes of every pcapng file.
constexpr std::uint8_t pcapng_magic[4] = {0x0a, 0x0d, 0x0d, 0x0a};

// Does the regular file `f` start as a pcapng?
bool pcapng_file(std::FILE* f) {
    std::uint8_t head[4];
    return ::pread(fileno(f), head, sizeof head, 0) == 4 && std::memcmp(head, pcapng_magic, 4) == 0;
}

// Is `f` a regular file whose first bytes are not a compression magic, which libpcap and the
// block reader read by offset? Anything else (pipes, devices, compressed files) is a Stream.
bool plain_regular_file(std::FILE* f) {
    struct stat st {};
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) return false;
    std::uint8_t head[4];
    const ssize_t got = ::pread(fileno(f), head, sizeof head, 0);
    return got < 0 ||
           detail::compression_of(head, static_cast<std::size_t>(got)) == detail::Compression::none;
}

}  // namespace

CaptureInput::CaptureInput(std::string path)
    : name_(path == "-" ? "stdin" : path), path_(std::move(path)) {}

CaptureInput CaptureInput::stream(std::string name, Read read) {
    CaptureInput in;
    in.name_ = std::move(name);
    in.read_ = std::move(read);
    return in;
}

struct PcapSource::Impl {
    struct Input {
        std::string path;
        // Declared first, destroyed last: the readers below may read through it.
        std::unique_ptr<Stream> stream;
        PcapPtr pcap;
        // Set once libpcap gave up on mixed interfaces (from the start for such a stream).
        std::unique_ptr<PcapngReader> ng;
        std::unique_ptr<BlockPcapReader> block;  // classic pcap read in large blocks
        int link_type = 0;
        std::uint64_t records = 0;  // packets read from this file so far
        // Progress: the size of a regular file (0: unknown), and a descriptor whose offset
        // follows the reading of a Stream over it (-1: none; owned by the Stream).
        std::uint64_t size = 0;
        int stream_fd = -1;
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

    void open(const std::vector<CaptureInput>& captures) {
        int stdin_given = 0;
        for (const CaptureInput& c : captures)
            stdin_given += !c.read() && c.is_stdin() ? 1 : 0;
        if (stdin_given > 1) throw_io_error("stdin", "", "standard input (-) given more than once");
        inputs.reserve(captures.size());
        for (const CaptureInput& c : captures) {
            Input in;
            in.path = c.name();
            if (c.read()) {
                open_stream(in, detail::function_source(c.read()));
            } else if (c.is_stdin()) {
                note_size(in, STDIN_FILENO);
                open_stream(in, detail::fd_source(STDIN_FILENO, false));
            } else {
                FilePtr f = open_file(c.path());
                note_size(in, fileno(f.get()));
                if (plain_regular_file(f.get())) {
                    in.stream_fd = -1;
                    const bool several =
                        pcapng_file(f.get()) && detail::pcapng_several_interfaces(fileno(f.get()));
                    open_pcap(in, std::move(f));  // libpcap checks the header, as for any file
                    if (several) read_with_own_reader(in);
                } else {
                    const int fd = ::dup(fileno(f.get()));
                    if (fd < 0) throw_os_error(in.path, errno);
                    if (in.stream_fd >= 0) in.stream_fd = fd;
                    open_stream(in, detail::fd_source(fd, true), true);
                }
            }
            inputs.push_back(std::move(in));
            ++stats.files;
        }
        if (bpf.empty()) return;
        std::string error;
        std::string ethernet_error;
        const bool ethernet_ok = compile_filter_for(DLT_EN10MB, bpf, ethernet_error) != nullptr;
        if (!ethernet_ok && inputs.empty()) bad_filter(ethernet_error);
        for (Input& in : inputs) {
            if (!in.pcap) {  // read by the pcapng reader: filters per link type as met
                if (!ethernet_ok) bad_filter(ethernet_error);
                continue;
            }
            in.filter = compile_filter(in.pcap.get(), bpf, error);
            if (!in.filter) check_link_specific(error);
        }
    }

    // The size of a regular file behind `fd` (standard input may be one, redirected), whose
    // offset then tells how far a Stream over it has read; stream_fd is set to `fd` for now.
    static void note_size(Input& in, int fd) {
        struct stat st {};
        if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
            in.size = static_cast<std::uint64_t>(st.st_size);
            in.stream_fd = fd;
        }
    }

    // The offset reached in the input as stored; false when it cannot be told.
    static bool position(const Input& in, std::uint64_t& at) {
        if (in.done && in.size > 0) {
            at = in.size;
            return true;
        }
        if (in.stream) {
            const off_t off = in.stream_fd >= 0 ? ::lseek(in.stream_fd, 0, SEEK_CUR) : -1;
            at = static_cast<std::uint64_t>(off);
            return off >= 0;
        }
        if (in.block) {
            at = in.block->offset();
        } else if (in.ng) {
            at = in.ng->block_offset();
        } else if (in.pcap) {
            const long off = std::ftell(pcap_file(in.pcap.get()));
            at = static_cast<std::uint64_t>(off);
            return off >= 0;
        }
        return true;
    }

    std::uint64_t bytes_consumed() const {
        std::uint64_t sum = 0;
        for (const Input& in : inputs) {
            std::uint64_t at = 0;
            if (!position(in, at)) return stats.bytes_read;
            sum += at;
        }
        return sum;
    }

    std::uint64_t bytes_total() const {
        std::uint64_t sum = 0;
        for (const Input& in : inputs) {
            if (in.size == 0) return 0;
            sum += in.size;
        }
        return sum;
    }

    // libpcap opens the file `f` (or the FILE over in.stream) and checks its header.
    void open_pcap(Input& in, FilePtr f) {
        char errbuf[PCAP_ERRBUF_SIZE] = "";
        PcapPtr p(
            pcap_fopen_offline_with_tstamp_precision(f.get(), PCAP_TSTAMP_PRECISION_NANO, errbuf));
        if (!p) {
            if (in.stream && in.stream->failed()) stream_failed_at_open(in);
            // libpcap reports a failed read as "error reading dump file: <strerror>";
            // everything else means the content is not a capture it knows.
            if (std::strncmp(errbuf, "error reading", 13) == 0) {
                throw_io_error(in.path, "", errbuf);
            }
            throw_format_error(in.path, "", errbuf);
        }
        f.release();  // pcap_close closes it from now on
        in.link_type = pcap_datalink(p.get());
        in.block = BlockPcapReader::open(p.get(), in.stream.get());
        in.pcap = std::move(p);
    }

    // Standard input, a pipe, a user's stream or compressed input, read once from the front.
    // `raw_is_file`: `raw` reads a regular file (Stream::open).
    void open_stream(Input& in, std::unique_ptr<detail::ByteSource> raw, bool raw_is_file = false) {
        try {
            in.stream = Stream::open(std::move(raw), raw_is_file);
        } catch (const detail::StreamError& e) {
            if (e.io) throw_io_error(in.path, "", e.what());
            throw_format_error(in.path, "", e.what());
        }
        std::uint8_t head[4];
        if (in.stream->first_bytes(head) && std::memcmp(head, pcapng_magic, 4) == 0 &&
            detail::pcapng_several_interfaces(*in.stream)) {
            // Several interfaces: the pcapng reader takes all of it from the start (see the
            // top of this file); a stream cannot be opened again after libpcap's look.
            FilePtr f(in.stream->make_file());
            if (!f) throw_os_error(in.path, errno);
            in.ng = std::make_unique<PcapngReader>(std::move(f));
            return;
        }
        if (in.stream->failed()) stream_failed_at_open(in);
        FilePtr f(in.stream->make_file());
        if (!f) throw_os_error(in.path, errno);
        open_pcap(in, std::move(f));
    }

    [[noreturn]] void stream_failed_at_open(const Input& in) {
        in.stream->rethrow_user_exception();
        if (in.stream->io_problem()) throw_io_error(in.path, "", in.stream->problem());
        throw_format_error(in.path, "", in.stream->problem());
    }

    // A filter that compiles for Ethernet but not for some link type ("ether host" on raw IP)
    // is not an error of the expression: it simply matches nothing there. An expression that
    // does not compile for Ethernet either is malformed.
    // Named after the option (Options::bpf, Python's bpf=), echoing the expression; the CLI
    // names its --filter flag instead.
    [[noreturn]] void bad_filter(const std::string& error) const {
        throw_parse_error("bpf", 0, 0, "'" + bpf + "': " + error);
    }

    void check_link_specific(const std::string& error) const {
        std::string ignored;
        if (!compile_filter_for(DLT_EN10MB, bpf, ignored)) {
            bad_filter(error);
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

    // `reason` in the readers' words; a Stream's own problem (corrupt or cut compressed data,
    // a failed read) says more, with the capture offset it was met at.
    void problem(Input& in, const std::string& reason) {
        std::string why = reason;
        if (in.stream && in.stream->failed()) {
            in.stream->rethrow_user_exception();
            why = in.stream->problem() + " (capture offset " + std::to_string(in.stream->offset()) +
                  ")";
        }
        stats.problems.push_back({in.path, "record " + std::to_string(in.records + 1), why});
        in.done = true;
    }

    // The end of an input; a Stream that failed there (its data stopped short of a complete
    // compressed stream exactly at a record boundary) is a problem, not the end.
    void input_ended(Input& in) {
        if (in.stream && in.stream->failed()) {
            problem(in, "");
        } else {
            in.done = true;
        }
        if (in.stream) {
            stats.interface_drops += in.stream->pcapng_drops();
        } else if (in.ng) {
            stats.interface_drops += in.ng->drops();
        } else if (in.pcap && !in.block) {
            stats.interface_drops += detail::pcapng_file_drops(in.path);
        }
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
            input_ended(in);
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
                    input_ended(in);
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
                input_ended(in);
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

    // A pcapng file of several interfaces, whose header libpcap has checked: the pcapng
    // reader reads it from the start, telling each packet's interface.
    void read_with_own_reader(Input& in) {
        in.block.reset();
        in.pcap.reset();
        in.ng = std::make_unique<PcapngReader>(open_file(in.path));
    }

    void switch_to_own_reader(Input& in) {
        if (in.stream) {
            problem(in, pcap_geterr(in.pcap.get()) +
                            std::string(": an interface of another link type after the first "
                                        "packets cannot be read from a stream; read the file "
                                        "by name"));
            return;
        }
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
        out.interface = pk.interface;
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

PcapSource::PcapSource(const std::vector<CaptureInput>& inputs, const std::string& bpf)
    : impl_(std::make_unique<Impl>()) {
    impl_->bpf = bpf;
    impl_->open(inputs);
}

PcapSource::~PcapSource() = default;
PcapSource::PcapSource(PcapSource&&) noexcept = default;
PcapSource& PcapSource::operator=(PcapSource&&) noexcept = default;

namespace detail {

struct PcapSourceAccess {
    static PcapSource::Impl& impl(PcapSource& s) { return *s.impl_; }
};

bool read_ahead(PcapSource& source) {
    bool any = false;
    for (auto& in : PcapSourceAccess::impl(source).inputs)
        if (in.stream && in.stream->read_ahead()) any = true;
    return any;
}

}  // namespace detail

bool PcapSource::next(RawPacket& out) {
    return impl_->next(out);
}

std::size_t PcapSource::next_batch(RawPacket* out, std::size_t max) {
    return impl_->next_batch(out, max);
}

const IngestStats& PcapSource::stats() const {
    return impl_->stats;
}

std::uint64_t PcapSource::bytes_consumed() const {
    return impl_->bytes_consumed();
}

std::uint64_t PcapSource::bytes_total() const {
    return impl_->bytes_total();
}

std::string link_type_name(int link_type) {
    const char* name = pcap_datalink_val_to_name(link_type);
    return name != nullptr ? std::string(name) : "DLT_" + std::to_string(link_type);
}

}  // namespace capgap
