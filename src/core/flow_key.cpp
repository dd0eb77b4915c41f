// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// Addresses, endpoints, flow keys and the small enum names shared by the value types.

#include <capgap/flow_key.hpp>
#include <capgap/loss_event.hpp>
#include <capgap/session.hpp>

#include <cstring>
#include <string>
#include <string_view>

#include "core/errors.hpp"
#include "core/hash.hpp"

namespace capgap {

namespace {

[[noreturn]] void bad_address(std::string_view text, const char* why) {
    throw_parse_error("address", 0, 0, "'" + std::string(text) + "': " + why);
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// Dotted-quad IPv4 into out[0..3]; false when malformed.
bool parse_v4(std::string_view s, std::uint8_t* out) {
    std::size_t i = 0;
    for (int part = 0; part < 4; ++part) {
        if (part > 0) {
            if (i >= s.size() || s[i] != '.') return false;
            ++i;
        }
        unsigned v = 0;
        std::size_t n = 0;
        while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
            if (++n > 3) return false;
            v = v * 10 + static_cast<unsigned>(s[i] - '0');
            ++i;
        }
        if (n == 0 || v > 255) return false;
        out[part] = static_cast<std::uint8_t>(v);
    }
    return i == s.size();
}

// RFC 4291 text (with "::" and an optional trailing dotted IPv4) into 16 bytes.
bool parse_v6(std::string_view s, std::uint8_t* out) {
    std::uint16_t groups[8] = {};
    int count = 0;    // groups written
    int gap_at = -1;  // index where "::" was seen
    std::size_t i = 0;
    if (s.size() >= 2 && s[0] == ':' && s[1] == ':') {
        gap_at = 0;
        i = 2;
        if (i == s.size()) {
            std::memset(out, 0, 16);
            return true;
        }
    } else if (!s.empty() && s[0] == ':') {
        return false;
    }
    while (i < s.size()) {
        // An embedded IPv4 address ends the text and fills two groups.
        std::size_t end = s.find(':', i);
        std::string_view tok = s.substr(i, end == std::string_view::npos ? s.npos : end - i);
        if (end == std::string_view::npos && tok.find('.') != std::string_view::npos) {
            std::uint8_t b4[4];
            if (count > 6 || !parse_v4(tok, b4)) return false;
            groups[count++] = static_cast<std::uint16_t>(b4[0] << 8 | b4[1]);
            groups[count++] = static_cast<std::uint16_t>(b4[2] << 8 | b4[3]);
            i = s.size();
            break;
        }
        if (tok.empty() || tok.size() > 4 || count == 8) return false;
        unsigned v = 0;
        for (char c : tok) {
            int h = hex_value(c);
            if (h < 0) return false;
            v = v << 4 | static_cast<unsigned>(h);
        }
        groups[count++] = static_cast<std::uint16_t>(v);
        i += tok.size();
        if (i == s.size()) break;
        ++i;  // the ':'
        if (i < s.size() && s[i] == ':') {
            if (gap_at >= 0) return false;
            gap_at = count;
            ++i;
        } else if (i == s.size()) {
            return false;  // trailing single ':'
        }
    }
    if (gap_at >= 0) {
        if (count == 8) return false;  // "::" must stand for at least one group
        const int fill = 8 - count;
        for (int k = count - 1; k >= gap_at; --k)
            groups[k + fill] = groups[k];
        for (int k = gap_at; k < gap_at + fill; ++k)
            groups[k] = 0;
    } else if (count != 8) {
        return false;
    }
    for (int k = 0; k < 8; ++k) {
        out[2 * k] = static_cast<std::uint8_t>(groups[k] >> 8);
        out[2 * k + 1] = static_cast<std::uint8_t>(groups[k] & 0xff);
    }
    return true;
}

}  // namespace

IpAddress IpAddress::v6_from(const std::uint8_t* b16) {
    IpAddress a;
    std::memcpy(a.bytes.data(), b16, 16);
    a.v6 = true;
    return a;
}

IpAddress IpAddress::parse(std::string_view text) {
    IpAddress a;
    if (text.find(':') != std::string_view::npos) {
        if (!parse_v6(text, a.bytes.data())) bad_address(text, "not an IPv6 address");
        a.v6 = true;
    } else if (!parse_v4(text, a.bytes.data())) {
        bad_address(text, "not an IPv4 or IPv6 address");
    }
    return a;
}

std::string to_string(const IpAddress& a) {
    const std::uint8_t* b = a.bytes.data();
    if (!a.v6) {
        return std::to_string(b[0]) + '.' + std::to_string(b[1]) + '.' + std::to_string(b[2]) +
               '.' + std::to_string(b[3]);
    }
    unsigned g[8];
    for (int k = 0; k < 8; ++k)
        g[k] = static_cast<unsigned>(b[2 * k] << 8 | b[2 * k + 1]);
    // IPv4-mapped addresses keep the dotted tail (RFC 5952 section 5).
    if (g[0] == 0 && g[1] == 0 && g[2] == 0 && g[3] == 0 && g[4] == 0 && g[5] == 0xffff) {
        return "::ffff:" + to_string(IpAddress::v4(b + 12));
    }
    // Longest run of at least two zero groups; the first one on ties.
    int best = -1, best_len = 1;
    for (int k = 0; k < 8;) {
        if (g[k] != 0) {
            ++k;
            continue;
        }
        int e = k;
        while (e < 8 && g[e] == 0)
            ++e;
        if (e - k > best_len) {
            best = k;
            best_len = e - k;
        }
        k = e;
    }
    static const char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(39);
    for (int k = 0; k < 8; ++k) {
        if (k == best) {
            out += "::";
            k += best_len - 1;
            continue;
        }
        if (!out.empty() && out.back() != ':') out += ':';
        bool started = false;
        for (int shift = 12; shift >= 0; shift -= 4) {
            unsigned d = (g[k] >> shift) & 0xf;
            if (d != 0 || started || shift == 0) {
                out += digits[d];
                started = true;
            }
        }
    }
    return out;
}

std::string to_string(const Endpoint& e) {
    if (e.addr.v6) return '[' + to_string(e.addr) + "]:" + std::to_string(e.port);
    return to_string(e.addr) + ':' + std::to_string(e.port);
}

const char* to_string(Direction d) {
    return detail::name_of(directions, d);
}

std::size_t hash_value(const IpAddress& a) noexcept {
    return static_cast<std::size_t>(detail::hash_mix_address(detail::hash_seed, a));
}

std::size_t hash_value(const Endpoint& e) noexcept {
    return static_cast<std::size_t>(
        detail::hash_mix(detail::hash_mix_address(detail::hash_seed, e.addr), e.port));
}

std::size_t hash_value(const FlowKey& k) noexcept {
    // FlowKey is already canonical, so hashing lo then hi is direction-independent.
    return static_cast<std::size_t>(detail::flow_hash(k.lo, k.hi, k.tunnel));
}

const char* to_string(SessionCategory c) {
    return detail::name_of(session_categories, c);
}

const char* to_string(EventKind k) {
    return detail::name_of(event_kinds, k);
}

bool parse_event_kind(std::string_view name, EventKind& out) {
    return detail::parse_name(event_kinds, name, out);
}

bool operator==(const Session& a, const Session& b) {
    return a.id == b.id && a.client == b.client && a.server == b.server &&
           a.category == b.category && a.syn_frame == b.syn_frame && a.syn_time == b.syn_time &&
           a.first_frame == b.first_frame && a.first_time == b.first_time &&
           a.last_time == b.last_time && a.packets == b.packets && a.packets_c2s == b.packets_c2s &&
           a.bytes_c2s == b.bytes_c2s && a.bytes_s2c == b.bytes_s2c &&
           a.truncated_bytes == b.truncated_bytes && a.syn_count == b.syn_count &&
           a.evicted == b.evicted && a.tunnel == b.tunnel && a.vlan == b.vlan &&
           a.interface == b.interface && a.retransmissions == b.retransmissions &&
           a.duplicates == b.duplicates;
}

bool operator==(const LossEvent& a, const LossEvent& b) {
    return a.session_id == b.session_id && a.direction == b.direction && a.kind == b.kind &&
           a.late_filled == b.late_filled && a.frame == b.frame && a.time == b.time &&
           a.seq_begin == b.seq_begin && a.seq_end == b.seq_end &&
           a.missing_bytes == b.missing_bytes && a.src == b.src && a.dst == b.dst;
}

}  // namespace capgap
