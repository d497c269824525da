#!/usr/bin/env bash
# Man pages (man/CMakeLists.txt, scripts/md2man.py): one per docs/commands page and per command of
# the command table, each renders without a groff warning, mbx-quota.1 reads as its page, and
# `cmake --install` puts them where man finds them. No server.
#   man_test.sh SOURCE_DIR BUILD_DIR
set -uo pipefail
src=$1 build=$2
bin=$build/bin
source "$src/tests/tools/lib.sh"
mandir=$build/man/man1

# Every docs/commands page has its man page, and so has every command of the command table.
for md in "$src"/docs/commands/*.md; do
  name=$(basename "$md" .md)
  check "docs/commands/$name.md has mbx-$name.1" test -s "$mandir/mbx-$name.1"
done
check "mbx.1 exists" test -s "$mandir/mbx.1"
commands=$("$bin/mbx" help | sed -n '/^Commands:/,/^$/{s/^  \([a-z0-9-]*\) .*/\1/p}')
check "mbx help lists commands" test -n "$commands"
for c in $commands; do
  check "command $c has mbx-$c.1" test -s "$mandir/mbx-$c.1"
  check "mbx.1 names mbx-$c(1)" grep -qF "\\fBmbx\\-$c\\fR(1)" "$mandir/mbx.1"
done

# Each renders with no warning at all (-ww), through groff and through man at 80 columns.
for page in "$mandir"/*.1; do
  warnings=$(groff -man -Tutf8 -ww -z "$page" 2>&1)
  check "$(basename "$page"): groff -ww has no warning${warnings:+ ($warnings)}" test -z "$warnings"
  warnings=$(MANWIDTH=80 man --warnings -l "$page" 2>&1 >/dev/null)
  check "$(basename "$page"): man --warnings has no warning${warnings:+ ($warnings)}" test -z "$warnings"
done

# mbx-quota.1 reads as docs/commands/quota.md: its sections and options, hyphens as typed.
text=$(MANWIDTH=80 man -l "$mandir/mbx-quota.1" 2>/dev/null | col -bx)
for needle in "NAME" "mbx-quota - mailboxes near or over their limits" "SYNOPSIS" "DESCRIPTION" \
  "WHAT SWEEP DOES" "EXIT CODES" "SEE ALSO" "--format table|csv|json|nagios|prometheus" \
  "--users-file FILE" "mbx-quota-cleanup(1)"; do
  check "mbx-quota.1 shows '$needle'" has "$text" "$needle"
done
check "mbx-quota.1 has OPTIONS" has "$text" "OPTIONS"
# The man pages are read in 80 columns: only the page's code blocks (verbatim, as in the
# Markdown) may be wider.
for md in "$src"/docs/commands/*.md; do
  name=$(basename "$md" .md)
  wide=$(MANWIDTH=80 man -l "$mandir/mbx-$name.1" 2>/dev/null | col -bx | LC_ALL=C.UTF-8 grep -E '^.{81,}' | sed 's/^ *//' |
    while IFS= read -r l; do grep -qF -- "$l" "$md" || echo "$l"; done)
  check "mbx-$name.1: no prose line wider than 80 columns${wide:+ ($wide)}" test -z "$wide"
done
# Roff specials in the source come out as typed (a leading dot, backslashes).
cat >"$work/specials.md" <<'MD'
# mbx specials — a test page

```
mbx specials [--opt VALUE]
```

.leading dot and 'leading quote stay text; a back\slash and `C:\path` too.

| a | b |
|---|---|
| `--x` | one \| two |
MD
python3 "$src/scripts/md2man.py" page "$work/specials.md" "$work/specials.1"
text=$(MANWIDTH=80 man -l "$work/specials.1" 2>/dev/null | col -bx)
warnings=$(groff -man -Tutf8 -ww -z "$work/specials.1" 2>&1)
check "specials page: no warning${warnings:+ ($warnings)}" test -z "$warnings"
for needle in ".leading dot and 'leading quote" 'back\slash' 'C:\path' '--x' 'one | two' '--opt VALUE'; do
  check "specials page shows '$needle'" has "$text" "$needle"
done

# Installed, man finds them (and the completion and programs are in place).
dest=$work/dest
if DESTDIR=$dest cmake --install "$build" >"$work/install.log" 2>&1; then ok "cmake --install"; else fail "cmake --install: $(tail -3 "$work/install.log")"; fi
prefix=$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$build/CMakeCache.txt")
root=$dest$prefix
found=$(man -w -M "$root/share/man" mbx-quota 2>&1)
check "man -w -M .../share/man mbx-quota finds it ($found)" test "$found" = "$root/share/man/man1/mbx-quota.1"
check "man -w finds mbx" test "$(man -w -M "$root/share/man" mbx 2>&1)" = "$root/share/man/man1/mbx.1"
check "bash completion installed" test -s "$root/share/bash-completion/completions/mbx"
check "zsh completion installed" test -s "$root/share/zsh/vendor-completions/_mbx"
for c in mbx $(printf 'mbx-%s ' $commands); do
  check "bin/$c installed" test -x "$root/bin/$c"
done
run "installed mbx runs its installed mbx-quota" 0 "$root/bin/mbx" quota --version && ok "installed mbx quota --version"
finish
