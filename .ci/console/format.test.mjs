// The console's formatting (console/format.js): `node --test .ci/console/format.test.mjs`.
import assert from "node:assert/strict";
import test from "node:test";

import { date, minorDigits, money, statusName } from "../../console/format.js";

test("amounts are formatted from their exact text, in the document's currency", () => {
  assert.equal(money("1234.5", "USD", false, "en-US"), "$1,234.50");
  // As a float this would be 99999999999999.98: the text keeps every digit.
  assert.equal(money("99999999999999.99", "USD", false, "en-US"), "$99,999,999,999,999.99");
  assert.equal(money("1234.5", "EUR", false, "de-DE"), "1.234,50\u00a0€");
  assert.equal(money("1500", "JPY", false, "ja-JP"), "￥1,500");
  assert.equal(money("-20.26", "USD", false, "en-US"), "-$20.26");
});

test("a unit price keeps its four decimals; nothing shows as a dash", () => {
  assert.equal(money("33.335", "USD", true, "en-US"), "$33.335");
  assert.equal(money("33.335", "USD", false, "en-US"), "$33.34");
  assert.equal(money(null, "USD"), "—");
  assert.equal(money("", "USD"), "—");
  assert.equal(money("12.00", "dollars", false, "en-US"), "12.00 dollars");
});

test("the currency's places decide the prefill's decimals", () => {
  assert.equal(minorDigits("USD"), 2);
  assert.equal(minorDigits("JPY"), 0);
  assert.equal(minorDigits("KWD"), 3);
  assert.equal(minorDigits("not a code"), 2);
});

test("dates are the API's calendar dates in the reader's locale, whatever its time zone", () => {
  assert.equal(date("2024-02-29", "en-US"), "Feb 29, 2024");
  assert.equal(date("2024-02-29", "de-DE"), "29.02.2024");
  assert.equal(date("2024-12-31T23:59:59Z", "en-GB"), "31 Dec 2024");
  assert.equal(date(null), "—");
});

test("statuses and methods read as words", () => {
  assert.equal(statusName("partially_paid"), "Partly paid");
  assert.equal(statusName("bank_transfer"), "Bank transfer");
  assert.equal(statusName("allocation_reversal"), "Allocation reversal");
});
