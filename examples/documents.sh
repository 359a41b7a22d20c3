#!/usr/bin/env bash
# Documents from a seeded book, for a person to look at: an invoice PDF (a partly paid one,
# with its payments), on A4 and on Letter; that customer's statement for the last quarter
# as a PDF and as CSV; the aging report as CSV (standard, and on 30/60/90/120 edges with the
# open invoices); and a PNG of each PDF's first page. Needs curl
# and poppler-utils (pdftoppm, pdfinfo); writes into target/documents/ (not committed).
#   bash examples/documents.sh
set -euo pipefail
cd "$(dirname "$0")/.."

out=target/documents
mkdir -p "$out"
cargo build --release --quiet
bin=./target/release/arvalox
work=$(mktemp -d)
port=${PORT:-8767}
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$work"' EXIT

# A deterministic book (the same seed and date give the same documents), with a name,
# an address and a tax id for the letterhead.
"$bin" seed-demo --db "$work/ar.db" --customers 40 --invoices 400 --as-of 2026-11-30 >/dev/null
key=$("$bin" keys create --db "$work/ar.db" --name documents --scope admin | tail -n 1)
"$bin" serve --db "$work/ar.db" --bind "127.0.0.1:$port" >"$work/out" 2>"$work/log" &
server=$!
base="http://127.0.0.1:$port/v1"
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.1; done
api() { curl -fsS -H "x-arvalox-api-key: $key" "$@"; }
api -X PATCH "$base/organization" -H 'Content-Type: application/json' -d '{
  "name": "Nordlicht Werkstätten", "legal_name": "Nordlicht Werkstätten GmbH",
  "address": "Hafenstraße 12, 20457 Hamburg", "tax_id": "DE123456789",
  "email": "buchhaltung@nordlicht.example", "phone": "+49 40 1234567"}' >/dev/null

# A partly paid invoice: lines, a payment, a balance due; and its customer.
read -r invoice customer < <(api "$base/invoices?status=partially_paid&limit=1" |
  python3 -c 'import json,sys; i = json.load(sys.stdin)["items"][0]; print(i["id"], i["customer_id"])')

api "$base/invoices/$invoice/pdf" -o "$out/invoice-a4.pdf"
api -H 'Accept: application/pdf' "$base/invoices/$invoice?paper=letter" -o "$out/invoice-letter.pdf"
period="from=2026-09-01&to=2026-11-30"
api "$base/customers/$customer/statement?$period&format=pdf" -o "$out/statement.pdf"
api -H 'Accept: text/csv' "$base/customers/$customer/statement?$period" -o "$out/statement.csv"
echo "$out/statement.csv: $(wc -l <"$out/statement.csv") rows"
api -H 'Accept: text/csv' "$base/reports/aging" -o "$out/aging.csv"
api "$base/reports/aging?buckets=30,60,90,120&format=csv" -o "$out/aging-120.csv"
echo "$out/aging.csv: $(wc -l <"$out/aging.csv") rows; $out/aging-120.csv: $(head -n 1 "$out/aging-120.csv")"

for pdf in "$out"/*.pdf; do
  pdftoppm -png -r 80 -f 1 -l 1 -singlefile "$pdf" "${pdf%.pdf}"
  printf '%s: %s pages, %s\n' "$pdf" "$(pdfinfo "$pdf" | awk '/^Pages:/ {print $2}')" "${pdf%.pdf}.png"
done
