// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: arbitrary bytes as a config file. The parser must never
// crash, read out of bounds or hang, whatever it is given.
#include "controlplane/parser.hpp"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    using namespace bulwark;
    using namespace bulwark::controlplane;
    static const env_lookup env = [](std::string_view name) -> std::optional<std::string> {
        if (name == "VIP")
            return std::string("10.10.0.100");
        return std::nullopt;
    };
    std::string_view text(reinterpret_cast<const char*>(data), size);
    auto r = load_text(text, "fuzz.cfg", env, "/nonexistent");
    for (const auto& d : r.diag.all())
        (void)d.text();
    return 0;
}
