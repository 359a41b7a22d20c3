// The console, driven in Debian's chromium by playwright-core: what a person does, checked
// against what the API answers. Run by .ci/console/run.sh (BASE, ADMIN_KEY, READ_KEY,
// SCREENSHOTS come from it).
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";

import {
  agingBar, apiWith, createCustomer, createInvoice, creditNoteApplied, downloads, editCustomer,
  editDraftAndSend, readOnly, recordPayment, refundCredit, shownBalances, statementFiles, voidPayment,
  writeOffAndVoid,
} from "./flows.mjs";

const require = createRequire(new URL("../tools/package.json", import.meta.url));
const { chromium } = require("playwright-core");
// Evaluated through the DevTools protocol, which the page's CSP does not govern (a script
// tag would be refused by it, as it should be).
const AXE = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

const { BASE, ADMIN_KEY, READ_KEY, SCREENSHOTS } = process.env;
const SIZES = [["wide", 1280, 800], ["phone", 390, 844]];

async function apiGet(path, key) {
  const response = await fetch(BASE + path, { headers: { "x-arvalox-api-key": key } });
  assert.equal(response.status, 200, path);
  return response.json();
}

/** axe-core on the page as it stands: no serious or critical violation. */
async function accessible(page, screen) {
  await page.evaluate(AXE);
  const found = await page.evaluate(async () => (await window.axe.run()).violations);
  const bad = found.filter((v) => v.impact === "serious" || v.impact === "critical");
  assert.deepEqual(bad.map((v) => `${v.id}: ${v.help}`), [], `${screen}: axe`);
}

async function pictures(page, screen) {
  mkdirSync(SCREENSHOTS, { recursive: true });
  for (const [name, width, height] of SIZES) {
    await page.setViewportSize({ width, height });
    await page.screenshot({ path: join(SCREENSHOTS, `${screen}-${name}.png`), fullPage: true });
  }
  await page.setViewportSize({ width: 1280, height: 800 });
}

async function signIn(page, key) {
  await page.goto(BASE + "/");
  await page.getByLabel("API key").fill(key);
  await page.getByRole("button", { name: "Sign in" }).click();
}

async function theDashboard(page) {
  const report = await apiGet("/v1/reports/dashboard?include=kpis,series", ADMIN_KEY);
  const overdue = await apiGet("/v1/invoices?status=overdue&limit=500", ADMIN_KEY);
  await page.getByRole("heading", { name: /^Dashboard/ }).waitFor();
  // Each KPI shows the API's value, its formula on hover.
  const dso = page.locator(".kpi", { hasText: "Days sales outstanding" });
  assert.equal(await dso.locator("dd").evaluate((n) => n.firstChild.textContent), `${report.kpis.dso.value} days`);
  assert.match(await dso.getAttribute("title"), /total_outstanding/);
  // The aging chart's table: one row a bucket, the API's amounts in the reader's format.
  const rows = page.getByRole("table", { name: "Aging buckets" }).locator("tbody tr");
  assert.equal(await rows.count(), 5);
  const current = await rows.first().locator("td").nth(1).textContent();
  const expected = new Intl.NumberFormat("en-US", { style: "currency", currency: report.currency })
    .format(report.aging.current);
  assert.equal(current, expected);
  assert.equal(await page.locator("svg.chart").count(), 2);
  // The worklist: every overdue invoice, oldest due first.
  const worklist = page.getByRole("table", { name: "Overdue invoices" }).locator("tbody tr");
  assert.equal(await worklist.count(), overdue.items.length);
  const dues = overdue.items.map((i) => i.due_date).sort();
  if (dues.length) {
    const first = overdue.items.find((i) => i.due_date === dues[0]);
    assert.equal(await worklist.first().locator("td").first().textContent(), first.invoice_number);
  }
}

const profile = mkdtempSync(join(tmpdir(), "arvalox-chromium-"));
const browser = await chromium.launchPersistentContext(profile, {
  executablePath: "/usr/bin/chromium",
  locale: "en-US",
  viewport: { width: 1280, height: 800 },
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run"],
});
const page = browser.pages()[0] || (await browser.newPage());
const problems = [];
page.on("console", (message) => { if (message.type() === "error") problems.push(message.text()); });
page.on("pageerror", (error) => problems.push(error.message));
const asked = new Set(); // "METHOD /path" of every request the console made
page.on("request", (request) => {
  if (!request.url().startsWith(BASE)) problems.push(`left the server: ${request.url()}`);
  else asked.add(`${request.method()} ${new URL(request.url()).pathname}`);
});

/** Every API request the console made names an operation the spec documents. */
async function onlyDocumentedRoutes() {
  const spec = await (await fetch(`${BASE}/openapi.json`)).json();
  const operations = Object.entries(spec.paths).flatMap(([path, item]) => Object.keys(item).map((method) =>
    new RegExp(`^${method.toUpperCase()} ${path.replace(/\{[^}]+\}/g, "[^/]+")}$`)));
  const files = /^GET \/(console\/[a-z]+\.(js|css))?$/;
  const unknown = [...asked].filter((r) => !files.test(r) && !operations.some((o) => o.test(r)));
  assert.deepEqual(unknown, [], "requests to routes the spec does not document");
  console.log(`console: ${asked.size} distinct routes asked, all documented`);
}

try {
  // A wrong key is refused on the form, and nothing is kept.
  await signIn(page, "arv_0000000000000000000000000000000000000000000000");
  await page.getByText("That key is not valid").waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.length), 0);
  problems.length = 0; // the refused key's 401 is the browser's own console line
  await accessible(page, "sign-in");
  await pictures(page, "sign-in");

  await signIn(page, ADMIN_KEY);
  await theDashboard(page);
  assert.equal(page.url(), `${BASE}/#/dashboard`);
  assert.ok(!page.url().includes(ADMIN_KEY), "the key is never in the address");
  assert.deepEqual(await page.context().cookies(), []);
  await accessible(page, "dashboard");
  await pictures(page, "dashboard");

  // The first screen's paint, as the browser measured it (reported, not asserted).
  const paint = await page.evaluate(() =>
    performance.getEntriesByType("paint").map((p) => `${p.name} ${p.startTime.toFixed(0)} ms`).join(", "));
  console.log(`console first screen: ${paint}`);

  // A customer, two invoices, a payment over both (the rest as credit), then its void.
  const admin = apiWith(BASE, ADMIN_KEY);
  const customer = await createCustomer(page, admin);
  // The browser logs the 400 the bad email drew, as it should: that one is expected.
  const refused = problems.findIndex((p) => p.includes("status of 400"));
  assert.ok(refused >= 0, "the bad email was refused");
  problems.splice(refused, 1);
  const renamed = await editCustomer(page, admin, customer);
  problems.splice(problems.findIndex((p) => p.includes("status of 400")), 1); // the cleared name
  await page.goto(`${BASE}/#/customers/new`);
  await page.getByRole("button", { name: "Create customer" }).waitFor();
  await accessible(page, "customer-form");
  await pictures(page, "customer-form");
  await accessible(page, "customer");
  const newer = await createInvoice(page, admin, customer);
  await accessible(page, "invoice");
  await pictures(page, "invoice");
  const issued = new Date(Date.now() - 40 * 86400000).toISOString().slice(0, 10);
  const older = await admin("/v1/invoices", { method: "POST", body: { customer_id: customer.id, issue_date: issued,
    items: [{ description: "Grout", quantity: 2, unit_price: "41.20" }] } });
  await page.goto(`${BASE}/#/invoices/new?customer_id=${customer.id}`);
  await page.locator(".preview").waitFor();
  await accessible(page, "invoice-form");
  await pictures(page, "invoice-form");
  await page.goto(`${BASE}/#/payments/new?customer_id=${customer.id}`);
  await page.getByRole("table", { name: /Open invoices/ }).waitFor();
  await accessible(page, "payment-form");
  await pictures(page, "payment-form");
  const before = await shownBalances(page, admin, customer);
  const payment = await recordPayment(page, admin, customer, older, newer);
  await accessible(page, "payment");
  await pictures(page, "payment");
  await page.goto(`${BASE}/#/customers/${customer.id}`);
  await page.getByRole("heading", { name: "Statement" }).waitFor();
  await page.getByRole("table", { name: "Statement lines" }).waitFor();
  await accessible(page, "customer-page");
  await pictures(page, "customer-page");
  const paid = await shownBalances(page, admin, customer);
  assert.notDeepEqual(paid, before, "the aging chart's figures move with the payment");
  await voidPayment(page, admin, customer, payment);
  assert.deepEqual(await shownBalances(page, admin, customer), before, "and return with its void");
  await agingBar(page, admin);
  await downloads(page, newer);
  await page.getByRole("table", { name: "Aging by customer" }).waitFor();
  await accessible(page, "aging");
  await pictures(page, "aging");
  await editDraftAndSend(page, admin, renamed);
  await creditNoteApplied(page, admin, renamed);
  await accessible(page, "credit-note");
  await pictures(page, "credit-note");
  await refundCredit(page, admin, renamed);
  await statementFiles(page, admin, renamed);
  await writeOffAndVoid(page, admin, renamed, newer);
  await page.goto(`${BASE}/#/customers`);
  await page.getByRole("table", { name: "Customers" }).waitFor();
  await accessible(page, "customers");
  await pictures(page, "customers");
  await page.goto(`${BASE}/#/invoices?status=overdue`);
  await page.getByRole("table", { name: "Invoices" }).waitFor();
  await accessible(page, "invoices");
  await pictures(page, "invoices");

  // Signing out forgets the key.
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.getByLabel("API key").waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.length), 0);

  // A read key sees everything, and is told that changes are off.
  await signIn(page, READ_KEY);
  await theDashboard(page);
  assert.equal(await page.locator("#who").textContent(), "Read-only key: changes are disabled");
  await readOnly(page, customer);
  await accessible(page, "read-only-payment");
  assert.deepEqual(problems, [], "console errors, CSP refusals or requests elsewhere");
  await onlyDocumentedRoutes();
  console.log(`console: every check passed; screenshots in ${SCREENSHOTS}`);
} catch (error) {
  // The page as it stood when a check failed, to see why.
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, "failure.png"), fullPage: true }).catch(() => {});
  console.error(`console: failed on ${page.url()}; the page is in ${SCREENSHOTS}/failure.png`);
  throw error;
} finally {
  await browser.close();
  rmSync(profile, { recursive: true, force: true });
}
