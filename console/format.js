// Formatting for the reader: amounts from the API's exact text in the document's
// currency, dates in the reader's locale, the names of statuses and methods. Pure (no
// page): tested by `node --test .ci/console/format.test.mjs`.

/** An amount as the reader's locale writes it in `currency`, from the API's exact text;
 * `exact` keeps up to four decimals (a unit price), else the currency's own. */
export function money(amount, currency, exact = false, locale = undefined) {
  if (amount === null || amount === undefined || amount === "") return "—";
  try {
    // A string keeps every digit: Intl formats it as a decimal, not through a float.
    const places = exact ? { maximumFractionDigits: 4 } : {};
    return new Intl.NumberFormat(locale, { style: "currency", currency, ...places }).format(amount);
  } catch {
    return `${amount} ${currency}`;
  }
}

/** How many decimals `currency` is written with (2 for USD, 0 for JPY). */
export function minorDigits(currency) {
  try {
    return new Intl.NumberFormat("en", { style: "currency", currency }).resolvedOptions()
      .maximumFractionDigits;
  } catch {
    return 2;
  }
}

/** Today in the reader's own time zone, `YYYY-MM-DD` (not UTC's today). */
export function today() {
  const now = new Date();
  const two = (n) => String(n).padStart(2, "0");
  return `${now.getFullYear()}-${two(now.getMonth() + 1)}-${two(now.getDate())}`;
}

export function date(text, locale = undefined) {
  if (!text) return "—";
  const [year, month, day] = text.slice(0, 10).split("-").map(Number);
  return new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeZone: "UTC" }).format(
    new Date(Date.UTC(year, month - 1, day)),
  );
}

export function plural(count, one, many) {
  return `${count} ${count === 1 ? one : many}`;
}

const STATUS_NAMES = {
  draft: "Draft", sent: "Sent", partially_paid: "Partly paid", paid: "Paid",
  written_off: "Written off", void: "Void", overdue: "Overdue", open: "Open",
  applied: "Applied", partially_applied: "Partly applied", unapplied: "Unapplied",
  refunded: "Refunded", voided: "Void",
};

export const METHODS = [
  ["bank_transfer", "Bank transfer"], ["cash", "Cash"], ["check", "Check"], ["credit_card", "Credit card"],
  ["debit_card", "Debit card"], ["mobile_money", "Mobile money"], ["online", "Online"], ["other", "Other"],
];

const METHOD_NAMES = Object.fromEntries(METHODS);

/** A status, a method or a kind of line as a person reads it. */
export function statusName(status) {
  const known = STATUS_NAMES[status] || METHOD_NAMES[status];
  if (known) return known;
  const words = String(status).replaceAll("_", " ");
  return words.charAt(0).toUpperCase() + words.slice(1);
}

