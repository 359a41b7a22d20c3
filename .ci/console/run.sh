#!/usr/bin/env bash
# The console in a real browser (Debian's chromium driven by playwright-core) against the
# release binary on a seeded book: sign-in, the dashboard's figures against the API's, a
# customer, an invoice, a split payment with its credit, its void, the PDF and CSV
# downloads (flows.mjs), axe-core on every screen, a read key, sign-out; screenshots into
# $SCREENSHOTS (default a temporary directory, not kept). Needs target/release/arvalox, node on PATH, the npm tools
# of .ci/tools installed and /usr/bin/chromium.
set -euo pipefail
cd "$(dirname "$0")/../.."
# The console's exact arithmetic first: it needs no server.
node --test .ci/console/decimal.test.mjs .ci/console/format.test.mjs
source .ci/lib/served_book.sh
seed_book 8 80
admin="$("$bin" keys create --db "$db" --name console-admin --scope admin | tail -n 1)"
reader="$("$bin" keys create --db "$db" --name console-reader --scope read | tail -n 1)"
# A minute's limit above the default 50: the test clicks faster than a person (it is the
# server's limit that is tested elsewhere, and the console waits out a 429 on reads).
serve_book --rate-limit-minute 600

started=$(date +%s)
BASE="$base" ADMIN_KEY="$admin" READ_KEY="$reader" \
    SCREENSHOTS="${SCREENSHOTS:-$work/screenshots}" \
    node .ci/console/browser.mjs
echo "console browser test: $(( $(date +%s) - started )) s"
no_panic
