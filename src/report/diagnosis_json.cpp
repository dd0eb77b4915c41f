// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// The diagnosis as the JSON report's `diagnosis` member (field names: docs/diagnosis.md).

#include <capgap/diagnosis.hpp>

#include "report/json.hpp"

namespace capgap::detail {

Json diagnosis_json(const Diagnosis& d) {
    Json doc = Json::object();
    Json findings = Json::array();
    for (const Finding& f : d.findings) {
        Json j = Json::object();
        j["name"] = to_string(f.name);
        j["severity"] = to_string(f.severity);
        j["title"] = f.title;
        Json figures = Json::object();
        for (const auto& kv : f.figures)
            figures[kv.first] = json_number(kv.second);
        j["figures"] = std::move(figures);
        Json rows = Json::array();
        for (const FindingRow& r : f.rows)
            rows.push_back(Json{{"table", r.table}, {"group", r.group}});
        j["rows"] = std::move(rows);
        j["check"] = f.check;
        findings.push_back(std::move(j));
    }
    doc["findings"] = std::move(findings);

    Json rec = Json::object();
    rec["sessions"] = d.reconstructable.sessions;
    rec["total"] = d.reconstructable.total;
    rec["percentage"] = json_number(d.reconstructable.percentage);
    doc["reconstructable"] = std::move(rec);

    Json tables = Json::object();
    for (const auto& t : d.breakdowns) {
        Json rows = Json::array();
        for (const BreakdownRow& r : t.second) {
            Json j = Json::object();
            j["group"] = r.group;
            j["sessions"] = r.sessions;
            j["bad"] = r.bad;
            j["percentage"] = json_number(r.percentage);
            j["ci95_low"] = json_number(r.ci95_low);
            j["ci95_high"] = json_number(r.ci95_high);
            j["missing_bytes"] = r.missing_bytes;
            j["events"] = r.events;
            j["significant"] = r.significant;
            j["z"] = json_number(r.z);
            j["retransmissions"] = r.retransmissions;
            j["duplicates"] = r.duplicates;
            rows.push_back(std::move(j));
        }
        tables[t.first] = std::move(rows);
    }
    doc["breakdowns"] = std::move(tables);

    Json timeline = Json::object();
    timeline["bucket_ns"] = d.bucket_ns;
    Json rows = Json::array();
    for (const TimelineRow& r : d.timeline) {
        Json j = Json::object();
        j["start"] = iso8601(r.start);
        j["packets"] = r.packets;
        j["bytes"] = r.bytes;
        j["packets_per_s"] = json_number(r.packets_per_s);
        j["bits_per_s"] = json_number(r.bits_per_s);
        j["new_sessions"] = r.new_sessions;
        j["bad_sessions"] = r.bad_sessions;
        j["loss_events"] = r.loss_events;
        j["missing_bytes"] = r.missing_bytes;
        j["retransmissions"] = r.retransmissions;
        j["duplicates"] = r.duplicates;
        j["acks"] = r.acks;
        j["acks_above_hole"] = r.acks_above_hole;
        j["gap_ack_ratio"] = json_number(r.gap_ack_ratio);
        j["data_segments"] = r.data_segments;
        rows.push_back(std::move(j));
    }
    timeline["rows"] = std::move(rows);
    doc["timeline"] = std::move(timeline);

    const Load& l = d.load;
    Json load = Json::object();
    load["knee_bits_per_s"] = l.knee_bits_per_s ? json_number(*l.knee_bits_per_s) : Json(nullptr);
    load["knee_confidence"] = l.knee_confidence;
    load["loss_below"] = json_number(l.loss_below);
    load["loss_above"] = json_number(l.loss_above);
    load["knee_z"] = json_number(l.knee_z);
    load["buckets_below"] = l.buckets_below;
    load["buckets_above"] = l.buckets_above;
    load["peak_bits_per_s_1ms"] = json_number(l.peak_bits_per_s_1ms);
    load["peak_bits_per_s_10ms"] = json_number(l.peak_bits_per_s_10ms);
    Json points = Json::array();
    for (const LoadPoint& p : l.points)
        points.push_back(Json{{"bits_per_s", json_number(p.bits_per_s)},
                              {"loss_rate", json_number(p.loss_rate)}});
    load["points"] = std::move(points);
    doc["load"] = std::move(load);
    return doc;
}

}  // namespace capgap::detail
