#!/usr/bin/env bash
# The benchmark, in one command: bash bench/run.sh
# Builds the release binary, seeds fresh books (10k, 100k, 1M invoices), serves them on
# loopback with rate limits off, drives them with wrk and prints one table (also written
# to bench/results.md). Not part of the test run. BENCH_DURATION=3s for a quick pass.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v wrk >/dev/null; then
  if [ "$(id -u)" = 0 ]; then apt-get install -y wrk >/dev/null; else sudo apt-get install -y wrk >/dev/null; fi
fi
cargo build --release --quiet --bin arvalox --example bare_aging
exec python3 bench/bench.py "$@"
