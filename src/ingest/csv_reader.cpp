// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// Sessions and events from the two lists' rows (wireshark_csv.hpp, "Sessions" and "Events"):
// SYN rows merged into session instances, lost-list flags turned into loss events, attributed
// here when the stream column or the address pair decides it.

#include <capgap/errors.hpp>
#include <capgap/flow_key.hpp>
#include <capgap/wireshark_csv.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/errors.hpp"
#include "ingest/csv_rows.hpp"

namespace capgap {

namespace {

using csv::new_session;
using csv::Row;

bool started_by_retransmission(const Row& r) {
    return r.info.has(ExpertMarker::retransmission) ||
           r.info.has(ExpertMarker::fast_retransmission) ||
           r.info.has(ExpertMarker::spurious_retransmission);
}

// A session under construction.
struct Building {
    Session s;
    bool ports_known = true;
    bool first_marked_retransmission = false;
    bool adopted = false;  // already took an earlier row without ports
};

void merge_syn(Building& b, const Row& r) {
    ++b.s.syn_count;
    ++b.s.packets;
    ++b.s.packets_c2s;
    b.s.last_time = std::max(b.s.last_time, r.time.t);
    if (!b.ports_known && r.has_ports) {
        b.s.client = r.src();
        b.s.server = r.dst();
        b.ports_known = true;
    }
}

bool same_address_pair(const Session& s, const IpAddress& a, const IpAddress& b) {
    return (s.client.addr == a && s.server.addr == b) || (s.client.addr == b && s.server.addr == a);
}

}  // namespace

CsvInput read_wireshark_csv(const std::string& syn_path, const std::string& lost_path) {
    CsvInput in;
    csv::Reader reader{in.stats, in.counts};
    csv::ParsedFile syn = reader.read_file(syn_path, csv::ListKind::syn);
    csv::ParsedFile lost = reader.read_file(lost_path, csv::ListKind::lost);

    if (syn.kind && lost.kind && *syn.kind != *lost.kind)
        throw_format_error(lost_path, "",
                           std::string("times are ") + to_string(*lost.kind) + " but " + syn_path +
                               " has " + to_string(*syn.kind) +
                               " times; export both lists with the same time format");
    std::optional<CsvTimeKind> kind = syn.kind ? syn.kind : lost.kind;
    if (kind) in.counts.time_kind = *kind;
    csv::note_times(in.stats, syn);
    csv::note_times(in.stats, lost);
    if (kind == CsvTimeKind::relative) {
        // GUI relative times count from the capture's first packet: epoch 0 here.
        in.stats.have_time = true;
        in.stats.first_time = Timestamp{0};
    } else if (kind == CsvTimeKind::absolute && (syn.origin_ns || lost.origin_ns)) {
        in.stats.first_time = Timestamp{syn.origin_ns ? *syn.origin_ns : *lost.origin_ns};
    }

    const bool by_stream = syn.cols.stream >= 0 && lost.cols.stream >= 0;
    in.counts.has_stream = by_stream;

    // ---- sessions from the SYN list
    std::vector<Building> built;
    std::map<std::uint64_t, std::size_t> by_stream_index;
    struct KeyState {
        std::size_t index = 0;
        bool seq_known = false;
        std::uint64_t seq = 0;
    };
    std::map<FlowKey, KeyState> by_key;
    std::vector<const csv::Row*> portless;
    for (const csv::Row& r : syn.rows) {
        if ((r.syn == 0) || (r.ack == 1)) {
            ++in.counts.syn_rows_not_syn;
            continue;
        }
        if (by_stream) {
            if (!r.has_stream) {
                reader.bad_row(syn_path, r.line, "empty tcp.stream");
                continue;
            }
            auto it = by_stream_index.find(r.stream);
            if (it != by_stream_index.end()) {
                merge_syn(built[it->second], r);
                ++in.counts.syn_merged;
                continue;
            }
            by_stream_index.emplace(r.stream, built.size());
            Building b{new_session(r), r.has_ports, started_by_retransmission(r), false};
            built.push_back(b);
            continue;
        }
        if (!r.has_ports) {
            portless.push_back(&r);
            continue;
        }
        FlowKey key(r.src(), r.dst());
        auto it = by_key.find(key);
        bool join = false;
        if (it != by_key.end() && !r.info.has(ExpertMarker::port_numbers_reused)) {
            if (r.has_seq_raw && it->second.seq_known)
                join = r.seq_raw == it->second.seq;
            else
                join = started_by_retransmission(r);
        }
        if (join) {
            merge_syn(built[it->second.index], r);
            ++in.counts.syn_merged;
            continue;
        }
        by_key[key] = KeyState{built.size(), r.has_seq_raw, r.seq_raw};
        built.push_back(Building{new_session(r), true, started_by_retransmission(r), false});
    }
    // A SYN whose Info an application dissector replaced (TCP Fast Open data: "Client Hello")
    // has no ports; its retransmissions do. Give it to the first instance of the same address
    // pair that a retransmitted SYN started at or after it; otherwise it is a session of its
    // own with unknown (0) ports.
    for (const csv::Row* r : portless) {
        Building* best = nullptr;
        for (Building& b : built) {
            if (b.adopted || !b.first_marked_retransmission) continue;
            if (b.s.client.addr != r->src_addr || b.s.server.addr != r->dst_addr) continue;
            if (b.s.syn_time < r->time.t) continue;
            if (!best || b.s.syn_time < best->s.syn_time) best = &b;
        }
        if (best) {
            best->adopted = true;
            best->s.syn_frame = best->s.first_frame = r->frame;
            best->s.syn_time = best->s.first_time = r->time.t;
            ++best->s.syn_count;
            ++best->s.packets;
            ++best->s.packets_c2s;
            ++in.counts.syn_merged;
        } else {
            built.push_back(Building{new_session(*r), false, false, false});
        }
    }
    // Ids in order of the first SYN (file order is frame order; portless adoption can move a
    // session earlier).
    std::vector<std::size_t> order(built.size());
    for (std::size_t i = 0; i < order.size(); ++i)
        order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
        const Session& x = built[a].s;
        const Session& y = built[b].s;
        return x.syn_time != y.syn_time ? x.syn_time < y.syn_time : x.syn_frame < y.syn_frame;
    });
    std::vector<std::uint64_t> id_of(built.size());
    in.sessions.reserve(built.size());
    for (std::size_t k = 0; k < order.size(); ++k) {
        id_of[order[k]] = k;
        Session s = built[order[k]].s;
        s.id = k;
        in.sessions.push_back(s);
    }

    // ---- events from the lost list
    // Per 4-tuple, instance ids in SYN-time order: rows with ports are left to the Matcher's
    // join, but their direction is set here from the instance that join will pick.
    std::map<FlowKey, std::vector<std::uint64_t>> instances;
    for (const Session& s : in.sessions)
        instances[FlowKey(s.client, s.server)].push_back(s.id);
    auto direction_of = [&](const Session& s, const csv::Row& r) {
        if (r.has_ports) return r.src() == s.client ? Direction::c2s : Direction::s2c;
        return r.src_addr == s.client.addr ? Direction::c2s : Direction::s2c;
    };
    for (const csv::Row& r : lost.rows) {
        int flags = (r.lost ? 1 : 0) + (r.ack_lost ? 1 : 0);
        if (flags == 0) {
            ++in.counts.lost_rows_unflagged;
            continue;
        }
        std::uint64_t session = no_session;
        if (by_stream) {
            if (!r.has_stream) {
                reader.bad_row(lost_path, r.line, "empty tcp.stream");
                continue;
            }
            auto it = by_stream_index.find(r.stream);
            if (it == by_stream_index.end()) {
                in.unmatched_events += static_cast<std::uint64_t>(flags);
                continue;
            }
            session = id_of[it->second];
        } else if (!r.has_ports) {
            // Join by address pair: the latest instance of each 4-tuple between the two
            // addresses that started at or before the row; usable only when one 4-tuple has
            // such an instance.
            std::map<FlowKey, std::uint64_t> latest;
            for (const Session& s : in.sessions) {
                if (s.syn_time > r.time.t || !same_address_pair(s, r.src_addr, r.dst_addr))
                    continue;
                latest[FlowKey(s.client, s.server)] = s.id;  // ids ascend with time
            }
            if (latest.size() != 1) {
                if (latest.size() > 1)
                    in.counts.ambiguous_events += static_cast<std::uint64_t>(flags);
                in.unmatched_events += static_cast<std::uint64_t>(flags);
                continue;
            }
            session = latest.begin()->second;
            in.counts.joined_by_address += static_cast<std::uint64_t>(flags);
        }
        LossEvent e;
        e.session_id = session;
        e.frame = r.frame;
        e.time = r.time.t;
        e.src = r.src();
        e.dst = r.dst();
        if (session == no_session) {
            auto it = instances.find(FlowKey(e.src, e.dst));
            if (it != instances.end()) {
                for (std::uint64_t id : it->second)
                    if (in.sessions[id].syn_time <= e.time)
                        e.direction = direction_of(in.sessions[id], r);
            }
        } else {
            const Session& s = in.sessions[session];
            e.direction = direction_of(s, r);
            if (!r.has_ports) {
                // Fill the ports from the session so the event rows read sensibly.
                e.src = e.direction == Direction::c2s ? s.client : s.server;
                e.dst = e.direction == Direction::c2s ? s.server : s.client;
            }
        }
        if (r.lost) {
            e.kind = EventKind::ws_lost_segment;
            in.events.push_back(e);
        }
        if (r.ack_lost) {
            e.kind = EventKind::ws_ack_lost_segment;
            in.events.push_back(e);
        }
    }
    return in;
}

}  // namespace capgap
