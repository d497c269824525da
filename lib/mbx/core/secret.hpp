#pragma once
// Secrets: passwords and API keys. They come only from a file that only its owner can read,
// an environment variable, or an interactive prompt; never from argv. A Secret cannot be
// printed or formatted by accident (no operator<<, no implicit conversion) and wipes its
// memory when destroyed.

#include "mbx/core/config.hpp"

#include <filesystem>
#include <string>
#include <string_view>

namespace mbx {

class Secret {
public:
    Secret() = default;
    explicit Secret(std::string value) : value_(std::move(value)) {}
    Secret(const Secret&) = default;
    Secret& operator=(const Secret&) = default;
    Secret(Secret&& other) noexcept;
    Secret& operator=(Secret&& other) noexcept;
    ~Secret();

    /// The secret itself, for handing to a library call (ldap bind, curl). Do not log it.
    const std::string& reveal() const { return value_; }
    bool empty() const { return value_.empty(); }

private:
    void wipe() noexcept;
    std::string value_;
};

/// Throws Error(config) "WHAT 'PATH' is readable or writable by group or others (mode 0644)"
/// with the chmod that fixes it when `mode` (a st_mode) gives group or others any access. The
/// one rule for files that hold secrets: password files, API keys, TLS private keys. Pure.
void require_owner_only(const std::string& path, unsigned mode, std::string_view what);

/// Turns core dumps off for this process (RLIMIT_CORE 0) and makes it not dumpable
/// (PR_SET_DUMPABLE 0): called whenever a secret is loaded. Never fails.
void keep_secrets_out_of_core_dumps() noexcept;

/// Reads a secret from `path`: the first line, without its line ending. Refuses a file that
/// group or others can read or write (Error(config) with the chmod that fixes it), a missing
/// or unreadable file (Error(config)), and an empty secret (Error(config)).
Secret read_secret_file(const std::filesystem::path& path);

/// What one secret is called and where it may come from.
struct SecretSource {
    std::string_view section;      ///< "imap"
    std::string_view file_setting; ///< "master-password-file" (a key of `section`)
    std::string_view env_var;      ///< "MBX_IMAP_MASTER_PASSWORD"
    std::string_view description;  ///< "IMAP master password", for the prompt and errors
};

/// Resolves a secret. Precedence follows the configuration's (flag > environment > file):
/// a password-file given as a flag wins over the environment variable, which wins over a
/// password-file from the configuration file. With neither, prompts on the terminal (echo
/// off) when `interactive` and stdin is a terminal; otherwise Error(config) naming the ways
/// to provide it.
Secret resolve_secret(const config::Config& cfg, const SecretSource& source, bool interactive);

} // namespace mbx
