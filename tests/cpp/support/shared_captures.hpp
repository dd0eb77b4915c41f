// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
#pragma once
// Test helper: where the shared public captures are, and how a test that needs them reports
// that they are absent.
//
// ../shared/captures lies beside the checkout in the project's development and CI setup, never
// in a user's clone or the sdist. A test that needs it asks shared_captures(); when the
// directory is absent the test prints skip_marker and returns, and tests/CMakeLists.txt gives
// every discovered test that marker as SKIP_REGULAR_EXPRESSION, so ctest counts the test as
// skipped, not passed.

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>

namespace capgap::test {

// The line ctest looks for; keep it equal to the expression in tests/CMakeLists.txt.
inline constexpr const char* skip_marker = "CAPGAP_TEST_SKIPPED";

// The shared captures directory: $CAPGAP_SHARED_CAPTURES when set and not empty, else the
// path configured at build time (the cache variable CAPGAP_SHARED_CAPTURES_DIR).
inline std::string shared_captures_root() {
    const char* env = std::getenv("CAPGAP_SHARED_CAPTURES");
    return env != nullptr && *env != '\0' ? std::string(env) : std::string(CAPGAP_SHARED_CAPTURES);
}

// The directory `sub` of the shared captures ("" for the top) when its MANIFEST.tsv exists;
// otherwise prints the skip marker with the path it looked at and returns nothing.
inline std::optional<std::string> shared_captures(const std::string& sub = "") {
    std::string dir = shared_captures_root();
    if (!sub.empty()) dir += "/" + sub;
    if (std::filesystem::exists(dir + "/MANIFEST.tsv")) return dir;
    std::cout << skip_marker << ": " << dir << "/MANIFEST.tsv not found\n";
    return std::nullopt;
}

}  // namespace capgap::test
