#!/usr/bin/env bash
# Generates a Python client from openapi/arvalox.json with openapi-python-client, unedited,
# starts the release binary on a fresh database and runs flow.py (the documented flow)
# through the client. Needs python3; uses $ARVALOX_PYTHON_VENV if set (CI shares its venv),
# else makes a venv in a temporary directory.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
work="$(mktemp -d)"
server=""
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

venv="${ARVALOX_PYTHON_VENV:-$work/venv}"
if [ ! -x "$venv/bin/openapi-python-client" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q -r "$root/.ci/tools/requirements.txt"
fi
"$venv/bin/openapi-python-client" generate --path "$root/openapi/arvalox.json" \
    --config "$root/examples/generated-client/config.yaml" \
    --meta none --output-path "$work/arvalox_client" --fail-on-warning

binary="$root/target/release/arvalox"
(cd "$root" && cargo build --release --locked --quiet)
port="$("$venv/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
"$binary" serve --db "$work/ar.db" --bind "127.0.0.1:$port" >"$work/serve.out" 2>"$work/serve.log" &
server=$!
# The first start prints an admin key; the server answers once it is listening.
key=""
for _ in $(seq 200); do
    key="$(grep -m1 '^ *arv_' "$work/serve.out" 2>/dev/null | tr -d ' ' || true)"
    if [ -n "$key" ] && "$venv/bin/python" -c "import urllib.request as u; u.urlopen('http://127.0.0.1:$port/health', timeout=1)" 2>/dev/null; then
        break
    fi
    key=""
    sleep 0.1
done
if [ -z "$key" ]; then
    echo "the server did not start; its output and log:" >&2
    cat "$work/serve.out" "$work/serve.log" >&2
    exit 1
fi

ARVALOX_URL="http://127.0.0.1:$port" ARVALOX_KEY="$key" PYTHONPATH="$work" \
    "$venv/bin/python" "$root/examples/generated-client/flow.py"
