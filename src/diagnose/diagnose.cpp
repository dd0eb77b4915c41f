// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// The diagnosis of a report: breakdowns, the timeline's rows, loss against load, the facts the
// finding rules read, and reconstructable sessions (docs/diagnosis.md).

#include <capgap/diagnosis.hpp>
#include <capgap/report.hpp>
#include <capgap/segment.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>
#include <exception>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "core/errors.hpp"
#include "diagnose/diagnose.hpp"
#include "diagnose/rules.hpp"
#include "track/capture_time.hpp"

namespace capgap {

const char* to_string(FindingName f) {
    return detail::name_of(finding_names, f);
}
const char* to_string(BreakdownTable t) {
    return detail::name_of(breakdown_tables, t);
}
const char* to_string(Severity s) {
    switch (s) {
        case Severity::info:
            return "info";
        case Severity::warning:
            return "warning";
        case Severity::critical:
            return "critical";
    }
    return "info";
}

std::int64_t parse_bucket(const std::string& text, const std::string& what) {
    std::size_t i = 0;
    std::int64_t n = 0;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])) != 0 &&
           n < 1'000'000'000) {
        n = n * 10 + (text[i] - '0');
        ++i;
    }
    const std::string unit = text.substr(i);
    std::int64_t scale = 0;
    if (unit == "ms") scale = 1'000'000;
    if (unit == "s") scale = 1'000'000'000;
    if (unit == "m" || unit == "min") scale = 60'000'000'000;
    if (unit == "h") scale = 3'600'000'000'000;
    if (i == 0 || scale == 0 || n <= 0 || n > 1'000'000) {
        throw_parse_error(what, 0, 0,
                          "bad bucket \"" + text +
                              "\" (a whole number with ms, s, m or h, "
                              "e.g. 100ms, 1s, 10s, 1m)");
    }
    return n * scale;
}

namespace {

using detail::Facts;

struct Group {
    BreakdownRow row;
    std::uint64_t two_way = 0, two_way_bad = 0;  // for the significance test
    std::uint64_t one_way = 0;
    std::uint64_t packets = 0;
};

// A group's identity in a table, compared and hashed without formatting it.
struct GroupKey {
    std::array<std::uint8_t, 16> addr{};
    std::uint64_t x = 0;
    friend bool operator==(const GroupKey& a, const GroupKey& b) {
        return a.x == b.x && a.addr == b.addr;
    }
};
struct GroupKeyHash {
    std::size_t operator()(const GroupKey& k) const noexcept {
        std::uint64_t a, b;
        std::memcpy(&a, k.addr.data(), 8);
        std::memcpy(&b, k.addr.data() + 8, 8);
        std::uint64_t h = a * 0x9e3779b97f4a7c15ull;
        h ^= b + 0x632be59bd9b4e019ull + (h << 6) + (h >> 2);
        h ^= k.x * 0xff51afd7ed558ccdull + (h << 6) + (h >> 2);
        return static_cast<std::size_t>(h ^ (h >> 29));
    }
};

IpAddress masked(const IpAddress& a, int v4, int v6) {
    IpAddress m = a;
    const int bits = a.v6 ? std::clamp(v6, 0, 128) : std::clamp(v4, 0, 32);
    const int total = a.v6 ? 16 : 4;
    for (int i = 0; i < total; ++i) {
        const int keep = std::clamp(bits - 8 * i, 0, 8);
        m.bytes[static_cast<std::size_t>(i)] &=
            static_cast<std::uint8_t>(keep == 8 ? 0xff : (0xff << (8 - keep)) & 0xff);
    }
    return m;
}

void set_interval(BreakdownRow& r) {
    r.percentage =
        r.sessions > 0 ? 100.0 * static_cast<double>(r.bad) / static_cast<double>(r.sessions) : 0.0;
    const auto ci = wilson_interval(r.bad, r.sessions);
    r.ci95_low = ci.first;
    r.ci95_high = ci.second;
}

bool worse(const Group& a, const Group& b) {
    if (a.row.bad != b.row.bad) return a.row.bad > b.row.bad;
    if (a.row.percentage != b.row.percentage) return a.row.percentage > b.row.percentage;
    if (a.row.sessions != b.row.sessions) return a.row.sessions > b.row.sessions;
    return a.row.group < b.row.group;
}

// One session's part in the diagnosis.
struct SessionFacts {
    bool bad = false;
    bool two_way = false;
    bool bad_in[2] = {false, false};
    bool late_only = true;  // every loss event late_filled (meaningful when bad)
};

// The row's verdict under the report's mode (`ws`: wireshark).
bool bad_in_mode(const SessionRow& r, bool ws) {
    return ws ? r.bad_wireshark : r.bad;
}

// The groups of the breakdown tables, filled session by session.
struct Tables {
    static constexpr std::size_t count = std::size(breakdown_tables);
    std::vector<Group> groups[count];
    std::vector<std::size_t> first_of[count];  // a session of each group, to name it
    std::unordered_map<GroupKey, std::size_t, GroupKeyHash> index[count];
};

// The group of session `s` in table `t` (not the direction table).
GroupKey group_key(std::size_t t, const Session& s, const DiagnosisOptions& opt) {
    GroupKey k;
    switch (t) {
        case 0:
            k.addr = s.server.addr.bytes;
            k.x = s.server.port | (s.server.addr.v6 ? std::uint64_t{1} << 16 : 0);
            break;
        case 1:
            k.x = s.server.port;
            break;
        case 2: {
            const IpAddress prefix = masked(s.client.addr, opt.prefix_v4, opt.prefix_v6);
            k.addr = prefix.bytes;
            k.x = prefix.v6 ? 1 : 0;
            break;
        }
        case 3:
            k.x = s.vlan;
            break;
        case 4:
            k.x = s.tunnel;
            break;
        default:
            k.x = s.interface;
    }
    return k;
}

// Adds every session of `report` to its group in tables [first, last).
void add_sessions(Tables& tb, std::size_t first, std::size_t last, const Report& report,
                  const DiagnosisOptions& opt, bool ws) {
    for (std::size_t i = 0; i < report.sessions.size(); ++i) {
        const SessionRow& r = report.sessions[i];
        const Session& s = r.session;
        const bool bad = bad_in_mode(r, ws);
        const bool two_way = s.category == SessionCategory::complete;
        for (std::size_t t = first; t < last; ++t) {
            const auto it = tb.index[t].try_emplace(group_key(t, s, opt), tb.groups[t].size());
            if (it.second) {
                tb.groups[t].emplace_back();
                tb.first_of[t].push_back(i);
            }
            Group& g = tb.groups[t][it.first->second];
            ++g.row.sessions;
            if (bad) ++g.row.bad;
            g.row.missing_bytes += r.missing_bytes;
            g.row.events += r.events;
            g.row.retransmissions += s.retransmissions;
            g.row.duplicates += s.duplicates;
            g.packets += s.packets;
            if (two_way) {
                ++g.two_way;
                if (bad) ++g.two_way_bad;
            }
            if (s.category == SessionCategory::one_sided) ++g.one_way;
        }
    }
}

// Runs `f` on a thread of its own when `apart`, else at once; wait() joins it and rethrows
// what it threw.
class Aside {
  public:
    template <class F>
    Aside(bool apart, F&& f) {
        if (!apart) {
            f();
            return;
        }
        thread_ = std::thread([this, f = std::forward<F>(f)]() mutable {
            try {
                f();
            } catch (...) {
                error_ = std::current_exception();
            }
        });
    }
    ~Aside() {
        if (thread_.joinable()) thread_.join();
    }
    void wait() {
        if (thread_.joinable()) thread_.join();
        if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
    }

  private:
    std::thread thread_;
    std::exception_ptr error_;
};

// The times the diagnosis buckets lie within +-2^62 ns (as Timeline::at keeps them).
constexpr std::int64_t far_ns = std::int64_t{1} << 62;

std::int64_t floor_to(std::int64_t ns, std::int64_t b) {
    std::int64_t q = ns / b;
    if (ns % b != 0 && ns < 0) --q;
    return q * b;
}

// The timeline's rows and the load points: d.bucket_ns, d.timeline and d.load, nothing else
// of `d` (another thread may fill the rest meanwhile).
void timeline_rows(const Report& report, const DiagnosisOptions& opt, bool ws, Diagnosis& d) {
    const Timeline& tl = report.timeline;
    const IngestStats& in = report.ingest;
    if (tl.empty() && !in.have_time) return;
    // Times a file may carry but no clock gives (saturated, years away) are bucketed as
    // if at +-2^62 ns (1823 and 2116), so that no sum below can overflow.
    auto sane = [](std::int64_t ns) { return std::clamp(ns, -far_ns, far_ns); };
    std::int64_t lo = sane(in.have_time ? in.first_time.ns : tl.origin_ns);
    std::int64_t hi = in.have_time ? sane(in.last_time.ns) : lo;
    if (!tl.empty()) {
        lo = std::min(lo, sane(tl.origin_ns));
        hi =
            std::max(hi, detail::step_start(sane(tl.origin_ns), tl.buckets.size(), tl.base_ns) - 1);
    }
    hi = std::max(hi, lo);
    // Up to 2^63: unsigned.
    const std::uint64_t span = static_cast<std::uint64_t>(hi) - static_cast<std::uint64_t>(lo);
    std::int64_t b = detail::choose_bucket(
        opt.bucket_ns, static_cast<std::int64_t>(std::min<std::uint64_t>(span, INT64_MAX)),
        tl.base_ns);
    while (span / static_cast<std::uint64_t>(b) >= Timeline::max_buckets)
        b *= 10;
    const std::int64_t origin = floor_to(lo, b);
    const auto rows = static_cast<std::size_t>(
        (static_cast<std::uint64_t>(hi) - static_cast<std::uint64_t>(origin)) /
            static_cast<std::uint64_t>(b) +
        1);
    d.bucket_ns = b;
    d.timeline.resize(rows);
    for (std::size_t i = 0; i < rows; ++i)
        d.timeline[i].start = Timestamp{detail::step_start(origin, i, b)};
    auto row_at = [&](std::int64_t ns) -> TimelineRow& {
        ns = sane(ns);
        if (ns < origin) return d.timeline.front();
        const auto i = static_cast<std::size_t>(
            (static_cast<std::uint64_t>(ns) - static_cast<std::uint64_t>(origin)) /
            static_cast<std::uint64_t>(b));
        return d.timeline[std::min(i, rows - 1)];
    };
    for (std::size_t i = 0; i < tl.buckets.size(); ++i) {
        const TimelineCounts& c = tl.buckets[i];
        TimelineRow& r = row_at(detail::step_start(tl.origin_ns, i, tl.base_ns));
        r.packets += c.packets;
        r.bytes += c.bytes;
        r.retransmissions += c.retransmissions;
        r.duplicates += c.duplicates;
        r.acks += c.acks;
        r.acks_above_hole += c.acks_above_hole;
        r.data_segments += c.data_segments;
    }
    for (const SessionRow& row : report.sessions) {
        TimelineRow& r = row_at(row.session.start_time().ns);
        ++r.new_sessions;
        if (bad_in_mode(row, ws)) ++r.bad_sessions;
    }
    for (const LossEvent& e : report.events) {
        const bool counts = ws ? is_wireshark_flag(e.kind) : is_loss(e.kind);
        if (!counts) continue;
        TimelineRow& r = row_at(e.time.ns);
        ++r.loss_events;
        r.missing_bytes += e.missing_bytes;
    }
    const double secs = static_cast<double>(b) / 1e9;
    std::vector<detail::LoadSample> samples;
    for (TimelineRow& r : d.timeline) {
        r.packets_per_s = static_cast<double>(r.packets) / secs;
        r.bits_per_s = 8.0 * static_cast<double>(r.bytes) / secs;
        r.gap_ack_ratio =
            r.acks > 0 ? static_cast<double>(r.acks_above_hole) / static_cast<double>(r.acks) : 0.0;
        if (!tl.empty() && r.packets > 0)
            samples.push_back(detail::LoadSample{r.bits_per_s, static_cast<double>(r.bytes),
                                                 static_cast<double>(r.missing_bytes),
                                                 r.data_segments, r.loss_events});
    }
    if (!tl.empty()) {
        detail::fit_knee(std::move(samples), d.load);
        d.load.peak_bits_per_s_1ms = 8.0 * static_cast<double>(tl.peak_bytes_1ms) / 1e-3;
        d.load.peak_bits_per_s_10ms = 8.0 * static_cast<double>(tl.peak_bytes_10ms) / 1e-2;
    }
}

}  // namespace

const std::vector<BreakdownRow>* Diagnosis::breakdown(const std::string& table) const {
    for (const auto& t : breakdowns)
        if (t.first == table) return &t.second;
    return nullptr;
}

Diagnosis diagnose(const Report& report) {
    return diagnose(report, report.diagnosis_options);
}

Diagnosis diagnose(const Report& report, const DiagnosisOptions& opt) {
    return detail::diagnose(report, opt, 1);
}

namespace detail {

Diagnosis diagnose(const Report& report, const DiagnosisOptions& opt, unsigned threads) {
    // The rows MatchOptions::include_excluded adds (partial and synack_only instances, their
    // events, unmatched events) are not the headline's sessions: the diagnosis, like the
    // summary, reads the counted sessions and their events only.
    const auto excluded = [](const SessionRow& r) { return !is_counted(r.session.category); };
    if (std::any_of(report.sessions.begin(), report.sessions.end(), excluded) ||
        std::any_of(report.events.begin(), report.events.end(),
                    [](const LossEvent& e) { return e.session_id == no_session; })) {
        Report counted;
        counted.summary = report.summary;
        counted.timeline = report.timeline;
        counted.ingest = report.ingest;
        counted.tallies = report.tallies;
        counted.sources = report.sources;
        counted.diagnosis_options = report.diagnosis_options;
        std::unordered_set<std::uint64_t> ids;
        for (const SessionRow& r : report.sessions) {
            if (excluded(r)) continue;
            counted.sessions.push_back(r);
            ids.insert(r.session.id);
        }
        for (const LossEvent& e : report.events)
            if (e.session_id != no_session && ids.count(e.session_id) != 0)
                counted.events.push_back(e);
        return diagnose(counted, opt, threads);
    }
    const Summary& sum = report.summary;
    const bool ws = sum.mode == Mode::wireshark;
    Diagnosis d;
    Facts f;
    f.wireshark_mode = ws;

    // The breakdowns' groups and the timeline's rows. Given threads, a second one fills the
    // first three tables (servers, server ports, client prefixes: about half the work) and
    // makes the timeline's rows, while this one reads the events, fills the other tables and
    // names the groups. Each table is filled in session order either way.
    const std::size_t n = report.sessions.size();
    const std::size_t direction_table = static_cast<std::size_t>(BreakdownTable::direction);
    Tables tb;
    constexpr std::size_t apart = 3;  // tables [0, apart) on the second thread
    Aside first_tables(threads > 1 && n >= 65536, [&] {
        add_sessions(tb, 0, apart, report, opt, ws);
        timeline_rows(report, opt, ws, d);
    });

    // Per session: verdict, directions seen, which directions lost.
    std::vector<SessionFacts> sf(n);
    std::unordered_map<std::uint64_t, std::size_t> row_of;
    row_of.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
        const SessionRow& r = report.sessions[i];
        row_of.emplace(r.session.id, i);
        sf[i].bad = bad_in_mode(r, ws);
        sf[i].two_way = r.session.category == SessionCategory::complete;
    }
    std::uint64_t dir_events[2] = {0, 0}, dir_missing[2] = {0, 0};
    for (const LossEvent& e : report.events) {
        const bool counts = ws ? is_wireshark_flag(e.kind) : is_loss(e.kind);
        if (!counts || e.session_id == no_session) continue;
        const auto it = row_of.find(e.session_id);
        if (it == row_of.end()) continue;
        const auto dir = static_cast<std::size_t>(e.direction);
        sf[it->second].bad_in[dir] = true;
        if (!(e.kind == EventKind::acked_unseen && e.late_filled)) sf[it->second].late_only = false;
        ++dir_events[dir];
        dir_missing[dir] += e.missing_bytes;
    }

    for (std::size_t i = 0; i < n; ++i) {
        const SessionRow& r = report.sessions[i];
        const Session& s = r.session;
        const SessionFacts& x = sf[i];
        ++f.sessions;
        if (x.bad) ++f.bad;
        if (x.two_way) {
            ++f.two_way;
            if (x.bad) {
                ++f.two_way_bad;
                if (x.late_only) ++f.late_only_bad;
                for (int k = 0; k < 2; ++k)
                    if (x.bad_in[k]) ++f.bad_in[k];
            }
        }
        if (s.truncated_bytes > 0) ++f.truncated_sessions;
        f.retransmissions += s.retransmissions;
        const bool reconstructable = x.two_way && !x.bad && !r.bad && !r.bad_wireshark &&
                                     s.truncated_bytes == 0 && !s.evicted;
        if (reconstructable) ++d.reconstructable.sessions;
    }
    add_sessions(tb, apart, direction_table, report, opt, ws);
    first_tables.wait();
    auto& groups = tb.groups;
    const auto& first_of = tb.first_of;
    d.reconstructable.total = f.sessions;
    d.reconstructable.percentage = f.sessions > 0
                                       ? 100.0 * static_cast<double>(d.reconstructable.sessions) /
                                             static_cast<double>(f.sessions)
                                       : 0.0;
    // The groups' names, once each.
    const int v4 = std::clamp(opt.prefix_v4, 0, 32), v6 = std::clamp(opt.prefix_v6, 0, 128);
    for (std::size_t t = 0; t < direction_table; ++t) {
        for (std::size_t j = 0; j < groups[t].size(); ++j) {
            const Session& s = report.sessions[first_of[t][j]].session;
            std::string& name = groups[t][j].row.group;
            switch (t) {
                case 0:
                    name = to_string(s.server);
                    break;
                case 1:
                    name = std::to_string(s.server.port);
                    break;
                case 2: {
                    const IpAddress m = masked(s.client.addr, v4, v6);
                    name = to_string(m) + "/" + std::to_string(m.v6 ? v6 : v4);
                    break;
                }
                case 3:
                    name = s.vlan == no_vlan ? "untagged" : std::to_string(s.vlan);
                    break;
                case 4:
                    name = s.tunnel == 0 ? "none"
                           : s.tunnel <= report.ingest.tunnels.size()
                               ? report.ingest.tunnels[s.tunnel - 1]
                               : "tunnel " + std::to_string(s.tunnel);
                    break;
                default:
                    name = std::to_string(s.interface);
            }
        }
    }
    // Direction rows: sessions bad in that direction, its events and missing bytes.
    groups[direction_table].resize(2);
    for (std::size_t k = 0; k < 2; ++k) {
        Group& g = groups[direction_table][k];
        g.row.group = directions[k].name;
        g.row.sessions = f.sessions;
        g.two_way = f.two_way;
        for (std::size_t i = 0; i < n; ++i) {
            if (sf[i].bad_in[k]) ++g.row.bad;
            if (sf[i].bad_in[k] && sf[i].two_way) ++g.two_way_bad;
        }
        g.row.events = dir_events[k];
        g.row.missing_bytes = dir_missing[k];
    }

    std::vector<FindingRow> dup_rows[std::size(breakdown_tables)];
    for (std::size_t t = 0; t < std::size(breakdown_tables); ++t) {
        std::vector<Group> rows = std::move(groups[t]);
        for (Group& g : rows) {
            set_interval(g.row);
            if (t == direction_table) {
                const Group* other = nullptr;
                for (const Group& o : rows)
                    if (o.row.group != g.row.group) other = &o;
                if (other != nullptr)
                    g.row.significant = detail::significant(
                        g.two_way_bad, g.two_way, other->two_way_bad, other->two_way, g.row.z);
            } else {
                g.row.significant =
                    detail::significant(g.two_way_bad, g.two_way, f.two_way_bad - g.two_way_bad,
                                        f.two_way - g.two_way, g.row.z);
            }
        }
        std::sort(rows.begin(), rows.end(), worse);
        const char* table = breakdown_tables[t].name;
        if (t != direction_table) {
            for (const Group& g : rows) {
                if (g.row.significant) f.significant_rows.emplace_back(table, g.row);
                if (t == 0 && g.one_way >= detail::min_one_way && 2 * g.one_way >= g.row.sessions)
                    f.one_way_rows.push_back(FindingRow{table, g.row.group});
                if ((t == 0 || t == 3 || t == 5) && g.row.duplicates >= detail::min_duplicates &&
                    10 * g.row.duplicates >= g.packets)
                    dup_rows[t].push_back(FindingRow{table, g.row.group});
            }
        }
        std::vector<BreakdownRow> out;
        BreakdownRow rest;
        rest.group = "rest";
        for (std::size_t i = 0; i < rows.size(); ++i) {
            if (i < opt.top) {
                out.push_back(rows[i].row);
                continue;
            }
            rest.sessions += rows[i].row.sessions;
            rest.bad += rows[i].row.bad;
            rest.missing_bytes += rows[i].row.missing_bytes;
            rest.events += rows[i].row.events;
            rest.retransmissions += rows[i].row.retransmissions;
            rest.duplicates += rows[i].row.duplicates;
        }
        if (rows.size() > opt.top) {
            set_interval(rest);
            out.push_back(rest);
        }
        d.breakdowns.emplace_back(table, std::move(out));
    }
    // VLANs and interfaces first: they name where copies come from; servers after them.
    for (const std::size_t t : {std::size_t{3}, std::size_t{5}, std::size_t{0}})
        f.duplicate_rows.insert(f.duplicate_rows.end(), dup_rows[t].begin(), dup_rows[t].end());
    std::stable_sort(f.significant_rows.begin(), f.significant_rows.end(),
                     [](const auto& a, const auto& b) {
                         // Table order is kept by the stable sort; within a table, by z.
                         return a.first == b.first && a.second.z > b.second.z;
                     });

    const Timeline& tl = report.timeline;
    const IngestStats& in = report.ingest;

    // The remaining facts, then the findings.
    const TimelineCounts total = tl.total();
    f.one_sided = sum.one_sided;
    f.synack_only = sum.synack_only;
    f.packets_read = in.packets_read;
    f.decoded = in.decoded;
    f.data_segments = tl.empty() ? in.decoded : total.data_segments;
    f.duplicates = in.duplicate_packets;
    f.truncated_packets = in.truncated_packets;
    f.truncated_bytes = in.truncated_bytes;
    f.out_of_order = in.packets_out_of_time_order;
    f.largest_step_back_ns = in.timestamp_largest_step_back_ns;
    f.card_drops = in.capture_card_drops;
    f.host_drops = in.interface_drops;
    f.bad_wireshark = sum.bad_wireshark;
    f.wireshark_only = sum.wireshark_only;
    f.load = d.load;
    d.findings = detail::find_causes(f);
    return d;
}

}  // namespace detail

Diagnosis Report::diagnosis() const {
    return diagnose(*this);
}

}  // namespace capgap
