#!/usr/bin/env bash
# The main job end to end: install what is missing, build, create the demo
# ledger, and run a shipped policy on it, printing the day's actions.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DDUNLIN_WERROR=OFF >/dev/null
cmake --build build -j"$(nproc)" --target dunlin >/dev/null
AS_OF=${AS_OF:-2026-11-25}
mkdir -p out
rm -f out/demo.ledger out/demo.ledger-wal out/demo.ledger-shm
./build/dunlin ledger demo out/demo.ledger --customers 200 --seed 42 --today "$AS_OF"
./build/dunlin check policies/b2b_net30.dun
./build/dunlin run policies/b2b_net30.dun --ledger out/demo.ledger --as-of "$AS_OF" --format table
