// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// The pcapng reader for files of several interfaces (libpcap tells no packet's interface, and
// refuses interfaces of different link types or snapshot lengths); see pcapng_reader.hpp and,
// for when it takes over, pcap_source.cpp.

#include "ingest/pcapng_reader.hpp"

#include <cstring>
#include <string>

#include <pcap/pcap.h>

namespace capgap::detail {

PcapngReader::Result PcapngReader::next(Packet& out) {
    for (;;) {
        std::uint32_t type = 0;
        const Result r = read_block(type);
        if (r != packet) return r;
        const std::uint32_t size = static_cast<std::uint32_t>(body_.size()) - 4;
        const std::uint8_t* b = body_.data();
        if (type == 0x0a0d0d0a) {
            if (size < 16 || u16(b + 4) != 1) return fail("unsupported section header");
            interfaces_.clear();
            for (const auto& d : isb_drops_)
                closed_drops_ += d.second;
            isb_drops_.clear();
        } else if (type == 1) {
            if (size < 8) return fail("interface description block too short");
            Interface ifc;
            ifc.link_type = to_dlt(u16(b));
            // libpcap reads 0 and anything above its largest as the largest.
            const std::uint32_t snaplen = u32(b + 4);
            if (snaplen <= static_cast<std::uint32_t>(snaplen_max)) ifc.snaplen = snaplen;
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
            if (ifc.snaplen != 0 && out.caplen > ifc.snaplen) {
                // As libpcap refuses such a packet, in its words.
                error_ = "invalid packet capture length " + std::to_string(out.caplen) +
                         ", bigger than snaplen of " + std::to_string(ifc.snaplen);
                return failed;
            }
            out.link_type = ifc.link_type;
            out.interface = ifid;
            out.ns = to_ns(ts, ifc);
            out.data = b + 20;
            if (type == 6) {
                const std::uint32_t used = 20 + ((out.caplen + 3) & ~3u);
                if (used < size) {
                    const std::uint64_t d = option_u64(b + used, size - used, 4);
                    epb_drops_ += d;
                    if (marks != nullptr && d > 0) {
                        DropMark m;
                        m.ns = out.ns;
                        m.interface = ifid;
                        m.epb_drops = d;
                        marks->push_back(m);
                    }
                }
            }
            return packet;
        } else if (type == 5) {
            // Interface statistics: counters since the capture started, so the last block of
            // each interface counts (isb_ifdrop, code 5, + isb_osdrop, code 7).
            if (size < 12) continue;
            const std::uint32_t ifid = u32(b);
            isb_drops_[ifid] = option_u64(b + 12, size - 12, isb_ifdrop) +
                               option_u64(b + 12, size - 12, isb_osdrop);
            if (marks != nullptr && ifid < interfaces_.size()) {
                DropMark m;
                m.ns = to_ns((std::uint64_t{u32(b + 4)} << 32) | u32(b + 8), interfaces_[ifid]);
                m.statistics = true;
                m.interface = ifid;
                m.received = option_u64(b + 12, size - 12, 4);  // isb_ifrecv
                m.ifdrop = option_u64(b + 12, size - 12, isb_ifdrop);
                m.osdrop = option_u64(b + 12, size - 12, isb_osdrop);
                marks->push_back(m);
            }
        } else if (type == 3) {
            if (size < 4) return fail("simple packet block too short");
            if (interfaces_.empty()) return fail("packet on an undescribed interface");
            out.len = u32(b);
            out.caplen = out.len < size - 4 ? out.len : size - 4;
            // libpcap keeps at most the snapshot length of a simple packet.
            const std::uint32_t snaplen = interfaces_[0].snaplen;
            if (snaplen != 0 && out.caplen > snaplen) out.caplen = snaplen;
            out.link_type = interfaces_[0].link_type;
            out.interface = 0;
            out.ns = 0;  // simple packet blocks carry no timestamp
            out.data = b + 4;
            return packet;
        }
    }
}

namespace {

// The 64-bit value of option `code` among the options at p (0 when absent or malformed).
std::uint64_t find_option_u64(const std::uint8_t* p, std::uint32_t size, std::uint16_t code,
                              bool big) {
    auto u16 = [big](const std::uint8_t* q) {
        return big ? static_cast<std::uint16_t>((q[0] << 8) | q[1])
                   : static_cast<std::uint16_t>((q[1] << 8) | q[0]);
    };
    auto u32 = [big](const std::uint8_t* q) {
        return big ? (std::uint32_t{q[0]} << 24) | (std::uint32_t{q[1]} << 16) |
                         (std::uint32_t{q[2]} << 8) | q[3]
                   : (std::uint32_t{q[3]} << 24) | (std::uint32_t{q[2]} << 16) |
                         (std::uint32_t{q[1]} << 8) | q[0];
    };
    while (size >= 4) {
        const std::uint16_t c = u16(p);
        const std::uint32_t length = u16(p + 2);
        const std::uint32_t padded = (length + 3) & ~3u;
        if (c == 0 || padded > size - 4) return 0;
        if (c == code && length == 8) {
            const std::uint64_t a = u32(p + 4), b = u32(p + 8);
            return big ? (a << 32) | b : (b << 32) | a;
        }
        p += 4 + padded;
        size -= 4 + padded;
    }
    return 0;
}

}  // namespace

void PcapngDropScanner::feed(const std::uint8_t* p, std::size_t n) {
    while (n > 0 && !dead_) {
        if (body_ == 0) {  // reading a block header: 8 bytes, 12 for a section header
            head_[head_have_++] = *p++;
            --n;
            const bool shb = head_have_ >= 4 && head_[0] == 0x0a && head_[1] == 0x0d &&
                             head_[2] == 0x0d && head_[3] == 0x0a;
            if (head_have_ == 4 && !shb && !started_) {
                dead_ = true;  // the stream does not start with a section header
                return;
            }
            if (head_have_ < (shb ? 12u : 8u)) continue;
            if (shb) {
                if (head_[8] == 0x1a && head_[9] == 0x2b && head_[10] == 0x3c &&
                    head_[11] == 0x4d) {
                    big_ = true;
                } else if (head_[11] == 0x1a && head_[10] == 0x2b && head_[9] == 0x3c &&
                           head_[8] == 0x4d) {
                    big_ = false;
                } else {
                    dead_ = true;
                    return;
                }
                for (const auto& d : isb_drops_)
                    closed_drops_ += d.second;
                isb_drops_.clear();
            }
            started_ = true;
            type_ = u32(head_);
            const std::uint32_t total = u32(head_ + 4);
            if (total < head_have_ + 4 || total % 4 != 0) {
                dead_ = true;
                return;
            }
            body_ = total - head_have_;
            pos_ = 0;
            skip_end_ = 0;
            keep_.clear();
            head_have_ = 0;
            continue;
        }
        // In a block body: keep what the statistics need, skip the rest.
        std::uint64_t take = std::min<std::uint64_t>(n, body_ - pos_);
        bool keep = false;
        if (type_ == 5) {
            keep = true;
        } else if (type_ == 6) {
            if (pos_ < 20) {
                take = std::min<std::uint64_t>(take, 20 - pos_);
                keep = true;
            } else if (pos_ < skip_end_) {
                take = std::min<std::uint64_t>(take, skip_end_ - pos_);
            } else {
                keep = true;
            }
        }
        if (keep) keep_.insert(keep_.end(), p, p + take);
        p += take;
        n -= static_cast<std::size_t>(take);
        pos_ += take;
        if (type_ == 6 && pos_ == 20 && keep_.size() == 20)
            skip_end_ = 20 + ((std::uint64_t{u32(keep_.data() + 12)} + 3) & ~std::uint64_t{3});
        if (pos_ == body_) block_done();
    }
}

void PcapngDropScanner::block_done() {
    // keep_: the body without the header (and, for an EPB, without its packet data), ending
    // with the trailing length.
    const std::size_t size = keep_.size();
    if (type_ == 5 && size >= 16) {
        const auto opts = static_cast<std::uint32_t>(size - 12 - 4);
        isb_drops_[u32(keep_.data())] = find_option_u64(keep_.data() + 12, opts, isb_ifdrop, big_) +
                                        find_option_u64(keep_.data() + 12, opts, isb_osdrop, big_);
    } else if (type_ == 6 && size > 24) {
        epb_drops_ +=
            find_option_u64(keep_.data() + 20, static_cast<std::uint32_t>(size - 24), 4, big_);
    }
    body_ = 0;
    keep_.clear();
}

std::uint64_t PcapngDropScanner::drops() const {
    return combined_drops(closed_drops_, isb_drops_, epb_drops_);
}

// The 64-bit value of option `code` among the options at p (0 when absent or malformed).
std::uint64_t PcapngReader::option_u64(const std::uint8_t* p, std::uint32_t size,
                                       std::uint16_t code) const {
    return find_option_u64(p, size, code, big_);
}

std::uint64_t PcapngReader::drops() const {
    return combined_drops(closed_drops_, isb_drops_, epb_drops_);
}

std::uint64_t pcapng_file_drops(const std::string& path) {
    FilePtr f(std::fopen(path.c_str(), "rb"));
    if (!f) return 0;
    std::uint8_t head[4] = {0, 0, 0, 0};
    if (std::fread(head, 1, 4, f.get()) != 4 || head[0] != 0x0a || head[1] != 0x0d ||
        head[2] != 0x0d || head[3] != 0x0a)
        return 0;
    std::rewind(f.get());
    PcapngReader r(std::move(f));
    Packet p;
    while (r.next(p) == PcapngReader::packet) {
    }
    return r.drops();
}

std::vector<DropMark> pcapng_drop_marks(const std::string& path) {
    std::vector<DropMark> marks;
    FilePtr f(std::fopen(path.c_str(), "rb"));
    if (!f) return marks;
    std::uint8_t head[4] = {0, 0, 0, 0};
    if (std::fread(head, 1, 4, f.get()) != 4 || head[0] != 0x0a || head[1] != 0x0d ||
        head[2] != 0x0d || head[3] != 0x0a)
        return marks;
    std::rewind(f.get());
    PcapngReader r(std::move(f));
    r.marks = &marks;
    Packet p;
    while (r.next(p) == PcapngReader::packet) {
    }
    return marks;
}

// pcapng stores LINKTYPE_ values; the decoder and BPF expect DLT_ values. They are equal
// except for a few historical ones, of which only raw IP matters here.
int PcapngReader::to_dlt(std::uint16_t linktype) {
    return linktype == 101 ? DLT_RAW : static_cast<int>(linktype);
}

// Reads one block into body_ (body plus trailing length). `packet` means a block was read.
PcapngReader::Result PcapngReader::read_block(std::uint32_t& type) {
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

bool PcapngReader::read_interface_options(const std::uint8_t* p, std::uint32_t size,
                                          Interface& ifc) {
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

bool PcapngReader::bad_resolution() {
    error_ = "unsupported timestamp resolution";
    return false;
}

std::int64_t PcapngReader::to_ns(std::uint64_t ts, const Interface& ifc) {
    __extension__ using u128 = unsigned __int128;
    const std::uint64_t tps = ifc.ticks_per_second;
    const u128 ns = u128{ts / tps} * 1000000000u + u128{ts % tps} * 1000000000u / tps;
    const std::int64_t base = ns > u128{INT64_MAX} ? INT64_MAX : static_cast<std::int64_t>(ns);
    return seconds_to_ns(ifc.offset_seconds, base);
}

}  // namespace capgap::detail
