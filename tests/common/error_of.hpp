#pragma once
// Catching mbx::Error in tests: shared by the unit and the integration test binaries.

#include "mbx/core/error.hpp"

#include <catch2/catch.hpp>

namespace mbx::test {

/// Runs `f` and returns the mbx::Error it throws; fails the current test if it throws none.
template <typename F> mbx::Error error_of(F&& f) {
    try {
        f();
    } catch (const mbx::Error& e) {
        return e;
    }
    FAIL("expected an mbx::Error");
    return mbx::Error(mbx::ErrorCategory::internal, "unreachable");
}

} // namespace mbx::test
