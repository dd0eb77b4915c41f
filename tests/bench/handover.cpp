// Copyright (c) 2026, the capgap developers. SPDX-License-Identifier: BSD-3-Clause
// handover: how long one cache line takes to go from one core to another, now. Two threads,
// pinned to the first two CPUs the process may use, pass a counter back and forth; the time
// of one pass is printed as JSON. --threads N hands every batch of packets between cores in
// this way, so its speed follows this figure. On a virtual machine the figure is not fixed:
// it changes as the host places the virtual CPUs (near: one shared cache; far: across dies).

#include <sched.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

namespace {

alignas(64) std::atomic<long> counter{0};

bool pin(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return sched_setaffinity(0, sizeof set, &set) == 0;
}

// Waits for the counter to reach each value of its parity from `first` on, and moves it on.
void bounce(long first, long passes) {
    for (long i = first; i < passes; i += 2) {
        while (counter.load(std::memory_order_acquire) != i) {
        }
        counter.store(i + 1, std::memory_order_release);
    }
}

}  // namespace

int main(int argc, char** argv) {
    const long passes = argc > 1 ? std::atol(argv[1]) : 1000000;
    if (passes <= 0) {
        std::fprintf(stderr, "usage: handover [PASSES]\n");
        return 1;
    }
    cpu_set_t allowed;
    CPU_ZERO(&allowed);
    if (sched_getaffinity(0, sizeof allowed, &allowed) != 0) {
        std::perror("handover: sched_getaffinity");
        return 2;
    }
    std::vector<int> cpus;
    for (int c = 0; c < CPU_SETSIZE && cpus.size() < 2; ++c)
        if (CPU_ISSET(c, &allowed)) cpus.push_back(c);
    if (cpus.size() < 2) {
        std::printf("{\"handover_ns\": null, \"why\": \"one CPU\"}\n");
        return 0;
    }
    std::thread other([&] {
        pin(cpus[1]);
        bounce(1, passes);
    });
    pin(cpus[0]);
    const auto start = std::chrono::steady_clock::now();
    bounce(0, passes);
    other.join();
    const double ns =
        std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count();
    std::printf("{\"handover_ns\": %.1f, \"cpus\": [%d, %d]}\n", ns / static_cast<double>(passes),
                cpus[0], cpus[1]);
    return 0;
}
