#!/usr/bin/env bash
# The console in a real browser (Debian's chromium driven by playwright-core) against the
# release binary on a seeded book: sign-in, the dashboard's figures against the API's,
# axe-core on every screen, a read key, sign-out; screenshots into $SCREENSHOTS (default a
# temporary directory, not kept). Needs target/release/arvalox, node on PATH, the npm tools
# of .ci/tools installed and /usr/bin/chromium.
set -euo pipefail
cd "$(dirname "$0")/../.."
bin="${ARVALOX_BIN:-$(pwd)/target/release/arvalox}"
work="$(mktemp -d)"
pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT

db="$work/ar.db"
"$bin" seed-demo --db "$db" --customers 8 --invoices 80 >/dev/null 2>&1
admin="$("$bin" keys create --db "$db" --name console-admin --scope admin | tail -n 1)"
reader="$("$bin" keys create --db "$db" --name console-reader --scope read | tail -n 1)"
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
"$bin" serve --db "$db" --bind "127.0.0.1:$port" >"$work/serve.out" 2>"$work/serve.log" &
pid=$!
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/ready" >/dev/null && break; sleep 0.1; done

started=$(date +%s)
BASE="http://127.0.0.1:$port" ADMIN_KEY="$admin" READ_KEY="$reader" \
    SCREENSHOTS="${SCREENSHOTS:-$work/screenshots}" \
    node .ci/console/browser.mjs
echo "console browser test: $(( $(date +%s) - started )) s"
if grep -n "panicked" "$work/serve.log"; then
    echo "the server panicked (above)" >&2
    exit 1
fi
