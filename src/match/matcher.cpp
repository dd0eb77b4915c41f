// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// The join both ingest paths share: events to instances, the window, the server filter and
// the verdicts. Built for millions of sessions: one pass over sessions, one over events,
// hash lookups by id, and a per-key index of SYN times only when some event needs it.

#include <capgap/matcher.hpp>

#include <algorithm>
#include <iterator>
#include <string>
#include <utility>

#include "core/errors.hpp"
#include "core/rows_by_id.hpp"
#include "match/match_rows.hpp"
#include "report/summary.hpp"

namespace capgap {

namespace {

[[noreturn]] void bad_filter(std::string_view text, const std::string& why) {
    // Named after the option (MatchOptions::servers, Python's server=); the CLI renames it to
    // its flag when it parses --server.
    throw_parse_error("server", 0, 0, "'" + std::string(text) + "': " + why);
}

std::uint16_t parse_port(std::string_view full, std::string_view p) {
    if (p.empty() || p.size() > 5) bad_filter(full, "bad port");
    unsigned v = 0;
    for (char c : p) {
        if (c < '0' || c > '9') bad_filter(full, "bad port");
        v = v * 10 + static_cast<unsigned>(c - '0');
    }
    if (v > 65535) bad_filter(full, "port out of range");
    return static_cast<std::uint16_t>(v);
}

// "addr" or "addr/prefix" into the filter's network and prefix.
void parse_cidr(std::string_view full, std::string_view s, ServerFilter& f) {
    const std::size_t slash = s.find('/');
    try {
        f.network = IpAddress::parse(s.substr(0, slash));
    } catch (const parse_error&) {
        bad_filter(full, "not an address or CIDR range");
    }
    const int max_prefix = f.network.v6 ? 128 : 32;
    f.prefix = max_prefix;
    if (slash != std::string_view::npos) {
        std::string_view p = s.substr(slash + 1);
        if (p.empty() || p.size() > 3) bad_filter(full, "bad prefix length");
        int v = 0;
        for (char c : p) {
            if (c < '0' || c > '9') bad_filter(full, "bad prefix length");
            v = v * 10 + (c - '0');
        }
        if (v > max_prefix) bad_filter(full, "prefix length out of range");
        f.prefix = v;
    }
    // Clear the host bits so matches() can compare whole bytes.
    for (int i = 0; i < 16; ++i) {
        const int keep = std::clamp(f.prefix - 8 * i, 0, 8);
        const auto mask = static_cast<std::uint8_t>(keep == 0 ? 0 : 0xff << (8 - keep));
        f.network.bytes[static_cast<std::size_t>(i)] &= mask;
    }
}

}  // namespace

ServerFilter ServerFilter::parse(std::string_view text) {
    ServerFilter f;
    if (text.empty()) bad_filter(text, "empty");
    if (text.front() == '[') {
        const std::size_t close = text.find(']');
        if (close == std::string_view::npos) bad_filter(text, "missing ']'");
        parse_cidr(text, text.substr(1, close - 1), f);
        std::string_view rest = text.substr(close + 1);
        if (!rest.empty()) {
            if (rest.front() != ':') bad_filter(text, "expected ':PORT' after ']'");
            f.port = parse_port(text, rest.substr(1));
        }
        return f;
    }
    const std::size_t colons = static_cast<std::size_t>(std::count(text.begin(), text.end(), ':'));
    if (colons == 1) {
        const std::size_t c = text.find(':');
        parse_cidr(text, text.substr(0, c), f);
        if (f.network.v6) bad_filter(text, "write an IPv6 range with a port as [ADDR/LEN]:PORT");
        f.port = parse_port(text, text.substr(c + 1));
    } else {
        parse_cidr(text, text, f);
    }
    return f;
}

bool ServerFilter::matches(const Endpoint& e) const {
    if (port && e.port != *port) return false;
    if (e.addr.v6 != network.v6) return false;
    const int full = prefix / 8;
    for (int i = 0; i < full; ++i) {
        if (e.addr.bytes[static_cast<std::size_t>(i)] != network.bytes[static_cast<std::size_t>(i)])
            return false;
    }
    const int rem = prefix % 8;
    if (rem != 0) {
        const auto mask = static_cast<std::uint8_t>(0xff << (8 - rem));
        const auto i = static_cast<std::size_t>(full);
        if ((e.addr.bytes[i] & mask) != network.bytes[i]) return false;
    }
    return true;
}

Report Matcher::match(std::vector<Session> sessions, std::vector<LossEvent> events,
                      const IngestStats& stats) const {
    std::vector<SessionRow> rows(sessions.size());
    for (std::size_t i = 0; i < sessions.size(); ++i)
        rows[i].session = std::move(sessions[i]);
    sessions = {};
    return detail::match_rows(options_, std::move(rows), std::move(events), stats);
}

Report detail::match_rows(const MatchOptions& options, std::vector<SessionRow> rows,
                          std::vector<LossEvent> events, const IngestStats& stats) {
    Report report;
    Summary& sum = report.summary;
    sum.mode = options.mode;
    report.ingest = stats;

    const Timestamp anchor = stats.have_time ? stats.first_time : Timestamp{0};
    const TimeWindow& win = options.window;
    const bool has_begin = win.begin.has_value();
    const bool has_end = win.end.has_value();
    const Timestamp t0 = has_begin ? win.begin->resolve(anchor) : Timestamp{};
    const Timestamp t1 = has_end ? win.end->resolve(anchor) : Timestamp{};
    auto before = [&](Timestamp t) { return has_begin && t < t0; };
    auto after = [&](Timestamp t) { return has_end && !(t < t1); };
    auto in_window = [&](Timestamp t) { return !before(t) && !after(t); };

    auto passes = [&](const Session& s) {
        if (!options.ports.empty() && std::find(options.ports.begin(), options.ports.end(),
                                                s.server.port) == options.ports.end()) {
            return false;
        }
        if (options.servers.empty()) return true;
        for (const ServerFilter& f : options.servers) {
            if (f.matches(s.server)) return true;
        }
        return false;
    };

    // One pass over the rows (each is 192 bytes: a pass costs about as much as the work in it)
    // gives their ids, row_of (row index -> index among the reported rows, or none) and the
    // counts of the rows left out. The rows come in id order from the tracker; any others
    // are sorted, and the pass made again.
    constexpr std::size_t none = static_cast<std::size_t>(-1);
    std::vector<std::size_t> row_of(rows.size(), none);
    std::vector<std::uint64_t> ids(rows.size());
    std::size_t reported = 0;
    std::uint64_t counted = 0;  // reported rows of counted instances
    const Summary blank = sum;
    auto select = [&]() {
        bool in_order = true;
        for (std::size_t i = 0; i < rows.size(); ++i) {
            const Session& s = rows[i].session;
            ids[i] = s.id;
            in_order = in_order && (i == 0 || ids[i - 1] <= s.id);
            if (!passes(s)) {
                ++sum.filtered_out;
                continue;
            }
            if (is_counted(s.category)) {
                if (before(s.syn_time)) {
                    ++sum.before_window;
                } else if (after(s.syn_time)) {
                    ++sum.after_window;
                } else {
                    row_of[i] = reported++;
                    ++counted;
                    if (s.category == SessionCategory::syn_only) ++sum.syn_only;
                    if (s.category == SessionCategory::one_sided) ++sum.one_sided;
                    if (s.evicted) ++sum.evicted;
                }
            } else if (in_window(s.start_time())) {
                if (s.category == SessionCategory::partial) ++sum.partial;
                if (s.category == SessionCategory::synack_only) ++sum.synack_only;
                if (options.include_excluded) row_of[i] = reported++;
            }
        }
        return in_order;
    };
    if (!select()) {
        std::sort(rows.begin(), rows.end(), [](const SessionRow& a, const SessionRow& b) {
            return a.session.id < b.session.id;
        });
        sum = blank;
        reported = 0;
        counted = 0;
        std::fill(row_of.begin(), row_of.end(), none);
        select();
    }

    // The joins below read every session, reported or not; the reported rows are taken out
    // after them.
    auto session_at = [&](std::size_t i) -> const Session& { return rows[i].session; };
    auto counts = [&](const LossEvent& e) {
        return !options.events_in_window_only || in_window(e.time);
    };

    // Events without an id are joined by key and time in one batch: instances with a SYN and
    // those events are both sorted by (key hash, time) and merged in a single sequential pass,
    // so millions of lookups cost two sorts instead of millions of cache-missing searches.
    std::vector<std::size_t> keyed_target;
    {
        struct Probe {
            std::size_t hash;
            Timestamp time;
            std::size_t index;  // session index (instances) or event index (events)
        };
        auto by_hash_time = [](const Probe& x, const Probe& y) {
            if (x.hash != y.hash) return x.hash < y.hash;
            if (x.time != y.time) return x.time < y.time;
            return x.index < y.index;
        };
        std::vector<Probe> probes;
        for (std::size_t i = 0; i < events.size(); ++i) {
            const LossEvent& e = events[i];
            if (e.session_id != no_session || !counts(e)) continue;
            probes.push_back({hash_value(FlowKey(e.src, e.dst)), e.time, i});
        }
        if (!probes.empty()) {
            keyed_target.assign(events.size(), none);
            std::vector<Probe> starts;
            for (std::size_t i = 0; i < ids.size(); ++i) {
                const Session& s = session_at(i);
                if (s.syn_frame == no_frame) continue;
                starts.push_back({hash_value(FlowKey(s.client, s.server)), s.syn_time, i});
            }
            std::sort(starts.begin(), starts.end(), by_hash_time);
            std::sort(probes.begin(), probes.end(), by_hash_time);
            std::size_t p = 0;  // first start after the current probe's (hash, time)
            for (const Probe& pr : probes) {
                while (p < starts.size() &&
                       (starts[p].hash < pr.hash ||
                        (starts[p].hash == pr.hash && !(pr.time < starts[p].time)))) {
                    ++p;
                }
                // Latest instance of the key whose SYN is at or before the event (last on
                // ties); walking back skips instances of other keys with the same hash.
                const FlowKey key(events[pr.index].src, events[pr.index].dst);
                for (std::size_t q = p; q > 0 && starts[q - 1].hash == pr.hash; --q) {
                    const Session& cand = session_at(starts[q - 1].index);
                    if (FlowKey(cand.client, cand.server) == key) {
                        keyed_target[pr.index] = starts[q - 1].index;
                        break;
                    }
                }
            }
        }
    }

    const detail::RowsById row_by_id(ids);

    std::vector<LossEvent> kept, unmatched;
    kept.reserve(events.size());
    for (std::size_t ei = 0; ei < events.size(); ++ei) {
        LossEvent& e = events[ei];
        if (!counts(e)) continue;
        std::size_t idx = none;
        if (e.session_id == no_session) {
            idx = keyed_target[ei];
        } else {
            const std::size_t row = row_by_id.find(e.session_id);
            if (row != row_by_id.none()) idx = row;
        }
        if (idx == none) {
            ++sum.unmatched_events;
            if (options.include_excluded) {
                e.session_id = no_session;
                unmatched.push_back(std::move(e));
            }
            continue;
        }
        if (row_of[idx] == none) continue;  // attributed, but its session is not reported
        e.session_id = ids[idx];
        kept.push_back(std::move(e));
    }
    auto by_session_frame = [](const LossEvent& x, const LossEvent& y) {
        return x.session_id != y.session_id ? x.session_id < y.session_id : x.frame < y.frame;
    };
    // The tracker already delivers this order; sort only when the input did not.
    if (!std::is_sorted(kept.begin(), kept.end(), by_session_frame)) {
        std::stable_sort(kept.begin(), kept.end(), by_session_frame);
    }

    // The reported rows, in place and in id order (a row moves only towards the front).
    for (std::size_t i = 0; i < rows.size(); ++i) {
        if (row_of[i] == none) continue;
        if (row_of[i] != i) rows[row_of[i]] = std::move(rows[i]);
        ids[row_of[i]] = ids[i];
    }
    rows.resize(reported);
    ids.resize(reported);
    report.sessions = std::move(rows);

    // Verdicts and tallies. Rows are in id order, so walk both sorted lists together (the ids
    // rather than the rows). A row's verdict is counted once its events are read: rows
    // without events are good.
    auto count_verdict = [&sum](const SessionRow& row) {
        if (!is_counted(row.session.category)) return;
        if (row.bad) {
            ++sum.bad_confirmed;
            if (row.data_missing) {
                ++sum.bad_data_missing;
            } else {
                ++sum.bad_control_only;
            }
        }
        if (row.bad_wireshark) ++sum.bad_wireshark;
        if (row.bad_wireshark && !row.bad) ++sum.wireshark_only;
        if (row.bad && !row.bad_wireshark) ++sum.confirmed_only;
    };
    constexpr std::size_t kinds = std::size(event_kinds), dirs = std::size(directions);
    std::uint64_t tally_count[kinds][dirs] = {}, tally_bytes[kinds][dirs] = {},
                  tally_late[kinds][dirs] = {};
    std::size_t r = 0;
    bool on_row = false;  // r is a row with events
    for (const LossEvent& e : kept) {
        if (on_row && ids[r] != e.session_id) count_verdict(report.sessions[r]);
        while (ids[r] != e.session_id)
            ++r;
        on_row = true;
        SessionRow& row = report.sessions[r];
        const auto k = static_cast<std::size_t>(e.kind);
        const auto d = static_cast<std::size_t>(e.direction);
        // Rows of excluded instances (include_excluded) get their verdicts, not the tallies.
        if (k < kinds && d < dirs && is_counted(row.session.category)) {
            ++tally_count[k][d];
            tally_bytes[k][d] += e.missing_bytes;
            if (e.late_filled) ++tally_late[k][d];
        }
        if (is_loss(e.kind)) {
            row.bad = true;
            ++row.events;
            row.missing_bytes += e.missing_bytes;
            if ((e.kind == EventKind::acked_unseen || e.kind == EventKind::gap_unacked) &&
                e.missing_bytes > 0) {
                row.data_missing = true;
            }
        } else if (is_wireshark_flag(e.kind)) {
            row.bad_wireshark = true;
        }
    }
    if (on_row) count_verdict(report.sessions[r]);
    for (std::size_t k = 0; k < kinds; ++k) {
        for (std::size_t d = 0; d < dirs; ++d) {
            if (tally_count[k][d] == 0) continue;
            EventTally t;
            t.kind = event_kinds[k].value;
            t.direction = directions[d].value;
            t.count = tally_count[k][d];
            t.missing_bytes = tally_bytes[k][d];
            t.late_filled = tally_late[k][d];
            report.tallies.push_back(t);
        }
    }
    // Unmatched events last (their session_id, no_session, sorts after every id), by frame.
    std::stable_sort(unmatched.begin(), unmatched.end(),
                     [](const LossEvent& x, const LossEvent& y) { return x.frame < y.frame; });
    kept.insert(kept.end(), std::make_move_iterator(unmatched.begin()),
                std::make_move_iterator(unmatched.end()));
    report.events = std::move(kept);

    sum.total_sessions = counted;
    sum.bad_sessions = options.mode == Mode::wireshark ? sum.bad_wireshark : sum.bad_confirmed;
    set_percentage(sum);
    return report;
}

}  // namespace capgap
