// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: the rule engine (ACLs, fetches, converters, the
// http-request / http-response rules, the legacy req* / rsp* filters,
// use_backend and captures) on fuzzed rules and a fuzzed request.
//
// Input: CONFIG '\0' REQUEST, split at the first NUL byte (see
// rules_harness.hpp for both parts and the checks). Without a NUL, only
// the config is loaded and compiled. Loading and compiling (Hyperscan's
// above all) cost far more than running the rules, so this target runs at
// a few hundred inputs a second; rules_fuzz runs fuzzed requests through
// this target's corpus of configs, compiled once, at thousands.
#include "tests/fuzz/rules_harness.hpp"

#include <algorithm>
#include <deque>

using namespace bulwark;
using namespace bulwark::fuzz;

namespace {

// CONFIG compiled (compile_config), or null. Most mutations touch one part
// of the input only: the last few results are kept, keyed by CONFIG. Both
// are deterministic, so a cached result is what compiling again would
// give; an input replayed alone takes the full path.
const proxy::proxy_rules* compiled_rules(sv lines)
{
    struct entry {
        std::string lines;
        std::shared_ptr<const proxy::proxy_rules> rules;
    };
    static std::deque<entry> cache; // the most recent first
    for (auto it = cache.begin(); it != cache.end(); ++it)
        if (it->lines == lines) {
            if (it != cache.begin())
                std::rotate(cache.begin(), it, std::next(it));
            return cache.front().rules.get();
        }
    if (cache.size() == 8)
        cache.pop_back();
    cache.push_front({std::string(lines), compile_config(lines)});
    return cache.front().rules.get();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    sv input(reinterpret_cast<const char*>(data), size);
    auto nul = input.find('\0');
    sv lines = input.substr(0, nul);
    const bool have_request = nul != sv::npos;
    sv request = have_request ? input.substr(nul + 1) : sv();
    if (lines.size() > max_config || request.size() > max_request)
        return 0;
    const proxy::proxy_rules* px = compiled_rules(lines);
    if (px && have_request)
        run_request(*px, request, !config_has_controls(lines));
    return 0;
}
