// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// Continuous measurement (docs/live.md): packets from live interfaces or a replayed file into
// one Analyzer; sessions grouped by the interval their SYN fell in, each interval judged once
// its sessions had the chance to reveal their loss; finished sessions leave the tracker every
// check, so memory holds the open flows and the pending intervals only.

#include <capgap/live.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <climits>
#include <cmath>
#include <cstdio>
#include <deque>
#include <map>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include <pcap/pcap.h>
#include <poll.h>

#include "core/errors.hpp"
#include "ingest/pcapng_reader.hpp"
#include "report/json.hpp"

namespace capgap {

namespace {

// The payload bytes a report's loss events miss, client to server and server to client.
struct MissingBytes {
    std::uint64_t c2s = 0, s2c = 0;
};
MissingBytes missing_bytes(const Report& r) {
    MissingBytes m;
    for (const EventTally& t : r.tallies)
        if (is_loss(t.kind)) (t.direction == Direction::c2s ? m.c2s : m.s2c) += t.missing_bytes;
    return m;
}

std::int64_t wall_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// floor(t / d) * d, for negative t too.
std::int64_t align_down(std::int64_t t, std::int64_t d) {
    std::int64_t q = t / d;
    if (t % d != 0 && t < 0) --q;
    return q * d;
}

char* format_pct(char* buf, std::size_t n, double v) {
    std::snprintf(buf, n, "%.2f", v);
    return buf;
}

// One interface opened with pcap_create: the settings of LiveOptions, immediate delivery off.
struct Handle {
    std::string name;
    pcap_t* pcap = nullptr;
    int link_type = 0;
    int fd = -1;
    bool nano = false;
    struct pcap_stat last {};  // pcap_stats at the last interval boundary
    bool have_stats = false;
};

}  // namespace

// ---- IntervalReport ------------------------------------------------------------------------

std::string IntervalReport::to_text() const {
    const Summary& s = report.summary;
    char pct[32], lo[32], hi[32];
    std::string out = to_iso8601(begin) + " .. " + to_iso8601(end);
    out += "  sessions " + std::to_string(s.total_sessions);
    out += "  bad " + std::to_string(s.bad_sessions) + " (" +
           format_pct(pct, sizeof pct, s.percentage) + "%, 95% CI " +
           format_pct(lo, sizeof lo, s.ci95_low) + "-" + format_pct(hi, sizeof hi, s.ci95_high) +
           "%)";
    const bool confirmed = s.mode == Mode::confirmed;
    out += confirmed ? "  wireshark " + std::to_string(s.bad_wireshark)
                     : "  confirmed " + std::to_string(s.bad_confirmed);
    if (still_open > 0) out += "  [" + std::to_string(still_open) + " still open]";
    out += "  | packets " + std::to_string(packets);
    // The capture host's own drops, then what TCP shows, and which side the loss is on.
    if (host.known) {
        out += "  | this host dropped " + std::to_string(host.dropped()) + " of " +
               std::to_string(host.received) + " packets (kernel " +
               std::to_string(host.kernel_dropped) + ", interface " +
               std::to_string(host.interface_dropped) + ")";
    } else {
        out += "  | host drops unknown";
    }
    out += "; TCP shows loss in " + std::to_string(s.bad_sessions) +
           (s.bad_sessions == 1 ? " session" : " sessions");
    if (s.bad_sessions > 0 && host.known)
        out += host.dropped() == 0 ? ": upstream of this host"
                                   : ": this host's drops may account for part of it";
    if (final) out += "  (final)";
    return out;
}

std::string IntervalReport::to_json() const {
    using nlohmann::json;
    const Summary& s = report.summary;
    json j;
    j["begin"] = to_iso8601(begin);
    j["end"] = to_iso8601(end);
    j["begin_ns"] = begin.ns;
    j["end_ns"] = end.ns;
    j["mode"] = to_string(s.mode);
    j["sessions"] = s.total_sessions;
    j["bad"] = s.bad_sessions;
    j["bad_confirmed"] = s.bad_confirmed;
    j["bad_wireshark"] = s.bad_wireshark;
    j["percentage"] = s.percentage;
    j["ci95"] = {s.ci95_low, s.ci95_high};
    j["still_open"] = still_open;
    // Sessions that reached this interval with a SYN outside it (reordered past the grace,
    // or a clock step): counted by name, never lost.
    j["before_window"] = s.before_window;
    j["after_window"] = s.after_window;
    j["packets"] = packets;
    j["bytes"] = bytes;
    j["open_flows"] = open_flows;
    j["final"] = final;
    const MissingBytes missing = missing_bytes(report);
    j["upstream"] = {{"bad_sessions", s.bad_sessions},
                     {"missing_bytes_c2s", missing.c2s},
                     {"missing_bytes_s2c", missing.s2c}};
    json host_j = {{"known", host.known}};
    if (host.known) {
        host_j["received"] = host.received;
        host_j["kernel_dropped"] = host.kernel_dropped;
        host_j["interface_dropped"] = host.interface_dropped;
    }
    j["host_drops"] = std::move(host_j);
    json findings = json::array();
    const Diagnosis d = report.diagnosis();
    for (std::size_t i = 0; i < d.findings.size() && i < 3; ++i) {
        const Finding& f = d.findings[i];
        findings.push_back(
            {{"name", to_string(f.name)}, {"severity", to_string(f.severity)}, {"title", f.title}});
    }
    j["findings"] = std::move(findings);
    return j.dump();
}

// ---- LiveCapture ---------------------------------------------------------------------------

struct LiveCapture::Impl {
    explicit Impl(LiveOptions o) : opt(std::move(o)), analyzer(analysis_options(opt)) {}

    static Options analysis_options(const LiveOptions& o) {
        Options a = o.analysis;
        a.timeline = false;  // a timeline for months would grow; the intervals are the timeline
        a.progress = nullptr;
        a.threads = 1;  // the intervals read the one tracker (Analyzer::tracker)
        return a;
    }

    // One interval of SYN times, waiting for its sessions to reveal their loss.
    struct Window {
        std::int64_t begin = 0;
        std::vector<Session> sessions;
        std::vector<LossEvent> events;
        std::uint64_t packets = 0, bytes = 0;
        CaptureDrops host;
    };

    LiveOptions opt;
    Analyzer analyzer;
    std::atomic<bool> stop_requested{false};
    bool ended = false;    // every report, the final one included, was handed out
    bool flushed = false;  // the final flush ran
    bool source_done = false;

    // Source: a replayed file, or interfaces.
    std::unique_ptr<PcapSource> file;
    std::vector<Handle> handles;
    std::vector<detail::DropMark> marks;  // the replayed file's drop figures, in file order
    std::size_t next_mark = 0;
    std::map<std::uint32_t, detail::DropMark> last_isb;  // per interface
    bool file_has_isb = false;
    RawPacket pending;  // a replayed packet read but not yet due
    bool have_pending = false;
    std::int64_t replay_t0 = 0, replay_wall0 = 0;
    bool replay_started = false;
    std::vector<std::string> warnings;  // pcap_activate's, one per interface that gave one

    // Capture time and the intervals.
    std::int64_t now = 0;  // capture time: packets, and the wall or replay clock when idle
    bool have_now = false;
    std::map<std::int64_t, Window> windows;  // pending, by begin
    std::int64_t current_begin = 0;          // the window packets are counted in
    std::int64_t next_check = 0;
    bool have_emitted = false;
    std::int64_t emitted_end = 0;                // the end of the latest interval reported
    std::unordered_set<std::uint64_t> reported;  // ids judged while open, reported already
    std::deque<IntervalReport> ready;

    mutable std::mutex totals_mutex;
    LiveTotals totals;
    std::uint64_t packets_total = 0, bytes_total = 0;

    // ---- opening ------------------------------------------------------------------------

    void open() {
        if (opt.interval_ns <= 0) throw std::invalid_argument("live: the interval must be > 0");
        if (!opt.replay_file.empty()) {
            if (!opt.interfaces.empty())
                throw std::invalid_argument("live: give interfaces or a file to replay, not both");
            file = std::make_unique<PcapSource>(std::vector<CaptureInput>{opt.replay_file},
                                                opt.analysis.bpf);
            marks = detail::pcapng_drop_marks(opt.replay_file);
            for (const detail::DropMark& m : marks)
                file_has_isb = file_has_isb || m.statistics;
            return;
        }
        if (opt.interfaces.empty()) throw std::invalid_argument("live: no interface given");
        for (const std::string& name : opt.interfaces)
            open_interface(name);
    }

    void open_interface(const std::string& name) {
        char err[PCAP_ERRBUF_SIZE] = "";
        Handle h;
        h.name = name;
        h.pcap = pcap_create(name.c_str(), err);
        if (h.pcap == nullptr) throw_io_error(name, "", std::string("cannot capture: ") + err);
        handles.push_back(h);  // closed by the destructor from here on
        pcap_t* p = h.pcap;
        pcap_set_snaplen(p, opt.snaplen);
        pcap_set_promisc(p, 1);
        pcap_set_timeout(p, static_cast<int>(std::max<std::int64_t>(opt.poll_ns / 1'000'000, 1)));
        pcap_set_immediate_mode(p, 0);
        pcap_set_buffer_size(p, opt.buffer_size_mb * 1024 * 1024);
        const bool nano = pcap_set_tstamp_precision(p, PCAP_TSTAMP_PRECISION_NANO) == 0;
        const int rc = pcap_activate(p);
        if (rc < 0) {
            std::string why = pcap_geterr(p);
            if (rc == PCAP_ERROR_NO_SUCH_DEVICE) {
                why = "no such interface (" + why + "); `ip link` lists them";
            } else if (rc == PCAP_ERROR_PERM_DENIED) {
                why = "no permission to capture (" + why +
                      "); run as root, or give the program CAP_NET_RAW: sudo setcap "
                      "cap_net_raw,cap_net_admin=eip $(command -v capgap)";
            } else if (rc == PCAP_ERROR_IFACE_NOT_UP) {
                why = "the interface is down (" + why + ")";
            }
            throw_io_error(name, "", "cannot capture: " + why);
        }
        if (rc > 0) {  // activated, with a warning (promiscuous mode not supported, ...)
            warnings.push_back(name + ": " +
                               (rc == PCAP_WARNING_PROMISC_NOTSUP
                                    ? std::string("promiscuous mode not supported")
                                    : std::string(pcap_statustostr(rc))) +
                               (pcap_geterr(p)[0] != '\0' ? std::string(" (") + pcap_geterr(p) + ")"
                                                          : std::string()));
        }
        handles.back().link_type = pcap_datalink(p);
        handles.back().nano = nano && pcap_get_tstamp_precision(p) == PCAP_TSTAMP_PRECISION_NANO;
        if (!opt.analysis.bpf.empty()) {
            bpf_program prog{};
            if (pcap_compile(p, &prog, opt.analysis.bpf.c_str(), 1, PCAP_NETMASK_UNKNOWN) != 0)
                throw_parse_error("filter", 0, 0, "bad BPF filter: " + std::string(pcap_geterr(p)));
            const int set = pcap_setfilter(p, &prog);
            pcap_freecode(&prog);
            if (set != 0)
                throw_io_error(name, "", "cannot set the filter: " + std::string(pcap_geterr(p)));
        }
        if (pcap_setnonblock(p, 1, err) != 0) throw_io_error(name, "", err);
        handles.back().fd = pcap_get_selectable_fd(p);
        struct pcap_stat st {};
        if (pcap_stats(p, &st) == 0) {
            handles.back().last = st;
            handles.back().have_stats = true;
        }
    }

    ~Impl() {
        for (Handle& h : handles)
            if (h.pcap != nullptr) pcap_close(h.pcap);
    }

    // ---- time and windows ---------------------------------------------------------------

    // Moves capture time to t (never back), opening the windows it enters. A packet's time
    // (`trusted` false) further ahead than the tracker's clock_jump_limit is left to the
    // tracker's clock rule: capture time follows it once the tracker's clock does.
    void advance(std::int64_t t, bool trusted) {
        if (!have_now) {
            have_now = true;
            now = t;
            set_current(align_down(t, opt.interval_ns));
            next_check = t;
            return;
        }
        if (t <= now) return;
        const std::int64_t limit = opt.analysis.tracker.clock_jump_limit_ns;
        if (!trusted && limit > 0 && t - now > limit) return;
        now = t;
        const std::int64_t b = align_down(now, opt.interval_ns);
        if (b == current_begin) return;
        // A jump of more than 10000 intervals (a capture that continues days later) opens
        // only the window it lands in.
        std::int64_t from = current_begin + opt.interval_ns;
        if ((b - current_begin) / opt.interval_ns > 10000) from = b;
        close_host_period();
        for (std::int64_t w = from; w < b; w += opt.interval_ns)
            windows[w].begin = w;
        set_current(b);
        next_check = now;  // a window may be due now
    }

    // The window packets are counted in, looked up once per interval, not per packet (the
    // map's nodes stay put until the window is reported).
    Window* cur = nullptr;
    Window* current() { return cur; }
    void set_current(std::int64_t b) {
        current_begin = b;
        Window& w = windows[b];
        w.begin = b;
        cur = &w;
    }

    // The window a session belongs to: that of its SYN (its first packet without one),
    // opened if need be (after a jump of the clock only the window it lands in was opened).
    // One whose window was reported already (a SYN dated before an interval that was
    // reported: a capture whose time steps back) goes to the oldest pending window, whose
    // matcher counts it as before_window: named, not lost.
    Window* window_of(const Session& s) {
        const std::int64_t b = align_down(s.start_time().ns, opt.interval_ns);
        if (!have_emitted || b >= emitted_end) {
            Window& w = windows[b];
            w.begin = b;
            return &w;
        }
        if (windows.empty()) set_current(current_begin);
        return &windows.begin()->second;
    }

    // ---- host drops -----------------------------------------------------------------------

    // pcap_stats deltas since the last boundary, into the current window.
    void close_host_period() {
        Window* w = current();
        for (Handle& h : handles) {
            struct pcap_stat st {};
            if (!h.have_stats || pcap_stats(h.pcap, &st) != 0) continue;
            if (w != nullptr) {
                w->host.known = true;
                // The counters are 32-bit on some platforms and wrap: unsigned differences.
                w->host.received += static_cast<std::uint32_t>(st.ps_recv - h.last.ps_recv);
                w->host.kernel_dropped += static_cast<std::uint32_t>(st.ps_drop - h.last.ps_drop);
                w->host.interface_dropped +=
                    static_cast<std::uint32_t>(st.ps_ifdrop - h.last.ps_ifdrop);
            }
            h.last = st;
        }
        if (w != nullptr && w->host.known) add_host_totals(w->host);
    }

    void add_host_totals(const CaptureDrops& d) {
        std::lock_guard<std::mutex> lock(totals_mutex);
        totals.host.known = true;
        totals.host.received += d.received;
        totals.host.kernel_dropped += d.kernel_dropped;
        totals.host.interface_dropped += d.interface_dropped;
    }

    // The replayed file's drop figures dated up to `t`, each in the interval of its time. Interface
    // statistics are cumulative: each block adds its increase over the one before of its
    // interface. EPB drop counts are used only when the file has no statistics blocks (both
    // describe the same lost packets); they count as interface drops (the block does not
    // tell the kernel's from the interface's).
    void apply_marks(std::int64_t t) {
        while (next_mark < marks.size() && marks[next_mark].ns <= t) {
            const detail::DropMark& m = marks[next_mark++];
            // The interval of the block's time; one reported already: the current one.
            Window* w = current();
            const std::int64_t b = align_down(m.ns, opt.interval_ns);
            if (have_now && (!have_emitted || b >= emitted_end) && b <= current_begin) {
                Window& at = windows[b];
                at.begin = b;
                w = &at;
            }
            if (w == nullptr) continue;
            CaptureDrops d;
            d.known = true;
            if (m.statistics) {
                auto it = last_isb.find(m.interface);
                detail::DropMark before;
                if (it != last_isb.end()) before = it->second;
                auto inc = [](std::uint64_t now_v, std::uint64_t was) {
                    return now_v >= was ? now_v - was : now_v;  // a new section starts again
                };
                d.received = inc(m.received, before.received);
                d.kernel_dropped = inc(m.osdrop, before.osdrop);
                d.interface_dropped = inc(m.ifdrop, before.ifdrop);
                last_isb[m.interface] = m;
            } else if (!file_has_isb) {
                d.interface_dropped = m.epb_drops;
            } else {
                continue;
            }
            w->host.known = true;
            w->host.received += d.received;
            w->host.kernel_dropped += d.kernel_dropped;
            w->host.interface_dropped += d.interface_dropped;
            add_host_totals(d);
        }
    }

    // ---- packets ----------------------------------------------------------------------------

    void count_packet(std::uint32_t len) {
        if (Window* w = current()) {
            ++w->packets;
            w->bytes += len;
        }
        ++packets_total;
        bytes_total += len;
    }

    void publish_packet_totals() {
        const std::uint64_t open_now = analyzer.tracker().open_sessions();
        std::lock_guard<std::mutex> lock(totals_mutex);
        totals.packets = packets_total;
        totals.bytes = bytes_total;
        totals.open_flows = open_now;
    }

    // Reads from the file for at most `budget_ns` of wall time (speed > 0: packets as they
    // fall due, sleeping in between; speed 0: a batch).
    void read_file(std::int64_t budget_ns) {
        const std::int64_t deadline = wall_ns() + budget_ns;
        const bool paced = opt.speed > 0;
        for (int n = 0; !stop_requested.load(std::memory_order_relaxed); ++n) {
            if (!have_pending) {
                if (!file->next(pending)) {
                    source_done = true;
                    return;
                }
                have_pending = true;
            }
            const std::int64_t t = pending.time.ns;
            if (!replay_started) {
                replay_started = true;
                replay_t0 = t;
                replay_wall0 = wall_ns();
            }
            if (paced) {
                const std::int64_t w = wall_ns();
                const double replay_clock = static_cast<double>(replay_t0) +
                                            static_cast<double>(w - replay_wall0) * opt.speed;
                if (static_cast<double>(t) > replay_clock) {
                    // Not due yet: capture time moves with the replay clock meanwhile.
                    if (have_now) advance(static_cast<std::int64_t>(replay_clock), true);
                    const double wait = (static_cast<double>(t) - replay_clock) / opt.speed;
                    const std::int64_t left = deadline - w;
                    if (left <= 0) return;
                    std::this_thread::sleep_for(std::chrono::nanoseconds(
                        std::min<std::int64_t>(static_cast<std::int64_t>(wait) + 1, left)));
                    continue;
                }
            }
            take_packet(pending);
            have_pending = false;
            if (!paced && n >= 4096) return;
            if (paced && wall_ns() >= deadline) return;
        }
    }

    void take_packet(const RawPacket& p) {
        advance(p.time.ns, false);
        if (!marks.empty()) apply_marks(p.time.ns);
        count_packet(p.len);
        analyzer.feed(p);  // one rejected by the filter is counted as analyze() counts it
    }

    static void on_packet(u_char* user, const pcap_pkthdr* hdr, const u_char* bytes) {
        auto* self = reinterpret_cast<std::pair<Impl*, Handle*>*>(user);
        RawPacket p;
        p.data = bytes;
        p.caplen = hdr->caplen;
        p.len = hdr->len;
        p.link_type = self->second->link_type;
        const std::int64_t frac = self->second->nano ? hdr->ts.tv_usec : hdr->ts.tv_usec * 1000;
        const Timestamp t{static_cast<std::int64_t>(hdr->ts.tv_sec) * 1'000'000'000 + frac};
        Impl& im = *self->first;
        im.advance(t.ns, false);
        im.count_packet(p.len);
        im.analyzer.feed_packet(p.data, p.caplen, p.len, p.link_type, t);
    }

    // Waits up to `budget_ns` for packets on the interfaces and takes what arrived.
    void read_interfaces(std::int64_t budget_ns) {
        std::vector<pollfd> fds;
        for (const Handle& h : handles)
            fds.push_back(pollfd{h.fd, POLLIN, 0});
        const int ms = static_cast<int>(std::max<std::int64_t>(budget_ns / 1'000'000, 1));
        const int r = ::poll(fds.data(), fds.size(), ms);
        (void)r;
        for (Handle& h : handles) {
            std::pair<Impl*, Handle*> ctx{this, &h};
            for (int round = 0; round < 64; ++round) {
                const int n =
                    pcap_dispatch(h.pcap, 4096, &Impl::on_packet, reinterpret_cast<u_char*>(&ctx));
                if (n == PCAP_ERROR) throw_io_error(h.name, "", pcap_geterr(h.pcap));
                if (n <= 0) break;
            }
        }
        // Idle interfaces: capture time follows the wall clock.
        advance(wall_ns(), true);
    }

    // ---- judging --------------------------------------------------------------------------

    // Moves the finished sessions into their windows.
    void collect_finished(Tracker& tr) {
        std::vector<Session> s;
        std::vector<LossEvent> e;
        tr.take_finished(s, e);
        std::unordered_map<std::uint64_t, Window*> where;
        where.reserve(s.size());
        for (Session& x : s) {
            if (reported.erase(x.id) > 0) {
                where[x.id] = nullptr;  // judged while open and reported already
                continue;
            }
            Window* w = window_of(x);
            where[x.id] = w;
            w->sessions.push_back(std::move(x));
        }
        for (LossEvent& x : e) {
            auto it = where.find(x.session_id);
            if (it != where.end() && it->second != nullptr) it->second->events.push_back(x);
        }
    }

    // Emits every window that is due, oldest first; with `all`, every window (the final one
    // marked final).
    void check(bool all) {
        Tracker& tr = analyzer.tracker();
        collect_finished(tr);
        while (!windows.empty()) {
            Window& w = windows.begin()->second;
            const std::int64_t end = w.begin + opt.interval_ns;
            if (!all) {
                if (now < end) break;
                const bool capped = now - end >= opt.cap_ns;
                if (!capped) {
                    bool waiting = false;
                    tr.for_each_open([&](const Tracker::OpenView& v) {
                        if (waiting) return;
                        const std::int64_t st = v.session.start_time().ns;
                        if (st < w.begin || st >= end || reported.count(v.session.id) > 0) return;
                        const std::int64_t idle = now - v.last_time.ns;
                        const bool done =
                            idle >= opt.grace_ns ||
                            (v.closed && idle >= opt.analysis.tracker.closed_timeout_ns);
                        if (!done) waiting = true;
                    });
                    if (waiting) break;
                }
            }
            emit(tr, w, all && windows.size() == 1);
            have_emitted = true;
            emitted_end = end;
            if (cur == &w) cur = nullptr;
            windows.erase(windows.begin());
        }
    }

    void emit(Tracker& tr, Window& w, bool is_final) {
        const std::int64_t end = w.begin + opt.interval_ns;
        IntervalReport r;
        r.begin = Timestamp{w.begin};
        r.end = Timestamp{end};
        // The window's open sessions, judged as they stand.
        std::vector<std::uint64_t> judged;
        std::uint64_t still_open = 0;
        tr.for_each_open([&](const Tracker::OpenView& v) {
            const std::int64_t st = v.session.start_time().ns;
            if (st < w.begin || st >= end || reported.count(v.session.id) > 0) return;
            judged.push_back(v.session.id);
            if (now - v.last_time.ns < opt.grace_ns &&
                !(v.closed && now - v.last_time.ns >= opt.analysis.tracker.closed_timeout_ns))
                ++still_open;
        });
        if (!judged.empty()) {
            std::unordered_set<std::uint64_t> pick(judged.begin(), judged.end());
            tr.judge_open([&](const Session& s) { return pick.count(s.id) > 0; }, w.sessions,
                          w.events);
            reported.insert(judged.begin(), judged.end());
        }
        std::sort(w.sessions.begin(), w.sessions.end(),
                  [](const Session& a, const Session& b) { return a.id < b.id; });
        std::stable_sort(w.events.begin(), w.events.end(),
                         [](const LossEvent& a, const LossEvent& b) {
                             return a.session_id != b.session_id ? a.session_id < b.session_id
                                                                 : a.frame < b.frame;
                         });
        MatchOptions mo = opt.analysis.match;
        mo.window.begin = WindowBound{WindowBound::Kind::absolute, w.begin};
        mo.window.end = WindowBound{WindowBound::Kind::absolute, end};
        IngestStats st;
        st.have_time = true;
        st.first_time = r.begin;
        st.last_time = r.end;
        st.packets_read = w.packets;
        Matcher matcher(mo);
        r.report = matcher.match(std::move(w.sessions), std::move(w.events), st);
        r.report.diagnosis_options = opt.analysis.diagnosis;
        r.still_open = still_open;
        r.packets = w.packets;
        r.bytes = w.bytes;
        r.host = w.host;
        r.open_flows = tr.open_sessions();
        r.final = is_final;
        {
            std::lock_guard<std::mutex> lock(totals_mutex);
            const Summary& s = r.report.summary;
            ++totals.intervals;
            totals.sessions += s.total_sessions;
            totals.bad_confirmed += s.bad_confirmed;
            totals.bad_wireshark += s.bad_wireshark;
            totals.good += s.total_sessions - s.bad_confirmed;
            totals.still_open += still_open;
            const MissingBytes missing = missing_bytes(r.report);
            totals.missing_bytes_c2s += missing.c2s;
            totals.missing_bytes_s2c += missing.s2c;
            totals.open_flows = r.open_flows;
        }
        ready.push_back(std::move(r));
    }

    void final_flush() {
        flushed = true;
        if (!handles.empty()) close_host_period();
        // The file's statistics written after its last packet (dumpcap writes them as it
        // closes the file) belong to the last interval.
        if (source_done && have_now && !marks.empty()) apply_marks(INT64_MAX);
        if (!have_now) return;  // nothing was captured: no interval to report
        Tracker& tr = analyzer.tracker();
        // Sessions active within the grace and not closed (RST, or FIN from each side) are cut
        // by the stop: count them as still open.
        std::unordered_set<std::uint64_t> active;
        tr.for_each_open([&](const Tracker::OpenView& v) {
            if (reported.count(v.session.id) == 0 && !v.closed &&
                now - v.last_time.ns < opt.grace_ns)
                active.insert(v.session.id);
        });
        tr.finish();
        collect_finished(tr);
        std::map<std::int64_t, std::uint64_t> open_by_window;
        for (auto& kv : windows)
            for (const Session& x : kv.second.sessions)
                if (active.count(x.id) > 0) ++open_by_window[kv.first];
        const std::size_t first_ready = ready.size();
        check(true);
        for (std::size_t i = first_ready; i < ready.size(); ++i) {
            auto it = open_by_window.find(ready[i].begin.ns);
            if (it != open_by_window.end()) {
                ready[i].still_open += it->second;
                std::lock_guard<std::mutex> lock(totals_mutex);
                totals.still_open += it->second;
            }
        }
    }

    // One step: reads for about poll_ns, then emits what is due. True when a report is ready.
    enum class Step { report, idle, ended };
    Step step(IntervalReport& out, std::int64_t budget_ns) {
        if (ready.empty() && !flushed) {
            if (stop_requested.load() || source_done) {
                final_flush();
            } else {
                if (file) {
                    read_file(budget_ns);
                } else {
                    read_interfaces(budget_ns);
                }
                publish_packet_totals();
                // The tracker's clock followed a jump the packets' times alone did not move.
                if (have_now) advance(analyzer.tracker().clock_ns(), true);
                if (stop_requested.load() || source_done) {
                    final_flush();
                } else if (have_now && now >= next_check) {
                    check(false);
                    // Every second of capture time (the open flows are walked each time).
                    next_check = now + std::min<std::int64_t>(1'000'000'000, opt.interval_ns);
                }
            }
            publish_packet_totals();
        }
        if (!ready.empty()) {
            out = std::move(ready.front());
            ready.pop_front();
            return Step::report;
        }
        if (flushed) {
            ended = true;
            return Step::ended;
        }
        return Step::idle;
    }
};

LiveCapture::LiveCapture(LiveOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {
    impl_->open();
}
LiveCapture::~LiveCapture() = default;

bool LiveCapture::next(IntervalReport& out) {
    for (;;) {
        const Impl::Step s = impl_->step(out, impl_->opt.poll_ns);
        if (s == Impl::Step::report) return true;
        if (s == Impl::Step::ended) return false;
    }
}

LiveCapture::Poll LiveCapture::poll(IntervalReport& out) {
    switch (impl_->step(out, impl_->opt.poll_ns)) {
        case Impl::Step::report:
            return Poll::report;
        case Impl::Step::idle:
            return Poll::idle;
        case Impl::Step::ended:
            break;
    }
    return Poll::ended;
}

void LiveCapture::stop() {
    impl_->stop_requested.store(true);
}

std::vector<std::string> LiveCapture::warnings() const {
    return impl_->warnings;
}

bool LiveCapture::stopped() const {
    return impl_->stop_requested.load();
}

LiveTotals LiveCapture::totals() const {
    std::lock_guard<std::mutex> lock(impl_->totals_mutex);
    return impl_->totals;
}

}  // namespace capgap
