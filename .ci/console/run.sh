#!/usr/bin/env bash
# The console in a real browser (Debian's chromium driven by playwright-core) against the
# release binary on a seeded book: sign-in, the dashboard's figures against the API's,
# axe-core on every screen, a read key, sign-out; screenshots into $SCREENSHOTS (default a
# temporary directory, not kept). Needs target/release/arvalox, node on PATH, the npm tools
# of .ci/tools installed and /usr/bin/chromium.
set -euo pipefail
cd "$(dirname "$0")/../.."
source .ci/lib/served_book.sh
seed_book 8 80
admin="$("$bin" keys create --db "$db" --name console-admin --scope admin | tail -n 1)"
reader="$("$bin" keys create --db "$db" --name console-reader --scope read | tail -n 1)"
serve_book

started=$(date +%s)
BASE="$base" ADMIN_KEY="$admin" READ_KEY="$reader" \
    SCREENSHOTS="${SCREENSHOTS:-$work/screenshots}" \
    node .ci/console/browser.mjs
echo "console browser test: $(( $(date +%s) - started )) s"
no_panic
