// SPDX-License-Identifier: Apache-2.0
#define PCRE2_CODE_UNIT_WIDTH 8
#include "rules/regex.hpp"

#include <fmt/format.h>
#include <pcre2.h>

namespace bulwark::rules {

namespace {

pcre2_code* compile(std::string_view pattern, bool icase, std::string* err)
{
    int code = 0;
    PCRE2_SIZE offset = 0;
    pcre2_code* re = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                   icase ? PCRE2_CASELESS : 0, &code, &offset, nullptr);
    if (!re && err) {
        PCRE2_UCHAR buf[256];
        pcre2_get_error_message(code, buf, sizeof buf);
        *err = fmt::format("invalid regex '{}': {} at offset {}", pattern, reinterpret_cast<const char*>(buf),
                           static_cast<std::size_t>(offset));
    }
    return re;
}

} // namespace

std::string check_regex(std::string_view pattern, bool icase)
{
    std::string err;
    pcre2_code* re = compile(pattern, icase, &err);
    pcre2_code_free(re);
    return err;
}

int capture_count(std::string_view pattern)
{
    pcre2_code* re = compile(pattern, false, nullptr);
    if (!re)
        return 0;
    uint32_t n = 0;
    pcre2_pattern_info(re, PCRE2_INFO_CAPTURECOUNT, &n);
    pcre2_code_free(re);
    return static_cast<int>(n);
}

int max_backref(std::string_view r)
{
    int best = -1;
    for (std::size_t i = 0; i + 1 < r.size(); ++i) {
        if (r[i] != '\\')
            continue;
        if (r[i + 1] >= '0' && r[i + 1] <= '9')
            best = std::max(best, r[i + 1] - '0');
        ++i; // skip the escaped character, so "\\1" is not a reference
    }
    return best;
}

bool looks_unescaped(std::string_view p)
{
    if (p.find('\\') != std::string_view::npos)
        return false;
    for (std::string_view tell : {":s*", ":s+", "(s*)", "(s+)", ")s*", ")s+"})
        if (p.find(tell) != std::string_view::npos)
            return true;
    return false;
}

} // namespace bulwark::rules
