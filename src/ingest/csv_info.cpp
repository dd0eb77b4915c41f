// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// The Info column. Boost.Regex is used only by the CSV adapter's sources: the Info column is
// free text written for people, so it is matched with patterns rather than split by position.

#include <capgap/segment.hpp>
#include <capgap/wireshark_csv.hpp>

#include <boost/regex.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ingest/csv_tokenizer.hpp"

namespace capgap {

namespace {

using csv::parse_uint;
using csv::trim;

const boost::regex& marker_re() {
    static const boost::regex re(R"(\[TCP ([^\]]*)\])");
    return re;
}

const boost::regex& ports_re() {
    // "50680 > 443 [SYN]" (old Wireshark) or "50680 → 443 [SYN, ACK]" (3.0 and later)
    static const boost::regex re(R"((?<![0-9])([0-9]{1,5}) *(?:>|)"
                                 "\xE2\x86\x92"
                                 R"() *([0-9]{1,5}) *\[(<None>|[A-Za-z]+(?:, ?[A-Za-z]+)*)\])");
    return re;
}

const boost::regex& field_re() {
    static const boost::regex re(R"((?<![A-Za-z])(Seq|Ack|Len)=([0-9]+))");
    return re;
}

ExpertMarker marker_kind(const std::string& name) {
    static const std::vector<std::pair<const char*, ExpertMarker>> names = {
        {"Previous segment not captured", ExpertMarker::previous_segment_not_captured},
        {"ACKed unseen segment", ExpertMarker::acked_unseen_segment},
        {"Retransmission", ExpertMarker::retransmission},
        {"Fast Retransmission", ExpertMarker::fast_retransmission},
        {"Spurious Retransmission", ExpertMarker::spurious_retransmission},
        {"Out-Of-Order", ExpertMarker::out_of_order},
        {"Keep-Alive", ExpertMarker::keep_alive},
        {"Keep-Alive ACK", ExpertMarker::keep_alive_ack},
        {"ZeroWindow", ExpertMarker::zero_window},
        {"ZeroWindowProbe", ExpertMarker::zero_window_probe},
        {"ZeroWindowProbeAck", ExpertMarker::zero_window_probe_ack},
        {"Window Update", ExpertMarker::window_update},
        {"Window Full", ExpertMarker::window_full},
        {"Port numbers reused", ExpertMarker::port_numbers_reused},
        {"segment of a reassembled PDU", ExpertMarker::segment_of_reassembled_pdu},
    };
    std::string_view n = trim(name);
    for (const auto& [text, kind] : names)
        if (n == text) return kind;
    if (n.substr(0, 7) == "Dup ACK") return ExpertMarker::dup_ack;
    return ExpertMarker::other;
}

std::uint8_t flag_bits(const std::string& list) {
    std::uint8_t bits = 0;
    std::size_t start = 0;
    while (start <= list.size()) {
        std::size_t comma = list.find(',', start);
        if (comma == std::string::npos) comma = list.size();
        std::string_view name = trim(std::string_view(list).substr(start, comma - start));
        if (name == "SYN") bits |= tcp_flags::syn;
        if (name == "ACK") bits |= tcp_flags::ack;
        if (name == "FIN") bits |= tcp_flags::fin;
        if (name == "RST") bits |= tcp_flags::rst;
        if (name == "PSH") bits |= tcp_flags::psh;
        if (name == "URG") bits |= tcp_flags::urg;
        start = comma + 1;
    }
    return bits;
}

}  // namespace

const char* to_string(ExpertMarker m) {
    switch (m) {
        case ExpertMarker::previous_segment_not_captured:
            return "Previous segment not captured";
        case ExpertMarker::acked_unseen_segment:
            return "ACKed unseen segment";
        case ExpertMarker::retransmission:
            return "Retransmission";
        case ExpertMarker::fast_retransmission:
            return "Fast Retransmission";
        case ExpertMarker::spurious_retransmission:
            return "Spurious Retransmission";
        case ExpertMarker::out_of_order:
            return "Out-Of-Order";
        case ExpertMarker::dup_ack:
            return "Dup ACK";
        case ExpertMarker::keep_alive:
            return "Keep-Alive";
        case ExpertMarker::keep_alive_ack:
            return "Keep-Alive ACK";
        case ExpertMarker::zero_window:
            return "ZeroWindow";
        case ExpertMarker::zero_window_probe:
            return "ZeroWindowProbe";
        case ExpertMarker::zero_window_probe_ack:
            return "ZeroWindowProbeAck";
        case ExpertMarker::window_update:
            return "Window Update";
        case ExpertMarker::window_full:
            return "Window Full";
        case ExpertMarker::port_numbers_reused:
            return "Port numbers reused";
        case ExpertMarker::segment_of_reassembled_pdu:
            return "segment of a reassembled PDU";
        case ExpertMarker::other:
            return "other";
    }
    return "other";
}

bool InfoFields::has(ExpertMarker m) const {
    return std::find(markers.begin(), markers.end(), m) != markers.end();
}

InfoFields parse_info(const std::string& info) {
    InfoFields f;
    for (boost::sregex_iterator it(info.begin(), info.end(), marker_re()), end; it != end; ++it)
        f.markers.push_back(marker_kind((*it)[1].str()));
    boost::smatch m;
    if (boost::regex_search(info, m, ports_re())) {
        std::uint64_t sp = 0, dp = 0;
        if (parse_uint(m[1].str(), sp) && parse_uint(m[2].str(), dp) && sp <= 65535 &&
            dp <= 65535) {
            f.has_ports = true;
            f.src_port = static_cast<std::uint16_t>(sp);
            f.dst_port = static_cast<std::uint16_t>(dp);
            f.has_flags = true;
            f.flags = flag_bits(m[3].str());
            auto rest_begin = m[0].second;
            for (boost::sregex_iterator it(rest_begin, info.end(), field_re()), end; it != end;
                 ++it) {
                std::uint64_t v = 0;
                if (!parse_uint((*it)[2].str(), v)) continue;
                std::string name = (*it)[1].str();
                if (name == "Seq" && !f.has_seq) {
                    f.has_seq = true;
                    f.seq = v;
                } else if (name == "Ack" && !f.has_ack) {
                    f.has_ack = true;
                    f.ack = v;
                } else if (name == "Len" && !f.has_len) {
                    f.has_len = true;
                    f.len = v;
                }
            }
        }
    }
    return f;
}

}  // namespace capgap
