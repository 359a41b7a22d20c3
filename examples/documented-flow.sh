#!/usr/bin/env bash
# The flow of the API document, end to end, against a fresh server:
#   bash examples/documented-flow.sh            (builds and starts its own server)
#   ARVALOX_URL=http://127.0.0.1:8000 ARVALOX_KEY=arv_... bash examples/documented-flow.sh
set -euo pipefail
cd "$(dirname "$0")/.."

PORT=${PORT:-8765}
# shellcheck source=examples/start-server.sh
source examples/start-server.sh

step() { printf '\n== %s\n' "$1"; }
call() { curl -s -w '\n-> HTTP %{http_code}\n' "$@"; }

step "GET /ping (header)"
call -X GET "$BASE/ping" -H "x-arvalox-api-key: $KEY"
step "GET /ping (query parameter)"
call -X GET "$BASE/ping?x_arvalox_api_key=$KEY"

step "POST /customers"
call -X POST "$BASE/customers/" -H "x-arvalox-api-key: $KEY" -H "X-API-Key: $KEY" \
  -H "Content-Type: application/json" -d '{
    "customer_code": "CUST001",
    "name": "Acme Corporation",
    "email": "contact@acme.com",
    "phone": "+1-555-123-4567",
    "billing_address": "123 Main St, City, State 12345"
  }'
step "GET /customers"
call -X GET "$BASE/customers/" -H "x-arvalox-api-key: $KEY" -H "X-API-Key: $KEY"
step "GET /customers/1"
call -X GET "$BASE/customers/1" -H "x-arvalox-api-key: $KEY" -H "X-API-Key: $KEY"
step "PUT /customers/1"
call -X PUT "$BASE/customers/1" -H "x-arvalox-api-key: $KEY" -H "X-API-Key: $KEY" \
  -H "Content-Type: application/json" -d '{
    "name": "Updated Company Name",
    "email": "newemail@company.com"
  }'

step "POST /invoices"
call -X POST "$BASE/invoices/" -H "x-arvalox-api-key: $KEY" -H "X-API-Key: $KEY" \
  -H "Content-Type: application/json" -d '{
    "customer_id": 1,
    "invoice_number": "INV-2024-001",
    "issue_date": "2024-01-15",
    "due_date": "2024-02-15",
    "items": [
      {
        "description": "Consulting Services",
        "quantity": 10,
        "unit_price": 150.00,
        "tax_rate": 0.08
      }
    ]
  }'
step "GET /invoices"
call -X GET "$BASE/invoices/" -H "x-arvalox-api-key: $KEY" -H "X-API-Key: $KEY"

step "POST /payments"
call -X POST "$BASE/payments/" -H "x-arvalox-api-key: $KEY" -H "X-API-Key: $KEY" \
  -H "Content-Type: application/json" -d '{
    "customer_id": 1,
    "invoice_id": 1,
    "amount": 500.00,
    "payment_method": "bank_transfer",
    "payment_date": "2024-01-20",
    "reference_number": "TXN123456"
  }'
step "GET /payments"
call -X GET "$BASE/payments/" -H "x-arvalox-api-key: $KEY" -H "X-API-Key: $KEY"
step "GET /invoices/1"
call -X GET "$BASE/invoices/1" -H "x-arvalox-api-key: $KEY" -H "X-API-Key: $KEY"

step "GET /reports/aging"
call -X GET "$BASE/reports/aging" -H "x-arvalox-api-key: $KEY" -H "X-API-Key: $KEY"
step "GET /reports/dashboard"
call -X GET "$BASE/reports/dashboard" -H "x-arvalox-api-key: $KEY" -H "X-API-Key: $KEY"
