// The console's exact arithmetic (console/decimal.js): `node --test .ci/console/`.
import assert from "node:assert/strict";
import test from "node:test";

import {
  checkAllocations, fromUnits, larger, minus, oldestFirst, share, spreadOldestFirst, sum, toUnits,
} from "../../console/decimal.js";

test("amounts are read exactly, and refused when they are not amounts", () => {
  assert.equal(toUnits("12.5"), 125000n);
  assert.equal(toUnits("-0.0001"), -1n);
  assert.equal(toUnits(" 3 "), 30000n);
  assert.equal(toUnits("99999999999999.9999"), 999999999999999999n);
  for (const bad of ["", "1.23456", "1e3", "12,50", "abc", "1.", ".5", null, undefined]) {
    assert.equal(toUnits(bad), null, String(bad));
  }
});

test("amounts are written with the currency's places, never losing a digit", () => {
  assert.equal(fromUnits(125000n), "12.50");
  assert.equal(fromUnits(125001n), "12.5001");
  assert.equal(fromUnits(120000n, 0), "12");
  assert.equal(fromUnits(-5000n), "-0.50");
  assert.equal(fromUnits(0n), "0.00");
});

test("sums and differences are exact where floats are not", () => {
  assert.equal(sum(["0.10", "0.20"]), "0.30"); // 0.1 + 0.2 is 0.30000000000000004 in floats
  assert.equal(sum(["99999999999999.99", "0.01"]), "100000000000000.00");
  assert.equal(minus("100.00", "33.33"), "66.67");
  assert.equal(sum(["1.00", "", "bad"]), "1.00");
  assert.equal(larger("9.99", "10.00"), "10.00");
});

test("a bar's length is an exact share in thousandths", () => {
  assert.equal(share("50", "200"), 250);
  assert.equal(share("0", "200"), 0);
  assert.equal(share("-5", "200"), 0);
  assert.equal(share("300", "200"), 1000);
  assert.equal(share("1", "0"), 0);
});

const INVOICES = [
  { id: 3, invoice_number: "C", issue_date: "2024-03-01", due_date: "2024-03-31", balance_due: "50.00" },
  { id: 1, invoice_number: "A", issue_date: "2024-01-01", due_date: "2024-01-31", balance_due: "100.00" },
  { id: 2, invoice_number: "B", issue_date: "2024-01-05", due_date: "2024-01-31", balance_due: "30.25" },
];

test("open invoices are ordered oldest due first, then oldest issued, then by id", () => {
  assert.deepEqual(oldestFirst(INVOICES).map((i) => i.id), [1, 2, 3]);
});

test("a payment is spread oldest first, the rest left as credit", () => {
  assert.deepEqual(spreadOldestFirst("115.00", INVOICES), {
    lines: [{ invoice_id: 1, amount: "100.00" }, { invoice_id: 2, amount: "15.00" }, { invoice_id: 3, amount: "0.00" }],
    credit: "0.00",
  });
  const over = spreadOldestFirst("200.25", INVOICES);
  assert.deepEqual(over.lines.map((l) => l.amount), ["100.00", "30.25", "50.00"]);
  assert.equal(over.credit, "20.00");
  assert.equal(spreadOldestFirst("", INVOICES).credit, "0.00");
  assert.equal(spreadOldestFirst("1000", [], 0).credit, "1000");
});

test("typed allocations are checked: each within its balance, in all within the amount", () => {
  const balances = ["100.00", "30.25"];
  const fine = checkAllocations("150.00", [{ amount: "100" }, { amount: "30.25" }], balances);
  assert.deepEqual(fine, { applied: "130.25", credit: "19.75", over: false, problems: {} });
  const bad = checkAllocations("50.00", [{ amount: "40" }, { amount: "30.26" }], balances);
  assert.equal(bad.over, true);
  assert.equal(bad.credit, "-20.26");
  assert.match(bad.problems[1], /At most 30.25/);
  const typo = checkAllocations("", [{ amount: "1,5" }, { amount: "" }], balances);
  assert.match(typo.problems[0], /such as 12.50/);
  assert.equal(typo.credit, null);
});
