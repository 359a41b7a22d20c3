#!/usr/bin/env bash
# Everyday receivables, end to end, against a fresh server: one transfer paying several
# invoices, an overpayment kept as credit, the credit applied later and partly refunded, a
# credit note for goods that came back, a bounced check voided as of its date, a bad debt
# written off and recovered, and the reports before and after.
#   bash examples/everyday-flow.sh            (builds and starts its own server)
#   ARVALOX_URL=http://127.0.0.1:8000 ARVALOX_KEY=arv_... bash examples/everyday-flow.sh
set -euo pipefail
cd "$(dirname "$0")/.."

PORT=${PORT:-8766}
# shellcheck source=examples/start-server.sh
source examples/start-server.sh

step() { printf '\n== %s\n' "$1"; }
# POST or GET, failing the script on anything but the expected status; prints the body.
call() {
  local expect=$1 method=$2 path=$3 body=${4:-}
  local args=(-s -o /tmp/everyday.$$ -w '%{http_code}' -X "$method" "$BASE$path" -H "x-arvalox-api-key: $KEY")
  [ -n "$body" ] && args+=(-H "Content-Type: application/json" -d "$body")
  local status
  status=$(curl "${args[@]}")
  if [ "$status" != "$expect" ]; then
    echo "expected HTTP $expect from $method $path, got $status: $(cat /tmp/everyday.$$)" >&2
    exit 1
  fi
  cat /tmp/everyday.$$
  rm -f /tmp/everyday.$$
}
# Picks fields out of a JSON answer: pick '.field' '.items[0].id' ...
pick() { python3 -c 'import json,sys
doc = json.load(sys.stdin)
for path in sys.argv[1:]:
    value = doc
    for part in path.strip(".").replace("]", "").split("."):
        name, _, index = part.partition("[")
        value = value[name] if name else value
        if index: value = value[int(index)]
    print(f"{path} = {json.dumps(value)}")' "$@"; }

step "A customer and three invoices"
acme=$(call 201 POST /customers '{"name": "Acme Corporation", "payment_terms_days": 30}' | pick .id | cut -d' ' -f3)
invoice() { call 201 POST /invoices "{\"customer_id\": $acme, \"issue_date\": \"$1\", \"items\": [{\"description\": \"$2\", \"quantity\": 1, \"unit_price\": \"$3\"}]}" | pick .id | cut -d' ' -f3; }
a=$(invoice 2026-10-01 "October retainer" 100.00)
b=$(invoice 2026-10-05 "Site visit" 250.00)
c=$(invoice 2026-10-10 "Materials" 80.00)
echo "invoices $a, $b, $c for customer $acme"

step "One bank transfer of 500.00 pays all three (200.00 of the 250.00); the rest is credit"
pay=$(call 201 POST /payments "{\"customer_id\": $acme, \"amount\": \"500.00\", \"payment_method\": \"bank_transfer\",
  \"payment_date\": \"2026-10-20\", \"reference_number\": \"TRF-7731\",
  \"allocations\": [{\"invoice_id\": $a, \"amount\": \"100.00\"}, {\"invoice_id\": $b, \"amount\": \"200.00\"},
                    {\"invoice_id\": $c, \"amount\": \"80.00\"}]}")
echo "$pay" | pick .id .applied_amount .unapplied_amount .status '.allocations[1].amount'
transfer=$(echo "$pay" | pick .id | cut -d' ' -f3)
call 200 GET "/invoices/$b" | pick .status .balance_due

step "A typo in the documented form is still refused, never turned into credit"
call 400 POST /payments "{\"customer_id\": $acme, \"invoice_id\": $b, \"amount\": \"5000.00\", \"payment_method\": \"cash\"}" | pick '.field_errors.amount[0]'

step "The credit settles the rest of the site visit later, oldest first, dated 2026-11-02"
call 200 POST "/payments/$transfer/allocations" '{"allocate": "oldest_first", "applied_date": "2026-11-02"}' | pick .unapplied_amount .status '.allocations[3].applied_date'
call 200 GET "/invoices/$b" | pick .status .balance_due

step "20.00 of what is left goes back to the customer"
call 200 POST "/payments/$transfer/refunds" '{"amount": "20.00", "refund_date": "2026-11-05", "payment_method": "bank_transfer", "reason": "Overpaid"}' | pick .refunded_amount .unapplied_amount '.refunds[0].reason'
call 200 GET "/customers/$acme" | pick .outstanding_balance .credit_balance .net_balance

step "Two of the materials come back: a credit note against a new delivery"
e=$(invoice 2026-11-03 "Materials, second delivery" 120.00)
note=$(call 201 POST /credit-notes "{\"customer_id\": $acme, \"invoice_id\": $e, \"issue_date\": \"2026-11-08\",
  \"reason\": \"Two boxes returned damaged\",
  \"items\": [{\"description\": \"Materials, box\", \"quantity\": 2, \"unit_price\": \"15.00\", \"tax_rate\": \"0.10\"}]}")
echo "$note" | pick .credit_note_number .total .applied_amount .unapplied_amount .status
call 200 GET "/invoices/$e" | pick .status .amount_credited .balance_due '.credit_notes[0].credit_note_number'

step "A check pays a new invoice, then bounces"
d=$(invoice 2026-11-01 "November retainer" 60.00)
check=$(call 201 POST /payments "{\"customer_id\": $acme, \"invoice_id\": $d, \"amount\": \"60.00\", \"payment_method\": \"check\", \"payment_date\": \"2026-11-10\", \"reference_number\": \"CHK-1204\"}" | pick .id | cut -d' ' -f3)
call 200 GET "/invoices/$d" | pick .status
call 200 POST "/payments/$check/void" '{"void_date": "2026-11-16", "reason": "Returned unpaid by the bank"}' | pick .status .void_date '.allocations[0].reversed_date'
call 200 GET "/invoices/$d" | pick .status .balance_due

step "An old invoice the customer will never pay is written off, then recovered"
f=$(invoice 2026-06-01 "Spring installation" 400.00)
call 201 POST /payments "{\"customer_id\": $acme, \"invoice_id\": $f, \"amount\": \"150.00\", \"payment_method\": \"bank_transfer\", \"payment_date\": \"2026-07-15\"}" | pick .status
written=$(call 200 POST "/invoices/$f/write-offs" '{"write_off_date": "2026-11-12", "reason": "Customer in administration"}')
echo "$written" | pick .status .amount_paid .amount_written_off .balance_due '.write_offs[0].amount'
write_off=$(echo "$written" | pick '.write_offs[0].id' | cut -d' ' -f3)
call 200 POST "/invoices/$f/write-offs/$write_off/reverse" '{"reverse_date": "2026-11-18", "reason": "The administrator paid creditors in full"}' | pick .status .balance_due '.write_offs[0].reversed_date'

step "Aging the day before the bounce, and the day of it: the past does not change"
call 200 GET "/reports/aging?as_of=2026-11-15" | pick .totals.total .totals.unapplied_credit .totals.net
call 200 GET "/reports/aging?as_of=2026-11-16" | pick .totals.total .totals.unapplied_credit .totals.net

step "Aging while the debt was written off, and after it was recovered"
call 200 GET "/reports/aging?as_of=2026-11-14" | pick .totals.total .totals.days_over_90
call 200 GET "/reports/aging?as_of=2026-11-18" | pick .totals.total .totals.days_over_90

step "The dashboard at 2026-11-20"
call 200 GET "/reports/dashboard?as_of=2026-11-20" | pick .total_outstanding .collected_last_30_days .refunded_last_30_days .credited_last_30_days .written_off_last_30_days .total_unapplied_credit .invoice_counts_by_status.written_off
