// A program outside the project that links the installed capgap::capgap.
#include <capgap/capgap.hpp>

#include <iostream>

int main() {
    capgap::Analyzer analyzer;
    capgap::Report report = analyzer.finish();
    std::cout << "capgap " << capgap::version << ": " << report.summary.total_sessions
              << " sessions\n";
    return report.summary.total_sessions == 0 ? 0 : 1;
}
