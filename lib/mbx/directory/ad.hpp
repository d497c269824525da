#pragma once
// Active Directory's own rules (Samba AD keeps them too), as far as mbxkit needs them: the
// userAccountControl flags, the unicodePwd value a password is set with, the sAMAccountName
// rule, and the filters that find users. Pure.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mbx::directory::ad {

/// userAccountControl flags ([MS-ADTS] 2.2.16).
inline constexpr std::uint32_t kAccountDisable = 0x2;
inline constexpr std::uint32_t kNormalAccount = 0x200;

/// The mail users a sweep or --all works on, as [ldap] user-filter's default on Active
/// Directory: people (not computers: their objectCategory is computer), not the system's own
/// accounts (Administrator, Guest, krbtgt: isCriticalSystemObject), with a mail address (not
/// service accounts), and not disabled (the ACCOUNTDISABLE bit, by the bitwise-AND matching rule
/// 1.2.840.113556.1.4.803).
inline constexpr std::string_view kUserFilter =
    "(&(objectCategory=person)(objectClass=user)(mail=*)(!(isCriticalSystemObject=TRUE))"
    "(!(userAccountControl:1.2.840.113556.1.4.803:=2)))";

/// One user found by login name on Active Directory (diagnose, quota check, reprovision): any
/// person's account, disabled or not, so that a disabled user is found and said to be disabled.
inline constexpr std::string_view kLookupFilter = "(&(objectCategory=person)(objectClass=user))";

/// userAccountControl as the directory writes it: a 32-bit integer, signed (flags with the top
/// bit come negative) or not; nullopt when it is not one.
std::optional<std::uint32_t> parse_account_control(std::string_view value);

/// userAccountControl as Active Directory writes it: decimal, signed 32-bit.
std::string account_control_text(std::uint32_t flags);

/// The unicodePwd value that sets `password` (UTF-8): the password in double quotes, in
/// UTF-16LE ([MS-ADTS] 3.1.1.3.1.5.1). Throws mbx::Error(config) when it is not valid UTF-8.
std::string unicode_pwd_value(std::string_view password);

/// Why `name` cannot be a sAMAccountName (at most 20 characters, none of "/\[]:;|=,+*?<>@,
/// no control character, not only dots and spaces, not ending in a dot), or nullopt.
std::optional<std::string> sam_account_name_problem(std::string_view name);

/// The mail address a proxyAddresses value holds: "SMTP:a@example.org" (the primary) and
/// "smtp:b@example.org" (an alias) give the address; other types (X500:, SIP:, X400:) and
/// values without a type give nullopt.
std::optional<std::string> proxy_smtp_address(std::string_view value);

/// The mail address `value` of `attribute` holds: proxy_smtp_address() for proxyAddresses, the
/// value itself for any other attribute.
std::optional<std::string> address_in(std::string_view attribute, std::string_view value);

} // namespace mbx::directory::ad
