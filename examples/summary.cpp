// Prints the classic three lines for the captures given on the command line.
#include <capgap/capgap.hpp>

#include <iostream>

int main(int argc, char** argv) {
    if (argc < 2) {
        std::cerr << "usage: " << argv[0] << " CAPTURE...\n";
        return 1;
    }
    try {
        capgap::Report r = capgap::analyze({argv + 1, argv + argc});
        std::cout << "Total Sessions: " << r.summary.total_sessions << "\n"
                  << "Bad Sessions: " << r.summary.bad_sessions << "\n";
    } catch (const capgap::error& e) {
        std::cerr << e.what() << "\n";
        return 2;
    }
    return 0;
}
