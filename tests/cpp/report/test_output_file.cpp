// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// Output files: whole or not at all (src/report/output_file.hpp).

#include <doctest/doctest.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <unistd.h>

#include "report/output_file.hpp"

namespace fs = std::filesystem;
using capgap::detail::output_error;
using capgap::detail::write_output_file;

namespace {

struct TempDir {
    fs::path path;
    TempDir() {
        path = fs::temp_directory_path() / ("capgap-output-" + std::to_string(::getpid()));
        fs::remove_all(path);
        fs::create_directories(path);
    }
    ~TempDir() { fs::remove_all(path); }
};

std::string read(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

std::vector<std::string> names(const fs::path& dir) {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(dir))
        out.push_back(e.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
}

}  // namespace

TEST_CASE("output file: written whole, renamed into place, no temporary left") {
    TempDir d;
    const fs::path target = d.path / "rows.csv";
    { std::ofstream(target) << "old\n"; }
    std::string big(300000, 'x');  // several buffers' worth
    write_output_file(target.string(), [&](std::ostream& o) { o << "new\n" << big; });
    CHECK(read(target) == "new\n" + big);
    CHECK(names(d.path) == std::vector<std::string>{"rows.csv"});
}

TEST_CASE("output file: a writer that fails half-way leaves the old file and no temporary") {
    TempDir d;
    const fs::path target = d.path / "rows.csv";
    { std::ofstream(target) << "old\n"; }
    CHECK_THROWS_AS(write_output_file(target.string(),
                                      [](std::ostream& o) {
                                          o << "half";
                                          throw std::runtime_error("stopped");
                                      }),
                    std::runtime_error);
    CHECK(read(target) == "old\n");
    CHECK(names(d.path) == std::vector<std::string>{"rows.csv"});
}

TEST_CASE("output file: a device is written in place and its errors name the path") {
    write_output_file("/dev/null", [](std::ostream& o) { o << "discarded"; });
    CHECK(fs::is_character_file("/dev/null"));
    try {
        write_output_file("/dev/full", [](std::ostream& o) { o << "lost"; });
        FAIL("no error");
    } catch (const output_error& e) {
        CHECK(e.name() == "/dev/full");
        CHECK(e.error_number() == ENOSPC);
        CHECK(std::string(e.what()) == "/dev/full: write failed: No space left on device");
    }
    CHECK(fs::is_character_file("/dev/full"));
}

TEST_CASE("output file: a missing directory is an error naming the path") {
    TempDir d;
    const std::string target = (d.path / "no" / "rows.csv").string();
    try {
        write_output_file(target, [](std::ostream& o) { o << "x"; });
        FAIL("no error");
    } catch (const output_error& e) {
        CHECK(e.error_number() == ENOENT);
        CHECK(std::string(e.what()) ==
              target + ": cannot open for writing: No such file or directory");
    }
    CHECK(names(d.path).empty());
}
