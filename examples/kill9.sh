#!/usr/bin/env bash
# kill -9 under write load, many times: every acknowledged payment must be there after each
# restart, and the book must pass `arvalox doctor` at the end. The normal test run does 10
# cycles; this runs 100 (or the number given) against a release build.
set -euo pipefail
cd "$(dirname "$0")/.."
KILL9_CYCLES="${1:-100}" cargo test --release --test api crashes -- --nocapture
