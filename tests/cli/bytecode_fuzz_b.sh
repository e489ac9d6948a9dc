#!/usr/bin/env bash
# bytecode_fuzz.sh again with a second fixed seed: another 240 mutations,
# split off so that each script stays well under 30 s under ASan.
DUNLIN_FUZZ_SEED=${DUNLIN_FUZZ_SEED_B:-424242} exec bash "$(dirname "$0")/bytecode_fuzz.sh"
