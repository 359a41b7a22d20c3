# Sourced by the CI scripts that test the release binary over HTTP: a seeded book in a
# temporary directory, removed (and its server stopped) on exit.
#   seed_book CUSTOMERS INVOICES         sets $work, $db and $bin ($ARVALOX_BIN, or the release
#                                        binary)
#   serve_book [SERVE FLAGS...]          serves $db on a free port, sets $base once /ready answers
#   no_panic                             fails when the server logged a panic
bin="${ARVALOX_BIN:-$(pwd)/target/release/arvalox}"
work="$(mktemp -d)"
db="$work/ar.db"
pid=""
# The server is waited for before its directory goes: stopping, it still checkpoints and
# removes its WAL, and a removal racing that fails ("Directory not empty"), which under
# `set -e` fails the script that passed.
stop_and_clean() {
    if [ -n "$pid" ]; then
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap stop_and_clean EXIT

seed_book() {
    "$bin" seed-demo --db "$db" --customers "$1" --invoices "$2" >/dev/null 2>&1
}

serve_book() {
    local port
    port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    "$bin" serve --db "$db" --bind "127.0.0.1:$port" "$@" >"$work/serve.out" 2>"$work/serve.log" &
    pid=$!
    base="http://127.0.0.1:$port"
    for _ in $(seq 100); do curl -fs "$base/ready" >/dev/null && break; sleep 0.1; done
}

no_panic() {
    if grep -n "panicked" "$work/serve.log"; then
        echo "the server panicked (above)" >&2
        return 1
    fi
}
