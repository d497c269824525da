// The integration tests: real slapd and Dovecot from scripts/testenv, never mocks.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
