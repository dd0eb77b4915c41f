// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// Extraction: the second reading of a capture, with the tracker's attribution hook on, writes
// the chosen sessions' packets as pcapng (report/pcapng_writer.hpp).

#include <capgap/extract.hpp>
#include <capgap/version.hpp>

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <unordered_map>
#include <utility>

#include "core/errors.hpp"
#include "pipeline/read_all.hpp"
#include "report/output_file.hpp"
#include "report/pcapng_writer.hpp"

namespace capgap {

namespace {

constexpr const char* read_twice =
    "extraction reads the capture a second time, which needs a file: ";

bool parse_id(std::string_view text, std::uint64_t& out) {
    if (text.empty() || text.size() > 19 || text.find_first_not_of("0123456789") != text.npos)
        return false;
    out = std::stoull(std::string(text));
    return true;
}

const SessionRow* find_row(const Report& report, std::uint64_t id) {
    const auto it =
        std::lower_bound(report.sessions.begin(), report.sessions.end(), id,
                         [](const SessionRow& r, std::uint64_t v) { return r.session.id < v; });
    return it != report.sessions.end() && it->session.id == id ? &*it : nullptr;
}

[[noreturn]] void throw_not_in_report(std::uint64_t id) {
    throw std::invalid_argument("session " + std::to_string(id) +
                                " is not in the report (its sessions are those that started in "
                                "the window, as --sessions-out lists them)");
}

bool headline_bad(const Report& report, const SessionRow& row) {
    return report.summary.mode == Mode::wireshark ? row.bad_wireshark : row.bad;
}

}  // namespace

std::vector<std::uint64_t> SessionSelection::parse_ids(std::string_view text) {
    std::vector<std::uint64_t> ids;
    std::size_t pos = 0;
    while (pos <= text.size()) {
        std::size_t comma = text.find(',', pos);
        if (comma == text.npos) comma = text.size();
        const std::string_view item = text.substr(pos, comma - pos);
        const std::size_t dash = item.find('-');
        std::uint64_t lo = 0, hi = 0;
        const bool ok = dash == item.npos ? parse_id(item, lo) && parse_id(item, hi)
                                          : parse_id(item.substr(0, dash), lo) &&
                                                parse_id(item.substr(dash + 1), hi) && lo <= hi;
        if (!ok) {
            throw_parse_error(
                "sessions", 0, pos + 1,
                "'" + std::string(item) + "' is not a session id or range (as in \"3,7,10-12\")");
        }
        if (hi - lo >= 100'000'000) {
            throw_parse_error("sessions", 0, pos + 1,
                              "'" + std::string(item) + "' is a range of more than 10^8 ids");
        }
        for (std::uint64_t id = lo;; ++id) {
            ids.push_back(id);
            if (id == hi) break;
        }
        pos = comma + 1;
    }
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    return ids;
}

std::vector<std::uint64_t> select_sessions(const Report& report, const SessionSelection& sel) {
    std::vector<std::uint64_t> ids = sel.ids;
    std::sort(ids.begin(), ids.end());
    for (const std::uint64_t id : ids) {
        if (find_row(report, id) == nullptr) throw_not_in_report(id);
    }
    std::vector<std::uint64_t> out;
    for (const SessionRow& row : report.sessions) {
        const Session& s = row.session;
        if (sel.bad && !headline_bad(report, row)) continue;
        if (!ids.empty() && !std::binary_search(ids.begin(), ids.end(), s.id)) continue;
        if (!sel.servers.empty() &&
            std::none_of(sel.servers.begin(), sel.servers.end(),
                         [&](const ServerFilter& f) { return f.matches(s.server); }))
            continue;
        if (!sel.categories.empty() && std::find(sel.categories.begin(), sel.categories.end(),
                                                 s.category) == sel.categories.end())
            continue;
        out.push_back(s.id);
    }
    return out;
}

std::vector<std::uint64_t> bad_session_ids(const Report& report) {
    SessionSelection sel;
    sel.bad = true;
    return select_sessions(report, sel);
}

std::string event_note(const LossEvent& e) {
    std::string out = std::string("capgap: ") + to_string(e.kind) + " " + to_string(e.direction);
    const std::string bytes = std::to_string(e.missing_bytes) + " bytes";
    const std::string range =
        " (relative seq " + std::to_string(e.seq_begin) + "-" + std::to_string(e.seq_end) + ")";
    switch (e.kind) {
        case EventKind::acked_unseen:
            out += ", " + bytes + " missing before this ACK" + range;
            if (e.late_filled) out += ", their data came later than the reorder window";
            return out;
        case EventKind::gap_unacked:
            return out + ", " + bytes + " never seen and never acknowledged" + range;
        case EventKind::control_missing:
            return out + ", a SYN-ACK or FIN not captured" + range;
        case EventKind::acked_before_data:
            return out + ", " + bytes + " acknowledged before their data was captured" + range +
                   "; not loss";
        case EventKind::reordered:
            return out + ", " + bytes + " filled late, out of order" + range + "; not loss";
        case EventKind::ws_lost_segment:
            return out + ", Wireshark: previous segment not captured";
        case EventKind::ws_ack_lost_segment:
            return out + ", Wireshark: ACKed unseen segment";
    }
    return out;
}

void check_rereadable(const std::vector<CaptureInput>& inputs) {
    for (const CaptureInput& in : inputs) {
        if (in.read())
            throw_io_error(in.name(), "", std::string(read_twice) + "a stream is read once");
        if (in.is_stdin()) {
            throw_io_error(in.name(), "",
                           std::string(read_twice) +
                               "standard input is read once; give the "
                               "capture by name");
        }
        struct stat st {};
        if (::stat(in.path().c_str(), &st) != 0) throw_os_error(in.path(), errno);
        if (!S_ISREG(st.st_mode)) {
            throw_io_error(in.name(), "",
                           std::string(read_twice) +
                               "this is not a regular file (a pipe or device is read once)");
        }
    }
}

ExtractResult extract_sessions(const std::vector<CaptureInput>& inputs, const Options& options,
                               const Report& report, const std::vector<std::uint64_t>& session_ids,
                               const std::string& out_path) {
    check_rereadable(inputs);
    // The sessions asked for, by id, with the packets the first reading counted in each.
    std::unordered_map<std::uint64_t, std::uint64_t> counted;
    for (const std::uint64_t id : session_ids) {
        const SessionRow* row = find_row(report, id);
        if (row == nullptr) throw_not_in_report(id);
        counted.emplace(id, row->session.packets);
    }
    // Frame -> the loss notes of the chosen sessions' events revealed there.
    std::unordered_map<std::uint64_t, std::vector<std::string>> notes;
    for (const LossEvent& e : report.events) {
        if (e.frame != no_frame && counted.count(e.session_id) != 0)
            notes[e.frame].push_back(event_note(e));
    }

    ExtractResult result;
    result.sessions = counted.size();
    std::unordered_map<std::uint64_t, std::uint64_t> written;  // id -> packets written
    detail::write_output_file(out_path, [&](std::ostream& out) {
        detail::PcapngWriter writer(out, std::string("capgap ") + version);
        PcapSource src(inputs, options.bpf);
        // The attribution hook is the one tracker's: this reading runs single-threaded.
        Options single = options;
        single.threads = 1;
        Analyzer a(single);
        std::vector<Attribution> attribution;
        a.record_attribution(&attribution);
        detail::read_all(src, a, options, inputs, [&](const RawPacket* batch, std::size_t n) {
            // Every packet of the batch is tracked (and attributed) before its bytes go. The
            // attributions come in frame order, each a frame of this batch (a reassembled
            // datagram counts at the frame of its last fragment).
            a.flush();
            std::size_t i = 0;
            for (const Attribution& at : attribution) {
                const auto it = counted.find(at.session_id);
                if (it == counted.end()) continue;
                while (i < n && batch[i].frame < at.frame)
                    ++i;
                if (i == n) break;
                if (batch[i].frame != at.frame) continue;
                const RawPacket& p = batch[i];
                const auto note = notes.find(p.frame);
                static const std::vector<std::string> none;
                const std::vector<std::string>& comments =
                    note != notes.end() ? note->second : none;
                writer.write_packet(writer.interface_for(p.link_type), p.time.ns, p.data, p.caplen,
                                    p.len, comments);
                ++written[at.session_id];
                ++result.packets;
                result.notes += comments.size();
            }
            attribution.clear();
        });
        // The same reading must give the same sessions: a capture that changed in between
        // (or options that differ from the report's) would put other packets in them.
        if (!options.tracker.drop_duplicates) {
            for (const auto& [id, packets] : counted) {
                const auto w = written.find(id);
                const std::uint64_t got = w != written.end() ? w->second : 0;
                if (got != packets) {
                    throw_io_error(
                        detail::input_names(inputs), "",
                        "the second reading gave session " + std::to_string(id) + " " +
                            std::to_string(got) + " packets, the report " +
                            std::to_string(packets) +
                            ": the capture changed, or the options differ from the report's");
                }
            }
        }
    });
    return result;
}

}  // namespace capgap
