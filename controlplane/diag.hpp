// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace bulwark::controlplane {

enum class severity { warning, alert };

// One message about a config file. text() reads
// "file:line: 'keyword': message", as HAProxy's "parsing [file:line]" does,
// so an operator can jump to the line.
struct diagnostic {
    severity sev;
    std::string file;
    int line = 0;          // 0: about the whole file
    std::string keyword;   // may be empty
    std::string message;

    std::string text() const;
};

// Collects every diagnostic of a load: the parser reports all errors of a
// file, never only the first.
class diagnostics {
public:
    void warn(std::string_view file, int line, std::string_view keyword, std::string message);
    void alert(std::string_view file, int line, std::string_view keyword, std::string message);

    const std::vector<diagnostic>& all() const { return list_; }
    std::size_t alerts() const { return alerts_; }
    std::size_t warnings() const { return list_.size() - alerts_; }
    bool failed() const { return alerts_ != 0; }

    // Orders messages by file (in the order files were first named) then
    // line, keeping the order of messages on one line.
    void sort_by_place();

private:
    std::vector<diagnostic> list_;
    std::size_t alerts_ = 0;
};

// "did you mean 'x'?" support: the closest candidate within a small edit
// distance, or empty.
std::string_view closest(std::string_view word, const std::vector<std::string_view>& candidates);

// "expected one of 'a', 'b', 'c' (did you mean 'b'?)"
std::string expected_one_of(std::string_view word, const std::vector<std::string_view>& candidates);

} // namespace bulwark::controlplane
