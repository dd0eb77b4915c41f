// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// bare_loop: the floor for reading a capture through libpcap. It opens the file with nanosecond
// timestamps, as capgap does, calls pcap_next_ex for every packet and only counts packets and
// captured bytes. The benchmark compares capgap's throughput with this loop's.

#include <cstdint>
#include <cstdio>

#include <pcap/pcap.h>

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: bare_loop CAPTURE\n");
        return 1;
    }
    char errbuf[PCAP_ERRBUF_SIZE] = {};
    pcap_t* p =
        pcap_open_offline_with_tstamp_precision(argv[1], PCAP_TSTAMP_PRECISION_NANO, errbuf);
    if (!p) {
        std::fprintf(stderr, "bare_loop: %s\n", errbuf);
        return 2;
    }
    std::uint64_t packets = 0, bytes = 0;
    pcap_pkthdr* h = nullptr;
    const u_char* data = nullptr;
    for (;;) {
        const int rc = pcap_next_ex(p, &h, &data);
        if (rc == 1) {
            ++packets;
            bytes += h->caplen;
            continue;
        }
        if (rc == PCAP_ERROR_BREAK) break;  // end of file
        std::fprintf(stderr, "bare_loop: %s: %s\n", argv[1],
                     rc == PCAP_ERROR ? pcap_geterr(p) : "unexpected pcap_next_ex result");
        pcap_close(p);
        return 2;
    }
    pcap_close(p);
    std::printf("{\"packets\": %llu, \"captured_bytes\": %llu}\n",
                static_cast<unsigned long long>(packets), static_cast<unsigned long long>(bytes));
    return 0;
}
