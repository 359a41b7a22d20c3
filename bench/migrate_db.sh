#!/usr/bin/env bash
# Moving a seeded book between the engines, timed: bash bench/migrate_db.sh [INVOICES]
# Seeds a SQLite book (default 100,000 invoices over 2,000 customers), starts a throwaway
# PostgreSQL cluster (.ci/lib/postgres.sh; fsync on, as a real server has it), runs
# `arvalox migrate-db` to PostgreSQL and back to a new file, and prints what each printed
# with its wall-clock time. ARVALOX_BIN picks the binary (default: the release build).
set -euo pipefail
cd "$(dirname "$0")/.."
invoices="${1:-100000}"
bin="${ARVALOX_BIN:-$(pwd)/target/release/arvalox}"
if [ -z "${ARVALOX_BIN:-}" ]; then cargo build --release --quiet --bin arvalox; fi

source .ci/lib/postgres.sh
work="$(mktemp -d)"
trap 'stop_postgres; rm -rf "$work"' EXIT
PG_FSYNC=on start_postgres "${BENCH_PG_PORT:-55450}"
psql -q "$PG_URL" -c "CREATE DATABASE book" >/dev/null
url="${PG_URL%/postgres}/book"

echo "seeding $invoices invoices"
"$bin" seed-demo --db "$work/ar.db" --customers 2000 --invoices "$invoices" --seed 7 >/dev/null 2>&1
ls -l "$work/ar.db" | awk '{printf "SQLite book: %.0f MB\n", $5 / 1048576}'
echo
echo "\$ arvalox migrate-db --from ar.db --to $url"
/usr/bin/time -f "(%e s wall, %M KB peak memory)" "$bin" migrate-db --from "$work/ar.db" --to "$url"
echo
echo "\$ arvalox migrate-db --from $url --to back.db"
/usr/bin/time -f "(%e s wall, %M KB peak memory)" "$bin" migrate-db --from "$url" --to "$work/back.db"
