// SPDX-License-Identifier: Apache-2.0
// Includes point one way (README, "Layout"): common at the bottom, the
// engines on it, the control plane on top. This reads every product source
// file and fails on an include that points up or sideways.

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include <unistd.h>

namespace fs = std::filesystem;

namespace {

// Folder -> the project folders its files may include (its own included).
const std::map<std::string, std::set<std::string>>& allowed()
{
    static const std::map<std::string, std::set<std::string>> a{
        {"common", {"common"}},
        {"rules", {"common", "rules"}},
        {"dataplane", {"common", "dataplane"}},
        {"proxy", {"common", "rules", "proxy"}},
        {"controlplane", {"common", "rules", "dataplane", "proxy", "controlplane"}},
    };
    return a;
}

// Every '#include "folder/..."' in the product's folders, as (file, line, folder included).
struct include_line {
    std::string file;
    int line;
    std::string target;
};

std::vector<include_line> project_includes(const fs::path& top, const std::string& folder)
{
    static const std::regex inc(R"re(^\s*#\s*include\s*"([A-Za-z_0-9]+)/)re");
    std::vector<include_line> out;
    for (const auto& e : fs::recursive_directory_iterator(top / folder)) {
        const auto ext = e.path().extension();
        if (!e.is_regular_file() || (ext != ".cpp" && ext != ".hpp" && ext != ".in"))
            continue;
        std::ifstream in(e.path());
        std::string text;
        int n = 0;
        while (std::getline(in, text)) {
            ++n;
            std::smatch m;
            if (std::regex_search(text, m, inc))
                out.push_back({fs::relative(e.path(), top).string(), n, m[1].str()});
        }
    }
    return out;
}

} // namespace

TEST_CASE("includes point one way: common, then the engines, then the control plane", "[layering]")
{
    const fs::path top = BULWARK_SOURCE_DIR;
    std::size_t seen = 0;
    for (const auto& [folder, may] : allowed()) {
        for (const auto& i : project_includes(top, folder)) {
            ++seen;
            INFO(i.file << ":" << i.line << " includes " << i.target << "/");
            CHECK(may.count(i.target) == 1);
        }
    }
    CHECK(seen > 50); // the walk found the sources
}

TEST_CASE("the layering check itself catches an engine including the control plane", "[layering]")
{
    // A tree of one file in a temporary directory: the walk must flag it.
    const fs::path top = fs::temp_directory_path() / ("bulwark-layering-" + std::to_string(::getpid()));
    fs::create_directories(top / "proxy");
    {
        std::ofstream out(top / "proxy" / "probe.hpp");
        out << "#pragma once\n#include \"common/result.hpp\"\n#include \"controlplane/config_types.hpp\"\n";
    }
    const auto found = project_includes(top, "proxy");
    fs::remove_all(top);
    REQUIRE(found.size() == 2);
    CHECK(allowed().at("proxy").count(found[0].target) == 1);
    CHECK(found[1].line == 3);
    CHECK(found[1].target == "controlplane");
    CHECK(allowed().at("proxy").count(found[1].target) == 0);
}
