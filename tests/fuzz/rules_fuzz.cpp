// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: fuzzed requests through the rule engine (ACLs,
// fetches, converters, the http-request / http-response rules, the legacy
// req* / rsp* filters, use_backend and captures) of a fixed set of
// configs, compiled once at start.
//
// The configs: the distinct CONFIG parts (up to the first NUL) of
// rules_config_fuzz's corpus (BULWARK_RULES_SEEDS, tests/fuzz/corpus/
// rules_config, in file-name order) that load and compile, at most 256.
// Input: one byte that picks a config (modulo their count), then REQUEST
// (see rules_harness.hpp for it and for the checks). Compiling a config
// costs far more than running its rules; rules_config_fuzz fuzzes the
// configs themselves, this target the requests against them, at thousands
// of inputs a second. RULES_FUZZ_LIST=1 in the environment prints which
// file each config comes from (to write seeds: its index, then a request).
#include "tests/fuzz/rules_harness.hpp"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>

using namespace bulwark;
using namespace bulwark::fuzz;

namespace {

struct seed {
    std::shared_ptr<const proxy::proxy_rules> rules;
    bool strict; // no control byte of its own (config_has_controls)
};

std::vector<seed>& seeds()
{
    static std::vector<seed> s;
    return s;
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***)
{
    const char* dir = std::getenv("BULWARK_RULES_SEEDS");
    if (!dir)
        dir = BULWARK_RULES_SEEDS;
    std::vector<std::filesystem::path> files;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(dir, ec))
        if (e.is_regular_file())
            files.push_back(e.path());
    std::sort(files.begin(), files.end());
    std::set<std::string> seen;
    const bool list = std::getenv("RULES_FUZZ_LIST") != nullptr; // which file each first byte picks
    for (const auto& f : files) {
        std::ifstream in(f, std::ios::binary);
        std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        std::string lines = text.substr(0, text.find('\0'));
        if (lines.size() > max_config || !seen.insert(lines).second)
            continue;
        if (auto rules = compile_config(lines)) {
            seeds().push_back({std::move(rules), !config_has_controls(lines)});
            if (list)
                std::fprintf(stderr, "rules_fuzz: config %zu: %s\n", seeds().size() - 1, f.filename().c_str());
        }
        if (seeds().size() == 256)
            break;
    }
    if (seeds().empty()) {
        std::fprintf(stderr, "rules_fuzz: no config of %s loads and compiles (set BULWARK_RULES_SEEDS)\n", dir);
        std::abort();
    }
    std::fprintf(stderr, "rules_fuzz: %zu configs of %s\n", seeds().size(), dir);
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size < 1 || size - 1 > max_request)
        return 0;
    const seed& s = seeds()[data[0] % seeds().size()];
    run_request(*s.rules, sv(reinterpret_cast<const char*>(data) + 1, size - 1), s.strict);
    return 0;
}
