// Pieces the writing screens share: a small form for one action (a write-off, a refund,
// a void) and the allocation editor (open invoices oldest first, prefilled oldest-first
// and editable, the rest shown as credit) used by a payment and by applying credit.

import { date, el, field, input, METHODS, minorDigits, money, newIdempotencyKey, select, writeForm } from "./lib.js";
import { checkAllocations, oldestFirst, spreadOldestFirst, toUnits } from "./decimal.js";


/**
 * A card with a form for one action: `fields` are [label, API name, hint, control?]; the
 * body sent holds the fields that are not empty; `send(body, key)` gets the form's one
 * `Idempotency-Key`.
 */
export function actionForm(title, fields, send) {
  const key = newIdempotencyKey();
  const prefix = title.toLowerCase().replace(/[^a-z0-9]+/g, "-");
  const controls = fields.map(([label, name, hint, control]) => field(label, name, control || input({}), hint, prefix));
  const form = writeForm(title, controls, async (f) => {
    const body = {};
    for (const [, name] of fields) {
      const value = f.querySelector(`[data-field="${name}"]`).value.trim();
      if (value !== "") body[name] = value;
    }
    await send(body, key);
  }, title);
  return el("section", { class: "action", "aria-label": title }, el("h2", {}, title), form);
}

export function methodPicker(value) {
  return select(METHODS, value || "bank_transfer");
}

/**
 * The open invoices of a customer, oldest first, each with the amount to apply to it:
 * prefilled oldest-first from the amount until the user edits a line, then left as
 * typed. Says what is applied and what is left as credit, exactly.
 */
export function allocationEditor(invoices, currency) {
  const places = minorDigits(currency);
  const open = oldestFirst(invoices);
  const inputs = open.map((invoice) => input({
    inputmode: "decimal", size: 10, "aria-label": `Amount for ${invoice.invoice_number}`,
  }));
  const summary = el("p", { class: "summary", "aria-live": "polite" });
  let touched = false;
  let amount = "";
  const refresh = () => {
    const balances = open.map((i) => i.balance_due);
    const result = checkAllocations(amount, inputs.map((i) => ({ amount: i.value.trim() })), balances, places);
    inputs.forEach((control, index) => {
      // The editor may not be on the page yet: its error lines are held, not looked up.
      errors[index].textContent = result.problems[index] || "";
      if (result.problems[index]) control.setAttribute("aria-invalid", "true");
      else control.removeAttribute("aria-invalid");
    });
    summary.textContent = result.credit === null
      ? `Applied ${money(result.applied, currency)}.`
      : result.over
        ? `Applied ${money(result.applied, currency)}: more than the amount, by ${money(result.credit.replace("-", ""), currency)}.`
        : `Applied ${money(result.applied, currency)}; left as credit ${money(result.credit, currency)}.`;
  };
  const prefill = () => {
    const { lines } = spreadOldestFirst(amount, open, places);
    lines.forEach((line, index) => { inputs[index].value = toUnits(line.amount) === 0n ? "" : line.amount; });
  };
  inputs.forEach((control, index) => {
    control.id = `allocation-${open[index].id}`;
    control.setAttribute("aria-describedby", `${control.id}-error`);
    control.addEventListener("input", () => { touched = true; refresh(); });
  });
  const errors = inputs.map((control) => el("span", { class: "field-error", id: `${control.id}-error` }));
  const rows = open.map((invoice, index) => el("tr", {},
    el("td", {}, invoice.invoice_number), el("td", {}, date(invoice.due_date)),
    el("td", { class: "amount" }, money(invoice.balance_due, currency)),
    el("td", { class: "amount" }, inputs[index], errors[index])));
  const element = el("div", {},
    open.length ? el("div", { class: "scroll" }, el("table", { class: "allocations" },
      el("caption", {}, "Open invoices, oldest first"),
      el("thead", {}, el("tr", {}, ["Invoice", "Due", "Balance due", "Apply"].map((h, i) =>
        el("th", { scope: "col", class: i > 1 ? "amount" : null }, h)))),
      el("tbody", {}, rows))) : el("p", {}, "This customer has no open invoice: all of it is kept as credit."),
    el("button", { type: "button", class: "quiet", onclick: () => { touched = false; prefill(); refresh(); } }, "Fill oldest first again"),
    summary);
  return {
    element,
    setAmount(value) {
      amount = value.trim();
      if (!touched) prefill();
      refresh();
    },
    /** The lines to send (not the empty ones), each input named as the API will name it. */
    lines() {
      const sent = [];
      inputs.forEach((control, index) => {
        delete control.dataset.field;
        const value = control.value.trim();
        if (value === "" || /^0*(\.0*)?$/.test(value)) return;
        control.dataset.field = `allocations[${sent.length}].amount`;
        sent.push({ invoice_id: open[index].id, amount: value });
      });
      return sent;
    },
  };
}
