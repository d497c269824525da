#include "mbx/core/session.hpp"

#include "mbx/core/error.hpp"

namespace mbx {

void Session::throw_if_stopped() const {
    if (should_stop())
        throw Error(ErrorCategory::interrupted, "stopped on request",
                    "run the same command again (or with --resume RUN) to continue");
}

} // namespace mbx
