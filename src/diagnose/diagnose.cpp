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
#include <unordered_set>

#include "core/errors.hpp"
#include "core/hash.hpp"
#include "core/rows_by_id.hpp"
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
    // As 64-bit words: std::array's == called memcmp, once or twice per session and table.
    friend bool operator==(const GroupKey& a, const GroupKey& b) {
        using detail::hash_load64;
        const std::uint64_t a0 = hash_load64(a.addr.data()), a1 = hash_load64(a.addr.data() + 8);
        const std::uint64_t b0 = hash_load64(b.addr.data()), b1 = hash_load64(b.addr.data() + 8);
        return ((a0 ^ b0) | (a1 ^ b1) | (a.x ^ b.x)) == 0;
    }
};
// With the project's one mixer (core/hash.hpp). A hash of its own, whose low bits hardly
// changed between servers of one network (the slot is the low bits), made the benchmark
// capture's 6,800 servers probe about 170 slots each.
struct GroupKeyHash {
    std::size_t operator()(const GroupKey& k) const noexcept {
        std::uint64_t h = detail::hash_mix(detail::hash_seed, detail::hash_load64(k.addr.data()));
        h = detail::hash_mix(h, detail::hash_load64(k.addr.data() + 8));
        return static_cast<std::size_t>(detail::hash_mix(h, k.x));
    }
};

// The groups of one table by key: open addressing (linear probing) over the groups' indices,
// the keys in a dense array in group order. A lookup reads one slot and one key, where the
// node-based std::unordered_map it replaces missed the cache once or twice per session and
// table: on the benchmark capture (250,000 sessions) that was most of the diagnosis's time.
class GroupIndex {
  public:
    // The index of `k`'s group, and whether `k` is new (it then gets the next index).
    std::pair<std::size_t, bool> insert(const GroupKey& k) {
        // Most tables have one group or a few (one VLAN, no tunnel, one interface): the last
        // key found is tried first.
        if (!keys_.empty() && k == keys_[last_]) return {last_, false};
        if ((keys_.size() + 1) * 2 > slots_.size()) grow();
        const std::uint64_t h = GroupKeyHash{}(k);
        for (std::size_t i = h & mask();; i = (i + 1) & mask()) {
            Slot& s = slots_[i];
            if (s.group == 0) {
                keys_.push_back(k);
                s = Slot{h, keys_.size()};
                last_ = keys_.size() - 1;
                return {last_, true};
            }
            if (s.hash == h && keys_[s.group - 1] == k) {
                last_ = s.group - 1;
                return {last_, false};
            }
        }
    }

  private:
    struct Slot {
        std::uint64_t hash = 0;
        std::size_t group = 0;  // the group's index + 1; 0: the slot is empty
    };
    std::size_t mask() const { return slots_.size() - 1; }
    void grow() {
        std::vector<Slot> old(std::max<std::size_t>(64, slots_.size() * 2));
        old.swap(slots_);
        for (const Slot& s : old) {
            if (s.group == 0) continue;
            std::size_t i = s.hash & mask();
            while (slots_[i].group != 0)
                i = (i + 1) & mask();
            slots_[i] = s;
        }
    }
    std::vector<Slot> slots_;  // a power of two, at most half full
    std::vector<GroupKey> keys_;
    std::size_t last_ = 0;  // the group found last
};

// A client's prefix (DiagnosisOptions::prefix_v4 and prefix_v6, clamped to the family's
// length): the address under a mask of each family, made once.
class PrefixMask {
  public:
    explicit PrefixMask(const DiagnosisOptions& opt)
        : v4_(std::clamp(opt.prefix_v4, 0, 32)), v6_(std::clamp(opt.prefix_v6, 0, 128)) {
        fill(mask_[0], v4_);
        fill(mask_[1], v6_);
    }
    IpAddress operator()(const IpAddress& a) const {
        IpAddress m = a;
        const std::uint8_t* k = mask_[a.v6 ? 1 : 0].data();
        for (std::size_t i = 0; i < 16; ++i)
            m.bytes[i] &= k[i];
        return m;
    }
    int length(const IpAddress& a) const { return a.v6 ? v6_ : v4_; }

  private:
    static void fill(std::array<std::uint8_t, 16>& mask, int bits) {
        for (std::size_t i = 0; i < 16; ++i) {
            const int keep = std::clamp(bits - 8 * static_cast<int>(i), 0, 8);
            mask[i] = static_cast<std::uint8_t>(keep == 8 ? 0xff : (0xff << (8 - keep)) & 0xff);
        }
    }
    int v4_, v6_;
    std::array<std::uint8_t, 16> mask_[2];  // IPv4, IPv6
};

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
    explicit Tables(const DiagnosisOptions& opt) : prefix(opt) {}
    static constexpr std::size_t count = std::size(breakdown_tables);
    PrefixMask prefix;
    std::vector<Group> groups[count];
    std::vector<std::size_t> first_of[count];  // a session of each group, to name it
    GroupIndex index[count];
};

// The group of session `s` in table `t` (not the direction table).
GroupKey group_key(std::size_t t, const Session& s, const PrefixMask& prefix_of) {
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
            const IpAddress prefix = prefix_of(s.client.addr);
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

// Adds session `i` (row `r`) to its group in each of the tables [first, last).
void add_session(Tables& tb, std::size_t first, std::size_t last, std::size_t i,
                 const SessionRow& r, bool ws) {
    const Session& s = r.session;
    const bool bad = bad_in_mode(r, ws);
    const bool two_way = s.category == SessionCategory::complete;
    for (std::size_t t = first; t < last; ++t) {
        const auto [group, added] = tb.index[t].insert(group_key(t, s, tb.prefix));
        if (added) {
            tb.groups[t].emplace_back();
            tb.first_of[t].push_back(i);
        }
        Group& g = tb.groups[t][group];
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

// Names the groups of tables [first, last) (not the direction table), once each.
void name_groups(Tables& tb, std::size_t first, std::size_t last, const Report& report) {
    for (std::size_t t = first; t < last; ++t) {
        for (std::size_t j = 0; j < tb.groups[t].size(); ++j) {
            const Session& s = report.sessions[tb.first_of[t][j]].session;
            std::string& name = tb.groups[t][j].row.group;
            switch (t) {
                case 0:
                    name = to_string(s.server);
                    break;
                case 1:
                    name = std::to_string(s.server.port);
                    break;
                case 2: {
                    const IpAddress m = tb.prefix(s.client.addr);
                    name = to_string(m) + "/" + std::to_string(tb.prefix.length(m));
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
}

// A breakdown table, finished: its rows in the report (the worst opt.top and the rest) and
// what the findings read of it.
struct FinishedTable {
    std::vector<BreakdownRow> rows;
    std::vector<std::pair<std::string, BreakdownRow>> significant;
    std::vector<FindingRow> one_way, duplicates;
};

// Sets the interval and significance of table t's groups (a group against the table's other
// two-way sessions; a direction against the other), sorts them worst first and cuts them to
// opt.top rows and the rest.
FinishedTable finish_table(std::size_t t, std::vector<Group> groups, const DiagnosisOptions& opt) {
    const std::size_t direction_table = static_cast<std::size_t>(BreakdownTable::direction);
    // Every two-way session is in one group of a table (but in both of the direction table).
    std::uint64_t two_way = 0, two_way_bad = 0;
    for (const Group& g : groups) {
        two_way += g.two_way;
        two_way_bad += g.two_way_bad;
    }
    for (Group& g : groups) {
        set_interval(g.row);
        if (t == direction_table) {
            const Group* other = nullptr;
            for (const Group& o : groups)
                if (o.row.group != g.row.group) other = &o;
            if (other != nullptr)
                g.row.significant = detail::significant(
                    g.two_way_bad, g.two_way, other->two_way_bad, other->two_way, g.row.z);
        } else {
            g.row.significant =
                detail::significant(g.two_way_bad, g.two_way, two_way_bad - g.two_way_bad,
                                    two_way - g.two_way, g.row.z);
        }
    }
    std::sort(groups.begin(), groups.end(), worse);
    FinishedTable out;
    const char* table = breakdown_tables[t].name;
    if (t != direction_table) {
        for (const Group& g : groups) {
            if (g.row.significant) out.significant.emplace_back(table, g.row);
            if (t == 0 && g.one_way >= detail::min_one_way && 2 * g.one_way >= g.row.sessions)
                out.one_way.push_back(FindingRow{table, g.row.group});
            if ((t == 0 || t == 3 || t == 5) && g.row.duplicates >= detail::min_duplicates &&
                10 * g.row.duplicates >= g.packets)
                out.duplicates.push_back(FindingRow{table, g.row.group});
        }
    }
    BreakdownRow rest;
    rest.group = "rest";
    for (std::size_t i = 0; i < groups.size(); ++i) {
        if (i < opt.top) {
            out.rows.push_back(std::move(groups[i].row));
            continue;
        }
        rest.sessions += groups[i].row.sessions;
        rest.bad += groups[i].row.bad;
        rest.missing_bytes += groups[i].row.missing_bytes;
        rest.events += groups[i].row.events;
        rest.retransmissions += groups[i].row.retransmissions;
        rest.duplicates += groups[i].row.duplicates;
    }
    if (groups.size() > opt.top) {
        set_interval(rest);
        out.rows.push_back(rest);
    }
    return out;
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
// of `d` (another thread may fill the rest meanwhile). The constructor makes the rows and adds
// the report's timeline to them, add() a session, finish() the events, rates and load.
class TimelineRows {
  public:
    TimelineRows(const Report& report, const DiagnosisOptions& opt, bool ws, Diagnosis& d)
        : report_(report), ws_(ws), d_(d) {
        const Timeline& tl = report.timeline;
        const IngestStats& in = report.ingest;
        on_ = !tl.empty() || in.have_time;
        if (!on_) return;
        std::int64_t lo = sane(in.have_time ? in.first_time.ns : tl.origin_ns);
        std::int64_t hi = in.have_time ? sane(in.last_time.ns) : lo;
        if (!tl.empty()) {
            lo = std::min(lo, sane(tl.origin_ns));
            hi = std::max(
                hi, detail::step_start(sane(tl.origin_ns), tl.buckets.size(), tl.base_ns) - 1);
        }
        hi = std::max(hi, lo);
        // Up to 2^63: unsigned.
        const std::uint64_t span = static_cast<std::uint64_t>(hi) - static_cast<std::uint64_t>(lo);
        std::int64_t b = detail::choose_bucket(
            opt.bucket_ns, static_cast<std::int64_t>(std::min<std::uint64_t>(span, INT64_MAX)),
            tl.base_ns);
        while (span / static_cast<std::uint64_t>(b) >= Timeline::max_buckets)
            b *= 10;
        origin_ = floor_to(lo, b);
        bucket_ = b;
        const auto rows = static_cast<std::size_t>(
            (static_cast<std::uint64_t>(hi) - static_cast<std::uint64_t>(origin_)) /
                static_cast<std::uint64_t>(b) +
            1);
        d.bucket_ns = b;
        d.timeline.resize(rows);
        for (std::size_t i = 0; i < rows; ++i)
            d.timeline[i].start = Timestamp{detail::step_start(origin_, i, b)};
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
    }

    void add(const SessionRow& row) {
        if (!on_) return;
        TimelineRow& r = row_at(row.session.start_time().ns);
        ++r.new_sessions;
        if (bad_in_mode(row, ws_)) ++r.bad_sessions;
    }

    void finish() {
        if (!on_) return;
        const Timeline& tl = report_.timeline;
        for (const LossEvent& e : report_.events) {
            const bool counts = ws_ ? is_wireshark_flag(e.kind) : is_loss(e.kind);
            if (!counts) continue;
            TimelineRow& r = row_at(e.time.ns);
            ++r.loss_events;
            r.missing_bytes += e.missing_bytes;
        }
        const double secs = static_cast<double>(bucket_) / 1e9;
        std::vector<detail::LoadSample> samples;
        for (TimelineRow& r : d_.timeline) {
            r.packets_per_s = static_cast<double>(r.packets) / secs;
            r.bits_per_s = 8.0 * static_cast<double>(r.bytes) / secs;
            r.gap_ack_ratio =
                r.acks > 0 ? static_cast<double>(r.acks_above_hole) / static_cast<double>(r.acks)
                           : 0.0;
            if (!tl.empty() && r.packets > 0)
                samples.push_back(detail::LoadSample{r.bits_per_s, static_cast<double>(r.bytes),
                                                     static_cast<double>(r.missing_bytes),
                                                     r.data_segments, r.loss_events});
        }
        if (!tl.empty()) {
            detail::fit_knee(std::move(samples), d_.load);
            d_.load.peak_bits_per_s_1ms = 8.0 * static_cast<double>(tl.peak_bytes_1ms) / 1e-3;
            d_.load.peak_bits_per_s_10ms = 8.0 * static_cast<double>(tl.peak_bytes_10ms) / 1e-2;
        }
    }

  private:
    // Times a file may carry but no clock gives (saturated, years away) are bucketed as if at
    // +-2^62 ns (1823 and 2116), so that no sum below can overflow.
    static std::int64_t sane(std::int64_t ns) { return std::clamp(ns, -far_ns, far_ns); }

    TimelineRow& row_at(std::int64_t ns) {
        ns = sane(ns);
        if (ns < origin_) return d_.timeline.front();
        const auto i = static_cast<std::size_t>(
            (static_cast<std::uint64_t>(ns) - static_cast<std::uint64_t>(origin_)) /
            static_cast<std::uint64_t>(bucket_));
        return d_.timeline[std::min(i, d_.timeline.size() - 1)];
    }

    const Report& report_;
    bool ws_;
    Diagnosis& d_;
    bool on_ = false;
    std::int64_t origin_ = 0, bucket_ = 1;
};

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

    // The breakdown tables and the timeline's rows. Each thread reads the sessions once: given
    // threads, a second one fills, names and finishes the first two tables (servers, server
    // ports) and makes the timeline's rows, while this one gathers the facts, the other tables
    // (client prefixes, VLANs, tunnels, interfaces, directions) and the events. The sessions are
    // large and many, so each pass over them costs about as much as the work done in it. Every
    // table is filled in session order either way, so the result does not depend on the threads.
    const std::size_t n = report.sessions.size();
    const std::size_t direction_table = static_cast<std::size_t>(BreakdownTable::direction);
    Tables tb(opt);
    FinishedTable finished[Tables::count];
    constexpr std::size_t apart = 2;  // tables [0, apart) with the timeline, on the second thread
    Aside first_tables(threads > 1 && n >= 65536, [&] {
        TimelineRows timeline(report, opt, ws, d);
        for (std::size_t i = 0; i < n; ++i) {
            add_session(tb, 0, apart, i, report.sessions[i], ws);
            timeline.add(report.sessions[i]);
        }
        name_groups(tb, 0, apart, report);
        for (std::size_t t = 0; t < apart; ++t)
            finished[t] = finish_table(t, std::move(tb.groups[t]), opt);
        timeline.finish();
    });

    // Per session: verdict, directions seen, which directions lost (from the events, below).
    std::vector<SessionFacts> sf(n);
    std::vector<std::uint64_t> ids(n);  // the sessions' ids, in row order
    for (std::size_t i = 0; i < n; ++i) {
        const SessionRow& r = report.sessions[i];
        const Session& s = r.session;
        ids[i] = s.id;
        SessionFacts& x = sf[i];
        x.bad = bad_in_mode(r, ws);
        x.two_way = s.category == SessionCategory::complete;
        ++f.sessions;
        if (x.bad) ++f.bad;
        if (x.two_way) {
            ++f.two_way;
            if (x.bad) ++f.two_way_bad;
        }
        if (s.truncated_bytes > 0) ++f.truncated_sessions;
        f.retransmissions += s.retransmissions;
        const bool reconstructable = x.two_way && !x.bad && !r.bad && !r.bad_wireshark &&
                                     s.truncated_bytes == 0 && !s.evicted;
        if (reconstructable) ++d.reconstructable.sessions;
        add_session(tb, apart, direction_table, i, r, ws);
    }
    const detail::RowsById row_by_id(ids);
    std::uint64_t dir_events[2] = {0, 0}, dir_missing[2] = {0, 0};
    for (const LossEvent& e : report.events) {
        const bool counts = ws ? is_wireshark_flag(e.kind) : is_loss(e.kind);
        if (!counts || e.session_id == no_session) continue;
        const std::size_t row = row_by_id.find(e.session_id);
        if (row == row_by_id.none()) continue;
        const auto dir = static_cast<std::size_t>(e.direction);
        sf[row].bad_in[dir] = true;
        if (!(e.kind == EventKind::acked_unseen && e.late_filled)) sf[row].late_only = false;
        ++dir_events[dir];
        dir_missing[dir] += e.missing_bytes;
    }
    for (const SessionFacts& x : sf) {
        if (!x.two_way || !x.bad) continue;
        if (x.late_only) ++f.late_only_bad;
        for (int k = 0; k < 2; ++k)
            if (x.bad_in[k]) ++f.bad_in[k];
    }
    d.reconstructable.total = f.sessions;
    d.reconstructable.percentage = f.sessions > 0
                                       ? 100.0 * static_cast<double>(d.reconstructable.sessions) /
                                             static_cast<double>(f.sessions)
                                       : 0.0;
    name_groups(tb, apart, direction_table, report);
    for (std::size_t t = apart; t < direction_table; ++t)
        finished[t] = finish_table(t, std::move(tb.groups[t]), opt);
    // Direction rows: sessions bad in that direction, its events and missing bytes.
    std::vector<Group> directions_seen(2);
    for (std::size_t k = 0; k < 2; ++k) {
        Group& g = directions_seen[k];
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
    finished[direction_table] = finish_table(direction_table, std::move(directions_seen), opt);
    first_tables.wait();

    // The tables in their order; the findings' rows in table order (VLANs and interfaces
    // first for duplicates: they name where copies come from; servers after them).
    for (std::size_t t = 0; t < std::size(breakdown_tables); ++t) {
        d.breakdowns.emplace_back(breakdown_tables[t].name, std::move(finished[t].rows));
        for (auto& row : finished[t].significant)
            f.significant_rows.push_back(std::move(row));
        f.one_way_rows.insert(f.one_way_rows.end(), finished[t].one_way.begin(),
                              finished[t].one_way.end());
    }
    for (const std::size_t t : {std::size_t{3}, std::size_t{5}, std::size_t{0}})
        f.duplicate_rows.insert(f.duplicate_rows.end(), finished[t].duplicates.begin(),
                                finished[t].duplicates.end());
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
