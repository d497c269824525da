#pragma once
// Internal to mbx::imap: turns CURLcodes into mbx::Error. Not installed.

#include "mbx/core/error.hpp"

#include <string>

namespace mbx::imap::detail {

/// What was being done when libcurl failed, for the message.
struct CurlContext {
    std::string uri;
    std::string login; ///< "'alice'" or "'alice' (master user 'mbxadmin')"
    bool master = false;
    std::string detail;           ///< libcurl's error buffer, may be empty
    std::string section = "imap"; ///< the configuration section named in hints
};

/// The mbx::Error for CURLcode `code` while opening a connection: login refused -> auth,
/// certificate not trusted -> unavailable with a ca-file hint, unreadable CA file and bad URLs
/// -> config, everything network -> unavailable. No side effects.
Error curl_open_error(int code, const CurlContext& context);

} // namespace mbx::imap::detail
