// SPDX-License-Identifier: Apache-2.0
#include "proxy/registry.hpp"

#include <catch2/catch.hpp>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>

using namespace bulwark::proxy;

TEST_CASE("registry names are unique per table", "[registry]")
{
    std::set<std::string_view> f, c, m;
    for (const auto& k : fetch_keywords())
        CHECK(f.insert(k.name).second);
    for (const auto& k : converter_keywords())
        CHECK(c.insert(k.name).second);
    for (const auto& k : matcher_keywords())
        CHECK(m.insert(k.name).second);
    std::set<std::string> a;
    for (const auto& k : action_keywords())
        CHECK(a.insert(std::string(k.family) + " " + std::string(k.name)).second);
}

TEST_CASE("the fetches DESIGN.md names are registered", "[registry]")
{
    for (auto name : {"src", "path", "url_sub", "hdr", "req.hdr", "res.hdr", "cook_cnt", "method", "ssl_fc",
                      "ssl_fc_protocol", "req.ssl_ver", "req.ssl_ec_ext", "req.ssl_sni"})
        CHECK(find_fetch(name).has_value());
}

TEST_CASE("ACL derivatives resolve to a fetch and a matcher", "[registry]")
{
    auto d = find_fetch("url_sub");
    REQUIRE(d);
    CHECK(d->fetch->name == "url");
    CHECK(d->implied_matcher == "sub");
    CHECK(find_fetch("hdr_beg")->implied_matcher == "beg");
    CHECK(find_fetch("path_end")->fetch->name == "path");
    CHECK_FALSE(find_fetch("cook_cnt_sub")); // cook_cnt is an integer: no derivatives
    CHECK_FALSE(find_fetch("nosuch"));
    CHECK(find_fetch("cook_cnt")->implied_matcher.empty());
}

TEST_CASE("actions are found by family, set-var takes a name", "[registry]")
{
    CHECK(find_action("http-request", "deny"));
    CHECK(find_action("http-response", "deny"));
    CHECK_FALSE(find_action("http-response", "tarpit"));
    CHECK(find_action("http-request", "set-var(txn.x)"));
    CHECK_FALSE(find_action("http-request", "set-var("));
    CHECK(find_action("tcp-request content", "reject"));
}

TEST_CASE("each action's argument check refuses bad input", "[registry]")
{
    using v = std::vector<std::string>;
    auto check = [](std::string_view fam, std::string_view name, v args) {
        return check_action(*find_action(fam, name), args);
    };
    CHECK(check("http-request", "deny", {"deny_status", "429"}).empty());
    CHECK(check("http-request", "deny", {"deny_status", "99"}) ==
          "invalid deny_status '99', expected an HTTP status 200 to 599");
    CHECK(check("http-request", "deny", {"deny_status"}) == "'deny_status' expects 1 argument");
    CHECK(check("http-request", "redirect", {"scheme", "https", "code", "301"}).empty());
    CHECK(check("http-request", "redirect", {"scheme", "https", "code", "200"}) ==
          "invalid redirect code '200', expected 301, 302, 303, 307 or 308");
    CHECK(check("http-request", "redirect", {"place", "x"}) ==
          "unknown redirect type 'place', expected one of 'location', 'prefix', 'scheme'");
    CHECK(check("http-response", "replace-header", {"Set-Cookie", "(.*)", "\\1; Secure"}).empty());
    CHECK(check("http-response", "replace-header", {"Set-Cookie", "(.*)", "\\2"}) ==
          "replacement '\\2' refers to \\2 but regex '(.*)' has 1 group");
    CHECK(check("http-request", "capture", {"req.hdr(host)", "len", "64"}).empty());
    CHECK(check("http-request", "capture", {"req.hdr(host)", "len", "0"}) ==
          "invalid len '0': 0 is out of range, expected 1 to 65535");
    CHECK(check("http-request", "deny", {"hdr", "x"}) == "'hdr' expects 2 arguments");
    CHECK(check("http-request", "deny", {"errorfile", "/nonexistent/403.http"}) ==
          "cannot read '/nonexistent/403.http'");
    CHECK(check("http-request", "return", {"string", "hi"}) == "a body ('string' or 'file') needs a 'content-type'");
    CHECK(check("http-request", "deny", {"banner"}).starts_with("unexpected 'banner', expected one of"));
    CHECK(check("http-request", "del-header", {"x", "-m", "glob"}) ==
          "unknown match method 'glob', expected one of 'str', 'beg', 'end', 'sub', 'reg'");
    CHECK(check("http-response", "set-status", {"503", "because"}) == "expected 'set-status STATUS [reason TEXT]'");
    CHECK(check("http-response", "set-status", {"700"}) == "invalid status '700', expected an HTTP status 200 to 599");
    CHECK(check("http-request", "wait-for-body", {"time", "x"}).size() > 0);
    // the same words compile into the rule the checker accepted
    CHECK(check("http-request", "set-header", {"", "x"}) == "invalid header name ''");
    CHECK(check("http-request", "use-service", {"prometheus-exporter"}).empty());
    CHECK(check("http-request", "use-service", {"lua.x"}) ==
          "unknown service 'lua.x', expected 'prometheus-exporter'");
}

namespace {

// Every test source and test config, concatenated: where a row's use is looked for.
const std::string& test_text()
{
    static const std::string all = [] {
        namespace fs = std::filesystem;
        std::string out;
        const fs::path top = fs::path(BULWARK_SOURCE_DIR) / "tests";
        for (const auto& e : fs::recursive_directory_iterator(top)) {
            const auto ext = e.path().extension();
            if (!e.is_regular_file() || e.path().string().find("/corpus/") != std::string::npos ||
                (ext != ".cpp" && ext != ".hpp" && ext != ".py" && ext != ".cfg" && ext != ".vtc"))
                continue;
            std::ifstream in(e.path());
            out.append(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
            out += '\n';
        }
        return out;
    }();
    return all;
}

bool name_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-'; }

// `what` occurs in the tests with no name character glued to either end.
bool used_in_tests(std::string_view what)
{
    const std::string& t = test_text();
    for (auto at = t.find(what); at != std::string::npos; at = t.find(what, at + 1)) {
        bool left = at == 0 || !name_char(t[at - 1]);
        std::size_t end = at + what.size();
        bool right = end == t.size() || !name_char(t[end]);
        if (left && right)
            return true;
    }
    return false;
}

} // namespace

TEST_CASE("a row has its function exactly when it is built, else names what builds it", "[registry]")
{
    for (const auto& k : fetch_keywords()) {
        INFO("fetch " << k.name);
        CHECK((k.fn != nullptr) == k.pending.empty());
    }
    for (const auto& k : converter_keywords()) {
        INFO("converter " << k.name);
        CHECK((k.fn != nullptr) == k.pending.empty());
        CHECK(k.max_args <= k.args.size());
        for (std::size_t i = 0; i < k.max_args; ++i)
            CHECK(k.args[i] != conv_arg::none); // every argument it takes has a type
    }
    for (const auto& k : action_keywords())
        CHECK_FALSE(k.pending.find("#3)") != std::string_view::npos); // issue #3 is closed
}

// A floor, not a proof: a row's name must appear as a whole word somewhere
// in the tests (the unit tests name converters and actions in tables
// without their family), so a new row with no test at all fails here.
TEST_CASE("every fetch, converter, matcher and action row is documented", "[registry]")
{
    for (const auto& k : fetch_keywords()) {
        INFO("fetch " << k.name);
        CHECK(k.doc.size() >= 4);
    }
    for (const auto& k : converter_keywords()) {
        INFO("converter " << k.name);
        CHECK(k.doc.size() >= 4);
    }
    for (const auto& k : matcher_keywords()) {
        INFO("matcher " << k.name);
        CHECK(k.doc.size() >= 4);
    }
    for (const auto& k : action_keywords()) {
        INFO("action " << k.family << " " << k.name);
        CHECK(k.doc.size() >= 4);
    }
}

TEST_CASE("every built fetch, converter, matcher and action is named by a test", "[registry]")
{
    for (const auto& k : fetch_keywords()) {
        INFO("fetch " << k.name << " appears in no test");
        CHECK((!k.fn || used_in_tests(k.name)));
    }
    for (const auto& k : converter_keywords()) {
        INFO("converter " << k.name << " appears in no test");
        CHECK((!k.fn || used_in_tests(k.name)));
    }
    for (const auto& k : matcher_keywords()) {
        std::string use("-m ");
        use += k.name;
        INFO("matcher " << use << " appears in no test");
        CHECK(used_in_tests(use));
    }
    for (const auto& k : action_keywords()) {
        std::string_view name = k.name.ends_with('(') ? k.name.substr(0, k.name.size() - 1) : k.name;
        INFO("action " << k.family << " " << k.name << " appears in no test");
        CHECK((!k.pending.empty() || used_in_tests(name)));
    }
}
