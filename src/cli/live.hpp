// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
#pragma once
// `capgap live` (src/cli/live.cpp), called by main() with the arguments after the program
// name ("live" first).

namespace capgap::cli {

int live_main(int argc, char** argv);

}  // namespace capgap::cli
