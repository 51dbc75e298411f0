// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace bulwark {

// The error half of result<T>: a message meant for an operator.
struct error {
    std::string message;
};

// A small std::expected: g++ 12 in C++20 has none. controlplane/, rules/ and
// tools/ return this instead of throwing across modules.
template <class T>
class [[nodiscard]] result {
public:
    result(T value) : v_(std::in_place_index<0>, std::move(value)) {}
    result(error e) : v_(std::in_place_index<1>, std::move(e)) {}

    bool ok() const noexcept { return v_.index() == 0; }
    explicit operator bool() const noexcept { return ok(); }

    T& value() & { return std::get<0>(v_); }
    const T& value() const& { return std::get<0>(v_); }
    T&& value() && { return std::get<0>(std::move(v_)); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }

    const std::string& message() const { return std::get<1>(v_).message; }

private:
    std::variant<T, error> v_;
};

inline error fail(std::string message) { return error{std::move(message)}; }

} // namespace bulwark
