// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// The report's bytes (report_bytes.hpp, docs/state-format.md "Report"): the flow state's frame
// and reader, one visitor per structure so that a field is named once for writing and reading.

#include <capgap/report_bytes.hpp>

#include <cstring>
#include <iterator>
#include <map>
#include <string>
#include <type_traits>

#include "core/session_io.hpp"
#include "core/state_io.hpp"
#include "pipeline/state_format.hpp"
#include "report/report_format.hpp"

namespace capgap {
namespace detail {

namespace {
constexpr char report_magic[8] = {'C', 'A', 'P', 'G', 'A', 'P', 'R', 'P'};
}  // namespace

const FrameFormat report_frame{report_magic, report_format_version, "report"};

namespace {

template <class IO>
constexpr bool is_reader = std::is_same_v<IO, StateReader>;

// A double as its IEEE-754 bits in a u64: read back exactly as written.
template <class IO, class D>
void number(IO& io, D& d) {
    std::uint64_t bits = 0;
    static_assert(sizeof bits == sizeof(double), "IEEE-754 double");
    if constexpr (!is_reader<IO>) std::memcpy(&bits, &d, sizeof bits);
    io(bits);
    if constexpr (is_reader<IO>) std::memcpy(&d, &bits, sizeof bits);
}

template <class IO, class S>
void summary(IO& io, S& s) {
    io.tag(state_tag("SUMM"));
    io.enumeration(s.mode, std::size(modes));
    io.enumeration(s.join, std::size_t{2});
    io(s.total_sessions);
    io(s.bad_sessions);
    io(s.bad_confirmed);
    io(s.bad_wireshark);
    io(s.bad_data_missing);
    io(s.bad_control_only);
    io(s.wireshark_only);
    io(s.confirmed_only);
    io(s.syn_only);
    io(s.one_sided);
    io(s.partial);
    io(s.synack_only);
    io(s.before_window);
    io(s.after_window);
    io(s.filtered_out);
    io(s.evicted);
    io(s.unmatched_events);
    number(io, s.percentage);
    number(io, s.ci95_low);
    number(io, s.ci95_high);
}

// The bytes of one item of each list, what a count of them may claim at most (an endpoint is
// 19 bytes: 16 address bytes, the v6 flag, the port).
constexpr std::size_t session_row_bytes =
    8 + 2 * 19 + 1 + 5 * 8 + 5 * 8 + 4 + 1 + 4 + 2 + 3 * 4 + 1 + 1 + 4 + 8 + 1 + 4;

template <class IO, class R>
void session_row(IO& io, R& r) {
    state_session(io, r.session);
    io(r.bad);
    io(r.bad_wireshark);
    io(r.events);
    io(r.missing_bytes);
    io(r.data_missing);
    io(r.source);
}

constexpr std::size_t event_bytes = 8 + 1 + 1 + 1 + 8 + 8 + 3 * 8 + 2 * 19;
constexpr std::size_t tally_bytes = 1 + 1 + 3 * 8;
constexpr std::size_t part_bytes = 8 + 4 + 4 + 8 + 8 + 4 * 4;

template <class IO, class E>
void event(IO& io, E& e) {
    state_event(io, e);
}

template <class IO, class T>
void tally(IO& io, T& t) {
    io.enumeration(t.kind, std::size(event_kinds));
    io.enumeration(t.direction, std::size(directions));
    io(t.count);
    io(t.missing_bytes);
    io(t.late_filled);
}

// A map of names to counts, in key order (as written: a reader refuses another order or a
// name twice, so that the bytes of a report are one string).
template <class IO, class M>
void name_counts(IO& io, M& m) {
    if constexpr (is_reader<IO>) {
        const std::size_t n = io.count(16);
        m.clear();
        for (std::size_t i = 0; i < n; ++i) {
            const std::size_t at = io.offset();
            std::string name;
            std::uint64_t value = 0;
            io(name);
            io(value);
            if (!m.empty() && !(std::prev(m.end())->first < name))
                io.fail_at(at, "names out of order or given twice");
            m.emplace_hint(m.end(), std::move(name), value);
        }
    } else {
        io.count(m.size(), 16);
        for (auto& [name, value] : m) {
            io(name);
            io(value);
        }
    }
}

template <class IO, class S>
void ingest(IO& io, S& s) {
    io.tag(state_tag("INGS"));
    const std::size_t at = io.offset();
    auto n = static_cast<std::uint32_t>(std::size(ingest_counters));
    io(n);
    if (n != std::size(ingest_counters)) {
        io.fail_at(at, std::to_string(n) + " ingest counters, this capgap has " +
                           std::to_string(std::size(ingest_counters)));
    }
    for (const IngestCounter& c : ingest_counters)
        io(s.*c.member);
    name_counts(io, s.unsupported_link_types);
    name_counts(io, s.unsupported_encapsulations);
    state_vector(io, s.tunnels, 8, [&](auto& t) { io(t); });
    state_vector(io, s.csv_bad_lines, 8, [&](auto& l) { io(l); });
    state_vector(io, s.problems, 24, [&](auto& p) {
        io(p.source);
        io(p.position);
        io(p.reason);
    });
    io(s.have_time);
    io(s.first_time);
    io(s.last_time);
}

template <class IO, class T>
void timeline(IO& io, T& t) {
    io.tag(state_tag("TIME"));
    const std::size_t at = io.offset();
    io(t.base_ns);
    io(t.origin_ns);
    if constexpr (is_reader<IO>) {
        if (!Timeline::valid_grid(t.base_ns, t.origin_ns))
            io.fail_at(at, "a timeline's bucket width or origin is not a grid it can have");
    }
    const std::size_t count_at = io.offset();
    state_vector(io, t.buckets, 64, [&](auto& b) {
        io(b.packets);
        io(b.bytes);
        io(b.segments);
        io(b.data_segments);
        io(b.acks);
        io(b.acks_above_hole);
        io(b.retransmissions);
        io(b.duplicates);
    });
    if constexpr (is_reader<IO>) {
        if (t.buckets.size() > Timeline::max_buckets || (t.base_ns == 0 && !t.buckets.empty()))
            io.fail_at(count_at, "a timeline of " + std::to_string(t.buckets.size()) +
                                     " buckets on a grid that holds none or fewer");
    }
    io(t.peak_bytes_1ms);
    io(t.peak_bytes_10ms);
}

template <class IO, class D>
void diagnosis_options(IO& io, D& d) {
    io.tag(state_tag("DIAG"));
    std::uint64_t top = d.top;
    io(top);
    if constexpr (is_reader<IO>) d.top = static_cast<std::size_t>(top);
    io(d.bucket_ns);
    io(d.prefix_v4);
    io(d.prefix_v6);
}

template <class IO, class P>
void part(IO& io, P& p) {
    io(p.chain);
    io(p.first_piece);
    io(p.last_piece);
    io(p.id_offset);
    io(p.ids);
    io(p.source_offset);
    io(p.sources);
    io(p.tunnel_offset);
    io(p.tunnels);
}

template <class IO, class R>
void report_body(IO& io, R& r) {
    summary(io, r.summary);
    io.tag(state_tag("SESS"));
    state_vector(io, r.sessions, session_row_bytes, [&](auto& row) { session_row(io, row); });
    io.tag(state_tag("EVNT"));
    state_vector(io, r.events, event_bytes, [&](auto& e) { event(io, e); });
    io.tag(state_tag("TALY"));
    state_vector(io, r.tallies, tally_bytes, [&](auto& t) { tally(io, t); });
    ingest(io, r.ingest);
    io.tag(state_tag("SRCS"));
    state_vector(io, r.sources, 8, [&](auto& s) { io(s); });
    timeline(io, r.timeline);
    diagnosis_options(io, r.diagnosis_options);
    io.tag(state_tag("PART"));
    state_vector(io, r.parts, part_bytes, [&](auto& p) { part(io, p); });
    io.tag(state_tag("END."));
}

}  // namespace
}  // namespace detail

std::string to_bytes(const Report& report) {
    detail::StateWriter w;
    // The visitors take the structures by non-const reference to serve both directions; the
    // writer only reads them.
    detail::report_body(w, const_cast<Report&>(report));
    return detail::frame_bytes(detail::report_frame, w.bytes());
}

Report report_from_bytes(const std::string& bytes, const std::string& name) {
    detail::check_frame(detail::report_frame, bytes, name);
    detail::StateReader r(bytes, detail::state_header_size, name);
    Report report;
    detail::report_body(r, report);
    if (r.left() != 0) r.fail("bytes after the end of the report");
    return report;
}

}  // namespace capgap
