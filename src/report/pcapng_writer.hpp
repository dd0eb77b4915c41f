// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
#pragma once
// Private: a small pcapng writer (libpcap's dumper writes classic pcap only) for the
// extraction of sessions' packets (pipeline/extract.cpp). One section (SHB), an Interface
// Description Block per link type as packets of it arrive, and an Enhanced Packet Block per
// packet with its original bytes, caplen and length, a nanosecond timestamp (if_tsresol 9)
// and opt_comment options. Blocks are in the host's byte order, which the SHB's byte-order
// magic declares (pcapng allows either).

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

namespace capgap::detail {

// Block types and option codes (draft-ietf-opsawg-pcapng).
constexpr std::uint32_t pcapng_shb = 0x0A0D0D0A;
constexpr std::uint32_t pcapng_idb = 0x00000001;
constexpr std::uint32_t pcapng_epb = 0x00000006;
constexpr std::uint32_t pcapng_byte_order_magic = 0x1A2B3C4D;
constexpr std::uint16_t pcapng_opt_endofopt = 0;
constexpr std::uint16_t pcapng_opt_comment = 1;
constexpr std::uint16_t pcapng_shb_userappl = 4;
constexpr std::uint16_t pcapng_if_tsresol = 9;

class PcapngWriter {
  public:
    // Writes the Section Header Block, naming `application` (shb_userappl).
    PcapngWriter(std::ostream& out, const std::string& application);

    // The interface id of `link_type`, writing its Interface Description Block (no snaplen
    // limit, nanosecond timestamps) the first time.
    std::uint32_t interface_for(int link_type);

    // Writes one Enhanced Packet Block: `caplen` bytes of `data`, the original length `len`,
    // the time in nanoseconds since the epoch, and one opt_comment per comment (UTF-8; a
    // comment longer than an option holds, 65535 bytes, is cut there).
    void write_packet(std::uint32_t interface, std::int64_t time_ns, const std::uint8_t* data,
                      std::uint32_t caplen, std::uint32_t len,
                      const std::vector<std::string>& comments = {});

  private:
    void put32(std::uint32_t v);
    void put16(std::uint16_t v);
    void put_bytes(const void* p, std::size_t n);
    void pad();  // zero bytes up to the next multiple of 4
    void option(std::uint16_t code, const void* value, std::uint16_t length);
    void end_block();  // fills in the lengths of the block begun at offset 0 of buf_, writes it

    std::ostream& out_;
    std::vector<int> links_;  // interface id -> link type
    std::string buf_;         // the block being built
};

}  // namespace capgap::detail
