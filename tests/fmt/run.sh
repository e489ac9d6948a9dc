#!/usr/bin/env bash
# `dunlin fmt` tests (docs/formatting.md).
#
# cases/NAME.dun is formatted and must give cases/NAME.expected byte for
# byte (written by hand from the rules; spec_example is LANGUAGE.md s.1,
# which must come out unchanged). For every case the expected text must be
# a fixed point (idempotence), --check must answer for both, and an
# in-place rewrite must produce the expected file, keep its mode and
# leave an already formatted file untouched. errors/NAME.dun have syntax
# errors: fmt prints NAME.stderr's lines, exits 1 and writes nothing.
# Last, every policy of policies/, examples/ and tests/golden/ must already
# be formatted.
set -u
: "${DUNLIN:?set DUNLIN to the dunlin binary}"
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
pass=0
failn=0

ok() { pass=$((pass + 1)); }
bad() { failn=$((failn + 1)); echo "FAIL: $*"; }
check() { if eval "$1"; then ok; else bad "$2"; fi; }

# ---- cases ----------------------------------------------------------------
for src in "$here"/cases/*.dun; do
  name=$(basename "$src" .dun)
  exp="$here/cases/$name.expected"
  [ -f "$exp" ] || { bad "$name: no $name.expected"; continue; }

  "$DUNLIN" fmt - <"$src" >"$work/out" 2>"$work/err"
  st=$?
  if [ $st -eq 0 ] && cmp -s "$work/out" "$exp"; then ok; else
    bad "$name: stdin output differs from $name.expected (exit $st)"
    diff "$work/out" "$exp" | head -20; head -5 "$work/err"
  fi

  "$DUNLIN" fmt - <"$exp" >"$work/out2" 2>/dev/null
  check "cmp -s '$work/out2' '$exp'" "$name: not idempotent (the expected text is not a fixed point)"

  # --check: 1 and the name when the file would change, 0 and silence if not.
  cp "$src" "$work/$name.dun"
  cp "$exp" "$work/${name}_done.dun"
  "$DUNLIN" fmt --check "$work/$name.dun" >"$work/out" 2>&1
  st=$?
  if cmp -s "$src" "$exp"; then
    check "[ $st -eq 0 ] && [ ! -s '$work/out' ]" "$name: --check on a formatted file"
  else
    check "[ $st -eq 1 ] && grep -qxF '$work/$name.dun' '$work/out'" "$name: --check should list the file and exit 1"
  fi
  check "cmp -s '$src' '$work/$name.dun'" "$name: --check wrote the file"
  "$DUNLIN" fmt --check "$work/${name}_done.dun" >"$work/out" 2>&1
  check "[ $? -eq 0 ] && [ ! -s '$work/out' ]" "$name: --check on the expected text"

  # In place: rewritten to the expected text with its mode kept.
  chmod 640 "$work/$name.dun"
  "$DUNLIN" fmt "$work/$name.dun" >"$work/out" 2>&1
  check "[ $? -eq 0 ] && cmp -s '$work/$name.dun' '$exp'" "$name: in-place rewrite"
  check "[ \"\$(stat -c %a '$work/$name.dun')\" = 640 ]" "$name: in-place rewrite changed the mode"
  # Already formatted: not rewritten (same inode; a rename would change it).
  inode=$(stat -c %i "$work/${name}_done.dun")
  "$DUNLIN" fmt "$work/${name}_done.dun" >/dev/null 2>&1
  check "[ \$? -eq 0 ] && [ \"\$(stat -c %i '$work/${name}_done.dun')\" = $inode ]" \
    "$name: a formatted file was rewritten"
done

# ---- syntax errors ----------------------------------------------------------
for src in "$here"/errors/*.dun; do
  name=$(basename "$src" .dun)
  cp "$src" "$work/e_$name.dun"
  "$DUNLIN" fmt "$work/e_$name.dun" >"$work/out" 2>"$work/err"
  check "[ $? -eq 1 ]" "$name: a syntax error must exit 1"
  check "cmp -s '$src' '$work/e_$name.dun'" "$name: a file with a syntax error was written"
  while IFS= read -r line; do
    check "grep -qF -- \"\$line\" '$work/err'" "$name: stderr lacks '$line'"
  done <"$here/errors/$name.stderr"
  "$DUNLIN" fmt - <"$src" >"$work/out" 2>"$work/err"
  check "[ $? -eq 1 ] && [ ! -s '$work/out' ]" "$name: stdin with a syntax error prints no text"
done

# One bad file does not stop the others; the worst status wins.
cp "$here/cases/messy.dun" "$work/good.dun"
cp "$here/errors/syntax.dun" "$work/bad.dun"
"$DUNLIN" fmt "$work/bad.dun" "$work/good.dun" >"$work/out" 2>"$work/err"
check "[ $? -eq 1 ] && cmp -s '$work/good.dun' '$here/cases/messy.expected'" \
  "a good file after a bad one is still formatted, exit 1"
check "grep -qF 'bad.dun:3:30: error[E0101]' '$work/err'" "the bad file's diagnostic names it"

# ---- command line -------------------------------------------------------------
"$DUNLIN" fmt >"$work/out" 2>"$work/err"
check "[ $? -eq 2 ] && grep -qF 'no files' '$work/err'" "no files is a usage error"
"$DUNLIN" fmt --nope "$work/good.dun" >"$work/out" 2>"$work/err"
check "[ $? -eq 2 ]" "an unknown option is a usage error"
"$DUNLIN" fmt - - </dev/null >"$work/out" 2>"$work/err"
check "[ $? -eq 2 ]" "stdin twice is a usage error"
"$DUNLIN" fmt --help >"$work/out" 2>&1
check "[ $? -eq 0 ] && grep -qF 'usage: dunlin fmt' '$work/out' && grep -qF -- '--check' '$work/out'" "--help"
"$DUNLIN" fmt "$work/missing.dun" >"$work/out" 2>"$work/err"
check "[ $? -eq 1 ] && grep -qF 'missing.dun' '$work/err'" "a missing file exits 1 and is named"
printf 'policy "p" version 1\0junk' >"$work/binary.dun"
"$DUNLIN" fmt "$work/binary.dun" >"$work/out" 2>"$work/err"
check "[ $? -eq 1 ] && grep -qF 'NUL byte' '$work/err'" "a binary file is refused"

# --check on stdin names <stdin>; nothing on stdout otherwise.
"$DUNLIN" fmt --check - <"$here/cases/messy.dun" >"$work/out" 2>&1
check "[ $? -eq 1 ] && grep -qxF '<stdin>' '$work/out'" "--check - on unformatted input"
"$DUNLIN" fmt --check - <"$here/cases/messy.expected" >"$work/out" 2>&1
check "[ $? -eq 0 ] && [ ! -s '$work/out' ]" "--check - on formatted input"

# --diff: a unified diff, nothing written, exit 1 when something changes.
cp "$here/cases/messy.dun" "$work/d.dun"
"$DUNLIN" fmt --diff "$work/d.dun" >"$work/out" 2>"$work/err"
check "[ $? -eq 1 ] && cmp -s '$work/d.dun' '$here/cases/messy.dun'" "--diff writes nothing, exits 1"
check "grep -qxF -- '--- $work/d.dun' '$work/out'" "--diff header"
check "grep -qxF -- '-let x = ( 1+2 )*-3' '$work/out' || grep -qxF -- '-    let x = ( 1+2 )*-3' '$work/out'" "--diff shows the old line"
check "grep -qxF -- '+let x     = (1 + 2) * -3' '$work/out'" "--diff shows the new line"
check "grep -q '^@@ -1,[0-9]* +1,[0-9]* @@$' '$work/out'" "--diff hunk header"
"$DUNLIN" fmt --diff "$here/cases/spec_example.dun" >"$work/out" 2>&1
check "[ $? -eq 0 ] && [ ! -s '$work/out' ]" "--diff on a formatted file prints nothing"

# The diff is a real one: patch(1) turns the file into the formatted text.
if command -v patch >/dev/null 2>&1; then
  for name in messy comments blank_lines; do
    cp "$here/cases/$name.dun" "$work/p_$name.dun"
    "$DUNLIN" fmt --diff "$work/p_$name.dun" >"$work/p.diff" 2>&1
    patch -s "$work/p_$name.dun" <"$work/p.diff" >/dev/null 2>&1
    check "cmp -s '$work/p_$name.dun' '$here/cases/$name.expected'" "$name: --diff applied with patch gives the formatted file"
  done
fi

# A symlink is followed: its target is rewritten, the link stays a link.
cp "$here/cases/messy.dun" "$work/target.dun"
ln -s "$work/target.dun" "$work/link.dun"
"$DUNLIN" fmt "$work/link.dun" >/dev/null 2>&1
check "[ -L '$work/link.dun' ] && cmp -s '$work/target.dun' '$here/cases/messy.expected'" "symlinks are followed"

# A directory stands for its *.dun files (recursively, hidden ones skipped).
mkdir -p "$work/tree/sub" "$work/tree/.hidden"
cp "$here/cases/messy.dun" "$work/tree/sub/a.dun"
cp "$here/cases/messy.expected" "$work/tree/b.dun"
cp "$here/cases/messy.dun" "$work/tree/.hidden/c.dun"
cp "$here/cases/messy.dun" "$work/tree/notes.txt"
"$DUNLIN" fmt --check "$work/tree" >"$work/out" 2>&1
check "[ $? -eq 1 ] && [ \"\$(cat '$work/out')\" = '$work/tree/sub/a.dun' ]" "--check DIR lists only its unformatted .dun files"
"$DUNLIN" fmt "$work/tree/" >"$work/out" 2>&1
check "[ $? -eq 0 ] && cmp -s '$work/tree/sub/a.dun' '$here/cases/messy.expected' && cmp -s '$work/tree/.hidden/c.dun' '$here/cases/messy.dun' && cmp -s '$work/tree/notes.txt' '$here/cases/messy.dun'" "fmt DIR rewrites its .dun files only"

# CRLF stays CRLF; a tab counts to the next multiple of 8 in the author's
# comment column (col 22 here); a comment without a final newline gets one.
printf 'policy "w" version 1\r\ncurrency\tUSD   # money\r\n\r\n\r\nlet a=1\r\n# end' >"$work/crlf.dun"
printf 'policy "w" version 1\r\ncurrency USD          # money\r\n\r\nlet a = 1\r\n# end\r\n' >"$work/crlf.expected"
"$DUNLIN" fmt - <"$work/crlf.dun" >"$work/out" 2>&1
check "cmp -s '$work/out' '$work/crlf.expected'" "CRLF line ends are kept"

# An empty file stays empty; a file of comments keeps them.
: >"$work/empty.dun"
"$DUNLIN" fmt --check "$work/empty.dun" >"$work/out" 2>&1
check "[ $? -eq 0 ]" "an empty file is formatted"

# ---- idempotence over every policy in the tree -----------------------------------
# (read through stdin only: tests/check/ keeps its layout, its expected
# diagnostics depend on columns)
idem=0
while IFS= read -r f; do
  "$DUNLIN" fmt - <"$root/$f" >"$work/i1" 2>/dev/null
  st=$?
  [ $st -eq 1 ] && continue # a syntax error case
  if [ $st -ne 0 ]; then bad "$f: exit $st"; continue; fi
  "$DUNLIN" fmt - <"$work/i1" >"$work/i2" 2>/dev/null
  if cmp -s "$work/i1" "$work/i2"; then idem=$((idem + 1)); else bad "$f: fmt is not idempotent"; fi
done < <(cd "$root" && find tests/check tests/policy_tests policies examples tests/golden -name '*.dun' 2>/dev/null | sort)
check "[ $idem -gt 50 ]" "idempotence ran over the tree's policies (only $idem)"

# ---- the repository's own policies are formatted --------------------------------
mapfile -t repo < <(cd "$root" && find policies examples tests/golden -name '*.dun' 2>/dev/null | sort)
if [ ${#repo[@]} -gt 0 ]; then
  (cd "$root" && "$DUNLIN" fmt --check "${repo[@]}") >"$work/out" 2>&1
  st=$?
  if [ $st -eq 0 ]; then ok; else
    bad "these files are not formatted (run dunlin fmt on them):"; cat "$work/out"
  fi
fi

echo "$pass passed, $failn failed"
[ "$failn" -eq 0 ]
