// SPDX-License-Identifier: Apache-2.0
// Microbenchmark of frame validation alone (dataplane/packet.cpp): cycles
// and nanoseconds per frame for a few traffic mixes, median of --runs runs.
// Not a timed test: a figure to watch as the dataplane grows (issue #4's
// bulwark-bench will measure the whole pipeline against testpmd).
//
//   build/release/tools/parse_bench [--runs 5] [--frames 2000000]
#include "dataplane/packet.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>
#include <x86intrin.h>

using namespace bulwark::dataplane;

namespace {

using bytes = std::vector<std::uint8_t>;

void put16(bytes& b, std::size_t at, std::uint16_t v)
{
    b[at] = static_cast<std::uint8_t>(v >> 8);
    b[at + 1] = static_cast<std::uint8_t>(v);
}

// Ethernet + IPv4 (valid checksum) + L4 bytes.
bytes v4(std::uint8_t proto, const bytes& l4, std::uint8_t src0 = 192)
{
    bytes f(14 + 20, 0);
    put16(f, 12, 0x0800);
    f[14] = 0x45;
    put16(f, 16, static_cast<std::uint16_t>(20 + l4.size()));
    f[22] = 64;
    f[23] = proto;
    f[26] = src0, f[27] = 0, f[28] = 2, f[29] = 1;
    f[30] = 198, f[31] = 51, f[32] = 100, f[33] = 7;
    put16(f, 24, internet_checksum(std::as_bytes(std::span(f)).subspan(14, 20)));
    f.insert(f.end(), l4.begin(), l4.end());
    return f;
}

bytes tcp(std::uint8_t flags)
{
    bytes t(20, 0);
    put16(t, 0, 40000);
    put16(t, 2, 80);
    t[12] = 0x50;
    t[13] = flags;
    return t;
}

bytes udp()
{
    bytes u(8 + 32, 0);
    put16(u, 0, 5353);
    put16(u, 2, 53);
    put16(u, 4, 40);
    return u;
}

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
    bytes bad_sum = v4(6, tcp(0x02));
    bad_sum[24] ^= 1;
    const mix mixes[] = {
        {"valid TCP SYN/ACK + UDP", {v4(6, tcp(0x02)), v4(6, tcp(0x10)), v4(17, udp())}},
        {"bad IPv4 checksum", {bad_sum}},
        {"martian source", {v4(6, tcp(0x02), 127)}},
        {"bad TCP flags", {v4(6, tcp(0x03))}},
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
