// SPDX-License-Identifier: Apache-2.0
// Boost's assertion handler, for builds with assertions (ASan, fuzz, tests;
// BOOST_ENABLE_ASSERT_DEBUG_HANDLER is set project-wide, so release builds
// have no Boost assertions at all). It aborts like assert() does, except
// for assertions Boost itself has since found wrong: aborting on those would
// let any client stop a debug bulwarkd.
#include <boost/assert.hpp>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

bool known_false(const char* expr, const char* function)
{
    // Beast 1.74's chunk parser asserts n >= 5 when it re-enters after a
    // last chunk "0\r\n" with fewer than 5 bytes ('0\r\n' then '\r', a
    // legal split). The code after it is right; Beast fixed the assert in
    // 1.86 (boostorg/beast#2861). Found by tests/fuzz/request_fuzz.
    return std::strcmp(expr, "n >= 5") == 0 && std::strstr(function, "parse_chunk_header");
}

} // namespace

namespace boost {

void assertion_failed(const char* expr, const char* function, const char* file, long line)
{
    if (known_false(expr, function))
        return;
    std::fprintf(stderr, "%s:%ld: %s: Assertion `%s' failed.\n", file, line, function, expr);
    std::abort();
}

void assertion_failed_msg(const char* expr, const char* msg, const char* function, const char* file, long line)
{
    if (known_false(expr, function))
        return;
    std::fprintf(stderr, "%s:%ld: %s: Assertion `%s' failed: %s\n", file, line, function, expr, msg);
    std::abort();
}

} // namespace boost
