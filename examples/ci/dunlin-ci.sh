#!/usr/bin/env bash
# dunlin-ci.sh - the gate a policy repository runs on every change.
#
# Copy this file into your policy repository (e.g. as ci/dunlin-ci.sh).
# It runs, in order, and fails the job at the first failing gate:
#   1. dunlin fmt --check    every policy and test file is formatted
#   2. dunlin check --werror every policy checks without warnings
#   3. dunlin test           every *_test.dun passes
#   4. dunlin diff           each changed policy against the base branch's
#                            version, simulated on a ledger snapshot; the
#                            Markdown summary goes to $GITHUB_STEP_SUMMARY
#                            (or stdout) so a credit manager reviewing the
#                            change reads what it would send to whom.
#
# Run it from the repository's top folder (POLICY_DIR is relative to it).
#
# Settings (environment):
#   DUNLIN          the dunlin binary                (default: dunlin on PATH)
#   POLICY_DIR      where the policies live          (default: policies)
#   BASE_REF        what the change is compared with (default: origin/main)
#   DUNLIN_LEDGER   ledger snapshot for the diff     (no ledger: step 4 is skipped)
#   DIFF_FROM       first simulated day              (default: 30 days before DIFF_TO)
#   DIFF_TO         last simulated day               (default: today)
#   FAIL_ON_CHANGE  1 to fail the job when the diff shows any change (default: 0)
#   SUMMARY         where the Markdown goes          (default: $GITHUB_STEP_SUMMARY or stdout)
set -uo pipefail

DUNLIN=${DUNLIN:-dunlin}
POLICY_DIR=${POLICY_DIR:-policies}
BASE_REF=${BASE_REF:-origin/main}
DIFF_TO=${DIFF_TO:-$(date -u +%F)}
DIFF_FROM=${DIFF_FROM:-$(date -u -d "$DIFF_TO - 30 days" +%F)}
SUMMARY=${SUMMARY:-${GITHUB_STEP_SUMMARY:-/dev/stdout}}

step() { printf '\n== %s\n' "$*"; }
fail() { printf 'dunlin-ci: %s\n' "$*" >&2; exit 1; }

mapfile -t files < <(find "$POLICY_DIR" -name '*.dun' | sort)
[ "${#files[@]}" -gt 0 ] || fail "no .dun files under $POLICY_DIR"
policies=()
for f in "${files[@]}"; do
  case "$f" in *_test.dun) ;; *) policies+=("$f") ;; esac
done

step "format"
"$DUNLIN" fmt --check "${files[@]}" || fail "files are not formatted: run \`dunlin fmt\` on them"

step "check"
[ "${#policies[@]}" -gt 0 ] || fail "only test files under $POLICY_DIR: no policy to check"
"$DUNLIN" check --werror "${policies[@]}" || fail "policy check failed"

step "tests"
"$DUNLIN" test "$POLICY_DIR" || fail "policy tests failed"

step "diff against $BASE_REF"
if [ -z "${DUNLIN_LEDGER:-}" ]; then
  echo "DUNLIN_LEDGER is not set: no ledger to simulate on, diff skipped"
  exit 0
fi
[ -f "$DUNLIN_LEDGER" ] || fail "DUNLIN_LEDGER=$DUNLIN_LEDGER does not exist"
git rev-parse --verify -q "$BASE_REF^{commit}" >/dev/null || fail "BASE_REF=$BASE_REF is not a commit here (fetch it first)"
# The base branch's whole policy folder, so that a policy's imports resolve
# against the base versions of the files it imports.
old=$(mktemp -d)
trap 'rm -rf "$old"' EXIT
git archive --format=tar "$BASE_REF" -- "$POLICY_DIR" 2>/dev/null | tar -x -C "$old" 2>/dev/null
changed=0
compared=0
for f in "${policies[@]}"; do
  if [ ! -f "$old/$f" ]; then
    printf '### %s\n\nNew policy (not on %s): nothing to compare.\n\n' "$f" "$BASE_REF" >>"$SUMMARY"
    continue
  fi
  if cmp -s "$old/$f" "$f"; then continue; fi
  compared=$((compared + 1))
  printf '### %s\n\n' "$f" >>"$SUMMARY"
  "$DUNLIN" diff "$old/$f" "$f" --ledger "$DUNLIN_LEDGER" --from "$DIFF_FROM" --to "$DIFF_TO" \
    --format markdown >>"$SUMMARY"
  rc=$?
  [ "$rc" -eq 0 ] || fail "dunlin diff failed on $f (exit $rc)"
  # a second simulation only when its answer matters
  if [ "${FAIL_ON_CHANGE:-0}" = 1 ] &&
     ! "$DUNLIN" diff "$old/$f" "$f" --ledger "$DUNLIN_LEDGER" --from "$DIFF_FROM" \
       --to "$DIFF_TO" --fail-on-change >/dev/null; then
    changed=1
    echo "dunlin-ci: $f changes the actions"
  fi
  printf '\n' >>"$SUMMARY"
done
# policies the change deletes: what they sent stops, say so
while IFS= read -r f; do
  case "$f" in *_test.dun) continue ;; esac
  [ -f "$f" ] && continue
  printf '### %s\n\nRemoved policy: on %s, not in this change; its actions stop.\n\n' "$f" "$BASE_REF" >>"$SUMMARY"
done < <(cd "$old" && find "$POLICY_DIR" -name '*.dun' 2>/dev/null | sort)
if [ "$compared" -eq 0 ]; then
  printf 'No policy changed against %s.\n' "$BASE_REF" >>"$SUMMARY"
fi
if [ "$changed" -eq 1 ]; then
  fail "the change alters actions (FAIL_ON_CHANGE=1)"
fi
echo "dunlin-ci: all gates passed"
