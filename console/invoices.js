// Invoices: the list with the API's filters, an invoice's page (lines, totals, what was
// applied, its history, the PDF; send, void, write off), and the draft form whose totals
// are the server's own (`POST /v1/invoices/preview`), never the page's arithmetic.

import {
  actionButton, api, date, download, el, field, hashParams, header, input, link, money,
  newIdempotencyKey, query, rerender, select, statusName, table, valueOf, writeButton, writeForm, writeLink,
} from "./lib.js";
import { customerOptions, customerPicker } from "./customers.js";
import { actionForm } from "./actions.js";

const FILTERS = ["status", "customer_id", "issue_date_from", "issue_date_to", "due_date_from", "due_date_to"];
const STATUSES = ["draft", "sent", "partially_paid", "overdue", "paid", "written_off", "void"];

function filterForm(params, customers) {
  const form = el("form", { class: "card filters", "aria-label": "Invoice filters" },
    field("Status", "status", select([["", "Any"], ...STATUSES.map((s) => [s, statusName(s)])], params.status)),
    field("Customer", "customer_id", select([["", "Any"], ...customers.map((c) => [c.id, c.name])], params.customer_id)),
    field("Issued from", "issue_date_from", input({ type: "date", value: params.issue_date_from })),
    field("Issued to", "issue_date_to", input({ type: "date", value: params.issue_date_to })),
    field("Due from", "due_date_from", input({ type: "date", value: params.due_date_from })),
    field("Due to", "due_date_to", input({ type: "date", value: params.due_date_to })),
    el("div", { class: "actions" }, el("button", { type: "submit" }, "Filter")));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    location.hash = `#/invoices${query(Object.fromEntries(new FormData(form)))}`;
  });
  return form;
}

export async function invoiceList() {
  const params = hashParams();
  const offset = Number(params.offset || 0);
  const chosen = Object.fromEntries(FILTERS.map((k) => [k, params[k] || ""]));
  const [page, customers] = await Promise.all([
    api(`/v1/invoices${query({ ...chosen, limit: 100, offset })}`),
    customerOptions(),
  ]);
  const names = new Map(customers.map((c) => [c.id, c.name]));
  const more = offset + page.items.length < page.total;
  return [
    header("Invoices", writeLink("#/invoices/new", "New invoice")),
    filterForm(chosen, customers),
    el("p", {}, `${page.total} found; ${page.items.length ? `${offset + 1}–${offset + page.items.length}` : "none"} shown.`),
    table("Invoices", ["Invoice", "Customer", "Issued", "Due", "Status", "Total", "Balance due"],
      page.items.map((i) => [link(`#/invoices/${i.id}`, i.invoice_number), names.get(i.customer_id) || `#${i.customer_id}`,
        date(i.issue_date), date(i.due_date), i.is_overdue ? `Overdue ${i.days_overdue} d` : statusName(i.status),
        money(i.total, i.currency), money(i.balance_due, i.currency)]), [5, 6]),
    el("nav", { class: "actions", "aria-label": "Pages" },
      offset > 0 ? link(`#/invoices${query({ ...chosen, offset: Math.max(offset - 100, 0) })}`, "Previous page") : null,
      more ? link(`#/invoices${query({ ...chosen, offset: offset + 100 })}`, "Next page") : null),
  ];
}

function totals(invoice) {
  const row = (name, value) => [el("dt", {}, name), el("dd", {}, money(value, invoice.currency))];
  return el("dl", { class: "facts totals" },
    row("Subtotal", invoice.subtotal), row("Tax", invoice.tax_total), row("Total", invoice.total),
    row("Paid", invoice.amount_paid), row("Credited", invoice.amount_credited),
    row("Written off", invoice.amount_written_off), row("Balance due", invoice.balance_due));
}

/** A document's lines (an invoice's, a credit note's), prices to four decimals. */
export function lines(invoice) {
  return table("Lines", ["Description", "Quantity", "Unit price", "Tax rate", "Total"],
    invoice.items.map((i) => [i.description, i.quantity, money(i.unit_price, invoice.currency, true), i.tax_rate ?? "—",
      money(i.line_total, invoice.currency)]), [1, 2, 3, 4]);
}

function applied(invoice) {
  const c = invoice.currency;
  const rows = [
    ...(invoice.payments || []).map((p) => [link(`#/payments/${p.payment_id}`, `Payment #${p.payment_id}`), date(p.payment_date), money(p.amount, c)]),
    ...(invoice.credit_notes || []).map((n) => [link(`#/credit-notes/${n.credit_note_id}`, n.credit_note_number), "—", money(n.amount, c)]),
    ...(invoice.write_offs || []).map((w) => [`Write-off: ${w.reason}${w.reversed_date ? " (reversed)" : ""}`, date(w.write_off_date), money(w.amount, c)]),
  ];
  return rows.length ? table("Applied to this invoice", ["What", "Date", "Amount"], rows, [2]) : el("p", {}, "Nothing applied yet.");
}

async function history(kind, id) {
  const page = await api(`/v1/${kind}/${id}/history?limit=100`);
  return table("History", ["When", "What", "By"], page.items.map((e) => [
    new Date(e.occurred_at).toLocaleString(), e.type,
    e.actor.key_prefix ? `key ${e.actor.key_prefix}` : e.actor.type]));
}

function invoiceActions(invoice, refresh) {
  const id = invoice.id;
  const post = (path, body) => api(`/v1/invoices/${id}${path}`, { method: "POST", body }).then(refresh);
  const open = ["sent", "partially_paid"].includes(invoice.status);
  return [
    actionButton("Download PDF", () => download(`/v1/invoices/${id}/pdf`, `${invoice.invoice_number}.pdf`)),
    invoice.status === "draft" ? writeLink(`#/invoices/${id}/edit`, "Edit draft") : null,
    invoice.status === "draft" ? writeButton("Send", () => post("/send")) : null,
    open ? writeLink(`#/payments/new?customer_id=${invoice.customer_id}`, "Record payment") : null,
    ["draft", "sent"].includes(invoice.status)
      ? writeButton("Void", () => (confirm(`Void ${invoice.invoice_number}? It stays on record as void.`) ? post("/void") : null))
      : null,
  ];
}

export async function invoicePage(id) {
  const invoice = await api(`/v1/invoices/${id}`);
  const customer = await api(`/v1/customers/${invoice.customer_id}`);
  const refresh = rerender;
  const open = ["sent", "partially_paid"].includes(invoice.status);
  return [
    header(`Invoice ${invoice.invoice_number}`, invoiceActions(invoice, refresh)),
    el("section", { class: "card", "aria-labelledby": "invoice-title" },
      el("h2", { id: "invoice-title" }, `${statusName(invoice.status)}${invoice.is_overdue ? `, overdue ${invoice.days_overdue} days` : ""}`),
      el("p", {}, link(`#/customers/${customer.id}`, customer.name), `, issued ${date(invoice.issue_date)}, due ${date(invoice.due_date)}.`),
      invoice.notes ? el("p", {}, invoice.notes) : null,
      lines(invoice), totals(invoice)),
    el("section", { class: "card", "aria-labelledby": "applied-title" },
      el("h2", { id: "applied-title" }, "Payments, credit notes and write-offs"), applied(invoice)),
    open ? actionForm("Write off", [
      ["Amount", "amount", "Empty: the whole balance due."],
      ["Reason", "reason", "Required, for the audit trail."],
    ], (body, key) => api(`/v1/invoices/${id}/write-offs`, { method: "POST", body, idempotencyKey: key })
      .then(refresh)) : null,
    el("section", { class: "card", "aria-labelledby": "history-title" },
      el("h2", { id: "history-title" }, "History"), await history("invoices", id)),
  ];
}

// ---------------------------------------------------------------------------------------
// The draft form.

function lineRow(item = {}) {
  const cell = (name, attributes) => input({ value: item[name] ?? "", "data-name": name, ...attributes });
  const row = el("tr", { class: "line" },
    el("td", {}, cell("description")),
    el("td", {}, cell("quantity", { inputmode: "decimal", size: 6 })),
    el("td", {}, cell("unit_price", { inputmode: "decimal", size: 8 })),
    el("td", {}, cell("tax_rate", { inputmode: "decimal", size: 6, placeholder: "0.08" })),
    el("td", {}, el("button", { type: "button", class: "quiet", onclick: () => { const body = row.parentNode; row.remove(); renumber(body); body.dispatchEvent(new Event("input", { bubbles: true })); } }, "Remove")));
  return row;
}

/** Names each line's inputs as the API does (`items[0].quantity`), for its field errors. */
function renumber(body) {
  [...body.querySelectorAll("tr.line")].forEach((row, index) => {
    row.querySelector("button").textContent = `Remove line ${index + 1}`;
    for (const control of row.querySelectorAll("input[data-name]")) {
      control.setAttribute("aria-label", `Line ${index + 1} ${control.dataset.name.replace("_", " ")}`);
      const name = `items[${index}].${control.dataset.name}`;
      control.dataset.field = name;
      control.id = `field-items-${index}-${control.dataset.name}`;
      control.setAttribute("aria-describedby", `${control.id}-error`);
      control.nextElementSibling?.remove();
      control.after(el("span", { class: "field-error", id: `${control.id}-error` }));
    }
  });
}

function invoiceBody(form, draft) {
  const items = [...form.querySelectorAll("tr.line")].map((row) => {
    const item = {};
    for (const control of row.querySelectorAll("input[data-name]")) {
      const value = control.value.trim();
      if (value !== "") item[control.dataset.name] = value;
    }
    return item;
  });
  const body = { items };
  for (const name of ["customer_id", "issue_date", "due_date", "notes", "invoice_number"]) {
    const value = valueOf(form, name);
    // An edit sends what changed: a due date left as the terms gave it follows a new
    // issue date; cleared notes are cleared.
    if (draft && String(value ?? "") === String(draft[name] ?? "")) continue;
    if (value !== undefined) body[name] = name === "customer_id" ? Number(value) : value;
    else if (draft && name === "notes") body.notes = null;
  }
  if (!draft) body.status = valueOf(form, "status") || "draft";
  return body;
}

function previewPanel() {
  // The figures are shown whole; only a one-line summary is announced.
  const status = el("p", { role: "status", class: "visually-hidden" });
  const panel = el("div", { class: "card preview" }, el("p", {}, "Totals appear as you fill in the lines."));
  const say = (...children) => panel.replaceChildren(status, ...children);
  let timer = null, asked = 0, last = "";
  const update = (form) => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const mine = ++asked;
      const body = invoiceBody(form, null);
      delete body.invoice_number;
      // Only a body that could be an invoice: no request (and no 400) per keystroke.
      const complete = body.customer_id && body.items.length
        && body.items.every((i) => i.description && i.quantity && i.unit_price);
      const text = JSON.stringify(body);
      if (!complete) {
        last = "";
        say(el("p", {}, "Totals appear once every line has a description, a quantity and a price."));
        return;
      }
      if (text === last) return; // the same body: the totals shown are its own
      last = text;
      try {
        const invoice = await api("/v1/invoices/preview", { method: "POST", body: { ...body, status: "draft" } });
        if (mine !== asked) return;
        status.textContent = `Total ${money(invoice.total, invoice.currency)}, due ${date(invoice.due_date)}.`;
        say(el("h2", {}, "Totals, as the server computes them"), totals(invoice),
          el("p", {}, `Due ${date(invoice.due_date)}.`));
      } catch (error) {
        if (mine !== asked) return;
        status.textContent = "";
        say(el("p", {}, `No totals yet: ${error.message}`));
      }
    }, 400);
  };
  return { panel, update };
}

export async function invoiceForm(id) {
  const params = hashParams();
  const [draft, customers] = await Promise.all([id ? api(`/v1/invoices/${id}`) : null, customerOptions()]);
  const title = draft ? `Edit draft ${draft.invoice_number}` : "New invoice";
  const body = el("tbody", {}, (draft ? draft.items : [{}]).map(lineRow));
  const preview = previewPanel();
  const fields = [
    field("Customer", "customer_id", customerPicker(customers, draft?.customer_id ?? params.customer_id)),
    field("Issue date", "issue_date", input({ type: "date", value: draft?.issue_date }), "Empty: today."),
    field("Due date", "due_date", input({ type: "date", value: draft?.due_date }), "Empty: from the customer's terms."),
    draft ? null : field("Number", "invoice_number", input({}), "Empty: the next number."),
    draft ? null : field("Save as", "status", select([["draft", "Draft"], ["sent", "Sent (issued now)"]], "draft")),
    field("Notes", "notes", el("textarea", { rows: 2, value: draft?.notes ?? "" })),
    el("div", { class: "scroll" }, el("table", { class: "lines" },
      el("caption", {}, "Lines"),
      el("thead", {}, el("tr", {}, ["Description", "Quantity", "Unit price", "Tax rate", ""].map((h) => el("th", { scope: "col" }, h)))),
      body)),
    el("button", { type: "button", class: "quiet", onclick: () => { body.append(lineRow()); renumber(body); } }, "Add a line"),
  ];
  const key = newIdempotencyKey();
  const form = writeForm(title, fields, async (f) => {
    const sent = invoiceBody(f, draft);
    const saved = draft
      ? await api(`/v1/invoices/${id}`, { method: "PUT", body: sent })
      : await api("/v1/invoices", { method: "POST", body: sent, idempotencyKey: key });
    location.hash = `#/invoices/${saved.id}`;
  }, draft ? "Save draft" : "Create invoice");
  renumber(body);
  form.addEventListener("input", () => preview.update(form));
  if (draft) preview.update(form);
  return [el("h1", {}, title), el("div", { class: "form-grid" }, form, preview.panel)];
}
