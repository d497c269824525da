#!/usr/bin/env bash
# Shell completion (completion/CMakeLists.txt, scripts/gen-completion.py): the generated bash
# completion, sourced in a clean bash, completes commands, subcommands, options, --format values
# and file names as a user would get them; the zsh one parses and completes in a real zsh.
#   completion_test.sh SOURCE_DIR BUILD_DIR
set -uo pipefail
src=$1 build=$2
bin=$build/bin
source "$src/tests/tools/lib.sh"
bash_file=$build/completion/mbx.bash
zsh_file=$build/completion/_mbx
check "mbx.bash generated" test -s "$bash_file"
check "_mbx generated" test -s "$zsh_file"

# complete LINE: what bash completes at the end of LINE (words split at blanks; a trailing blank
# means a new, empty word), one a line, sorted.
complete() {
  local line=$1
  bash --norc --noprofile -c '
    source "$1"; line=$2
    read -ra COMP_WORDS <<<"$line"
    [[ $line == *" " ]] && COMP_WORDS+=("")
    COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
    COMP_LINE=$line; COMP_POINT=${#line}
    _mbx "${COMP_WORDS[0]}" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
    printf "%s\n" "${COMPREPLY[@]}" | sort' _ "$bash_file" "$line"
}
want() { # want LINE EXPECTED...: the completion is exactly EXPECTED
  local line=$1; shift
  local got; got=$(complete "$line" | tr '\n' ' ' | sed 's/ $//')
  check "bash '$line' -> '$*' (got '$got')" test "$got" = "$*"
}
includes() { # includes LINE WORD...: the completion contains each WORD
  local line=$1; shift
  local got; got=$(complete "$line")
  for w in "$@"; do check "bash '$line' offers $w" grep -qx -- "$w" <<<"$got"; done
}
excludes() {
  local line=$1; shift
  local got; got=$(complete "$line")
  for w in "$@"; do check "bash '$line' does not offer $w" bash -c '! grep -qx -- "$1" <<<"$2"' _ "$w" "$got"; done
}

want "mbx qu" quota
want "mbx quota sw" sweep
want "mbx quota sweep --for" --format
includes "mbx quota sweep --format " json csv table nagios prometheus
# "--format=js": bash splits it at "=" (COMP_WORDBREAKS); without that, the word is whole.
want "mbx quota sweep --format = js" json
want "mbx quota sweep --format = " csv json nagios prometheus table
want "mbx quota sweep --format=js" --format=json
want "mbx quota sweep --format js" json
want "mbx ping --format na" nagios
want "mbx help pi" ping
includes "mbx " audit diagnose explain journal merge ping quota reprovision help
includes "mbx journal " list show export undo
includes "mbx audit " server clients compat probe
# A subcommand is offered the options it takes (and the common ones), not its siblings'.
includes "mbx quota raise --" --to --by --dry-run --format --config --journal
excludes "mbx quota sweep --" --to --by
includes "mbx quota sweep --" --filter --shard --users-file --ldap-uri
# Options before the subcommand and their values are skipped when finding it.
want "mbx quota --config /etc/x.conf sw" sweep
want "mbx quota --format json sweep --sha" --shard
# The direct programs complete too.
want "mbx-quota sw" sweep
# File arguments complete file names.
mkdir -p "$work/files" && touch "$work/files/site.conf" "$work/files/users.txt"
for opt in --config --journal --users-file; do
  want "mbx quota sweep $opt $work/files/si" "$work/files/site.conf"
done
want "mbx reprovision --users-file $work/files/us" "$work/files/users.txt"
want "mbx reprovision alice --new-uid alice2 --password-file $work/files/us" "$work/files/users.txt"
# A value that is not a file (--shard K/N) completes nothing, not file names.
want "mbx quota sweep --shard $work/files/si"
# Every command of `mbx help` is completed, with every option its --help shows.
for c in $("$bin/mbx" help | sed -n '/^Commands:/,/^$/{s/^  \([a-z0-9-]*\) .*/\1/p}'); do
  includes "mbx ${c:0:3}" "$c"
  got=$(complete "mbx $c --")
  missing=$("$bin/mbx-$c" --help | grep -oE '^  (-[A-Za-z] \[ )?--[a-z0-9-]+' | grep -oE -- '--[a-z0-9-]+' |
    while read -r o; do grep -qx -- "$o" <<<"$got" || echo "$o"; done)
  check "bash 'mbx $c --' offers every option of 'mbx $c --help'${missing:+ (missing: $missing)}" test -z "$missing"
done

# zsh: the file parses, and completes in a real zsh (zpty drives an interactive one).
if command -v zsh >/dev/null; then
  check "zsh -n _mbx" zsh -n "$zsh_file"
  # zpty drives an interactive zsh: type LINE and a TAB, read what the line became.
  cat >"$work/drive.zsh" <<'ZSH'
zmodload zsh/zpty
zpty z "zsh -f -i"
zpty -w z "fpath=($1 \$fpath); autoload -Uz compinit; compinit -u -d $2/zcompdump; PS1='>'"
sleep 1
zpty -w -n z "$3"$'\t'
# What the line became, read until it shows what is expected ($4), for up to 20 s: a loaded
# machine is slower, not wrong.
all=""
integer i
for (( i = 0; i < 200; i++ )); do
  while zpty -rt z chunk 2>/dev/null; do all+=$chunk; done
  [[ $all == *"$4"* ]] && break
  sleep 0.1
done
print -r -- "$all"
ZSH
  zcomplete() { # LINE EXPECTED
    (cd "$work" && HOME=$work ZDOTDIR=$work timeout 40 zsh -f "$work/drive.zsh" "$build/completion" "$work" "$1" "$2" 2>&1)
  }
  zout=$(zcomplete "mbx quota sweep --format=js" "--format=json")
  check "zsh completes 'mbx quota sweep --format=js' to json" has "$zout" "--format=json"
  zout=$(zcomplete "mbx quota sw" "mbx quota sweep")
  check "zsh completes 'mbx quota sw' to sweep" has "$zout" "mbx quota sweep"
  zout=$(zcomplete "mbx repro" "mbx reprovision")
  check "zsh completes 'mbx repro' to reprovision" has "$zout" "mbx reprovision"
else
  fail "zsh is not installed (scripts/bootstrap installs it)"
fi
finish
