// Exact arithmetic on the API's decimal strings: amounts become BigInt counts of
// ten-thousandths (the finest the API takes), never floats. Pure: tested by
// `node --test .ci/console/decimal.test.mjs`.

const SCALE = 10000n;
const AMOUNT = /^-?\d+(\.\d{1,4})?$/;

/** `text` ("12.5", "-0.0001") as ten-thousandths, or null if it is not such an amount. */
export function toUnits(text) {
  const trimmed = String(text ?? "").trim();
  if (!AMOUNT.test(trimmed)) return null;
  const negative = trimmed.startsWith("-");
  const [whole, fraction = ""] = trimmed.replace("-", "").split(".");
  const value = BigInt(whole) * SCALE + BigInt((fraction + "0000").slice(0, 4));
  return negative ? -value : value;
}

/** Ten-thousandths as a decimal string with at least `places` decimals ("12.50"). */
export function fromUnits(value, places = 2) {
  const negative = value < 0n;
  const size = negative ? -value : value;
  let fraction = String(size % SCALE).padStart(4, "0");
  while (fraction.length > places && fraction.endsWith("0")) fraction = fraction.slice(0, -1);
  const text = fraction ? `${size / SCALE}.${fraction}` : String(size / SCALE);
  return negative && size !== 0n ? `-${text}` : text;
}

/** The sum of decimal strings (a blank or bad one counts as nothing). */
export function sum(amounts, places = 2) {
  return fromUnits(amounts.reduce((total, a) => total + (toUnits(a) ?? 0n), 0n), places);
}

/** `a − b`, exactly. */
export function minus(a, b, places = 2) {
  return fromUnits((toUnits(a) ?? 0n) - (toUnits(b) ?? 0n), places);
}

/** `part` as a share of `whole`, in thousandths (0 to 1000): a bar's length. */
export function share(part, whole) {
  const total = toUnits(whole) ?? 0n;
  if (total <= 0n) return 0;
  const value = toUnits(part) ?? 0n;
  if (value <= 0n) return 0;
  return Number(((value > total ? total : value) * 1000n) / total);
}

/** The larger of two decimal strings. */
export function larger(a, b) {
  return (toUnits(b) ?? 0n) > (toUnits(a) ?? 0n) ? b : a;
}

/** Open invoices oldest first: by due date, then issue date, then id. */
export function oldestFirst(invoices) {
  return [...invoices].sort((a, b) =>
    a.due_date.localeCompare(b.due_date) || a.issue_date.localeCompare(b.issue_date) || a.id - b.id);
}

/**
 * `amount` spread over `invoices` oldest first, each up to its `balance_due`: the lines
 * (one per invoice, "0" where nothing reaches it) and what is left over as credit.
 */
export function spreadOldestFirst(amount, invoices, places = 2) {
  let left = toUnits(amount) ?? 0n;
  if (left < 0n) left = 0n;
  const lines = oldestFirst(invoices).map((invoice) => {
    const open = toUnits(invoice.balance_due) ?? 0n;
    const applied = open < left ? open : left;
    left -= applied;
    return { invoice_id: invoice.id, amount: fromUnits(applied, places) };
  });
  return { lines, credit: fromUnits(left, places) };
}

/**
 * What a set of typed allocations means for an amount: the total applied, the credit
 * left, and the problem with it if any (an amount that is not one, more than an
 * invoice's balance, or more in all than the amount).
 */
export function checkAllocations(amount, lines, balances, places = 2) {
  const total = toUnits(amount);
  let applied = 0n;
  const problems = {};
  lines.forEach((line, index) => {
    const value = line.amount === "" ? 0n : toUnits(line.amount);
    if (value === null || value < 0n) {
      problems[index] = "Enter an amount such as 12.50, or leave it empty.";
      return;
    }
    if (value > (toUnits(balances[index]) ?? 0n)) {
      problems[index] = `At most ${balances[index]}, the invoice's balance.`;
    }
    applied += value;
  });
  const credit = total === null ? null : total - applied;
  return {
    applied: fromUnits(applied, places),
    credit: credit === null ? null : fromUnits(credit, places),
    over: credit !== null && credit < 0n,
    problems,
  };
}
