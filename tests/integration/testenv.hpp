#pragma once
// Access to the real servers started by scripts/testenv for the integration tests.
//
// ctest runs `scripts/testenv up BUILD/testenv` first (fixture "testenv") and passes
// TESTENV_FILE=BUILD/testenv/env to every test. To run the binary by hand:
//   scripts/testenv up /tmp/te && TESTENV_FILE=/tmp/te/env build/tests/integration/mbx_integration_tests

#include "../common/error_of.hpp"
#include "mbx/core/error.hpp"
#include "mbx/core/secret.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <string_view>

namespace mbx::testing {

/// The value of `key` (e.g. "TESTENV_LDAP_URI") in the file named by $TESTENV_FILE, read once
/// and cached. Fails the current test (never skips) when TESTENV_FILE is unset, the file is
/// missing, or the key is not in it, saying how to start the servers.
std::string testenv(std::string_view key);

/// The first line of the file at `path` (a password file written by scripts/testenv).
/// Fails the current test when the file cannot be read.
std::string read_secret_file(const std::string& path);

/// read_secret_file() wrapped as an mbx::Secret, for LdapConfig/ImapConfig.
mbx::Secret secret_from_file(const std::string& path);

/// Runs `scripts/testenv ARGS...` (e.g. "populate DIR --users 600 --messages 0") and fails the
/// current test when it exits non-zero. Arguments are passed through the shell unquoted:
/// tests only pass fixed words and testenv paths.
void run_testenv_script(const std::string& arguments);

using mbx::test::error_of;

/// A loopback port nobody listens on (an ephemeral port bound, then closed).
int closed_port();

/// A PEM file of a self-signed CA that signed nothing the servers use, made once per process
/// inside the testenv directory (so `scripts/testenv down` removes it).
std::string foreign_ca_file();

/// The certificate every sandbox server presents (slapd, Dovecot, nginx): TESTENV_DIR/tls/
/// server.pem, made by scripts/testenv (CN=localhost, SAN IP:127.0.0.1 and DNS:localhost).
std::string server_certificate_file();
/// Its private key (TESTENV_DIR/tls/server.key), for a test's own TLS server.
std::string server_key_file();

/// A date of certificate `pem_file` as `openssl x509 -noout OPTION -in FILE` prints it
/// (OPTION "-startdate" or "-enddate": "notAfter=Mar  1 12:00:00 2034 GMT"), independent of
/// mbxkit's own parser. Fails the current test when openssl fails or prints something else.
std::chrono::system_clock::time_point openssl_certificate_date(const std::string& pem_file, const std::string& option);

} // namespace mbx::testing
