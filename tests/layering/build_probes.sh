#!/usr/bin/env bash
# Builds the layering probes (tests/layering/CMakeLists.txt): the ops probe must build, and each
# of the others must fail because its header is not found. Prints each breach; exit 1 if any.
#   build_probes.sh CMAKE BUILD_DIR
set -uo pipefail
cmake="$1" build="$2"
status=0
if ! out=$("$cmake" --build "$build" --target layering_probe_ops 2>&1); then
  echo "layering_build: a tool source including mbx/ops/quota.hpp does not build:"; echo "$out" | tail -20
  status=1
fi
for area in directory imap http journal; do
  if out=$("$cmake" --build "$build" --target "layering_probe_$area" 2>&1); then
    echo "layering_build: a tool source including an mbx/$area header built (the library leaks past ops)"
    status=1
  elif ! grep -q "mbx/$area/[a-z_]*\.hpp: No such file or directory" <<<"$out"; then
    echo "layering_build: the mbx/$area probe failed, but not for want of the header:"; echo "$out" | tail -20
    status=1
  else
    echo "layering_build: mbx/$area is out of a tool's reach"
  fi
done
exit $status
