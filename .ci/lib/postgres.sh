# Sourced by CI and the benchmark: a throwaway PostgreSQL cluster in a temporary directory,
# on a private port, with no state left behind. PostgreSQL refuses to run as root, so the
# cluster belongs to the `postgres` user (Debian's package makes it) and runs through
# `runuser`; a non-root user runs it as itself.
#   start_postgres [PORT]   initdb + start (about 2 s); sets $pg_dir and $PG_URL
#                           (postgres://postgres@127.0.0.1:PORT/postgres)
#   stop_postgres           stops it and removes its directory
# PG_FSYNC=on keeps fsync on (the benchmark); PG_OPTIONS adds server options ("-c name=value").
pg_bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
pg_dir=""

as_pg() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start_postgres() {
    local port="${1:-55432}"
    pg_dir="$(mktemp -d)"
    if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$pg_dir"; fi
    as_pg "$pg_bin/initdb" -D "$pg_dir/data" -A trust -U postgres --no-sync -E UTF8 \
        --locale=C >"$pg_dir/initdb.log" 2>&1 || { cat "$pg_dir/initdb.log" >&2; return 1; }
    # fsync off by default: a test cluster is thrown away (the benchmark sets PG_FSYNC=on).
    as_pg "$pg_bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/log" -w start \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $pg_dir -c fsync=${PG_FSYNC:-off} -c max_connections=300 ${PG_OPTIONS:-}" \
        >/dev/null || { cat "$pg_dir/log" >&2; return 1; }
    PG_URL="postgres://postgres@127.0.0.1:$port/postgres"
}

stop_postgres() {
    if [ -n "$pg_dir" ]; then
        as_pg "$pg_bin/pg_ctl" -D "$pg_dir/data" -m fast -w stop >/dev/null 2>&1 || true
        rm -rf "$pg_dir"
        pg_dir=""
    fi
}
