// SPDX-License-Identifier: Apache-2.0
#pragma once

// bulwark-bench's traffic: a blocklist of N random /32 sources, a flow
// table of established TCP flows, and the mixes, each a list of distinct
// frames whose sources are spread (cache-cold state: random unlisted
// addresses over the same space as the blocklist's, random listed ones,
// random flows of the whole table), never a hot /24.

#include "common/units.hpp"
#include "dataplane/flow_table.hpp"
#include "tests/dataplane/frames.hpp"

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace bulwark::bench {

using dataplane::testing::bytes;

struct mix {
    std::string name;
    std::vector<bytes> frames;
    bool stateful = false; // run through the stateful lcore (flow table), else the stateless one
    bool guarded = false;  // stateful with 'syn-guard always': the guard rewrites the frames it answers
};

// `n` distinct /32 sources in 1.0.0.0 - 99.255.255.255 (no martian).
std::vector<bulwark::cidr> random_sources(std::size_t n, std::mt19937& rng);

// Fills `flows` with `n` established TCP flows (frame i: flow_frame(i));
// returns how many went in.
std::uint32_t fill_flows(dataplane::flow_table& flows, std::uint32_t n);
// An ACK of flow i, as fill_flows() put it in.
bytes flow_frame(std::uint32_t i);

// The mixes, `per_mix` frames each: valid stateless, valid stateful over
// `flows` flows, malformed, ACL-denied, blocklisted, a mixed attack, and a
// spoofed SYN flood (random sources and ports, Linux's SYN options) that
// the SYN guard answers with cookies.
std::vector<mix> make_mixes(const std::vector<bulwark::cidr>& listed, std::uint32_t flows, std::size_t per_mix,
                            std::mt19937& rng);

} // namespace bulwark::bench
