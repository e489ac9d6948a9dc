#!/usr/bin/env bash
# Dunlin as an outside system meets it, from the docs alone:
#  - outside_clients.py: a Python program driving `dunlin decide` as a
#    co-process and `dunlin serve` over HTTP (hand-worked answers, decide =
#    serve byte for byte, 16 parallel clients = sequential, hostile bodies,
#    chunked and 50 MB uploads, slow clients, tokens);
#  - outside_lib.c: a C program written from docs/library.md, built against
#    `cmake --install`ed files only (pkg-config, in a directory outside the
#    tree), run with LeakSanitizer: decides, threads, diagnostics, no leak;
#  - startup refusals an operator meets: token files, --listen, --allow-ffi
#    paths, templates with a typo or a missing language.
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || { echo "python3 is needed"; exit 1; }
POLICY="$SRC/policies/b2b_net30.dun"
BUILD=$(cd "$(dirname "$DUNLIN")" && pwd)

# --- 1. the Python client ------------------------------------------------
mkdir -p "$WORK/py"
python3 "$SRC/tests/cli/outside_clients.py" "$DUNLIN" "$SRC" "$WORK/py" >"$WORK/py.out" 2>&1
STATUS=$?
sed -n 's/^FAIL/py: FAIL/p' "$WORK/py.out"
line=$(tail -1 "$WORK/py.out")
case "$line" in
  *" passed, 0 failed") CHECKS=$((CHECKS + 1)) ;;
  *) CHECKS=$((CHECKS + 1)); FAILS=$((FAILS + 1)); echo "FAIL: outside_clients.py: $line"; tail -5 "$WORK/py.out" ;;
esac

# --- 2. a C program against the installed library only ----------------------
PREFIX="$WORK/prefix"
if cmake --install "$BUILD" --prefix "$PREFIX" >"$WORK/install.log" 2>&1; then
  PC=$(dirname "$(find "$PREFIX" -name dunlin.pc | head -1)")
  LIBDIR=$(dirname "$PC")
  mkdir -p "$WORK/app" && cp "$SRC/tests/cli/outside_lib.c" "$WORK/app/app.c"
  # LeakSanitizer sees the library's allocations too (it replaces malloc).
  SAN="-fsanitize=address,undefined"
  echo 'int main(void){return 0;}' >"$WORK/app/t.c"
  cc $SAN -o "$WORK/app/t" "$WORK/app/t.c" 2>/dev/null || SAN=""
  (cd "$WORK/app" && env -u CPATH -u C_INCLUDE_PATH cc -std=c11 -Wall -Wextra -Werror -g $SAN -o app app.c \
    $(PKG_CONFIG_PATH="$PC" pkg-config --cflags --libs dunlin) -lpthread) >"$WORK/cc.log" 2>&1
  STATUS=$?
  expect_status 0 "outside_lib.c builds against the installed prefix"
  [ "$STATUS" -eq 0 ] || cat "$WORK/cc.log"
  LD_LIBRARY_PATH="$LIBDIR" ASAN_OPTIONS=detect_leaks=1 "$WORK/app/app" "$POLICY" >"$WORK/out" 2>"$WORK/err"
  STATUS=$?
  expect_status 0 "outside_lib: every check passes and nothing leaks"
  expect_out " passed, 0 failed" "outside_lib reports its checks"
else
  CHECKS=$((CHECKS + 1)); FAILS=$((FAILS + 1)); echo "FAIL: cmake --install"; tail -5 "$WORK/install.log"
fi

# --- 3. startup refusals ---------------------------------------------------
L="$WORK/ledger.db"
"$DUNLIN" ledger init "$L" >/dev/null
refused() { timeout 20 "$DUNLIN" serve "$@" >"$WORK/out" 2>"$WORK/err"; STATUS=$?; }
: >"$WORK/empty"
refused "$POLICY" --ledger "$L" --listen 127.0.0.1:0 --token-file "$WORK/empty"
expect_status 1 "an empty token file"
expect_err "the token is empty" "says the token is empty"
printf '  \n' >"$WORK/blank"
refused "$POLICY" --ledger "$L" --listen 127.0.0.1:0 --token-file "$WORK/blank"
expect_status 1 "a token file of blanks"
refused "$POLICY" --ledger "$L" --listen 127.0.0.1:0 --token-file "$WORK/missing"
expect_status 1 "a missing token file"
expect_err "No such file" "says it is missing"
mkdir "$WORK/tokdir"
refused "$POLICY" --ledger "$L" --listen 127.0.0.1:0 --token-file "$WORK/tokdir"
expect_status 1 "a directory as token file"
expect_err "Is a directory" "says it is a directory (not 'empty')"
printf 'ab\0cd\n' >"$WORK/nul"
refused "$POLICY" --ledger "$L" --listen 127.0.0.1:0 --token-file "$WORK/nul"
expect_status 1 "a token with a NUL byte (it would be cut to 'ab')"
expect_err "control characters" "says why"
refused "$POLICY" --ledger "$L" --listen 0.0.0.0:0
expect_status 2 "0.0.0.0 without a token"
expect_err "without --token-file" "and says why"

# --allow-ffi: the example policy's library replaced by bad files
cp "$SRC/examples/ffi/risk.dun" "$WORK/risk.dun"
LIB="$WORK/libacme_risk.so"
REQ='{"as_of":"2026-03-16","customer":{"id":"C1"}}'
ffi_refused() {
  echo "$REQ" | timeout 20 "$DUNLIN" decide "$WORK/risk.dun" --allow-ffi "$LIB" >"$WORK/out" 2>"$WORK/err"
  STATUS=$?
  expect_status 1 "decide, $1"
  expect_err "E0313" "decide, $1: E0313"
  expect_eq "$(wc -c <"$WORK/out")" "0" "decide, $1: nothing on stdout"
  refused "$WORK/risk.dun" --ledger "$L" --listen 127.0.0.1:0 --allow-ffi "$LIB"
  expect_status 1 "serve, $1"
  expect_err "E0313" "serve, $1: E0313"
}
rm -rf "$LIB"; ffi_refused "a library that does not exist"
mkdir "$LIB"; ffi_refused "a directory"; rmdir "$LIB"
echo "not a library" >"$LIB"; ffi_refused "a text file"
cp "$DUNLIN_FFI_FIXTURE" "$LIB"; ffi_refused "a library without the symbol"
expect_err "has no function acme_risk" "names the missing function"

# templates: a typo, a language lacking a template, no en
cp -r "$SRC/templates" "$WORK/tpl"
sed -i 's/{{customer.name}}/{{custmer.name}}/' "$WORK/tpl/en/email-neutral.tmpl"
refused "$POLICY" --ledger "$L" --listen 127.0.0.1:0 --templates "$WORK/tpl"
expect_status 1 "a template with {{custmer.name}}"
expect_err "email-neutral.tmpl:3:" "points at the file and line"
expect_err "E0801" "E0801"
expect_err "did you mean \`customer.name\`" "with a did-you-mean"
rm -rf "$WORK/tpl" && cp -r "$SRC/templates" "$WORK/tpl" && rm "$WORK/tpl/fr/email-neutral.tmpl"
refused "$POLICY" --ledger "$L" --listen 127.0.0.1:0 --templates "$WORK/tpl"
expect_status 1 "fr lacks a template the policy uses"
expect_err "is missing in \`fr\`" "says which language lacks it"
rm -rf "$WORK/tpl" && cp -r "$SRC/templates" "$WORK/tpl" && rm -r "$WORK/tpl/en"
refused "$POLICY" --ledger "$L" --listen 127.0.0.1:0 --templates "$WORK/tpl"
expect_status 1 "no en directory"

finish
