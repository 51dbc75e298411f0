// SPDX-License-Identifier: Apache-2.0
// Microbenchmark of frame validation alone (dataplane/packet.cpp): cycles
// and nanoseconds per frame for a few traffic mixes, median of --runs runs.
// Not a timed test: a figure to watch as the dataplane grows (issue #4's
// bulwark-bench will measure the whole pipeline against testpmd).
//
//   build/release/tools/parse_bench [--runs 5] [--frames 2000000]
#include "dataplane/packet.hpp"
#include "tests/dataplane/frames.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>
#include <x86intrin.h>

using namespace bulwark::dataplane;
using namespace bulwark::dataplane::testing;

namespace {

struct mix {
    const char* name;
    std::vector<bytes> frames;
};

} // namespace

int main(int argc, char** argv)
{
    int runs = 5;
    long frames = 2'000'000;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--runs" && i + 1 < argc)
            runs = std::atoi(argv[++i]);
        else if (a == "--frames" && i + 1 < argc)
            frames = std::atol(argv[++i]);
        else {
            std::fprintf(stderr, "usage: parse_bench [--runs N] [--frames N]\n");
            return 2;
        }
    }
    const bytes udp_query = v4frame({.proto = 17}, udp(5353, 53, 32));
    const mix mixes[] = {
        {"valid TCP SYN/ACK + UDP", {v4frame({}, tcp(40000, 80, 0x02)), v4frame({}, tcp(40000, 80, 0x10)), udp_query}},
        {"bad IPv4 checksum", {v4frame({.bad_checksum = true}, tcp())}},
        {"martian source", {v4frame({.src = {127, 0, 0, 2}}, tcp())}},
        {"bad TCP flags", {v4frame({}, tcp(40000, 80, 0x03))}},
    };
    std::printf("parse_bench: %ld frames per run, median of %d runs\n", frames, runs);
    for (const auto& m : mixes) {
        std::vector<double> cycles, nanos;
        std::size_t passed = 0;
        for (int r = 0; r < runs; ++r) {
            parsed_frame p;
            passed = 0;
            auto t0 = std::chrono::steady_clock::now();
            unsigned long long c0 = __rdtsc();
            for (long i = 0; i < frames; ++i) {
                const bytes& f = m.frames[static_cast<std::size_t>(i) % m.frames.size()];
                passed += parse_frame(std::as_bytes(std::span(f)), p) == drop_reason::none;
            }
            unsigned long long c1 = __rdtsc();
            auto t1 = std::chrono::steady_clock::now();
            cycles.push_back(static_cast<double>(c1 - c0) / static_cast<double>(frames));
            nanos.push_back(std::chrono::duration<double, std::nano>(t1 - t0).count() / static_cast<double>(frames));
        }
        std::sort(cycles.begin(), cycles.end());
        std::sort(nanos.begin(), nanos.end());
        std::printf("  %-26s %7.1f TSC cycles/frame  %6.1f ns/frame  (%zu of %ld passed)\n", m.name,
                    cycles[cycles.size() / 2], nanos[nanos.size() / 2], passed, frames);
    }
    return 0;
}
