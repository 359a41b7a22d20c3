#!/usr/bin/env bash
# Schemathesis against the release binary on a seeded book: every check (`--checks all`),
# time-boxed by SCHEMATHESIS_MAX_TIME seconds (default 300; at most 600 in CI), seeded by
# SCHEMATHESIS_SEED (default a fixed one; `random` for a new one). Needs
# `schemathesis` on PATH (.ci/run installs it into its venv) and target/release/arvalox.
# Exit 0 only when schemathesis found nothing and the server logged no panic.
set -euo pipefail
cd "$(dirname "$0")/../.."
here=.ci/schemathesis
source .ci/lib/served_book.sh
seed_book 6 60
key="$("$bin" keys create --db "$db" --name schemathesis --scope admin | tail -n 1)"
# Rate limits off (schemathesis sends thousands of requests a minute, and its invalid keys
# would lock the address out), a backup directory so the backup route works.
serve_book --rate-limit-minute 0 --rate-limit-hour 0 --rate-limit-day 0 \
    --auth-failures-minute 0 --backup-dir "$work/backups"

# Rows the seed has none of: a credit note, a write-off, a webhook endpoint with deliveries
# (to a closed port: they fail, and can be retried), payments with credit left to apply.
api() {
    curl -sS --fail-with-body -o "$work/answer" -X "$1" "$base$2" -H "x-arvalox-api-key: $key" \
        -H 'content-type: application/json' -d "$3" || { cat "$work/answer" >&2; return 1; }
}
open_invoice="$(sqlite3 "$db" "SELECT id || ' ' || customer_id FROM invoices WHERE status IN ('sent', 'partially_paid') LIMIT 1")"
set -- $open_invoice
api POST /v1/webhook-endpoints '{"url": "http://127.0.0.1:9/hook", "event_types": ["*"]}'
api POST /v1/credit-notes "{\"customer_id\": $2, \"reason\": \"Returned\", \"items\": [{\"description\": \"Part\", \"quantity\": 1, \"unit_price\": \"2000\"}]}"
api POST "/v1/invoices/$1/write-offs" '{"amount": "1.00", "reason": "Small balance"}'
for customer in $(sqlite3 "$db" "SELECT id FROM customers LIMIT 4"); do
    api POST /v1/payments "{\"customer_id\": $customer, \"amount\": \"2000\", \"payment_method\": \"bank_transfer\"}"
done

# One worker and a fixed seed: CI repeats the same run, so a red one is a change's doing
# and can be replayed. SCHEMATHESIS_SEED=random explores; any other number picks a run.
# Not the coverage phase: some of its boundary cases reach the server without passing the
# hooks (seen: `{"allocations": []}`, which the spec itself refuses, sent as a valid case).
seed="${SCHEMATHESIS_SEED:-20261201}"
[ "$seed" = random ] && seed="$(python3 -c 'import random; print(random.getrandbits(64))')"
echo "schemathesis seed: $seed"
ARVALOX_DB="$db" SCHEMATHESIS_HOOKS=hooks PYTHONPATH="$here" SCHEMATHESIS_SEED="$seed" \
    schemathesis --config-file "$here/schemathesis.toml" run "$base/openapi.json" \
    -H "x-arvalox-api-key: $key" --checks all --max-time "${SCHEMATHESIS_MAX_TIME:-300}" \
    --seed "$seed" --workers 1 --phases examples,fuzzing,stateful --continue-on-failure --no-color
no_panic
