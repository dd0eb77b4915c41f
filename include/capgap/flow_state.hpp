// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// @file
/// Flow state carried from one piece of a capture to the next (rotated files analysed one
/// after the other, in separate tasks), so that the chain of pieces reports exactly what one
/// analysis of the whole capture reports. The format is docs/state-format.md.
///
/// @code
/// capgap::PieceResult p1 = capgap::analyze_piece({"cap_00.pcap"}, opt, nullptr);
/// p1.state.write_file("open.state");                       // the open flows, the clock ...
/// capgap::FlowState s = capgap::FlowState::read_file("open.state");
/// capgap::PieceResult p2 =
///     capgap::analyze_piece({"cap_01.pcap"}, opt, &s, capgap::PieceEnd::finish);
/// capgap::Report whole = capgap::merge_reports({p1.report, p2.report});  // ids kept
/// @endcode
///
/// Python: `report, state = capgap.analyze_piece(path, resume=None)` returns the report of the
/// sessions that ended in the piece and a picklable `capgap.FlowState` (`bytes(state)`,
/// `FlowState.from_bytes(data, name=...)`, `state.save(path)`, `FlowState.load(path)`);
/// `capgap.analyze(path, resume=state)` finishes the chain with its last piece, and
/// `capgap.merge([...])` / `report_a + report_b` join the pieces' reports (associative).

#include <cstdint>
#include <string>
#include <vector>

#include <capgap/analyze.hpp>
#include <capgap/report.hpp>

namespace capgap {

/// The state of an analysis between two pieces of one capture: the open session instances
/// (every field of both directions, holes and runs, held-back ACKs, duplicate signatures,
/// Wireshark state, flags raised so far), the tracker's clock and sweep schedule and counters,
/// the next session id, the frame counter, IP fragments waiting for the rest of their
/// datagram, the tunnel paths seen, the timeline's open peak windows, the options the state
/// depends on, and the chain: its identity, the next piece's index, every piece's source name.
///
/// A FlowState holds its serialized form (docs/state-format.md): loading checks it whole
/// (magic, version, length, CRC-32) and throws format_error naming the state and the byte
/// offset of what is wrong; it is parsed again, with every read bounded, when resumed.
class FlowState {
  public:
    /// No state: a chain's first piece.
    FlowState() = default;

    /// The serialized state checked: magic, format version, length and CRC-32.
    /// @param name what errors call it (a file's path)
    /// @throws format_error "name:offset N: reason" when it is not a valid state
    static FlowState load(std::string bytes, std::string name = "flow state");
    /// Reads and loads a state file. @throws io_error, format_error
    static FlowState read_file(const std::string& path);
    /// Writes the serialized state (to a temporary beside `path`, renamed when complete).
    /// @throws io_error
    void write_file(const std::string& path) const;

    /// The serialized state (docs/state-format.md); empty for no state.
    const std::string& bytes() const { return bytes_; }
    /// What errors call it.
    const std::string& name() const { return name_; }
    /// True for no state (default-constructed).
    bool empty() const { return bytes_.empty(); }

    /// The chain's identity: the same for every piece of one chain, chosen at its first piece.
    std::uint64_t chain() const { return chain_; }
    /// The index of the piece that resumes it (the first piece is 0).
    std::uint32_t next_piece() const { return next_piece_; }
    /// Session instances still open.
    std::uint64_t open_sessions() const { return open_sessions_; }
    /// Frames read so far (the next piece's first frame is frames() + 1).
    std::uint64_t frames() const { return frames_; }
    /// Session ids given so far (the next instance's id).
    std::uint64_t next_session_id() const { return next_session_id_; }
    /// The tracker's clock: the latest capture time it accepted, in ns since the epoch.
    std::int64_t clock_ns() const { return clock_ns_; }
    /// False before any segment reached the tracker (the clock is not started).
    bool clock_started() const { return clock_started_; }

    /// The version of the format written (docs/state-format.md).
    static constexpr std::uint32_t format_version = 1;

  private:
    friend class Analyzer;
    std::string bytes_;
    std::string name_;
    std::uint64_t chain_ = 0;
    std::uint32_t next_piece_ = 0;
    std::uint64_t open_sessions_ = 0;
    std::uint64_t frames_ = 0;
    std::uint64_t next_session_id_ = 0;
    std::int64_t clock_ns_ = 0;
    bool clock_started_ = false;
};

/// What a piece ends with.
enum class PieceEnd : std::uint8_t {
    suspend,  ///< the open flows go into the state, for the next piece
    finish    ///< the chain's last piece: every open flow is finished (as Analyzer::finish)
};

/// A piece's report and, after PieceEnd::suspend, the state for the next piece.
struct PieceResult {
    /// The sessions that ended in this piece (expired, closed, evicted; with finish, all the
    /// rest too), their events, this piece's counters and timeline; Report::chain_parts names
    /// the chain and the piece, and Report::sources every piece's inputs so far.
    Report report;
    /// The state for the next piece; empty after PieceEnd::finish.
    FlowState state;
};

/// Analyses one piece of a chain: the captures, resumed from `resume` (nullptr or an empty
/// state: the first piece), then suspended or finished. Runs on one thread (Options::threads
/// is not used): the open flows are saved from and resumed into a single tracker.
/// @throws what analyze() throws; format_error for a state that does not load; parse_error
/// naming the option when the state was made with different options (tracker settings,
/// tunnel_key, timeline)
PieceResult analyze_piece(const std::vector<CaptureInput>& inputs, const Options& options,
                          const FlowState* resume, PieceEnd end = PieceEnd::suspend);

}  // namespace capgap
