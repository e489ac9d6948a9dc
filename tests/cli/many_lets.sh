#!/usr/bin/env bash
# 100,000 `let`s: `dunlin check` must finish (exit 0 or 1) within 20 s.
# Name lookups are hashed (lang/names.c) and rendering stops after
# DN_DIAGS_SHOWN diagnostics; before that it took minutes.
. "$(dirname "$0")/lib.sh"
{
  printf 'policy "p" version 1\ncurrency USD\n'
  for i in $(seq 100000); do echo "let v$i = $i"; done
  echo 'segment all otherwise'
  echo 'escalation e for invoice in all { step 1 day: email tone friendly }'
} >"$WORK/lets.dun"
timeout 20 "$DUNLIN" check "$WORK/lets.dun" >"$WORK/out" 2>"$WORK/err"
STATUS=$?
CHECKS=$((CHECKS + 1)); [ "$STATUS" -le 1 ] || fail "check of 100,000 lets finishes in 20 s (124 = timeout)"
finish
