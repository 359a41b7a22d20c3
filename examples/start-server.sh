# Sourced by the example flows: unless ARVALOX_KEY is set, builds the release binary and
# serves a fresh book on PORT, taking the first key it prints; sets BASE and KEY, and
# stops the server when the script exits.
if [ -z "${ARVALOX_KEY:-}" ]; then
  cargo build --release --quiet
  work=$(mktemp -d)
  port=${PORT:-8765}
  ./target/release/arvalox serve --db "$work/ar.db" --bind "127.0.0.1:$port" >"$work/out" 2>"$work/log" &
  server=$!
  trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$work"' EXIT
  for _ in $(seq 100); do grep -q '^    arv_' "$work/out" 2>/dev/null && break; sleep 0.1; done
  ARVALOX_KEY=$(grep -o 'arv_[0-9a-f]\{48\}' "$work/out" | head -n 1)
  ARVALOX_URL="http://127.0.0.1:$port"
  for _ in $(seq 100); do curl -fs "$ARVALOX_URL/health" >/dev/null && break; sleep 0.1; done
fi
BASE="${ARVALOX_URL:-http://localhost:8000}/v1"
KEY="$ARVALOX_KEY"
