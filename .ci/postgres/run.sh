#!/usr/bin/env bash
# The PostgreSQL pass: a throwaway cluster started here (PostgreSQL from Debian's packages;
# about 2 s to initdb and start), the tests that take ARVALOX_TEST_DATABASE_URL run against
# it, and the cluster stopped and removed on exit. Extra arguments go to `cargo test`.
# So far: the PostgreSQL book's schema (tests/api/postgres_schema.rs) and migrate-db both ways
# (tests/api/postgres_transfer.rs); the whole
# suite joins as the PostgreSQL engine lands (issue 15).
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    apt-get update -qq && apt-get install -y -qq --no-upgrade postgresql >/dev/null
fi
source .ci/lib/postgres.sh
trap stop_postgres EXIT
start_postgres "${ARVALOX_TEST_PG_PORT:-55432}"
echo "PostgreSQL pass on $("$pg_bin/postgres" --version), cluster in $pg_dir"
ARVALOX_TEST_DATABASE_URL="$PG_URL" cargo test --locked --test api "$@" postgres
