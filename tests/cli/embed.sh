#!/usr/bin/env bash
# examples/embed against an installed libdunlin: `cmake --install` to a
# temporary prefix, build the example with only the installed header,
# library and dunlin.pc (PKG_CONFIG_PATH), run it, shared and static.
#
# Expected by hand from policies/b2b_net30.dun: INV-1 (2,500.00 USD, due
# 2026-03-02) is 8 days past due on 2026-03-10, so the latest step is
# `7 days` (email + sms, tone neutral); -3d and 1d were never emitted and
# are recorded skipped. Northwind is `standard` (not strategic, overdue
# 2,500 < 50,000, no payment history, no risk score) and under its credit
# limit (no hold). The cap `1 per 3 days` admits one of the two contacts:
# same priority (none) and tone, so the channel order email before sms
# decides: the sms is deferred. 09:00 New York on 2026-03-10 (a Tuesday,
# daylight time since 03-08) is -04:00.
. "$(dirname "$0")/lib.sh"
BUILD=$(cd "$(dirname "$DUNLIN")" && pwd)
PREFIX="$WORK/prefix"

cmake --install "$BUILD" --prefix "$PREFIX" >"$WORK/install.log" 2>&1
STATUS=$?
expect_status 0 "cmake --install to a temporary prefix"
PC=$(find "$PREFIX" -name dunlin.pc | head -1)
LIBDIR=$(dirname "$(dirname "$PC")")
expect_eq "$([ -f "$PREFIX/include/dunlin.h" ] && echo yes)" "yes" "the header is installed"
expect_eq "$([ -f "$LIBDIR/libdunlin.a" ] && echo yes)" "yes" "the static library is installed"
expect_eq "$(readelf -d "$LIBDIR/libdunlin.so" 2>/dev/null | sed -n 's/.*soname: \[\(.*\)\]/\1/p')" "libdunlin.so.0" "SONAME"
expect_eq "$(nm -D --defined-only "$LIBDIR/libdunlin.so" | awk '$2 ~ /^[TDBR]$/ && $3 !~ /^dunlin_/' | wc -l)" "0" \
  "the shared library exports only dunlin_* symbols"
expect_eq "$(PKG_CONFIG_PATH="$(dirname "$PC")" pkg-config --modversion dunlin)" "0.1.0" "pkg-config finds it"

# A sanitizer build's library needs the sanitizer runtime in the program.
EXTRA=""
if readelf -d "$LIBDIR/libdunlin.so" | grep -q libasan; then EXTRA="-fsanitize=address,undefined"; fi
if nm "$LIBDIR/libdunlin.a" 2>/dev/null | grep -q __asan_; then EXTRA="-fsanitize=address,undefined"; fi

cat >"$WORK/expected" <<'OUT'
email -3d skipped tone=friendly template=upcoming-due at=2026-03-10T09:00:00-04:00 invoices=INV-1
email 1d skipped tone=friendly template=email-friendly at=2026-03-10T09:00:00-04:00 invoices=INV-1
email 7d scheduled tone=neutral template=email-neutral at=2026-03-10T09:00:00-04:00 invoices=INV-1
sms 7d deferred tone=neutral template=sms-neutral at=2026-03-10T09:00:00-04:00 invoices=INV-1
OUT

for mode in shared static; do
  rm -rf "$WORK/embed"
  cp -r "$SRC/examples/embed" "$WORK/embed"
  rm -f "$WORK/embed/embed"
  STATIC=0
  [ "$mode" = static ] && STATIC=1
  PKG_CONFIG_PATH="$(dirname "$PC")" make -C "$WORK/embed" STATIC=$STATIC CFLAGS="-O0 -g $EXTRA" \
    LDFLAGS="$EXTRA" >"$WORK/make.log" 2>&1
  STATUS=$?
  expect_status 0 "the example builds ($mode) with pkg-config"
  [ "$STATUS" -eq 0 ] || cat "$WORK/make.log"
  (cd "$WORK/embed" && LD_LIBRARY_PATH="$LIBDIR" ./embed "$SRC/policies/b2b_net30.dun") >"$WORK/out" 2>"$WORK/err"
  STATUS=$?
  expect_status 0 "the example runs ($mode)"
  expect_eq "$(head -1 "$WORK/out")" "libdunlin 0.1.0, policy b2b-net30 version 1" "header line ($mode)"
  expect_eq "$(tail -n +2 "$WORK/out" | sort)" "$(cat "$WORK/expected")" "the actions worked out by hand ($mode)"
done
if [ "$STATIC" = 1 ]; then
  expect_eq "$(ldd "$WORK/embed/embed" | grep -c libdunlin)" "0" "the static build does not need libdunlin.so"
fi

# A policy that does not load: the diagnostics come from the library.
printf 'policy "x" version 1\ncurrency USD\nsegment a when customer.total_open > 5\n' >"$WORK/bad.dun"
(cd "$WORK/embed" && ./embed "$WORK/bad.dun") >"$WORK/out" 2>"$WORK/err"
STATUS=$?
expect_status 1 "a bad policy: the example reports it"
expect_err "bad.dun:3:" "with the file and line"
expect_err "error[E0203]" "and the code"
finish
