#!/usr/bin/env bash
# Instructions per request on the hot paths (valgrind's callgrind), in one command:
#   bash bench/callgrind.sh
# Builds the release binary, seeds (once, into BENCH_DIR) a fixed 100k-invoice book and
# prints a table for BENCHMARKS.md. Not part of the test run; takes a few minutes.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v valgrind >/dev/null; then
  if [ "$(id -u)" = 0 ]; then apt-get install -y valgrind >/dev/null; else sudo apt-get install -y valgrind >/dev/null; fi
fi
cargo build --release --quiet --bin arvalox
exec python3 bench/callgrind.py "$@"
