#!/usr/bin/env bash
# The hidden `mbx-COMMAND --list-options` (lib/mbx/cli/tool.cpp), which the shell completion is
# generated from, agrees with the tool's real options: exactly the options --help shows (long
# and short), the formats --format accepts, the subcommands the tool dispatches to. No server.
#   list_options_test.sh BINDIR
set -uo pipefail
bin=$1
source "$(dirname "$0")/../tools/lib.sh"
commands=$("$bin/mbx" help | sed -n '/^Commands:/,/^$/{s/^  \([a-z0-9-]*\) .*/\1/p}')
check "mbx help lists commands" test -n "$commands"
for c in $commands; do
  tool=$bin/mbx-$c
  run "mbx-$c --list-options" 0 "$tool" --list-options || continue
  listing=$out
  run "mbx-$c --help" 0 "$tool" --help || continue
  help=$out
  check "mbx-$c: --help does not show the hidden --list-options" bash -c '! grep -q -- --list-options <<<"$1"' _ "$help"
  check "mbx-$c: listing names the command" has "$listing" "command	$c	"
  # Long options: the option lines of --help ("  -h [ --help ]", "  --config FILE").
  help_long=$(grep -oE '^  (-[A-Za-z] \[ )?--[a-z0-9-]+' <<<"$help" | grep -oE -- '--[a-z0-9-]+' | sort -u)
  list_long=$(awk -F'\t' '$1 == "option" { print $2 }' <<<"$listing" | sort -u)
  check "mbx-$c: the listing's long options are --help's$(diff <(echo "$help_long") <(echo "$list_long") | grep '^[<>]' | tr '\n' ' ' | sed 's/^./ (&/;s/ $/)/')" \
    test "$help_long" = "$list_long"
  help_short=$(grep -oE '^  -[A-Za-z] \[ --[a-z0-9-]+' <<<"$help" | awk '{ print $1, $3 }' | sort -u)
  list_short=$(awk -F'\t' '$1 == "option" && $3 != "" { print $3, $2 }' <<<"$listing" | sort -u)
  check "mbx-$c: the listing's short options are --help's" test "$help_short" = "$list_short"
  # Formats: the listing's are those --help shows for --format and the tool accepts.
  formats=$(awk -F'\t' '$1 == "format" { print $2 }' <<<"$listing" | paste -sd'|')
  check "mbx-$c: --help shows --format $formats" has "$help" "--format $formats"
  for f in ${formats//|/ }; do
    run "mbx-$c --format $f is not a usage error" 0 "$tool" --format "$f" --help
  done
  # Subcommands: each one listed is one the tool dispatches to (an unknown one is refused, 64,
  # naming the real ones); the options a subcommand takes are options of the tool.
  subs=$(awk -F'\t' '$1 == "subcommand" { print $2 }' <<<"$listing")
  if [ -n "$subs" ]; then
    run "mbx-$c nosuchsub is refused" 64 "$tool" nosuchsub
    check "mbx-$c: the refusal names the listed subcommands ($(tr '\n' ' ' <<<"$subs"))" has "$err" "use $(paste -sd, <<<"$subs" | sed 's/,/, /g')"
    for o in $(awk -F'\t' '$1 == "subcommand" { print $3 }' <<<"$listing"); do
      check "mbx-$c: subcommand option $o is an option" grep -qx -- "$o" <<<"$list_long"
    done
  fi
done
finish
