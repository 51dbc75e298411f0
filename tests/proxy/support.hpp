// SPDX-License-Identifier: Apache-2.0
#pragma once

// What the proxy's unit tests share: bytes into and out of a Beast buffer,
// and a frontend "f" compiled from config text with its pattern scratch.

#include "controlplane/parser.hpp"
#include "proxy/http_rules.hpp"
#include "tests/controlplane/diag_helpers.hpp"

#include <boost/beast/core/flat_buffer.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace bulwark::proxy::testing {

inline void put(boost::beast::flat_buffer& b, std::string_view s)
{
    auto m = b.prepare(s.size());
    std::memcpy(m.data(), s.data(), s.size());
    b.commit(s.size());
}

inline std::string rest(const boost::beast::flat_buffer& b)
{
    return {static_cast<const char*>(b.data().data()), b.size()};
}

// The rules of frontend "f" in `config`, compiled (a config alert or a
// compile error fails the test).
struct compiled_frontend {
    controlplane::load_result loaded;
    std::shared_ptr<const proxy_rules> compiled;
    std::vector<std::string> notes;
    rules::pattern_scratch scratch;

    explicit compiled_frontend(const std::string& config)
        : loaded(controlplane::load_text(config, "t.cfg", controlplane::testing::no_env()))
    {
        INFO(config);
        REQUIRE(controlplane::testing::alerts(loaded) == std::vector<std::string>{});
        const auto* px = loaded.cfg.find_frontend("f");
        REQUIRE(px);
        auto r = compile_rules(*px, std::chrono::milliseconds(1000), &notes);
        REQUIRE(r);
        compiled = *r;
        compiled->acls.prepare_scratch(scratch);
    }
};

} // namespace bulwark::proxy::testing
