#!/usr/bin/env bash
# CTest fixture `testenv_sogo`: a sandbox with the ActiveSync stack (scripts/testenv up DIR
# --with-sogo), for tests that talk to a real SOGo.
#
#   tests/integration/testenv_sogo.sh up DIR     (FIXTURES_SETUP)
#   tests/integration/testenv_sogo.sh down DIR   (FIXTURES_CLEANUP)
#
# Outside CI, a machine without the SOGo packages (scripts/bootstrap not re-run) gets a note
# and no sandbox: the tests that need it then skip (exit 77). With CI=true that is a failure,
# and so is any server that does not start, everywhere: never a skip.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
TESTENV="$ROOT/scripts/testenv"
[ $# -eq 2 ] || { echo "usage: $0 up|down DIR" >&2; exit 64; }
cmd="$1" dir="$2"

case "$cmd" in
  up)
    # a DIR left over from an interrupted run (no cleanup happened): take it down first
    if [ -e "$dir/.mbxkit-testenv" ]; then "$TESTENV" down "$dir"; fi
    missing=""
    for f in /usr/sbin/sogod /usr/lib/GNUstep/SOGo/ActiveSync.SOGo /usr/bin/memcached \
      /usr/sbin/nginx /usr/bin/wbxml2xml; do
      [ -e "$f" ] || missing="$missing $f"
    done
    ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || missing="$missing postgres"
    if [ -n "$missing" ]; then
      if [ "${CI:-}" = true ]; then
        echo "testenv_sogo: error: CI=true and the SOGo stack is not installed:$missing (scripts/bootstrap)" >&2
        exit 1
      fi
      echo "testenv_sogo: SOGo stack not installed:$missing -- no sandbox; its tests will skip (run scripts/bootstrap)" >&2
      exit 0
    fi
    exec "$TESTENV" up "$dir" --with-sogo
    ;;
  down)
    exec "$TESTENV" down "$dir"
    ;;
  *) echo "usage: $0 up|down DIR" >&2; exit 64 ;;
esac
