#!/usr/bin/env bash
# Durable payments, one binary against another, where nothing else writes: each run gets a
# fresh copy of BOOK (a seeded book, such as bench/run.sh's book-100000.db), synced, and
# 8 s of `wrk -t2 -c64` with bench/lua.lua's payment scenario.
#   bash bench/payments_ab.sh BOOK MODE BIN [BIN...]     (MODE: full, normal or off)
# SCENARIO=split_payment pays three open invoices of one customer at once instead, and
# CONC sets the connections (default 64).
# Prints one line of req/s per binary; run it a few times, the machine is noisy.
set -euo pipefail
book=$1 mode=$2
shift 2
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
port=8097
for bin in "$@"; do
    rm -f "$work"/w.db*
    cp "$book" "$work/w.db"
    key=$("$bin" keys create --db "$work/w.db" --name ab --scope admin | tail -1)
    if [ "${SCENARIO:-payment}" = split_payment ]; then
        sqlite3 "$work/w.db" "SELECT customer_id || ' ' || group_concat(id, ' ') FROM (
            SELECT customer_id, id, row_number() OVER (PARTITION BY customer_id ORDER BY id) AS n
            FROM invoices WHERE status IN ('sent', 'partially_paid')
              AND total_minor - amount_paid_minor >= 10000)
            WHERE n <= 3 GROUP BY customer_id HAVING COUNT(*) = 3 LIMIT 50000" > "$work/pairs"
    else
        sqlite3 "$work/w.db" "SELECT customer_id || ' ' || id FROM invoices
            WHERE status IN ('sent', 'partially_paid') AND total_minor - amount_paid_minor >= 10000
            ORDER BY id LIMIT 50000" > "$work/pairs"
    fi
    sync
    "$bin" serve --db "$work/w.db" --bind "127.0.0.1:$port" --rate-limit-minute 0 \
        --rate-limit-hour 0 --rate-limit-day 0 --synchronous "$mode" > "$work/serve.log" 2>&1 &
    server=$!
    for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.1; done
    rate=$(SCENARIO="${SCENARIO:-payment}" KEY="$key" PAIRS="$work/pairs" wrk -t2 -c"${CONC:-64}" -d8s -s "$here/lua.lua" \
        "http://127.0.0.1:$port" | awk '/Requests\/sec/ {print $2}')
    kill "$server"
    wait "$server" 2>/dev/null || true
    echo "$bin $mode ${SCENARIO:-payment} c=${CONC:-64} $rate req/s"
done
