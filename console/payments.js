// Money in and credit: record a payment (its customer's open invoices oldest first, the
// allocation prefilled and editable, the rest shown as credit, one Idempotency-Key per
// form), a payment's or credit note's page (apply credit, refund, void with a reason),
// and a new credit note.

import {
  all, api, date, el, field, hashParams, header, input, link, money,
  newIdempotencyKey, rerender, statusName, today, table, valueOf, writeForm,
} from "./lib.js";
import { customerOptions, customerPicker } from "./customers.js";
import { actionForm, allocationEditor, methodPicker } from "./actions.js";
import { lines } from "./invoices.js";
import { toUnits } from "./decimal.js";

const positive = (amount) => (toUnits(amount) ?? 0n) > 0n;
const idOrText = (text) => (text !== undefined && /^\d{1,15}$/.test(text) ? Number(text) : text);

async function openInvoices(customerId) {
  const invoices = await all(`/v1/invoices?customer_id=${customerId}`);
  return invoices.filter((i) => ["sent", "partially_paid"].includes(i.status) && positive(i.balance_due));
}

export async function paymentForm() {
  const params = hashParams();
  const customers = await customerOptions();
  const key = newIdempotencyKey();
  const chosen = params.customer_id || "";
  const amount = input({ inputmode: "decimal", required: true, placeholder: "0.00" });
  const place = el("div", { class: "allocation-place" });
  let editor = null;
  let asked = 0;
  const load = async (customerId) => {
    const mine = ++asked;
    editor = null;
    place.replaceChildren();
    const customer = customers.find((c) => String(c.id) === String(customerId));
    if (!customer) return;
    let open;
    try {
      open = await openInvoices(customerId);
    } catch (error) {
      place.replaceChildren(el("p", { class: "error", role: "alert" }, error.message));
      return;
    }
    if (mine !== asked) return; // another customer was chosen meanwhile
    editor = allocationEditor(open, customer.currency);
    place.replaceChildren(editor.element);
    editor.setAmount(amount.value);
  };
  amount.addEventListener("input", () => editor && editor.setAmount(amount.value));
  const picker = customerPicker(customers, chosen, (event) => load(event.target.value));
  const fields = [
    field("Customer", "customer_id", picker),
    field("Amount", "amount", amount, "As on the bank statement, such as 1250.00."),
    field("Method", "payment_method", methodPicker()),
    field("Date received", "payment_date", input({ type: "date" }), "Empty: today."),
    field("Reference", "reference_number", input({}), "The bank's or the check's reference."),
    field("Notes", "notes", el("textarea", { rows: 2 })),
    place,
  ];
  const form = writeForm("Record a payment", fields, async (f) => {
    const body = { customer_id: idOrText(valueOf(f, "customer_id")) };
    for (const name of ["amount", "payment_method", "payment_date", "reference_number", "notes"]) {
      body[name] = valueOf(f, name);
    }
    const lines = editor ? editor.lines() : [];
    if (lines.length) body.allocations = lines;
    // The same key for every try of this form: a double click or a retry records once.
    const payment = await api("/v1/payments", { method: "POST", body, idempotencyKey: key });
    location.hash = `#/payments/${payment.id}`;
  }, "Record payment");
  if (chosen) await load(chosen);
  return [el("h1", {}, "Record a payment"), form];
}

const KINDS = {
  payments: { name: "Payment", number: (d) => `#${d.id}`, date: "payment_date" },
  "credit-notes": { name: "Credit note", number: (d) => d.credit_note_number, date: "issue_date" },
};

function facts(doc, kind) {
  const c = doc.currency;
  const row = (name, value) => [el("dt", {}, name), el("dd", {}, value)];
  return el("dl", { class: "facts" },
    row("Status", statusName(doc.status)),
    row("Date", date(doc[KINDS[kind].date])),
    doc.payment_method ? row("Method", statusName(doc.payment_method)) : null,
    doc.reference_number ? row("Reference", doc.reference_number) : null,
    doc.reason ? row("Reason", doc.reason) : null,
    row("Amount", money(doc.amount ?? doc.total, c)),
    row("Applied", money(doc.applied_amount, c)),
    row("Refunded", money(doc.refunded_amount, c)),
    row("Unapplied credit", money(doc.unapplied_amount, c)),
    doc.void_date ? row("Voided", `${date(doc.void_date)}: ${doc.void_reason}`) : null);
}

function applications(doc) {
  const c = doc.currency;
  const rows = [
    ...doc.allocations.map((a) => [link(`#/invoices/${a.invoice_id}`, a.invoice_number), date(a.applied_date),
      a.reversed_date ? `Reversed ${date(a.reversed_date)}` : "Applied", money(a.amount, c)]),
    ...doc.refunds.map((r) => [`Refund (${statusName(r.payment_method)})`, date(r.refund_date), r.reason || "—", money(r.amount, c)]),
  ];
  return rows.length ? table("Where the money went", ["To", "Date", "Note", "Amount"], rows, [3])
    : el("p", {}, "Nothing applied or refunded yet.");
}

async function applyCredit(kind, doc, refresh) {
  const open = await openInvoices(doc.customer_id);
  if (!open.length) return el("p", { class: "card" }, "The customer has no open invoice to apply the credit to.");
  const editor = allocationEditor(open, doc.currency);
  editor.setAmount(doc.unapplied_amount);
  const form = writeForm("Apply credit", [editor.element], async () => {
    const allocations = editor.lines();
    if (!allocations.length) throw new Error("Enter the amount to apply to at least one invoice.");
    await api(`/v1/${kind}/${doc.id}/allocations`, { method: "POST", body: allocations.length ? { allocations } : {} });
    await refresh();
  }, "Apply credit");
  return el("section", { class: "action", "aria-label": "Apply credit" }, el("h2", {}, "Apply credit to invoices"), form);
}

export async function creditPage(kind, id) {
  const doc = await api(`/v1/${kind}/${id}`);
  const customer = await api(`/v1/customers/${doc.customer_id}`);
  const refresh = rerender;
  const live = doc.status !== "void";
  const credit = live && positive(doc.unapplied_amount);
  const history = await api(`/v1/${kind}/${id}/history?limit=100`);
  return [
    header(`${KINDS[kind].name} ${KINDS[kind].number(doc)}`),
    el("section", { class: "card", "aria-labelledby": "doc-title" },
      el("h2", { id: "doc-title" }, link(`#/customers/${customer.id}`, customer.name)), facts(doc, kind),
      doc.items ? lines(doc) : null),
    el("section", { class: "card", "aria-labelledby": "went-title" },
      el("h2", { id: "went-title" }, "Applied and refunded"), applications(doc)),
    credit ? await applyCredit(kind, doc, refresh) : null,
    credit ? actionForm("Refund", [
      ["Amount", "amount", `At most ${money(doc.unapplied_amount, doc.currency)}, the credit left.`],
      ["Method", "payment_method", null, methodPicker()],
      ["Reason", "reason"],
    ], (body) => api(`/v1/${kind}/${id}/refunds`, { method: "POST", body }).then(refresh)) : null,
    live ? actionForm("Void", [
      ["Date", "void_date", "The day it is undone.", input({ type: "date", value: today() })],
      ["Reason", "reason", "Required, for the audit trail: a bounced check, a mistake."],
    ], (body) => api(`/v1/${kind}/${id}/void`, { method: "POST", body }).then(refresh)) : null,
    el("section", { class: "card", "aria-labelledby": "history-title" },
      el("h2", { id: "history-title" }, "History"),
      table("History", ["When", "What"], history.items.map((e) => [new Date(e.occurred_at).toLocaleString(), e.type]))),
  ];
}

export async function creditNoteForm() {
  const params = hashParams();
  const customers = await customerOptions();
  const key = newIdempotencyKey();
  const fields = [
    field("Customer", "customer_id", customerPicker(customers, params.customer_id)),
    field("Reason", "reason", input({}), "Required: returned goods, a price agreed down."),
    field("Invoice it credits", "invoice_id", input({ inputmode: "numeric", value: params.invoice_id }),
      "The invoice's id; empty: kept as credit."),
    field("Description", "items[0].description", input({ value: "Credit" })),
    field("Amount", "items[0].unit_price", input({ inputmode: "decimal" }), "Before tax."),
  ];
  const form = writeForm("New credit note", fields, async (f) => {
    const body = {
      customer_id: idOrText(valueOf(f, "customer_id")),
      reason: valueOf(f, "reason"),
      // A whole number as a number; anything else as typed, for the API to refuse on the field.
      invoice_id: idOrText(valueOf(f, "invoice_id")),
      items: [{ description: valueOf(f, "items[0].description"), quantity: "1", unit_price: valueOf(f, "items[0].unit_price") }],
    };
    const note = await api("/v1/credit-notes", { method: "POST", body, idempotencyKey: key });
    location.hash = `#/credit-notes/${note.id}`;
  }, "Create credit note");
  return [el("h1", {}, "New credit note"), form];
}
