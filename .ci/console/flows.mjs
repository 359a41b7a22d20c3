// What a shop owner and a clerk do in the console, from a new customer to a voided
// payment, each step checked against what the API then answers. Used by browser.mjs.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";

export function apiWith(base, key) {
  return async (path, { method = "GET", body } = {}) => {
    const response = await fetch(base + path, {
      method,
      headers: { "x-arvalox-api-key": key, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    assert.ok(response.ok, `${method} ${path}: ${response.status} ${text}`);
    return text ? JSON.parse(text) : null;
  };
}

const exact = { exact: true };

/** A two-decimal amount as whole cents, and back: the test's own exact arithmetic. */
const toCents = (amount) => BigInt(amount.replace(".", ""));
const cents = (value) => `${value / 100n}.${String(value % 100n).padStart(2, "0")}`;

/** Presses Tab until the field `id` has the focus (a date input takes several). */
async function tabTo(page, id) {
  for (let presses = 0; presses < 40; presses += 1) {
    await page.keyboard.press("Tab");
    if (await page.evaluate((wanted) => document.activeElement.id === wanted, id)) return;
  }
  assert.fail(`Tab never reached #${id}`);
}

/** A new customer through the form: a bad email is refused on its field, then fixed. */
export async function createCustomer(page, api) {
  await page.goto(`${process.env.BASE}/#/customers/new`);
  await page.getByLabel("Name", exact).fill("Wexford Tiles");
  await page.getByLabel("Email", exact).fill("not an address");
  await page.getByLabel("Payment terms in days", exact).fill("14");
  await page.getByRole("button", { name: "Create customer" }).click();
  const email = page.getByLabel("Email", exact);
  await page.locator("#field-email-error").filter({ hasText: /./ }).waitFor();
  assert.equal(await email.getAttribute("aria-invalid"), "true");
  assert.ok(await email.evaluate((node) => node === document.activeElement), "focus moves to the bad field");
  await email.fill("ap@wexford.example");
  await page.getByRole("button", { name: "Create customer" }).click();
  await page.getByRole("heading", { name: "Wexford Tiles", exact: true }).waitFor();
  const id = Number(page.url().split("/").pop());
  const customer = await api(`/v1/customers/${id}`);
  assert.equal(customer.email, "ap@wexford.example");
  assert.equal(customer.payment_terms_days, 14);
  return customer;
}

/** An invoice through the form: the totals shown are the server's preview. */
export async function createInvoice(page, api, customer) {
  await page.goto(`${process.env.BASE}/#/invoices/new?customer_id=${customer.id}`);
  await page.getByLabel("Line 1 description").fill("Floor tiles");
  await page.getByLabel("Line 1 quantity").fill("3");
  await page.getByLabel("Line 1 unit price").fill("33.335");
  await page.getByLabel("Line 1 tax rate").fill("0.0825");
  await page.getByRole("button", { name: "Add a line" }).click();
  await page.getByLabel("Line 2 description").fill("Delivery");
  await page.getByLabel("Line 2 quantity").fill("1");
  await page.getByLabel("Line 2 unit price").fill("25");
  const preview = await api("/v1/invoices/preview", {
    method: "POST",
    body: { customer_id: customer.id, status: "draft", items: [
      { description: "Floor tiles", quantity: "3", unit_price: "33.335", tax_rate: "0.0825" },
      { description: "Delivery", quantity: "1", unit_price: "25" }] },
  });
  const usd = (amount) => new Intl.NumberFormat("en-US", { style: "currency", currency: preview.currency }).format(amount);
  await page.locator(".preview dd", { hasText: usd(preview.total) }).first().waitFor();
  await page.getByLabel("Save as").selectOption("sent");
  await page.getByRole("button", { name: "Create invoice" }).click();
  await page.getByRole("heading", { name: /^Invoice / }).waitFor();
  const id = Number(page.url().split("/").pop());
  const invoice = await api(`/v1/invoices/${id}`);
  assert.equal(invoice.total, preview.total);
  assert.equal(invoice.status, "sent");
  return invoice;
}

/**
 * A payment larger than both open invoices, entered with the keyboard alone (from the top
 * of the page, by Tab and typing): prefilled oldest first, the rest shown as credit; a
 * double submission (Enter, Enter) records it once.
 */
export async function recordPayment(page, api, customer, older, newer) {
  await page.goto(`${process.env.BASE}/#/payments/new`);
  await page.getByRole("heading", { name: "Record a payment" }).waitFor();
  await tabTo(page, "field-customer-id");
  await page.keyboard.type(customer.name); // a closed list picks by typing its start
  await page.getByRole("table", { name: /Open invoices/ }).waitFor();
  await tabTo(page, "field-amount");
  await page.keyboard.type("500");
  const amounts = page.getByRole("table", { name: /Open invoices/ }).locator("tbody input");
  assert.equal(await amounts.count(), 2);
  assert.equal(await amounts.nth(0).inputValue(), older.balance_due);
  assert.equal(await amounts.nth(1).inputValue(), newer.balance_due);
  const credit = cents(50000n - toCents(older.balance_due) - toCents(newer.balance_due));
  const usd = (amount) => new Intl.NumberFormat("en-US", { style: "currency", currency: "USD" }).format(amount);
  await page.getByText(`left as credit ${usd(credit)}`).waitFor();
  await tabTo(page, "field-reference-number");
  await page.keyboard.type("BANK-778");
  await page.keyboard.press("Enter");
  await page.keyboard.press("Enter");
  await page.getByRole("heading", { name: /^Payment #/ }).waitFor();
  const payments = await api(`/v1/payments?customer_id=${customer.id}`);
  assert.equal(payments.total, 1, "a double submission records one payment");
  const payment = payments.items[0];
  assert.equal(payment.reference_number, "BANK-778");
  assert.equal(payment.unapplied_amount, credit);
  assert.deepEqual(payment.allocations.map((a) => a.invoice_id), [older.id, newer.id]);
  const after = await api(`/v1/customers/${customer.id}`);
  assert.equal(after.credit_balance, credit);
  assert.equal(after.outstanding_balance, "0.00");
  return payment;
}

/** Voiding the payment with a reason reopens the invoices and takes the credit back. */
export async function voidPayment(page, api, customer, payment) {
  await page.goto(`${process.env.BASE}/#/payments/${payment.id}`);
  const form = page.getByRole("form", { name: "Void" });
  await form.getByLabel("Reason").fill("Bounced");
  await form.getByRole("button", { name: "Void" }).click();
  // The void form's hint speaks of "a bounced check": wait for the voided line itself.
  await page.getByText(/: Bounced$/).waitFor();
  const voided = await api(`/v1/payments/${payment.id}`);
  assert.equal(voided.status, "void");
  const after = await api(`/v1/customers/${customer.id}`);
  assert.equal(after.credit_balance, "0.00");
  assert.notEqual(after.outstanding_balance, "0.00");
}

/** The files a user downloads are the API's own: a PDF, a CSV. */
export async function downloads(page, invoice) {
  await page.goto(`${process.env.BASE}/#/invoices/${invoice.id}`);
  const [pdf] = await Promise.all([page.waitForEvent("download"),
    page.getByRole("button", { name: "Download PDF" }).click()]);
  assert.equal(readFileSync(await pdf.path()).subarray(0, 5).toString(), "%PDF-");
  assert.match(pdf.suggestedFilename(), /\.pdf$/);
  await page.goto(`${process.env.BASE}/#/aging`);
  const [csv] = await Promise.all([page.waitForEvent("download"),
    page.getByRole("button", { name: "Download CSV" }).click()]);
  const text = readFileSync(await csv.path(), "utf8");
  assert.match(text.split("\n")[0], /customer/i);
  assert.ok(text.includes("Wexford Tiles"), "the aging CSV lists the new customer");
}

/** A read key sees the screens, and every write control is disabled with the reason. */
export async function readOnly(page, customer) {
  await page.goto(`${process.env.BASE}/#/customers/${customer.id}`);
  const edit = page.getByRole("button", { name: "Edit", exact: true });
  await edit.waitFor();
  assert.equal(await edit.isDisabled(), true);
  assert.match(await edit.getAttribute("title"), /read-only/);
  await page.goto(`${process.env.BASE}/#/payments/new`);
  await page.getByText("Your key is read-only").waitFor();
  assert.equal(await page.getByRole("button", { name: "Record payment" }).isDisabled(), true);
  assert.equal(await page.getByLabel("Amount", exact).isDisabled(), true);
}

/** A bar of the dashboard's aging chart lists that bucket's invoices, as the API has them. */
export async function agingBar(page, api) {
  await page.goto(`${process.env.BASE}/#/dashboard`);
  const chart = page.locator("section", { has: page.getByRole("heading", { name: "Aging", exact: true }) });
  await chart.locator("svg a").nth(1).click();
  await page.getByRole("heading", { name: "Invoices in 1–30 days" }).waitFor();
  const report = await api("/v1/reports/aging?detail=invoices");
  const expected = report.customers.flatMap((c) => c.invoices).filter((i) => i.bucket === "days_1_30");
  const rows = page.getByRole("table", { name: "Invoices in 1–30 days" }).locator("tbody tr");
  if (expected.length) {
    assert.equal(await rows.count(), expected.length);
    assert.deepEqual((await rows.locator("td:first-child").allTextContents()).sort(),
      expected.map((i) => i.invoice_number).sort());
  } else {
    await page.getByText("No invoice is in this bucket.").waitFor();
  }
}

/** Editing a customer: a cleared name is refused on its field; the change is saved alone. */
export async function editCustomer(page, api, customer) {
  await page.goto(`${process.env.BASE}/#/customers/${customer.id}/edit`);
  const name = page.getByLabel("Name", exact);
  await name.fill("");
  await page.getByRole("button", { name: "Save changes" }).click();
  await page.locator("#field-name-error").filter({ hasText: /./ }).waitFor();
  assert.equal(await name.getAttribute("aria-invalid"), "true");
  await name.fill("Wexford Tiles Ltd");
  await page.getByLabel("Payment terms in days", exact).fill("30");
  await page.getByRole("button", { name: "Save changes" }).click();
  await page.getByRole("heading", { name: "Wexford Tiles Ltd", exact: true }).waitFor();
  const saved = await api(`/v1/customers/${customer.id}`);
  assert.equal(saved.payment_terms_days, 30);
  assert.equal(saved.email, customer.email, "a field left alone is not sent");
  return saved;
}

/** A draft changed through its form (the preview follows), then sent from its page. */
export async function editDraftAndSend(page, api, customer) {
  const draft = await api("/v1/invoices", { method: "POST", body: { customer_id: customer.id, status: "draft",
    items: [{ description: "Survey", quantity: 1, unit_price: "80" }] } });
  await page.goto(`${process.env.BASE}/#/invoices/${draft.id}/edit`);
  await page.locator(".preview dd").first().waitFor();
  await page.getByLabel("Line 1 quantity").fill("2.5");
  const usd = (amount) => new Intl.NumberFormat("en-US", { style: "currency", currency: "USD" }).format(amount);
  await page.locator(".preview dd", { hasText: usd("200.00") }).first().waitFor();
  await page.getByRole("button", { name: "Save draft" }).click();
  await page.getByRole("heading", { name: `Invoice ${draft.invoice_number}` }).waitFor();
  assert.equal((await api(`/v1/invoices/${draft.id}`)).total, "200.00");
  await page.getByRole("button", { name: "Send", exact: true }).click();
  await page.getByRole("heading", { name: "Sent", exact: true }).waitFor();
  const sent = await api(`/v1/invoices/${draft.id}`);
  assert.equal(sent.status, "sent");
  assert.equal(sent.due_date, addDays(sent.issue_date, 30), "the due date follows the new terms");
  return sent;
}

function addDays(text, days) {
  const day = new Date(`${text}T00:00:00Z`);
  day.setUTCDate(day.getUTCDate() + days);
  return day.toISOString().slice(0, 10);
}

/** A credit note from the customer's page, then its credit applied oldest first. */
export async function creditNoteApplied(page, api, customer) {
  await page.goto(`${process.env.BASE}/#/customers/${customer.id}`);
  await page.getByRole("link", { name: "New credit note" }).click();
  await page.getByLabel("Reason", exact).fill("Two cracked tiles");
  await page.getByLabel("Amount", exact).fill("50");
  await page.getByRole("button", { name: "Create credit note" }).click();
  await page.getByRole("heading", { name: /^Credit note / }).waitFor();
  const id = Number(page.url().split("/").pop());
  const open = (await api(`/v1/invoices?customer_id=${customer.id}`)).items
    .filter((i) => ["sent", "partially_paid"].includes(i.status))
    .sort((a, b) => a.due_date.localeCompare(b.due_date) || a.issue_date.localeCompare(b.issue_date) || a.id - b.id);
  const form = page.getByRole("form", { name: "Apply credit" });
  assert.equal(await form.locator("tbody input").first().inputValue(), "50.00");
  await form.getByRole("button", { name: "Apply credit" }).click();
  await page.getByText("Nothing applied or refunded yet.").waitFor({ state: "detached" });
  const note = await api(`/v1/credit-notes/${id}`);
  assert.equal(note.applied_amount, "50.00");
  assert.equal(note.allocations[0].invoice_id, open[0].id, "applied to the oldest open invoice");
}

/** Credit kept on a payment, part of it refunded from the payment's page. */
export async function refundCredit(page, api, customer) {
  const payment = await api("/v1/payments", { method: "POST", body: { customer_id: customer.id, amount: "20.00",
    payment_method: "cash" } });
  await page.goto(`${process.env.BASE}/#/payments/${payment.id}`);
  const form = page.getByRole("form", { name: "Refund" });
  await form.getByLabel("Amount").fill("5");
  await form.getByLabel("Method").selectOption("cash");
  await form.getByLabel("Reason").fill("Change given back");
  await form.getByRole("button", { name: "Refund" }).click();
  await page.getByText("Change given back").waitFor();
  const after = await api(`/v1/payments/${payment.id}`);
  assert.equal(after.refunded_amount, "5.00");
  assert.equal(after.unapplied_amount, "15.00");
}

/** The customer's statement for the period shown, as PDF and CSV. */
export async function statementFiles(page, api, customer) {
  await page.goto(`${process.env.BASE}/#/customers/${customer.id}`);
  await page.getByRole("table", { name: "Statement lines" }).waitFor();
  const statement = page.locator("section", { has: page.getByRole("heading", { name: "Statement" }) });
  const [pdf] = await Promise.all([page.waitForEvent("download"),
    statement.getByRole("button", { name: "Download PDF" }).click()]);
  assert.equal(readFileSync(await pdf.path()).subarray(0, 5).toString(), "%PDF-");
  const [csv] = await Promise.all([page.waitForEvent("download"),
    statement.getByRole("button", { name: "Download CSV" }).click()]);
  const text = readFileSync(await csv.path(), "utf8");
  const from = await page.getByLabel("From", exact).inputValue();
  const to = await page.getByLabel("To", exact).inputValue();
  const json = await api(`/v1/customers/${customer.id}/statement?from=${from}&to=${to}`);
  assert.ok(json.lines.length >= 5, "invoices, payments, their void, the credit note");
  for (const line of json.lines) assert.ok(text.includes(line.reference), `${line.reference} in the CSV`);
}

/** A write-off from an invoice's page, and a draft voided once the user confirms. */
export async function writeOffAndVoid(page, api, customer, invoice) {
  await page.goto(`${process.env.BASE}/#/invoices/${invoice.id}`);
  const form = page.getByRole("form", { name: "Write off" });
  await form.getByLabel("Amount").fill("3.26");
  await form.getByLabel("Reason").fill("Rounding agreed");
  await form.getByRole("button", { name: "Write off" }).click();
  await page.getByText("Write-off: Rounding agreed").waitFor();
  assert.equal((await api(`/v1/invoices/${invoice.id}`)).amount_written_off, "3.26");
  const draft = await api("/v1/invoices", { method: "POST", body: { customer_id: customer.id, status: "draft",
    items: [{ description: "Sample board", quantity: 1, unit_price: "12" }] } });
  await page.goto(`${process.env.BASE}/#/invoices/${draft.id}`);
  page.once("dialog", (dialog) => dialog.accept());
  await page.getByRole("button", { name: "Void", exact: true }).click();
  await page.getByRole("heading", { name: "Void", exact: true }).waitFor();
  assert.equal((await api(`/v1/invoices/${draft.id}`)).status, "void");
}

/** What the console shows of a customer's credit and of the aging, against the API's. */
export async function shownBalances(page, api, customer) {
  const usd = (amount) => new Intl.NumberFormat("en-US", { style: "currency", currency: "USD" }).format(amount);
  const fresh = await api(`/v1/customers/${customer.id}`);
  await page.goto(`${process.env.BASE}/#/customers/${customer.id}`);
  const credit = page.locator(".facts dt", { hasText: "Unapplied credit" }).locator("xpath=following-sibling::dd[1]");
  assert.equal(await credit.textContent(), usd(fresh.credit_balance));
  await page.goto(`${process.env.BASE}/#/dashboard`);
  const report = await api("/v1/reports/dashboard");
  const rows = page.getByRole("table", { name: "Aging buckets" }).locator("tbody tr");
  await rows.first().waitFor();
  const shown = await rows.locator("td:nth-child(2)").allTextContents();
  const expected = ["current", "days_1_30", "days_31_60", "days_61_90", "days_over_90"].map((k) => usd(report.aging[k]));
  assert.deepEqual(shown, expected);
  return shown;
}
