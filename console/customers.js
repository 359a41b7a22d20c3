// Customers: search and list, create and edit (the API's field errors on the fields they
// name), and a customer's page: balances, credit, open invoices, payment history and the
// statement for a chosen period, with its PDF and CSV.

import {
  actionButton, all, api, date, download, el, field, hashParams, header, input, link, money, newIdempotencyKey, query,
  plural, select, today, statusName, table, valueOf, writeForm, writeLink,
} from "./lib.js";

export async function customerList() {
  const params = hashParams();
  const search = params.search || "";
  const list = await api(`/v1/customers${query({ search, limit: 500 })}`);
  const box = input({ type: "search", value: search, placeholder: "Name, code or email" });
  const form = el("form", { class: "card filters", role: "search", "aria-label": "Find customers" },
    field("Search", "search", box), el("div", { class: "actions" }, el("button", { type: "submit" }, "Find")));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    location.hash = `#/customers${query({ search: box.value.trim() })}`;
  });
  return [
    header("Customers", writeLink("#/customers/new", "New customer")),
    form,
    el("p", {}, `${list.total} found${list.total > list.items.length ? `, the first ${list.items.length} shown` : ""}.`),
    table("Customers", ["Customer", "Code", "Email", "Outstanding", "Overdue", "Credit"],
      list.items.map((c) => [link(`#/customers/${c.id}`, c.name), c.customer_code, c.email || "—",
        money(c.outstanding_balance, c.currency), money(c.overdue_balance, c.currency),
        money(c.credit_balance, c.currency)]), [3, 4, 5]),
  ];
}

const TEXT_FIELDS = [
  ["Name", "name", "Required."],
  ["Customer code", "customer_code", "Empty on a new customer: the next one is given."],
  ["Email", "email", "Where invoices and statements are sent."],
  ["Phone", "phone"],
  ["Payment terms in days", "payment_terms_days", "Empty: the organization's default."],
  ["Credit limit", "credit_limit", "An amount such as 5000.00; empty: no limit."],
  ["Currency", "currency", "ISO 4217 code; empty: the organization's."],
];

function customerFields(customer) {
  return [
    TEXT_FIELDS.map(([label, name, hint]) => field(label, name, input({
      value: customer ? customer[name] : "", inputmode: name === "payment_terms_days" ? "numeric" : null,
      required: name === "name" ? true : null,
    }), hint)),
    field("Billing address", "billing_address", el("textarea", { rows: 3, value: customer?.billing_address ?? "" })),
    field("Notes", "notes", el("textarea", { rows: 2, value: customer?.notes ?? "" })),
    customer ? field("Active", "is_active", el("input", { type: "checkbox", checked: customer.is_active })) : null,
  ];
}

/** The body for a create (empty fields left out) or an edit (changed fields only). */
function customerBody(form, customer) {
  const names = [...TEXT_FIELDS.map(([, name]) => name), "billing_address", "notes"];
  const body = {};
  for (const name of names) {
    const value = valueOf(form, name);
    const before = customer ? (customer[name] ?? undefined) : undefined;
    if (customer && String(value ?? "") === String(before ?? "")) continue;
    // A name is never cleared (an empty one is sent, to be refused on its field); a code
    // left empty on an edit keeps the one it has.
    if (customer && value === undefined && name === "name") { body.name = ""; continue; }
    if (customer && value === undefined && name === "customer_code") continue;
    if (value === undefined && !customer) continue;
    body[name] = value === undefined ? null : name === "payment_terms_days" && /^\d+$/.test(value) ? Number(value) : value;
  }
  if (customer && valueOf(form, "is_active") !== customer.is_active) body.is_active = valueOf(form, "is_active");
  return body;
}

export async function customerForm(id) {
  const customer = id ? await api(`/v1/customers/${id}`) : null;
  const title = customer ? `Edit ${customer.name}` : "New customer";
  const form = writeForm(title, customerFields(customer), async (f) => {
    const body = customerBody(f, customer);
    const saved = customer
      ? await api(`/v1/customers/${id}`, { method: "PUT", body })
      : await api("/v1/customers", { method: "POST", body, idempotencyKey: f.dataset.key });
    location.hash = `#/customers/${saved.id}`;
  }, customer ? "Save changes" : "Create customer");
  form.dataset.key = newIdempotencyKey();
  return [el("h1", {}, title), form];
}

function balances(c) {
  const row = (name, value) => [el("dt", {}, name), el("dd", {}, value)];
  return el("dl", { class: "facts" },
    row("Outstanding", money(c.outstanding_balance, c.currency)),
    row("Overdue", money(c.overdue_balance, c.currency)),
    row("Unapplied credit", money(c.credit_balance, c.currency)),
    row("Net balance", money(c.net_balance, c.currency)),
    row("Credit limit", c.credit_limit ? money(c.credit_limit, c.currency) : "None"),
    row("Terms", `${c.payment_terms_days} days`),
    row("Email", c.email || "—"));
}

function statementCard(customer) {
  const to = input({ type: "date", value: today() });
  const from = input({ type: "date", value: `${to.value.slice(0, 8)}01` });
  // Only the one-line summary is announced, not the whole table each time.
  const status = el("p", { role: "status" });
  const result = el("div", {});
  const path = (format) => `/v1/customers/${customer.id}/statement${query({ from: from.value, to: to.value, format })}`;
  const show = async () => {
    let s;
    try {
      s = await api(path());
    } catch (error) {
      result.replaceChildren(el("p", { class: "error", role: "alert" }, error.message));
      return;
    }
    status.textContent = `Opening ${money(s.opening_balance, s.currency)}, closing ${money(s.closing_balance, s.currency)}, ${plural(s.lines.length, "line", "lines")}.`;
    result.replaceChildren(
      table("Statement lines", ["Date", "Kind", "Reference", "Description", "Amount", "Balance"],
        s.lines.map((l) => [date(l.date), statusName(l.kind), l.reference, l.description,
          money(l.amount, s.currency), money(l.balance, s.currency)]), [4, 5]));
  };
  const form = el("form", { class: "filters", "aria-label": "Statement period" },
    field("From", "from", from), field("To", "to", to),
    el("div", { class: "actions" },
      el("button", { type: "submit" }, "Show"),
      actionButton("Download PDF", () => download(path("pdf"), "statement.pdf")),
      actionButton("Download CSV", () => download(path("csv"), "statement.csv"))));
  form.addEventListener("submit", (event) => { event.preventDefault(); show(); });
  show();
  return el("section", { class: "card", "aria-labelledby": "statement-title" },
    el("h2", { id: "statement-title" }, "Statement"), form, status, result);
}

export async function customerPage(id) {
  const [customer, invoices, payments] = await Promise.all([
    api(`/v1/customers/${id}`),
    all(`/v1/invoices?customer_id=${id}`),
    all(`/v1/payments?customer_id=${id}`),
  ]);
  const open = invoices.filter((i) => ["sent", "partially_paid"].includes(i.status));
  return [
    header(customer.name,
      writeLink(`#/customers/${id}/edit`, "Edit"),
      writeLink(`#/invoices/new?customer_id=${id}`, "New invoice"),
      writeLink(`#/payments/new?customer_id=${id}`, "Record payment"),
      writeLink(`#/credit-notes/new?customer_id=${id}`, "New credit note")),
    el("section", { class: "card", "aria-labelledby": "balances-title" },
      el("h2", { id: "balances-title" }, `Balances (${customer.customer_code})`), balances(customer)),
    el("section", { class: "card", "aria-labelledby": "open-title" },
      el("h2", { id: "open-title" }, "Open invoices"),
      open.length ? table("Open invoices", ["Invoice", "Issued", "Due", "Status", "Balance due"],
        open.map((i) => [link(`#/invoices/${i.id}`, i.invoice_number), date(i.issue_date), date(i.due_date),
          i.is_overdue ? `Overdue ${i.days_overdue} days` : statusName(i.status), money(i.balance_due, i.currency)]), [4])
        : el("p", {}, "Nothing is open.")),
    el("section", { class: "card", "aria-labelledby": "payments-title" },
      el("h2", { id: "payments-title" }, "Payment history"),
      payments.length ? table("Payment history", ["Payment", "Date", "Method", "Status", "Amount", "Unapplied"],
        payments.map((p) => [link(`#/payments/${p.id}`, `#${p.id}`), date(p.payment_date), statusName(p.payment_method),
          statusName(p.status), money(p.amount, p.currency), money(p.unapplied_amount, p.currency)]), [4, 5])
        : el("p", {}, "No payments yet.")),
    statementCard(customer),
  ];
}

/** The options of a customer picker: every active customer, by name. */
export async function customerOptions() {
  const customers = await all("/v1/customers?is_active=true");
  return customers.sort((a, b) => a.name.localeCompare(b.name));
}

export function customerPicker(customers, chosen, onchange) {
  return select([["", "Choose a customer"], ...customers.map((c) => [c.id, `${c.name} (${c.customer_code})`])],
    chosen, { required: true, onchange });
}
