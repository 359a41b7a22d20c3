-- One wrk script for every scenario; the scenario comes from the environment.
--   KEY       API key
--   SCENARIO  ping | invoice | list | customer | create_invoice | payment | split_payment |
--             credit_note | get
--   PATHARG   path for `get`
--   MAXID     largest invoice/customer id to pick from
--   PAIRS     file of "customer_id invoice_id" lines with open balances (payment, credit_note), of
--             "customer_id invoice_id invoice_id invoice_id" lines (split_payment), or of
--             "key customer_id invoice_id" lines, each key its organization's (tenant_payment)
local key = os.getenv("KEY")
local scenario = os.getenv("SCENARIO")
local path_arg = os.getenv("PATHARG") or "/health"
local max_id = tonumber(os.getenv("MAXID") or "1")
local pairs_file = os.getenv("PAIRS")
local pairs = {}
local counter = 0

if pairs_file then
  for line in io.lines(pairs_file) do
    local fields = {}
    for field in line:gmatch("%S+") do fields[#fields + 1] = field end
    pairs[#pairs + 1] = fields
  end
end

function setup(thread)
  thread:set("thread_offset", math.random(1, 1000000))
end

function init(args)
  math.randomseed(os.time() + (thread_offset or 0))
  counter = thread_offset or 0
  if key then wrk.headers["x-arvalox-api-key"] = key end
  wrk.headers["Content-Type"] = "application/json"
end

function request()
  counter = counter + 1
  if scenario == "invoice" then
    return wrk.format("GET", "/v1/invoices/" .. math.random(1, max_id))
  elseif scenario == "list" then
    return wrk.format("GET", "/v1/invoices?limit=50&status=partially_paid&customer_id=" .. math.random(1, max_id))
  elseif scenario == "customer" then
    return wrk.format("POST", "/v1/customers", nil, '{"name": "Bench Customer", "email": "bench@example.com"}')
  elseif scenario == "create_invoice" then
    local body = '{"customer_id": ' .. math.random(1, max_id) .. ', "items": [' ..
      '{"description": "Consulting", "quantity": 3, "unit_price": "150.00", "tax_rate": "0.08"},' ..
      '{"description": "Travel", "quantity": 1, "unit_price": "89.90"},' ..
      '{"description": "Materials", "quantity": "2.5", "unit_price": "12.35", "tax_rate": "0.2"}]}'
    return wrk.format("POST", "/v1/invoices", nil, body)
  elseif scenario == "payment" then
    local pair = pairs[(counter % #pairs) + 1]
    local body = '{"customer_id": ' .. pair[1] .. ', "invoice_id": ' .. pair[2] ..
      ', "amount": "0.01", "payment_method": "bank_transfer"}'
    return wrk.format("POST", "/v1/payments", nil, body)
  elseif scenario == "tenant_payment" then
    local line = pairs[(counter % #pairs) + 1]
    local body = '{"customer_id": ' .. line[2] .. ', "invoice_id": ' .. line[3] ..
      ', "amount": "0.01", "payment_method": "bank_transfer"}'
    -- Headers given to wrk.format replace wrk.headers: name both.
    local headers = {["x-arvalox-api-key"] = line[1], ["Content-Type"] = "application/json"}
    return wrk.format("POST", "/v1/payments", headers, body)
  elseif scenario == "split_payment" then
    local set = pairs[(counter % #pairs) + 1]
    local body = '{"customer_id": ' .. set[1] .. ', "amount": "0.03", "payment_method": "bank_transfer", ' ..
      '"allocations": [{"invoice_id": ' .. set[2] .. ', "amount": "0.01"}, {"invoice_id": ' .. set[3] ..
      ', "amount": "0.01"}, {"invoice_id": ' .. set[4] .. ', "amount": "0.01"}]}'
    return wrk.format("POST", "/v1/payments", nil, body)
  elseif scenario == "credit_note" then
    local pair = pairs[(counter % #pairs) + 1]
    local body = '{"customer_id": ' .. pair[1] .. ', "invoice_id": ' .. pair[2] ..
      ', "reason": "Bench: an item returned", ' ..
      '"items": [{"description": "Returned item", "quantity": 1, "unit_price": "0.01"}]}'
    return wrk.format("POST", "/v1/credit-notes", nil, body)
  else
    return wrk.format("GET", path_arg)
  end
end
