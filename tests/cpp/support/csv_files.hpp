// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
#pragma once
// Test helpers for the CSV path: the committed lists under tests/data/csv and small lists
// written at test time in the Wireshark GUI's export format.

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

namespace capgap::test {

// A file of tests/data/csv (described one per line in its README.md).
inline std::string csv_data(const std::string& name) {
    return std::string(CAPGAP_TEST_DATA) + "/csv/" + name;
}

// A temporary file that is removed again.
struct TempFile {
    std::string path;
    // The process id keeps test processes that ctest runs in parallel apart.
    explicit TempFile(const std::string& name, const std::string& content) {
        static int counter = 0;
        path = (std::filesystem::temp_directory_path() /
                ("capgap_csv_test_" + std::to_string(::getpid()) + "_" + std::to_string(++counter) +
                 "_" + name))
                   .string();
        std::ofstream(path, std::ios::binary) << content;
    }
    ~TempFile() { std::remove(path.c_str()); }
    TempFile(const TempFile&) = delete;
    TempFile& operator=(const TempFile&) = delete;
};

// The header line of a GUI export ("Export Packet Dissections > As CSV").
inline const char* gui_header =
    "\"No.\",\"Time\",\"Source\",\"Destination\",\"Protocol\",\"Length\",\"Info\"\n";

// One row of a GUI export.
inline std::string gui_row(int frame, const char* time, const char* src, const char* dst,
                           const char* info) {
    return "\"" + std::to_string(frame) + "\",\"" + time + "\",\"" + src + "\",\"" + dst +
           "\",\"TCP\",\"62\",\"" + info + "\"\n";
}

}  // namespace capgap::test
