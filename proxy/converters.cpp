// SPDX-License-Identifier: Apache-2.0
// Converters, HAProxy's semantics (src/sample.c): one row per converter
// beside its function, its arguments parsed at load (compile_conv).
#include "proxy/sample.hpp"

#include "proxy/registry.hpp"

#include <array>
#include <fmt/format.h>
#include <span>
#include <string>

namespace bulwark::proxy {

namespace {

using sv = std::string_view;
constexpr auto L = pending_later;

sv as_text(eval_ctx& c, const sample& s) { return sample_text(c, s); }

void set_str(sample& s, sv v)
{
    s.type = smp_type::str;
    s.str = v;
}

bool c_lower(eval_ctx& c, const compiled_conv&, sample& s)
{
    sv in = as_text(c, s);
    std::string& out = c.tmp();
    out.assign(in);
    for (char& ch : out)
        if (ch >= 'A' && ch <= 'Z')
            ch = static_cast<char>(ch + 32);
    set_str(s, out);
    return true;
}

bool c_upper(eval_ctx& c, const compiled_conv&, sample& s)
{
    sv in = as_text(c, s);
    std::string& out = c.tmp();
    out.assign(in);
    for (char& ch : out)
        if (ch >= 'a' && ch <= 'z')
            ch = static_cast<char>(ch - 32);
    set_str(s, out);
    return true;
}

bool c_hex(eval_ctx& c, const compiled_conv&, sample& s)
{
    sv in = as_text(c, s);
    std::string& out = c.tmp();
    static constexpr char digits[] = "0123456789ABCDEF";
    for (unsigned char ch : in) {
        out += digits[ch >> 4];
        out += digits[ch & 15];
    }
    set_str(s, out);
    return true;
}

int hexval(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

// url_dec([in_form]): %XX decoded; '+' is a space only in form mode (or,
// as HAProxy does by default, after a '?'). A bad escape drops the sample.
bool c_url_dec(eval_ctx& c, const compiled_conv& cv, sample& s)
{
    sv in = as_text(c, s);
    bool form = cv.num[0] != 0;
    std::string& out = c.tmp();
    bool in_query = form;
    for (std::size_t i = 0; i < in.size(); ++i) {
        char ch = in[i];
        if (ch == '?')
            in_query = true;
        if (ch == '%') {
            if (i + 2 >= in.size())
                return false;
            int hi = hexval(in[i + 1]), lo = hexval(in[i + 2]);
            if (hi < 0 || lo < 0)
                return false;
            out += static_cast<char>(hi * 16 + lo);
            i += 2;
        } else if (ch == '+' && in_query) {
            out += ' ';
        } else {
            out += ch;
        }
    }
    set_str(s, out);
    return true;
}

constexpr char b64chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

bool c_base64(eval_ctx& c, const compiled_conv&, sample& s)
{
    sv in = as_text(c, s);
    std::string& out = c.tmp();
    std::size_t i = 0;
    for (; i + 2 < in.size(); i += 3) {
        unsigned v = static_cast<unsigned char>(in[i]) << 16 | static_cast<unsigned char>(in[i + 1]) << 8 |
                     static_cast<unsigned char>(in[i + 2]);
        for (int k = 18; k >= 0; k -= 6)
            out += b64chars[(v >> k) & 63];
    }
    if (std::size_t rest = in.size() - i; rest) {
        unsigned v = static_cast<unsigned char>(in[i]) << 16 |
                     (rest > 1 ? static_cast<unsigned char>(in[i + 1]) << 8 : 0u);
        out += b64chars[(v >> 18) & 63];
        out += b64chars[(v >> 12) & 63];
        out += rest > 1 ? b64chars[(v >> 6) & 63] : '=';
        out += '=';
    }
    set_str(s, out);
    return true;
}

bool c_b64dec(eval_ctx& c, const compiled_conv&, sample& s)
{
    sv in = as_text(c, s);
    if (in.size() % 4)
        return false;
    std::string& out = c.tmp();
    unsigned acc = 0;
    int bits = 0;
    for (std::size_t i = 0; i < in.size(); ++i) {
        char ch = in[i];
        if (ch == '=') {
            if (i + 2 < in.size() || (i + 1 < in.size() && in[i + 1] != '='))
                return false;
            break;
        }
        const char* p = std::char_traits<char>::find(b64chars, 64, ch);
        if (!p)
            return false;
        acc = acc << 6 | static_cast<unsigned>(p - b64chars);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out += static_cast<char>((acc >> bits) & 0xff);
        }
    }
    s.type = smp_type::bin;
    s.str = out;
    return true;
}

bool c_length(eval_ctx& c, const compiled_conv&, sample& s)
{
    sv in = as_text(c, s);
    s.type = smp_type::integer;
    s.num = static_cast<std::int64_t>(in.size());
    return true;
}

// field(index,delimiters[,count]) and word(...): index from 1, negative
// from the end; count fields (0: to the end). word skips empty fields.
bool split_pick(eval_ctx& c, const compiled_conv& cv, sample& s, bool words)
{
    sv in = as_text(c, s);
    long idx = static_cast<long>(cv.num[0]);
    sv delims = cv.str[1];
    long count = static_cast<long>(cv.num[2]);
    if (idx == 0 || delims.empty())
        return false;
    std::vector<std::pair<std::size_t, std::size_t>> parts; // [begin, end)
    parts.reserve(8);
    std::size_t b = 0;
    for (std::size_t i = 0; i <= in.size(); ++i) {
        if (i == in.size() || delims.find(in[i]) != sv::npos) {
            if (!words || i > b)
                parts.emplace_back(b, i);
            b = i + 1;
        }
    }
    long n = static_cast<long>(parts.size());
    long first, last;
    if (idx > 0) {
        first = idx - 1;
        last = count == 0 ? n - 1 : first + count - 1;
    } else {
        last = n + idx;
        first = count == 0 ? 0 : last - count + 1;
    }
    first = std::max(first, 0L);
    last = std::min(last, n - 1);
    if (first >= n || last < 0 || first > last)
        return false; // no such field: HAProxy drops the sample
    auto lo = parts[static_cast<std::size_t>(first)].first, hi = parts[static_cast<std::size_t>(last)].second;
    std::string& out = c.tmp();
    out.assign(in.substr(lo, hi - lo));
    set_str(s, out);
    return true;
}
bool c_field(eval_ctx& c, const compiled_conv& cv, sample& s)
{
    return split_pick(c, cv, s, false);
}
bool c_word(eval_ctx& c, const compiled_conv& cv, sample& s)
{
    return split_pick(c, cv, s, true);
}

// regsub(regex,subst[,flags]): flags "g" (every match), "i" (compiled in).
bool c_regsub(eval_ctx& c, const compiled_conv& cv, sample& s)
{
    sv in = as_text(c, s);
    std::string& out = c.tmp();
    if (cv.re->substitute(in, cv.str[1], cv.global, out) == rules::match_rc::error)
        ++c.regex_errors; // out is the input unchanged; a condition reading it fails closed
    set_str(s, out);
    return true;
}

// bytes(offset[,length])
bool c_bytes(eval_ctx& c, const compiled_conv& cv, sample& s)
{
    sv in = as_text(c, s);
    auto off = cv.num[0];
    auto len = cv.argc > 1 ? cv.num[1] : -1;
    if (off < 0 || static_cast<std::size_t>(off) > in.size()) {
        set_str(s, sv());
        return true;
    }
    sv out = in.substr(static_cast<std::size_t>(off), len < 0 ? sv::npos : static_cast<std::size_t>(len));
    s.type = s.type == smp_type::bin ? smp_type::bin : smp_type::str;
    s.str = out;
    return true;
}

bool c_djb2(eval_ctx& c, const compiled_conv&, sample& s)
{
    sv in = as_text(c, s);
    std::uint32_t h = 5381;
    for (unsigned char ch : in)
        h = h * 33 + ch;
    s.type = smp_type::integer;
    s.num = h;
    return true;
}

bool c_crc32(eval_ctx& c, const compiled_conv&, sample& s)
{
    sv in = as_text(c, s);
    std::uint32_t crc = 0xffffffff;
    for (unsigned char ch : in) {
        crc ^= ch;
        for (int k = 0; k < 8; ++k)
            crc = crc & 1 ? (crc >> 1) ^ 0xedb88320u : crc >> 1;
    }
    s.type = smp_type::integer;
    s.num = ~crc & 0xffffffffu;
    return true;
}

// regsub(regex,subst[,flags]): the regex compiled once, "i" into it, "g" kept.
std::string prep_regsub(compiled_conv& cv)
{
    bool icase = cv.argc > 2 && cv.str[2].find('i') != std::string::npos;
    auto re = rules::regex::compile(cv.str[0], icase);
    if (!re)
        return re.message();
    cv.re = std::move(*re);
    cv.global = cv.argc > 2 && cv.str[2].find('g') != std::string::npos;
    return {};
}

// field/word(index,delimiters[,count]): index and count read once.
std::string prep_field(compiled_conv& cv)
{
    auto idx = parse_int(cv.str[0], -1000000, 1000000);
    auto count = cv.argc > 2 ? parse_int(cv.str[2], 0, 1000000) : result<std::int64_t>(1);
    if (!idx || !count)
        return fmt::format("converter '{}': expected an index and a count, found '{}'", cv.row->name,
                           fmt::join(std::span(cv.str.data(), cv.argc), ","));
    cv.num[0] = *idx;
    cv.num[2] = *count;
    return {};
}

// url_dec([in_form]): any argument but "0" turns form decoding on.
std::string prep_url_dec(compiled_conv& cv)
{
    cv.num[0] = cv.argc > 0 && cv.str[0] != "0";
    return {};
}

using ca = conv_arg;
constexpr auto S = smp_type::str, I = smp_type::integer, B = smp_type::bin;

// ---- the converter rows ------------------------------------------------------------
// One row per converter: name, argument count and types (parsed at load),
// input and output types, its function and load-time preparation.
constexpr std::array conv_rows{
    // name        min max  argument types              in out fn         prepare       pending
    //   what it does
    conv_kw{"lower",   0, 0, {},                           S, S, c_lower,   nullptr,      {},
            "to lower case"},
    conv_kw{"upper",   0, 0, {},                           S, S, c_upper,   nullptr,      {},
            "to upper case"},
    conv_kw{"hex",     0, 0, {},                           S, S, c_hex,     nullptr,      {},
            "bytes as upper-case hex"},
    conv_kw{"url_dec", 0, 1, {ca::str},                    S, S, c_url_dec, prep_url_dec, {},
            "url_dec([IN_FORM]): %XX decoded; '+' a space in form mode"},
    conv_kw{"base64",  0, 0, {},                           S, S, c_base64,  nullptr,      {},
            "to base64"},
    conv_kw{"b64dec",  0, 0, {},                           S, B, c_b64dec,  nullptr,      {},
            "from base64 (a bad input drops the sample)"},
    conv_kw{"length",  0, 0, {},                           S, I, c_length,  nullptr,      {},
            "the length in bytes"},
    conv_kw{"field",   2, 3, {ca::str, ca::str, ca::str},  S, S, c_field,   prep_field,   {},
            "field(INDEX,DELIMS[,COUNT]): fields split at DELIMS"},
    conv_kw{"word",    2, 3, {ca::str, ca::str, ca::str},  S, S, c_word,    prep_field,   {},
            "word(INDEX,DELIMS[,COUNT]): like field, empty fields skipped"},
    conv_kw{"regsub",  2, 3, {ca::str, ca::str, ca::str},  S, S, c_regsub,  prep_regsub,  {},
            "regsub(REGEX,SUBST[,FLAGS]): regex substitution; flags g, i"},
    conv_kw{"bytes",   1, 2, {ca::integer, ca::integer},   S, S, c_bytes,   nullptr,      {},
            "bytes(OFFSET[,LENGTH]): a slice of the bytes"},
    conv_kw{"ipmask",  1, 2, {ca::str, ca::str},           smp_type::ip, smp_type::ip, nullptr, nullptr, L,
            "ipmask(MASK4[,MASK6]): the address masked"},
    conv_kw{"json",    0, 1, {ca::str},                    S, S, nullptr,   nullptr,      L,
            "json([ENCODING]): escaped for JSON"},
    conv_kw{"crc32",   0, 1, {ca::integer},                S, I, c_crc32,   nullptr,      {},
            "crc32([AVALANCHE]): CRC32 of the bytes"},
    conv_kw{"djb2",    0, 1, {ca::integer},                S, I, c_djb2,    nullptr,      {},
            "djb2([AVALANCHE]): DJB2 hash of the bytes"},
};

} // namespace

std::span<const conv_kw> converter_keywords() { return conv_rows; }

bool converter_built(std::string_view name)
{
    const conv_kw* c = find_converter(name);
    return c && c->fn;
}

result<compiled_conv> compile_conv(const sample_expr::conv& cv)
{
    const conv_kw* k = find_converter(cv.name);
    if (!k || !k->fn)
        return fail(fmt::format("converter '{}' is not built yet", cv.name));
    if (cv.args.size() < k->min_args || cv.args.size() > k->max_args)
        return fail(fmt::format("converter '{}' takes {} to {} arguments, found {}", cv.name, k->min_args,
                                k->max_args, cv.args.size()));
    compiled_conv cc;
    cc.fn = k->fn;
    cc.row = k;
    cc.argc = static_cast<std::uint8_t>(cv.args.size());
    for (std::size_t i = 0; i < cv.args.size(); ++i) {
        cc.str[i] = cv.args[i];
        if (k->args[i] == conv_arg::integer) {
            auto n = leading_int(cv.args[i]);
            if (!n)
                return fail(fmt::format("converter '{}': argument {} '{}' is not an integer", cv.name, i + 1,
                                        cv.args[i]));
            cc.num[i] = *n;
        }
    }
    if (k->prepare)
        if (auto e = k->prepare(cc); !e.empty())
            return fail(e);
    return cc;
}

} // namespace bulwark::proxy
