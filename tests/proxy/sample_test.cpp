// SPDX-License-Identifier: Apache-2.0
// Sample fetches and converters on a hand-built transaction view, with
// HAProxy's semantics: every occurrence in an ACL (all = true), the one
// HAProxy takes elsewhere (all = false).
#include "proxy/sample.hpp"

#include <catch2/catch.hpp>
#include <deque>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

using namespace bulwark;
using namespace bulwark::proxy;

namespace {

using strings = std::vector<std::string>;

// "fetch(a,b),conv(c),conv2" as the config parser hands it over (arguments
// hold no ',' or ')', as in HAProxy without quoting).
proxy::sample_expr parse_expr(std::string_view s)
{
    proxy::sample_expr e;
    bool first = true;
    while (!s.empty()) {
        auto stop = s.find_first_of("(,");
        std::string name(s.substr(0, stop));
        std::vector<std::string> args;
        s.remove_prefix(stop == std::string_view::npos ? s.size() : stop);
        if (!s.empty() && s.front() == '(') {
            auto close = s.find(')');
            REQUIRE(close != std::string_view::npos);
            std::string_view inner = s.substr(1, close - 1);
            while (!inner.empty()) {
                auto comma = inner.find(',');
                args.emplace_back(inner.substr(0, comma));
                if (comma == std::string_view::npos)
                    break;
                inner.remove_prefix(comma + 1);
            }
            s.remove_prefix(close + 1);
        }
        if (first)
            e.fetch = name, e.args = std::move(args);
        else
            e.convs.push_back({name, std::move(args)});
        first = false;
        if (!s.empty()) {
            REQUIRE(s.front() == ',');
            s.remove_prefix(1);
        }
    }
    return e;
}

// One transaction: a request (and optionally a response) whose headers
// are (name, value) pairs kept alive here.
struct txn {
    std::deque<std::string> store;
    std::vector<header_ref> req, res;
    txn_view v;

    txn()
    {
        v.has_request = true;
        v.method = "GET";
        v.target = "/";
    }
    txn& hdr(std::string name, std::string value)
    {
        req.push_back({keep(std::move(name)), keep(std::move(value))});
        return *this;
    }
    txn& rhdr(std::string name, std::string value)
    {
        v.has_response = true;
        res.push_back({keep(std::move(name)), keep(std::move(value))});
        return *this;
    }
    std::string_view keep(std::string s) { return store.emplace_back(std::move(s)); }

    // Every value expr gives, as text.
    strings eval(std::string_view expr, bool all = false)
    {
        auto ce = compile_expr(parse_expr(expr));
        REQUIRE(ce);
        v.req_headers = req;
        v.res_headers = res;
        eval_ctx ctx;
        ctx.txn = &v;
        eval_expr(ctx, *ce, all);
        strings out;
        for (const auto& s : ctx.vals) {
            std::string t;
            sample_to_string(s, t);
            out.push_back(t);
        }
        return out;
    }
    // The type of the one value expr gives.
    smp_type type_of(std::string_view expr)
    {
        auto ce = compile_expr(parse_expr(expr));
        REQUIRE(ce);
        v.req_headers = req;
        v.res_headers = res;
        eval_ctx ctx;
        ctx.txn = &v;
        REQUIRE(eval_expr(ctx, *ce, false) == 1);
        return ctx.vals[0].type;
    }
};

// A request with the headers most rows read.
txn headers_txn()
{
    txn t;
    t.hdr("Host", "Example.COM")
        .hdr("X-Multi", "a")
        .hdr("x-multi", "b, c")
        .hdr("X-Empty", "")
        .hdr("X-List", "one, two ,three")
        .hdr("User-Agent", "Mozilla/5.0 (X11, Linux)")
        .hdr("Cookie", "a=1; SECID=x; b=2")
        .hdr("Cookie", "SECID=y; c=3");
    return t;
}

struct row {
    const char* expr;
    bool all;
    strings expect;
};

void check_rows(txn& t, const std::vector<row>& rows)
{
    for (const auto& r : rows) {
        CAPTURE(r.expr, r.all);
        CHECK(t.eval(r.expr, r.all) == r.expect);
    }
}

} // namespace

TEST_CASE("hdr: missing, repeated, comma-split, empty, any case", "[sample]")
{
    txn t = headers_txn();
    check_rows(t, {
                      {"hdr(x-missing)", false, {}},
                      {"hdr(x-missing)", true, {}},
                      // repeated: the ACL sees every value, a sample the last one
                      {"hdr(x-multi)", true, {"a", "b", "c"}},
                      {"hdr(x-multi)", false, {"c"}},
                      {"req.hdr(x-multi)", false, {"c"}},
                      // commas split values for hdr, not for fhdr; blanks around are trimmed
                      {"hdr(x-list)", true, {"one", "two", "three"}},
                      {"hdr(x-list)", false, {"three"}},
                      {"req.fhdr(x-list)", false, {"one, two ,three"}},
                      {"req.fhdr(x-multi)", true, {"a", "b, c"}},
                      {"req.fhdr(x-multi)", false, {"b, c"}},
                      {"hdr(user-agent)", false, {"Linux)"}},
                      {"req.fhdr(user-agent)", false, {"Mozilla/5.0 (X11, Linux)"}},
                      // an empty value is a value
                      {"hdr(x-empty)", false, {""}},
                      {"hdr(x-empty)", true, {""}},
                      // header names compare without case, values keep theirs
                      {"hdr(HOST)", false, {"Example.COM"}},
                      {"hdr(host)", false, {"Example.COM"}},
                      {"hdr(X-MULTI)", true, {"a", "b", "c"}},
                  });
}

TEST_CASE("hdr(name,occ): positive from the first, negative from the last", "[sample]")
{
    txn t = headers_txn();
    check_rows(t, {
                      {"hdr(x-multi,1)", false, {"a"}},
                      {"hdr(x-multi,2)", false, {"b"}},
                      {"hdr(x-multi,3)", false, {"c"}},
                      {"hdr(x-multi,4)", false, {}},
                      {"hdr(x-multi,-1)", false, {"c"}},
                      {"hdr(x-multi,-2)", false, {"b"}},
                      {"hdr(x-multi,-3)", false, {"a"}},
                      {"hdr(x-multi,-4)", false, {}},
                      // an explicit occurrence holds in an ACL too
                      {"hdr(x-multi,2)", true, {"b"}},
                      {"req.fhdr(x-multi,1)", false, {"a"}},
                      {"req.fhdr(x-multi,-1)", false, {"b, c"}},
                  });
}

TEST_CASE("hdr_cnt counts comma-separated values", "[sample]")
{
    txn t = headers_txn();
    check_rows(t, {
                      {"hdr_cnt(x-multi)", false, {"3"}},
                      {"req.hdr_cnt(X-List)", false, {"3"}},
                      {"hdr_cnt(x-empty)", false, {"1"}},
                      {"hdr_cnt(x-missing)", false, {"0"}},
                      {"hdr_cnt(host)", false, {"1"}},
                  });
    CHECK(t.type_of("hdr_cnt(x-multi)") == smp_type::integer);

    txn small;
    small.hdr("A", "1").hdr("B", "x, y");
    CHECK(small.eval("hdr_cnt") == strings{"3"}); // every value of every header
}

TEST_CASE("req.hdrs is the header block with its empty line", "[sample]")
{
    txn t;
    t.hdr("Host", "a").hdr("X-A", "1, 2");
    CHECK(t.eval("req.hdrs") == strings{"Host: a\r\nX-A: 1, 2\r\n\r\n"});
    txn none;
    CHECK(none.eval("req.hdrs") == strings{"\r\n"});
}

TEST_CASE("hdr_val converts the value to an integer", "[sample]")
{
    txn t;
    // HAProxy's strl2ic: the leading digits, 0 when there are none
    t.hdr("X-N", "12").hdr("X-N", "34abc").hdr("X-N", "nope");
    CHECK(t.eval("hdr_val(x-n)", false) == strings{"0"});
    CHECK(t.eval("hdr_val(x-n)", true) == strings{"12", "34", "0"});
    CHECK(t.type_of("hdr_val(x-n)") == smp_type::integer);
    CHECK(t.eval("hdr_val(x-n,1)", false) == strings{"12"});
}

TEST_CASE("cook and cook_cnt read the Cookie headers", "[sample]")
{
    txn t = headers_txn();
    check_rows(t, {
                      {"cook(a)", false, {"1"}},
                      {"cook(b)", false, {"2"}},
                      {"cook(c)", false, {"3"}},
                      // a name given: the last occurrence; in an ACL every one
                      {"cook(SECID)", false, {"y"}},
                      {"req.cook(SECID)", true, {"x", "y"}},
                      // no name: the first cookie's value
                      {"cook", false, {"1"}},
                      // names are case-sensitive
                      {"cook(secid)", false, {}},
                      {"cook(zz)", false, {}},
                      {"cook_cnt(SECID)", false, {"2"}},
                      {"req.cook_cnt(a)", false, {"1"}},
                      {"cook_cnt(zz)", false, {"0"}},
                      {"cook_cnt", false, {"5"}},
                  });

    txn odd;
    odd.hdr("Cookie", " a = 1 ;flag; e=;b=2");
    check_rows(odd, {
                        {"cook(a)", false, {"1"}}, // blanks around name and value are ignored
                        {"cook(e)", false, {""}},  // an empty cookie is present
                        {"cook(flag)", false, {}}, // no '=': not a cookie
                        {"cook_cnt", false, {"3"}},
                        {"cook(b)", false, {"2"}},
                        {"cook_val(a)", false, {"1"}},
                        {"cook_val(b)", false, {"2"}},
                        {"cook_val(e)", false, {"0"}}, // no digits: 0, as strl2ic gives
                    });
}

TEST_CASE("res.cook and res.cook_cnt read Set-Cookie, one cookie a line", "[sample]")
{
    txn t;
    t.rhdr("Set-Cookie", "SID=abc; Path=/; Secure").rhdr("Set-Cookie", "lang=en; Max-Age=10").rhdr("set-cookie", "SID=def");
    t.rhdr("Content-Type", "text/html");
    check_rows(t, {
                      {"res.cook(SID)", false, {"def"}},
                      {"res.cook(SID)", true, {"abc", "def"}},
                      {"res.cook(lang)", false, {"en"}},
                      {"res.cook", false, {"abc"}},
                      {"res.cook(Path)", false, {}}, // attributes are no cookies
                      {"res.cook_cnt(SID)", false, {"2"}},
                      {"res.cook_cnt", false, {"3"}},
                      {"res.cook_cnt(Max-Age)", false, {"0"}},
                  });
    txn no_response;
    CHECK(no_response.eval("res.cook(SID)") == strings{});
    CHECK(no_response.eval("res.cook_cnt") == strings{});
}

TEST_CASE("request line fetches", "[sample]")
{
    struct target_row {
        const char* target;
        const char* expr;
        strings expect;
    };
    const std::vector<target_row> rows{
        {"/a/b?q=1", "path", {"/a/b"}},
        {"/a/b?q=1", "query", {"q=1"}},
        {"/a/b?q=1", "url", {"/a/b?q=1"}},
        {"/a/b", "query", {}},
        {"/a/b?", "query", {""}},
        {"/a/b?", "path", {"/a/b"}},
        {"http://h/p?x", "path", {"/p"}},
        {"http://h/p?x", "query", {"x"}},
        {"http://h/p?x", "url", {"http://h/p?x"}},
        {"/p?a=1&b=&c=3;d=4", "url_param(a)", {"1"}},
        {"/p?a=1&b=&c=3;d=4", "url_param(b)", {""}},
        {"/p?a=1&b=&c=3;d=4", "url_param(c)", {"3"}},
        {"/p?a=1&b=&c=3;d=4", "url_param(d)", {"4"}}, // ';' separates parameters too
        {"/p?a=1&b=&c=3;d=4", "url_param(zz)", {}},
        {"/p?a=1&b=&c=3;d=4", "url_param", {"1"}},
        {"/p?a=1&b=&c=3;d=4", "urlp(c)", {"3"}},
        {"/p?flag&x=1", "url_param(flag)", {}}, // no '=': no value
        {"/p?ab=1&a=2", "url_param(a)", {"2"}},
        {"/p", "url_param(a)", {}},
        {"/foo;JSESSIONID=s1", "url_param(JSESSIONID,;)", {"s1"}}, // HAProxy's own example
    };
    for (const auto& r : rows) {
        CAPTURE(r.target, r.expr);
        txn t;
        t.v.target = r.target;
        CHECK(t.eval(r.expr) == r.expect);
    }

    // in an ACL, every parameter of that name, or every parameter
    txn p;
    p.v.target = "/p?a=1&b=2&a=3";
    CHECK(p.eval("url_param(a)", true) == strings{"1", "3"});
    CHECK(p.eval("url_param", true) == strings{"1", "2", "3"});

    txn m;
    m.v.method = "PURGE";
    CHECK(m.eval("method") == strings{"PURGE"});
    CHECK(m.eval("req.ver") == strings{"1.1"});
    m.v.version = 10;
    CHECK(m.eval("req.ver") == strings{"1.0"});

    txn none;
    none.v.has_request = false;
    CHECK(none.eval("path") == strings{});
    CHECK(none.eval("method") == strings{});
}

TEST_CASE("base is the first Host and the path", "[sample]")
{
    txn t;
    t.v.target = "/a/b?q=1";
    t.hdr("Host", "www.example.com");
    CHECK(t.eval("base") == strings{"www.example.com/a/b"});
    t.hdr("Host", "other.example");
    CHECK(t.eval("base") == strings{"www.example.com/a/b"});
    txn nohost;
    CHECK(nohost.eval("base") == strings{});
}

TEST_CASE("status, addresses, constants", "[sample]")
{
    txn t;
    CHECK(t.eval("status") == strings{}); // no response yet
    t.v.has_response = true;
    t.v.status = 404;
    CHECK(t.eval("status") == strings{"404"});
    CHECK(t.type_of("status") == smp_type::integer);

    CHECK(t.eval("src") == strings{}); // a unix socket: no address
    CHECK(t.eval("src_port") == strings{});
    t.v.src = *bulwark::parse_ip("192.0.2.1");
    t.v.dst = *bulwark::parse_ip("2001:db8::1");
    t.v.src_port = 51234;
    t.v.dst_port = 443;
    CHECK(t.eval("src") == strings{"192.0.2.1"});
    CHECK(t.type_of("src") == smp_type::ip);
    CHECK(t.eval("dst") == strings{"2001:db8::1"});
    CHECK(t.eval("src_port") == strings{"51234"});
    CHECK(t.eval("dst_port") == strings{"443"});

    CHECK(t.eval("always_true") == strings{"1"});
    CHECK(t.type_of("always_true") == smp_type::boolean);
    CHECK(t.eval("always_false") == strings{"0"});
    CHECK(t.eval("str(hello)") == strings{"hello"});
    CHECK(t.type_of("str(hello)") == smp_type::str);
    CHECK(t.eval("int(42)") == strings{"42"});
    CHECK(t.eval("int(-7)") == strings{"-7"});
    CHECK(t.type_of("int(42)") == smp_type::integer);
    CHECK(t.eval("ssl_fc") == strings{"0"});
    t.v.tls = true;
    CHECK(t.eval("ssl_fc") == strings{"1"});
}

TEST_CASE("eval_string gives the first value or nothing", "[sample]")
{
    txn t = headers_txn();
    t.v.req_headers = t.req;
    eval_ctx ctx;
    ctx.txn = &t.v;
    std::string out = "stale";
    auto e = compile_expr(parse_expr("hdr(x-multi),upper"));
    REQUIRE(e);
    CHECK(eval_string(ctx, *e, out));
    CHECK(out == "C");
    auto none = compile_expr(parse_expr("hdr(x-missing)"));
    REQUIRE(none);
    CHECK_FALSE(eval_string(ctx, *none, out));
    CHECK(out.empty());
}

TEST_CASE("compile_expr refuses what it cannot run", "[sample]")
{
    auto bad_fetch = compile_expr(parse_expr("var(txn.x)"));
    REQUIRE_FALSE(bad_fetch);
    CHECK(bad_fetch.message() == "fetch 'var' is not built yet");
    auto bad_conv = compile_expr(parse_expr("path,ipmask(24)"));
    REQUIRE_FALSE(bad_conv);
    CHECK(bad_conv.message() == "converter 'ipmask' is not built yet");
    auto bad_occ = compile_expr(parse_expr("hdr(x,first)"));
    REQUIRE_FALSE(bad_occ);
    CHECK(bad_occ.message() == "fetch 'hdr': invalid occurrence 'first'");
    auto bad_re = compile_expr(parse_expr("path,regsub([,x)"));
    REQUIRE_FALSE(bad_re);
    CHECK(bad_re.message().starts_with("invalid regex '['"));
    // expressions with one meaning share one key
    CHECK(compile_expr(parse_expr("hdr(host),lower"))->key == "hdr(host),lower");
    CHECK(compile_expr(parse_expr("hdr(x,2)"))->key == "hdr(x,2)");
}

// ---- converters ----------------------------------------------------------------

namespace {

// The values of req.fhdr(x-in),<convs> with X-In: input; nullopt-like
// empty vector when the converter drops the sample.
strings convert(const std::string& input, const std::string& convs)
{
    txn t;
    t.hdr("X-In", input);
    return t.eval("req.fhdr(x-in)," + convs);
}

} // namespace

TEST_CASE("converters: case, hex, length", "[sample]")
{
    struct crow {
        std::string in;
        const char* convs;
        strings expect;
    };
    const std::vector<crow> rows{
        {"AbC-1/Z", "lower", {"abc-1/z"}},
        {"AbC-1/z", "upper", {"ABC-1/Z"}},
        {std::string("Az\x01\xff", 4), "hex", {"417A01FF"}},
        {"", "hex", {""}},
        {"hello", "length", {"5"}},
        {"", "length", {"0"}},
        {"Hello", "lower,upper,lower", {"hello"}},
        {"ab", "hex,lower", {"6162"}},
    };
    for (const auto& r : rows) {
        CAPTURE(r.in, r.convs);
        CHECK(convert(r.in, r.convs) == r.expect);
    }
    txn t;
    t.hdr("X-In", "hello");
    CHECK(t.type_of("req.fhdr(x-in),length") == smp_type::integer);
    // a non-text sample is turned into text first
    t.v.src = *bulwark::parse_ip("10.1.2.3");
    CHECK(t.eval("src,length") == strings{"8"});
}

TEST_CASE("converters: url_dec", "[sample]")
{
    struct crow {
        const char* in;
        const char* convs;
        strings expect;
    };
    const std::vector<crow> rows{
        {"%41b%2fc", "url_dec", {"Ab/c"}},
        {"%41%42", "url_dec", {"AB"}},
        {"a+b", "url_dec", {"a+b"}},             // '+' is a space only in a query
        {"/p+q?a+b", "url_dec", {"/p+q?a b"}},   // ... after the '?'
        {"a+b", "url_dec(1)", {"a b"}},          // or in form mode
        {"a+b", "url_dec(0)", {"a+b"}},
        {"%zz", "url_dec", {}},                  // a bad escape drops the sample
        {"ab%4", "url_dec", {}},
        {"100%", "url_dec", {}},
        {"%4g", "url_dec", {}},
        {"plain", "url_dec", {"plain"}},
    };
    for (const auto& r : rows) {
        CAPTURE(r.in, r.convs);
        CHECK(convert(r.in, r.convs) == r.expect);
    }
}

TEST_CASE("converters: base64 and b64dec", "[sample]")
{
    struct crow {
        const char* in;
        const char* convs;
        strings expect;
    };
    const std::vector<crow> rows{
        {"a", "base64", {"YQ=="}},   // padding 2
        {"ab", "base64", {"YWI="}},  // padding 1
        {"abc", "base64", {"YWJj"}}, // no padding
        {"hello world", "base64", {"aGVsbG8gd29ybGQ="}},
        {"YQ==", "b64dec", {"a"}},
        {"YWI=", "b64dec", {"ab"}},
        {"YWJj", "b64dec", {"abc"}},
        {"aGVsbG8gd29ybGQ=", "b64dec", {"hello world"}},
        {"hello world", "base64,b64dec", {"hello world"}},
        {"ab", "base64,b64dec", {"ab"}},
        {"a", "base64,b64dec", {"a"}},
        {"YQ=", "b64dec", {}},  // not a multiple of 4
        {"Y!==", "b64dec", {}}, // not base64
        {"Y=Q=", "b64dec", {}}, // data after padding
    };
    for (const auto& r : rows) {
        CAPTURE(r.in, r.convs);
        CHECK(convert(r.in, r.convs) == r.expect);
    }
    txn t;
    t.hdr("X-In", "YWJj");
    CHECK(t.type_of("req.fhdr(x-in),b64dec") == smp_type::bin);
}

TEST_CASE("converters: field and word", "[sample]")
{
    struct crow {
        const char* in;
        const char* convs;
        strings expect;
    };
    const std::vector<crow> rows{
        {"/a/b/c", "field(2,/)", {"a"}},
        {"/a/b/c", "field(1,/)", {""}},
        {"/a/b/c", "field(-1,/)", {"c"}},
        {"/a/b/c", "field(2,/,0)", {"a/b/c"}},
        {"/a/b/c", "field(2,/,2)", {"a/b"}},
        {"a.b-c", "field(3,.-)", {"c"}},         // any of the delimiters
        // HAProxy's examples (configuration manual, "field")
        {"f1_f2_f3__f5", "field(4,_)", {""}},
        {"f1_f2_f3__f5", "field(5,_)", {"f5"}},
        {"f1_f2_f3__f5", "field(2,_,0)", {"f2_f3__f5"}},
        {"f1_f2_f3__f5", "field(2,_,2)", {"f2_f3"}},
        {"f1_f2_f3__f5", "field(-2,_,3)", {"f2_f3_"}},
        {"f1_f2_f3__f5", "field(-3,_,0)", {"f1_f2_f3"}},
        // a field that is not there: no sample
        {"f1_f2", "field(3,_)", {}},
        {"f1_f2", "field(-3,_)", {}},
        {"f1_f2", "field(2,_,5)", {"f2"}}, // more fields asked than left: the rest
        {"//a//b", "word(2,/)", {"b"}},    // empty fields are skipped
        {"//a//b", "word(1,/)", {"a"}},
        {"//a//b", "word(-1,/)", {"b"}},
        {"//a//b", "word(3,/)", {}},
        // HAProxy's examples (configuration manual, "word")
        {"f1_f2_f3__f5", "word(4,_)", {"f5"}},
        {"f1_f2_f3__f5", "word(2,_,0)", {"f2_f3__f5"}},
        {"f1_f2_f3__f5", "word(3,_,2)", {"f3__f5"}},
        {"f1_f2_f3__f5", "word(-2,_,3)", {"f1_f2_f3"}},
        {"f1_f2_f3__f5", "word(-3,_,0)", {"f1_f2"}},
    };
    for (const auto& r : rows) {
        CAPTURE(r.in, r.convs);
        CHECK(convert(r.in, r.convs) == r.expect);
    }
    auto bad = compile_expr(parse_expr("path,field(x,/)"));
    REQUIRE_FALSE(bad);
    CHECK(bad.message() == "converter 'field': expected an index and a count, found 'x,/'");
}

TEST_CASE("converters: regsub and bytes", "[sample]")
{
    struct crow {
        const char* in;
        const char* convs;
        strings expect;
    };
    const std::vector<crow> rows{
        {"banana", "regsub(a,b,g)", {"bbnbnb"}},
        {"banana", "regsub(a,b)", {"bbnana"}}, // the first match only
        {"banana", "regsub(x,b,g)", {"banana"}},
        {"aAa", "regsub(A,x,g)", {"axa"}},
        {"aAa", "regsub(A,x,gi)", {"xxx"}},
        {"a.b.c", "regsub(\\.,/,g)", {"a/b/c"}},
        {"abcdef", "bytes(1,2)", {"bc"}},
        {"abcdef", "bytes(4)", {"ef"}},
        {"abcdef", "bytes(0,100)", {"abcdef"}},
        {"abcdef", "bytes(6)", {""}},
        {"abcdef", "bytes(10)", {""}},
    };
    for (const auto& r : rows) {
        CAPTURE(r.in, r.convs);
        CHECK(convert(r.in, r.convs) == r.expect);
    }
    // groups in the substitution (a regex with parentheses cannot be written
    // in an unquoted expression: built directly)
    proxy::sample_expr e;
    e.fetch = "req.fhdr";
    e.args = {"x-in"};
    e.convs.push_back({"regsub", {"([a-z]+)=([0-9]+)", "\\2:\\1", "g"}});
    auto ce = compile_expr(e);
    REQUIRE(ce);
    txn t;
    t.hdr("X-In", "a=1&bc=23&=4");
    t.v.req_headers = t.req;
    eval_ctx ctx;
    ctx.txn = &t.v;
    std::string out;
    CHECK(eval_string(ctx, *ce, out));
    CHECK(out == "1:a&23:bc&=4");
}

TEST_CASE("converters run on every value of an ACL fetch", "[sample]")
{
    txn t = headers_txn();
    CHECK(t.eval("hdr(x-multi),upper", true) == strings{"A", "B", "C"});
    CHECK(t.eval("hdr(x-list),length", true) == strings{"3", "3", "5"});
    // a dropped value leaves the others
    txn d;
    d.hdr("X-E", "%41").hdr("X-E", "%zz").hdr("X-E", "%42");
    CHECK(d.eval("req.fhdr(x-e),url_dec", true) == strings{"A", "B"});
    CHECK(d.eval("req.fhdr(x-e),url_dec", false) == strings{"B"});
}

TEST_CASE("fetch_built and converter_built name what sample.cpp implements", "[sample]")
{
    for (auto name : {"src", "dst", "path", "url", "hdr", "req.fhdr", "cook", "res.cook", "base", "url_param",
                      "req.hdrs", "status", "always_true", "str", "int"})
        CHECK(fetch_built(name));
    CHECK_FALSE(fetch_built("var"));
    for (auto name : {"lower", "upper", "hex", "url_dec", "base64", "b64dec", "length", "field", "word", "regsub",
                      "bytes"})
        CHECK(converter_built(name));
    CHECK_FALSE(converter_built("ipmask"));
}
