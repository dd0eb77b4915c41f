// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// The pcapng writer: each block is built in a buffer (type, a length to fill in, the body,
// options, the length again) and written whole.

#include "report/pcapng_writer.hpp"

#include <algorithm>
#include <cstring>
#include <limits>

namespace capgap::detail {

PcapngWriter::PcapngWriter(std::ostream& out, const std::string& application) : out_(out) {
    buf_.clear();
    put32(pcapng_shb);
    put32(0);  // total length, filled in by end_block
    put32(pcapng_byte_order_magic);
    put16(1);           // major version
    put16(0);           // minor version
    put32(0xFFFFFFFF);  // section length: not given
    put32(0xFFFFFFFF);
    option(pcapng_shb_userappl, application.data(),
           static_cast<std::uint16_t>(std::min<std::size_t>(application.size(), 0xFFFF)));
    option(pcapng_opt_endofopt, nullptr, 0);
    end_block();
}

std::uint32_t PcapngWriter::interface_for(int link_type) {
    const auto it = std::find(links_.begin(), links_.end(), link_type);
    if (it != links_.end()) return static_cast<std::uint32_t>(it - links_.begin());
    buf_.clear();
    put32(pcapng_idb);
    put32(0);
    put16(static_cast<std::uint16_t>(link_type));
    put16(0);                            // reserved
    put32(0);                            // snaplen: no limit
    const std::uint8_t nanoseconds = 9;  // if_tsresol: 10^-9 s
    option(pcapng_if_tsresol, &nanoseconds, 1);
    option(pcapng_opt_endofopt, nullptr, 0);
    end_block();
    links_.push_back(link_type);
    return static_cast<std::uint32_t>(links_.size() - 1);
}

void PcapngWriter::write_packet(std::uint32_t interface, std::int64_t time_ns,
                                const std::uint8_t* data, std::uint32_t caplen, std::uint32_t len,
                                const std::vector<std::string>& comments) {
    buf_.clear();
    put32(pcapng_epb);
    put32(0);
    put32(interface);
    const auto t = static_cast<std::uint64_t>(time_ns);
    put32(static_cast<std::uint32_t>(t >> 32));
    put32(static_cast<std::uint32_t>(t));
    put32(caplen);
    put32(len);
    put_bytes(data, caplen);
    pad();
    for (const std::string& c : comments) {
        option(pcapng_opt_comment, c.data(),
               static_cast<std::uint16_t>(
                   std::min<std::size_t>(c.size(), std::numeric_limits<std::uint16_t>::max())));
    }
    if (!comments.empty()) option(pcapng_opt_endofopt, nullptr, 0);
    end_block();
}

void PcapngWriter::put32(std::uint32_t v) {
    put_bytes(&v, sizeof v);
}

void PcapngWriter::put16(std::uint16_t v) {
    put_bytes(&v, sizeof v);
}

void PcapngWriter::put_bytes(const void* p, std::size_t n) {
    if (n > 0) buf_.append(static_cast<const char*>(p), n);
}

void PcapngWriter::pad() {
    buf_.append((4 - buf_.size() % 4) % 4, '\0');
}

void PcapngWriter::option(std::uint16_t code, const void* value, std::uint16_t length) {
    put16(code);
    put16(length);
    put_bytes(value, length);
    pad();
}

void PcapngWriter::end_block() {
    const auto total = static_cast<std::uint32_t>(buf_.size() + 4);
    std::memcpy(&buf_[4], &total, sizeof total);
    put32(total);
    out_.write(buf_.data(), static_cast<std::streamsize>(buf_.size()));
}

}  // namespace capgap::detail
