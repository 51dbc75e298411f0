// SPDX-License-Identifier: Apache-2.0
#include "controlplane/diag.hpp"

#include <algorithm>
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

// Edit distance with adjacent transpositions ("tpc" is one step from "tcp").
std::size_t edit_distance(std::string_view a, std::string_view b)
{
    std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
    for (std::size_t i = 0; i <= a.size(); ++i)
        d[i][0] = i;
    for (std::size_t j = 0; j <= b.size(); ++j)
        d[0][j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i)
        for (std::size_t j = 1; j <= b.size(); ++j) {
            std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
        }
    return d[a.size()][b.size()];
}

} // namespace

std::string_view closest(std::string_view word, const std::vector<std::string_view>& candidates)
{
    // Long words tolerate more typos; a one-letter word matches nothing.
    std::size_t limit = word.size() <= 3 ? 1 : word.size() <= 8 ? 2 : 3;
    std::string_view best;
    std::size_t best_d = limit + 1;
    for (auto c : candidates) {
        // the distance is at least the difference in length: skip the work
        std::size_t gap = word.size() > c.size() ? word.size() - c.size() : c.size() - word.size();
        if (gap > limit)
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
