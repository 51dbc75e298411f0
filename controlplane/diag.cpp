// SPDX-License-Identifier: Apache-2.0
#include "controlplane/diag.hpp"

#include <algorithm>
#include <array>
#include <fmt/format.h>

namespace bulwark::controlplane {

std::string diagnostic::text() const
{
    std::string where = line > 0 ? fmt::format("{}:{}", file, line) : file;
    if (keyword.empty())
        return fmt::format("{}: {}", where, message);
    return fmt::format("{}: '{}': {}", where, keyword, message);
}

void diagnostics::warn(std::string_view file, int line, std::string_view keyword, std::string message)
{
    list_.push_back({severity::warning, std::string(file), line, std::string(keyword), std::move(message)});
}

void diagnostics::alert(std::string_view file, int line, std::string_view keyword, std::string message)
{
    list_.push_back({severity::alert, std::string(file), line, std::string(keyword), std::move(message)});
    ++alerts_;
}

void diagnostics::sort_by_place()
{
    std::vector<std::string> order;
    auto rank = [&](const std::string& f) {
        auto it = std::find(order.begin(), order.end(), f);
        return static_cast<std::size_t>(it - order.begin());
    };
    for (const auto& d : list_)
        if (std::find(order.begin(), order.end(), d.file) == order.end())
            order.push_back(d.file);
    std::stable_sort(list_.begin(), list_.end(), [&](const diagnostic& a, const diagnostic& b) {
        auto ra = rank(a.file), rb = rank(b.file);
        return ra != rb ? ra < rb : a.line < b.line;
    });
}

namespace {

constexpr std::size_t max_suggest_len = 64; // longer words get no suggestion

// Edit distance with adjacent transpositions ("tpc" is one step from "tcp"),
// on three rolling rows: no allocation. Both words are at most
// max_suggest_len long.
std::size_t edit_distance(std::string_view a, std::string_view b)
{
    std::array<std::size_t, max_suggest_len + 1> r0{}, r1{}, r2{}; // rows i-2, i-1, i
    for (std::size_t j = 0; j <= b.size(); ++j)
        r1[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        r2[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            r2[j] = std::min({r1[j] + 1, r2[j - 1] + 1, r1[j - 1] + cost});
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                r2[j] = std::min(r2[j], r0[j - 2] + 1);
        }
        r0 = r1;
        r1 = r2;
    }
    return r1[b.size()];
}

} // namespace

std::string_view closest(std::string_view word, const std::vector<std::string_view>& candidates)
{
    // Long words tolerate more typos; a one-letter word matches nothing.
    if (word.size() > max_suggest_len)
        return {};
    std::size_t limit = word.size() <= 3 ? 1 : word.size() <= 8 ? 2 : 3;
    std::string_view best;
    std::size_t best_d = limit + 1;
    for (auto c : candidates) {
        // the distance is at least the difference in length: skip the work
        std::size_t gap = word.size() > c.size() ? word.size() - c.size() : c.size() - word.size();
        if (gap > limit || c.size() > max_suggest_len)
            continue;
        std::size_t d = edit_distance(word, c);
        if (d < best_d) {
            best_d = d;
            best = c;
        }
    }
    return best;
}

std::string expected_one_of(std::string_view word, const std::vector<std::string_view>& candidates)
{
    std::string out = "expected one of ";
    for (std::size_t i = 0; i < candidates.size(); ++i)
        out += fmt::format("{}'{}'", i ? ", " : "", candidates[i]);
    auto best = closest(word, candidates);
    if (!best.empty())
        out += fmt::format(" (did you mean '{}'?)", best);
    return out;
}

} // namespace bulwark::controlplane
