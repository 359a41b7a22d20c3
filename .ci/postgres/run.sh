#!/usr/bin/env bash
# The PostgreSQL pass: a throwaway cluster started here (PostgreSQL from Debian's packages;
# about 2 s to initdb and start), the integration tests run against it, and the cluster
# stopped and removed on exit. Extra arguments go to `cargo test`.
#
# With ARVALOX_TEST_DATABASE_URL set, every TestApp keeps its book in a fresh database on
# the cluster (copied from a template migrated once), so the tests run unchanged on the
# PostgreSQL engine. The modules that already pass there are listed in
# .ci/postgres/passing.txt; the list grows as the engine's port completes (issue 15). Then
# tests/api/postgres_statements.rs reads pg_stat_statements: a statement on a tenant table
# that does not name its organization (which Citus needs to route it) fails the pass.
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    apt-get update -qq && apt-get install -y -qq --no-upgrade postgresql >/dev/null
fi
source .ci/lib/postgres.sh
trap stop_postgres EXIT
# pg_stat_statements records every statement the pass makes the server run, for the
# Citus check at the end.
PG_OPTIONS="-c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.max=100000" \
    start_postgres "${ARVALOX_TEST_PG_PORT:-55432}"
echo "PostgreSQL pass on $("$pg_bin/postgres" --version), cluster in $pg_dir"
mapfile -t filters < <(grep -v '^\s*\(#\|$\)' .ci/postgres/passing.txt)
ARVALOX_TEST_DATABASE_URL="$PG_URL" cargo test --locked --test api "$@" -- "${filters[@]}"
# Last, on what the pass left: every statement on a tenant table names its organization.
ARVALOX_TEST_DATABASE_URL="$PG_URL" cargo test --locked --test api "$@" -- --ignored \
    postgres_statements::every_statement_on_a_tenant_table_names_its_organization
