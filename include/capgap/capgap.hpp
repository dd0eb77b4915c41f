// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
#pragma once
/// @file
/// The umbrella header: everything a user of the library needs.

#include <capgap/analyze.hpp>
#include <capgap/analyze_csv.hpp>
#include <capgap/errors.hpp>
#include <capgap/extract.hpp>
#include <capgap/flow_key.hpp>
#include <capgap/flow_state.hpp>
#include <capgap/html.hpp>
#include <capgap/ingest_stats.hpp>
#include <capgap/live.hpp>
#include <capgap/loss_event.hpp>
#include <capgap/matcher.hpp>
#include <capgap/pcap_source.hpp>
#include <capgap/report.hpp>
#include <capgap/report_bytes.hpp>
#include <capgap/segment.hpp>
#include <capgap/session.hpp>
#include <capgap/time.hpp>
#include <capgap/tracker.hpp>
#include <capgap/version.hpp>
#include <capgap/vocabulary.hpp>
#include <capgap/wireshark_csv.hpp>
