// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// Value types, enums and options.

#include <cstddef>
#include <cstdint>
#include <string>

#include "bindings.hpp"

using namespace py::literals;

namespace {

// ---- small helpers for Python protocols ----

std::string repr_session(const capgap::Session& s) {
    return "Session(id=" + std::to_string(s.id) + ", client=" + capgap::to_string(s.client) +
           ", server=" + capgap::to_string(s.server) +
           ", category=" + capgap::to_string(s.category) +
           ", syn_frame=" + std::to_string(s.syn_frame) +
           ", syn_time=" + capgap::to_string(s.syn_time) +
           ", packets=" + std::to_string(s.packets) + ")";
}

std::string repr_event(const capgap::LossEvent& e) {
    const std::string sid =
        e.session_id == capgap::no_session ? "None" : std::to_string(e.session_id);
    return "LossEvent(session_id=" + sid + ", direction=" + capgap::to_string(e.direction) +
           ", kind=" + capgap::to_string(e.kind) + ", frame=" + std::to_string(e.frame) +
           ", time=" + capgap::to_string(e.time) + ", seq=[" + std::to_string(e.seq_begin) + ", " +
           std::to_string(e.seq_end) + "), missing_bytes=" + std::to_string(e.missing_bytes) + ")";
}

// A Python enum with a member per row of the table, in table (enum) order.
template <class Enum, std::size_t N>
void bind_enum(py::module_& m, const char* name, const capgap::Named<Enum> (&table)[N]) {
    py::enum_<Enum> e(m, name);
    for (const capgap::Named<Enum>& row : table)
        e.value(row.name, row.value);
}

}  // namespace

namespace capgap_py {

void register_values(py::module_& m) {
    using capgap::Direction;
    using capgap::EventKind;
    using capgap::SessionCategory;

    // ---- time ----
    py::class_<capgap::Timestamp> timestamp_cls =
        py::class_<capgap::Timestamp>(m, "Timestamp", "Nanoseconds since the Unix epoch (UTC).")
            .def(py::init<>())
            .def(py::init([](std::int64_t ns) { return capgap::Timestamp{ns}; }), "ns"_a)
            .def_readwrite("ns", &capgap::Timestamp::ns)
            .def("__int__", [](const capgap::Timestamp& t) { return t.ns; })
            .def("__str__", [](const capgap::Timestamp& t) { return capgap::to_string(t); })
            .def("__repr__",
                 [](const capgap::Timestamp& t) {
                     return "Timestamp(" + std::to_string(t.ns) + ")";
                 })
            .def("__hash__", [](const capgap::Timestamp& t) { return py::hash(py::int_(t.ns)); })
            .def(py::self == py::self)
            .def(py::self != py::self)
            .def(py::self < py::self)
            .def(py::self <= py::self)
            .def(py::self > py::self)
            .def(py::self >= py::self);
    py::implicitly_convertible<py::int_, capgap::Timestamp>();

    m.def("parse_seconds_ns", &capgap::parse_seconds_ns, "text"_a, "what"_a = "time",
          "Decimal seconds to exact nanoseconds. Raises ParseError.");
    m.def("parse_iso8601", &capgap::parse_iso8601, "text"_a, "what"_a = "time",
          "An ISO-8601 date-time to an exact Timestamp. Raises ParseError.");

    py::class_<capgap::WindowBound> bound(m, "WindowBound", "One bound of a monitoring window.");
    py::enum_<capgap::WindowBound::Kind>(bound, "Kind")
        .value("relative", capgap::WindowBound::Kind::relative)
        .value("absolute", capgap::WindowBound::Kind::absolute);
    bound.def(py::init<>())
        .def_readwrite("kind", &capgap::WindowBound::kind)
        .def_readwrite("ns", &capgap::WindowBound::ns)
        .def("resolve", &capgap::WindowBound::resolve, "first_packet"_a);

    py::class_<capgap::TimeWindow> timewindow_cls =
        py::class_<capgap::TimeWindow>(m, "TimeWindow", "The half-open window [begin, end).")
            .def(py::init<>())
            .def_static("parse", &capgap::TimeWindow::parse, "text"_a,
                        "Parses 'START,END' (relative seconds, epoch seconds or ISO-8601; either "
                        "side may be empty). Raises ParseError.")
            .def_readwrite("begin", &capgap::TimeWindow::begin)
            .def_readwrite("end", &capgap::TimeWindow::end)
            .def("contains", &capgap::TimeWindow::contains, "t"_a, "first_packet"_a);

    // ---- addresses and keys ----
    py::class_<capgap::IpAddress> ipaddress_cls =
        py::class_<capgap::IpAddress>(m, "IpAddress", "An IPv4 or IPv6 address.")
            .def(py::init<>())
            .def(py::init([](const std::string& text) { return capgap::IpAddress::parse(text); }),
                 "text"_a)
            .def_static(
                "parse", [](const std::string& text) { return capgap::IpAddress::parse(text); },
                "text"_a)
            .def_readonly("v6", &capgap::IpAddress::v6)
            .def_property_readonly(
                "packed",
                [](const capgap::IpAddress& a) {
                    return py::bytes(reinterpret_cast<const char*>(a.bytes.data()), a.v6 ? 16 : 4);
                })
            .def("__str__", [](const capgap::IpAddress& a) { return capgap::to_string(a); })
            .def("__repr__",
                 [](const capgap::IpAddress& a) {
                     return "IpAddress('" + capgap::to_string(a) + "')";
                 })
            .def("__hash__", [](const capgap::IpAddress& a) { return capgap::hash_value(a); })
            .def(py::self == py::self)
            .def(py::self != py::self)
            .def(py::self < py::self);
    py::implicitly_convertible<py::str, capgap::IpAddress>();

    py::class_<capgap::Endpoint> endpoint_cls =
        py::class_<capgap::Endpoint>(m, "Endpoint", "An address and a TCP port.")
            .def(py::init<>())
            .def(py::init([](const capgap::IpAddress& addr, std::uint16_t port) {
                     return capgap::Endpoint{addr, port};
                 }),
                 "addr"_a, "port"_a)
            .def_readwrite("addr", &capgap::Endpoint::addr)
            .def_readwrite("port", &capgap::Endpoint::port)
            .def("__str__", [](const capgap::Endpoint& e) { return capgap::to_string(e); })
            .def("__repr__",
                 [](const capgap::Endpoint& e) {
                     return "Endpoint('" + capgap::to_string(e.addr) + "', " +
                            std::to_string(e.port) + ")";
                 })
            .def("__hash__", [](const capgap::Endpoint& e) { return capgap::hash_value(e); })
            .def(py::self == py::self)
            .def(py::self != py::self)
            .def(py::self < py::self);

    py::class_<capgap::FlowKey> flowkey_cls =
        py::class_<capgap::FlowKey>(m, "FlowKey",
                                    "The unordered endpoint pair: both directions give one key.")
            .def(py::init<>())
            .def(py::init<const capgap::Endpoint&, const capgap::Endpoint&>(), "a"_a, "b"_a)
            .def_readonly("lo", &capgap::FlowKey::lo)
            .def_readonly("hi", &capgap::FlowKey::hi)
            .def("__repr__",
                 [](const capgap::FlowKey& k) {
                     return "FlowKey(" + capgap::to_string(k.lo) + ", " + capgap::to_string(k.hi) +
                            ")";
                 })
            .def("__hash__", [](const capgap::FlowKey& k) { return capgap::hash_value(k); })
            .def(py::self == py::self)
            .def(py::self != py::self)
            .def(py::self < py::self);

    // ---- enums ----
    bind_enum(m, "Direction", capgap::directions);
    bind_enum(m, "SessionCategory", capgap::session_categories);
    bind_enum(m, "EventKind", capgap::event_kinds);
    bind_enum(m, "Mode", capgap::modes);
    m.def("is_loss", &capgap::is_loss, "kind"_a);
    m.def("is_counted", &capgap::is_counted, "category"_a);

    // ---- value types ----
    py::class_<capgap::Session> session_cls =
        py::class_<capgap::Session>(m, "Session", "One TCP session instance.")
            .def(py::init<>())
            .def_readwrite("id", &capgap::Session::id)
            .def_readwrite("client", &capgap::Session::client)
            .def_readwrite("server", &capgap::Session::server)
            .def_readwrite("category", &capgap::Session::category)
            .def_readwrite("syn_frame", &capgap::Session::syn_frame)
            .def_readwrite("syn_time", &capgap::Session::syn_time)
            .def_readwrite("first_frame", &capgap::Session::first_frame)
            .def_readwrite("first_time", &capgap::Session::first_time)
            .def_readwrite("last_time", &capgap::Session::last_time)
            .def_readwrite("packets", &capgap::Session::packets)
            .def_readwrite("packets_c2s", &capgap::Session::packets_c2s)
            .def_readwrite("bytes_c2s", &capgap::Session::bytes_c2s)
            .def_readwrite("bytes_s2c", &capgap::Session::bytes_s2c)
            .def_readwrite("truncated_bytes", &capgap::Session::truncated_bytes)
            .def_readwrite("syn_count", &capgap::Session::syn_count)
            .def_readwrite("evicted", &capgap::Session::evicted)
            .def_readwrite("tunnel", &capgap::Session::tunnel)
            .def_readwrite("vlan", &capgap::Session::vlan)
            .def_readwrite("interface", &capgap::Session::interface)
            .def_readwrite("retransmissions", &capgap::Session::retransmissions)
            .def_readwrite("duplicates", &capgap::Session::duplicates)
            .def("start_time", &capgap::Session::start_time)
            .def("__repr__", &repr_session)
            .def(py::self == py::self)
            .def(py::self != py::self);

    py::class_<capgap::LossEvent> lossevent_cls =
        py::class_<capgap::LossEvent>(m, "LossEvent", "One loss event (or Wireshark flag).")
            .def(py::init<>())
            .def_readwrite("session_id", &capgap::LossEvent::session_id)
            .def_readwrite("direction", &capgap::LossEvent::direction)
            .def_readwrite("kind", &capgap::LossEvent::kind)
            .def_readwrite("late_filled", &capgap::LossEvent::late_filled)
            .def_readwrite("frame", &capgap::LossEvent::frame)
            .def_readwrite("time", &capgap::LossEvent::time)
            .def_readwrite("seq_begin", &capgap::LossEvent::seq_begin)
            .def_readwrite("seq_end", &capgap::LossEvent::seq_end)
            .def_readwrite("missing_bytes", &capgap::LossEvent::missing_bytes)
            .def_readwrite("src", &capgap::LossEvent::src)
            .def_readwrite("dst", &capgap::LossEvent::dst)
            .def("__repr__", &repr_event)
            .def(py::self == py::self)
            .def(py::self != py::self);

    py::class_<capgap::Segment> segment_cls =
        py::class_<capgap::Segment>(m, "Segment", "One decoded TCP segment.")
            .def(py::init<>())
            .def_readwrite("frame", &capgap::Segment::frame)
            .def_readwrite("time", &capgap::Segment::time)
            .def_readwrite("src", &capgap::Segment::src)
            .def_readwrite("dst", &capgap::Segment::dst)
            .def_readwrite("seq", &capgap::Segment::seq)
            .def_readwrite("ack", &capgap::Segment::ack)
            .def_readwrite("window", &capgap::Segment::window)
            .def_readwrite("flags", &capgap::Segment::flags)
            .def_readwrite("payload_len", &capgap::Segment::payload_len)
            .def_readwrite("truncated_bytes", &capgap::Segment::truncated_bytes)
            .def_readwrite("checksum", &capgap::Segment::checksum)
            .def_readwrite("tunnel", &capgap::Segment::tunnel)
            .def_readwrite("vlan", &capgap::Segment::vlan)
            .def_readwrite("interface", &capgap::Segment::interface);
    py::module_ flags = m.def_submodule("tcp_flags", "TCP flag bits.");
    flags.attr("FIN") = capgap::tcp_flags::fin;
    flags.attr("SYN") = capgap::tcp_flags::syn;
    flags.attr("RST") = capgap::tcp_flags::rst;
    flags.attr("PSH") = capgap::tcp_flags::psh;
    flags.attr("ACK") = capgap::tcp_flags::ack;
    flags.attr("URG") = capgap::tcp_flags::urg;

    // ---- options ----
    py::class_<capgap::TrackerOptions> trackeroptions_cls =
        py::class_<capgap::TrackerOptions>(m, "TrackerOptions")
            .def(py::init<>())
            .def_readwrite("reorder_window_ns", &capgap::TrackerOptions::reorder_window_ns)
            .def_readwrite("max_holes_per_direction",
                           &capgap::TrackerOptions::max_holes_per_direction)
            .def_readwrite("closed_timeout_ns", &capgap::TrackerOptions::closed_timeout_ns)
            .def_readwrite("idle_timeout_ns", &capgap::TrackerOptions::idle_timeout_ns)
            .def_readwrite("clock_jump_limit_ns", &capgap::TrackerOptions::clock_jump_limit_ns)
            .def_readwrite("clock_confirm_packets", &capgap::TrackerOptions::clock_confirm_packets)
            .def_readwrite("max_open_flows", &capgap::TrackerOptions::max_open_flows)
            .def_readwrite("duplicate_window_ns", &capgap::TrackerOptions::duplicate_window_ns)
            .def_readwrite("drop_duplicates", &capgap::TrackerOptions::drop_duplicates)
            .def_readwrite("header_prediction", &capgap::TrackerOptions::header_prediction);

    py::class_<capgap::ServerFilter> serverfilter_cls =
        py::class_<capgap::ServerFilter>(m, "ServerFilter", "A server address range and port.")
            .def(py::init<>())
            .def_static("parse", &capgap::ServerFilter::parse, "text"_a,
                        "Parses 'CIDR[:PORT]' (IPv6 with a port as '[CIDR]:PORT'). Raises "
                        "ParseError.")
            .def_readwrite("network", &capgap::ServerFilter::network)
            .def_readwrite("prefix", &capgap::ServerFilter::prefix)
            .def_readwrite("port", &capgap::ServerFilter::port)
            .def("matches", &capgap::ServerFilter::matches, "endpoint"_a);

    py::class_<capgap::MatchOptions> matchoptions_cls =
        py::class_<capgap::MatchOptions>(m, "MatchOptions",
                                         "Matcher settings. List fields are copied on access: "
                                         "assign a whole list to change them.")
            .def(py::init<>())
            .def_readwrite("window", &capgap::MatchOptions::window)
            .def_readwrite("servers", &capgap::MatchOptions::servers)
            .def_readwrite("ports", &capgap::MatchOptions::ports)
            .def_readwrite("events_in_window_only", &capgap::MatchOptions::events_in_window_only)
            .def_readwrite("mode", &capgap::MatchOptions::mode)
            .def_readwrite("include_excluded", &capgap::MatchOptions::include_excluded,
                           "Also rows for partial / synack_only instances and unmatched events "
                           "(Python's include='all'); the headline does not change.");

    py::class_<capgap::Options> options_cls =
        py::class_<capgap::Options>(m, "Options", "Everything analyze() takes.")
            .def(py::init<>())
            .def_readwrite("tracker", &capgap::Options::tracker)
            .def_readwrite("match", &capgap::Options::match)
            .def_readwrite("bpf", &capgap::Options::bpf)
            .def_readwrite("tunnel_key", &capgap::Options::tunnel_key)
            .def_readwrite("threads", &capgap::Options::threads,
                           "Tracker threads; 0: the machine's cores (at most 8), 1 for small "
                           "inputs. Results are the same for every count.");

    // ---- pickling (bindings.hpp) ----
    def_pod_pickle(bound, "WindowBound");
    def_pod_pickle(timestamp_cls, "Timestamp");
    def_pod_pickle(timewindow_cls, "TimeWindow");
    def_pod_pickle(ipaddress_cls, "IpAddress");
    def_pod_pickle(endpoint_cls, "Endpoint");
    def_pod_pickle(flowkey_cls, "FlowKey");
    def_pod_pickle(session_cls, "Session");
    def_pod_pickle(lossevent_cls, "LossEvent");
    def_pod_pickle(segment_cls, "Segment");
    def_pod_pickle(trackeroptions_cls, "TrackerOptions");
    def_pod_pickle(serverfilter_cls, "ServerFilter");
    matchoptions_cls.def(py::pickle(
        [](const capgap::MatchOptions& o) {
            return py::make_tuple(pickle_header("MatchOptions"), pod_bytes(std::vector{o.window}),
                                  pod_bytes(o.servers), o.ports, o.events_in_window_only,
                                  static_cast<int>(o.mode), o.include_excluded);
        },
        [](const py::tuple& state) {
            check_pickle_state(state, "MatchOptions", 7);
            capgap::MatchOptions o;
            const auto window = pod_vector<capgap::TimeWindow>(state[1], "MatchOptions");
            if (window.size() != 1) throw py::value_error("cannot unpickle capgap.MatchOptions");
            o.window = window[0];
            o.servers = pod_vector<capgap::ServerFilter>(state[2], "MatchOptions");
            o.ports = state[3].cast<std::vector<std::uint16_t>>();
            o.events_in_window_only = state[4].cast<bool>();
            o.mode = static_cast<capgap::Mode>(state[5].cast<int>());
            o.include_excluded = state[6].cast<bool>();
            return o;
        }));
    options_cls.def(py::pickle(
        [](const capgap::Options& o) {
            return py::make_tuple(pickle_header("Options"), py::cast(o.tracker), py::cast(o.match),
                                  o.bpf, o.tunnel_key, o.threads);
        },
        [](const py::tuple& state) {
            check_pickle_state(state, "Options", 6);
            capgap::Options o;
            o.tracker = state[1].cast<capgap::TrackerOptions>();
            o.match = state[2].cast<capgap::MatchOptions>();
            o.bpf = state[3].cast<std::string>();
            o.tunnel_key = state[4].cast<bool>();
            o.threads = state[5].cast<unsigned>();
            return o;
        }));
}

}  // namespace capgap_py
