#!/usr/bin/env bash
# The PostgreSQL pass: a throwaway cluster started here (PostgreSQL from Debian's packages;
# about 2 s to initdb and start), the integration tests run against it, and the cluster
# stopped and removed on exit. Extra arguments go to `cargo test`.
#
# With ARVALOX_TEST_DATABASE_URL set, every TestApp keeps its book in a fresh database on
# the cluster (copied from a template migrated once), so the tests run unchanged on the
# PostgreSQL engine. The modules that already pass there are listed in
# .ci/postgres/passing.txt; the list grows as the engine's port completes (issue 15).
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    apt-get update -qq && apt-get install -y -qq --no-upgrade postgresql >/dev/null
fi
source .ci/lib/postgres.sh
trap stop_postgres EXIT
start_postgres "${ARVALOX_TEST_PG_PORT:-55432}"
echo "PostgreSQL pass on $("$pg_bin/postgres" --version), cluster in $pg_dir"
mapfile -t filters < <(grep -v '^\s*\(#\|$\)' .ci/postgres/passing.txt)
ARVALOX_TEST_DATABASE_URL="$PG_URL" cargo test --locked --test api "$@" -- "${filters[@]}"
