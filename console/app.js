// The Arvalox console. Every figure on it comes from the public /v1 API, as the API
// gives it: amounts stay the API's decimal strings and are only formatted here, never
// added up with floats. The key lives in this tab's session storage, nowhere else.

const KEY = "arvalox.key";
const SCOPE = "arvalox.scope";
const main = document.getElementById("main");

/** An answer of the API that is not a success, with its documented error body. */
class ApiError extends Error {
  constructor(status, body) {
    super((body && body.detail) || `The server answered ${status}.`);
    this.status = status;
    this.body = body;
  }
}

/** Calls the API with the signed-in key; JSON in and out. */
async function api(path, { method = "GET", body } = {}) {
  const headers = { "x-arvalox-api-key": sessionStorage.getItem(KEY) || "" };
  if (body !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  const parsed = text ? JSON.parse(text) : null;
  if (!response.ok) throw new ApiError(response.status, parsed);
  return parsed;
}

// ---------------------------------------------------------------------------------------
// Building the page: elements from data, never HTML from data.

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  setAll(node, attributes);
  node.append(...children.flat().filter((c) => c !== null && c !== undefined));
  return node;
}

const SVG = "http://www.w3.org/2000/svg";

function svg(tag, attributes = {}, ...children) {
  const node = document.createElementNS(SVG, tag);
  setAll(node, attributes);
  node.append(...children.flat().filter((c) => c !== null && c !== undefined));
  return node;
}

function setAll(node, attributes) {
  for (const [name, value] of Object.entries(attributes)) {
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (value !== false && value !== null && value !== undefined) node.setAttribute(name, value);
  }
}

/** An amount as the reader's locale writes it in `currency`, from the API's exact text. */
function money(amount, currency) {
  if (amount === null || amount === undefined) return "—";
  try {
    // A string keeps every digit: Intl formats it as a decimal, not through a float.
    return new Intl.NumberFormat(undefined, { style: "currency", currency }).format(amount);
  } catch {
    return `${amount} ${currency}`;
  }
}

function date(text) {
  if (!text) return "—";
  const [year, month, day] = text.split("-").map(Number);
  return new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeZone: "UTC" }).format(
    new Date(Date.UTC(year, month - 1, day)),
  );
}

/** A decimal string as an integer count of ten-thousandths, for proportions only. */
function units(amount) {
  const [whole, fraction = ""] = String(amount).replace("-", "").split(".");
  const value = BigInt(whole || "0") * 10000n + BigInt((fraction + "0000").slice(0, 4));
  return String(amount).startsWith("-") ? -value : value;
}

/** `part` as a share of `whole`, in thousandths (0 to 1000): a bar's length. */
function share(part, whole) {
  const total = units(whole);
  if (total <= 0n) return 0;
  const value = units(part) < 0n ? 0n : units(part);
  return Number((value * 1000n) / total);
}

/** A table of figures, in a region that scrolls sideways on a narrow screen. */
function table(caption, headings, rows, numeric = []) {
  return el("div", { class: "scroll", role: "region", "aria-label": caption, tabindex: "0" }, el(
    "table",
    {},
    el("caption", { class: "visually-hidden" }, caption),
    el("thead", {}, el("tr", {}, headings.map((h, i) =>
      el("th", { scope: "col", class: numeric.includes(i) ? "amount" : null }, h)))),
    el("tbody", {}, rows.map((cells) =>
      el("tr", {}, cells.map((c, i) => el("td", { class: numeric.includes(i) ? "amount" : null }, c))))),
  ));
}

/** What each colour of a chart stands for. */
function legend(names) {
  return el("p", { class: "legend", "aria-hidden": "true" }, names.map((name, i) =>
    el("span", {}, el("span", { class: i ? "swatch second" : "swatch" }), name)));
}

function plural(count, one, many) {
  return `${count} ${count === 1 ? one : many}`;
}

// ---------------------------------------------------------------------------------------
// Signing in and out.

function signIn(message) {
  document.getElementById("bar").hidden = true;
  const error = el("p", { class: "error", role: "alert", id: "sign-in-error" }, message || "");
  const input = el("input", {
    id: "key", name: "key", type: "password", autocomplete: "off", required: true,
    "aria-describedby": "key-hint sign-in-error", spellcheck: "false",
  });
  const form = el(
    "form",
    { class: "card sign-in", onsubmit: (event) => { event.preventDefault(); start(input.value.trim()); } },
    el("h1", {}, "Sign in to Arvalox"),
    el("label", { for: "key" }, "API key"),
    input,
    el("p", { class: "hint", id: "key-hint" },
      "The key `arvalox serve` printed on its first start, or one made with `arvalox keys create`. It is kept in this tab only and forgotten when you sign out or close it."),
    el("button", { type: "submit" }, "Sign in"),
    error,
  );
  main.replaceChildren(form);
  input.focus();
}

async function start(key) {
  sessionStorage.setItem(KEY, key);
  try {
    const ping = await api("/v1/ping");
    sessionStorage.setItem(SCOPE, ping.scope);
    location.hash = "#/dashboard";
    await render();
  } catch (error) {
    sessionStorage.clear();
    signIn(error.status === 401 ? "That key is not valid, or it has been revoked." : error.message);
  }
}

function signOut() {
  sessionStorage.clear();
  location.hash = "";
  signIn();
}

// ---------------------------------------------------------------------------------------
// The dashboard.

const KPI_NAMES = {
  dso: ["Days sales outstanding", " days"],
  cei: ["Collection effectiveness", "%"],
  average_days_to_pay: ["Average days to pay", " days"],
  average_days_to_pay_weighted: ["Average days to pay, by amount", " days"],
  percent_current: ["Share current", "%"],
  overdue_percent: ["Share overdue", "%"],
};

function kpiCards(kpis) {
  return el("dl", { class: "kpis" }, Object.entries(KPI_NAMES).map(([name, [title, unit]]) => {
    const kpi = kpis[name];
    const inputs = Object.entries(kpi.inputs).map(([k, v]) => `${k} = ${v}`).join(", ");
    const working = `${kpi.formula}${inputs ? ` (${inputs})` : ""}`;
    return el("div", { class: "kpi", title: working },
      el("dt", {}, title),
      el("dd", {}, kpi.value === null || kpi.value === undefined ? "—" : `${kpi.value}${unit}`,
        el("span", { class: "formula" }, kpi.formula)));
  }));
}

const BUCKET_NAMES = {
  current: "Current", days_1_30: "1–30 days", days_31_60: "31–60 days",
  days_61_90: "61–90 days", days_over_90: "Over 90 days",
};

function agingBuckets(aging) {
  if (aging.buckets && aging.buckets.length) {
    return aging.buckets.map((b) => [BUCKET_NAMES[b.label] || b.label, b.amount]);
  }
  return Object.keys(BUCKET_NAMES).map((k) => [BUCKET_NAMES[k], aging[k]]);
}

/** Bars of `series` (each [label, ...amounts]) on one scale, as SVG with a text twin. */
function barChart(title, names, series) {
  const width = 640, height = 220, base = 190, top = 10;
  const largest = series.flatMap(([, ...values]) => values)
    .reduce((a, b) => (units(b) > units(a) ? b : a), "0");
  const slot = width / Math.max(series.length, 1);
  const barWidth = Math.min(56, (slot - 12) / names.length);
  const shapes = series.flatMap(([label, ...values], i) => {
    const bars = values.map((value, j) => {
      const tall = ((base - top) * share(value, largest)) / 1000;
      const x = i * slot + (slot - barWidth * names.length) / 2 + j * barWidth;
      return svg("rect", {
        class: j ? "bar-shape second" : "bar-shape", x, y: base - tall,
        width: Math.max(barWidth - 2, 1), height: tall,
      });
    });
    return [...bars, svg("text", { x: i * slot + slot / 2, y: height - 12, "text-anchor": "middle" }, label)];
  });
  return svg("svg", {
    class: "chart", viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": `${title}: the table below gives its figures`,
  }, svg("line", { x1: 0, x2: width, y1: base, y2: base, stroke: "#d0d7de" }), shapes);
}

async function dashboard() {
  const [report, overdue, customers] = await Promise.all([
    api("/v1/reports/dashboard?include=kpis,series"),
    api("/v1/invoices?status=overdue&limit=500"),
    api("/v1/customers?limit=500"),
  ]);
  const currency = report.currency;
  const names = new Map(customers.items.map((c) => [c.id, c.name]));
  const buckets = agingBuckets(report.aging);
  const months = (report.series || []).map((m) => [m.month_start.slice(0, 7), m.invoiced, m.collected]);
  const worklist = [...overdue.items].sort((a, b) => a.due_date.localeCompare(b.due_date));
  main.replaceChildren(
    el("h1", {}, `Dashboard, ${date(report.as_of)}`),
    el("section", { class: "card", "aria-labelledby": "kpi-title" },
      el("h2", { id: "kpi-title" }, "Key figures"),
      el("p", {}, `Outstanding ${money(report.total_outstanding, currency)}, of which overdue ${money(report.total_overdue, currency)} on ${plural(report.overdue_invoice_count, "invoice", "invoices")}.`),
      report.kpis ? kpiCards(report.kpis) : null),
    el("div", { class: "grid" },
      el("section", { class: "card", "aria-labelledby": "aging-title" },
        el("h2", { id: "aging-title" }, "Aging"),
        barChart("Aging", ["Amount"], buckets.map(([label, amount]) => [label.replace(" days", ""), amount])),
        table("Aging buckets", ["Bucket", "Amount"], buckets.map(([label, amount]) => [label, money(amount, currency)]), [1])),
      el("section", { class: "card", "aria-labelledby": "months-title" },
        el("h2", { id: "months-title" }, "Invoiced and collected by month"),
        barChart("Invoiced and collected by month", ["Invoiced", "Collected"], months.map(([m, i, c]) => [m.slice(5), i, c])),
        legend(["Invoiced", "Collected"]),
        table("Invoiced and collected by month", ["Month", "Invoiced", "Collected"],
          months.map(([m, i, c]) => [m, money(i, currency), money(c, currency)]), [1, 2]))),
    el("section", { class: "card", "aria-labelledby": "debtors-title" },
      el("h2", { id: "debtors-title" }, "Top debtors"),
      table("Top debtors", ["Customer", "Outstanding", "Overdue"],
        report.top_debtors.map((d) => [d.name, money(d.outstanding, currency), money(d.overdue, currency)]), [1, 2])),
    el("section", { class: "card", "aria-labelledby": "overdue-title" },
      el("h2", { id: "overdue-title" }, "Overdue, oldest first"),
      worklist.length
        ? table("Overdue invoices", ["Invoice", "Customer", "Due", "Days overdue", "Balance due"],
          worklist.map((i) => [i.invoice_number, names.get(i.customer_id) || `#${i.customer_id}`, date(i.due_date),
            String(i.days_overdue), money(i.balance_due, i.currency)]), [3, 4])
        : el("p", {}, "Nothing is overdue.")),
  );
}

// ---------------------------------------------------------------------------------------
// Screens by address.

const SCREENS = { "#/dashboard": dashboard };

async function render() {
  if (!sessionStorage.getItem(KEY)) return signIn();
  const scope = sessionStorage.getItem(SCOPE);
  document.getElementById("bar").hidden = false;
  document.getElementById("who").textContent =
    scope === "read" ? "Read-only key: changes are disabled" : `Signed in (${scope} key)`;
  document.body.dataset.scope = scope;
  const screen = SCREENS[location.hash] || dashboard;
  try {
    await screen();
    main.focus();
  } catch (error) {
    if (error.status === 401) return signIn("The key is no longer valid: sign in again.");
    main.replaceChildren(el("p", { class: "error", role: "alert" }, error.message));
  }
}

document.getElementById("sign-out").addEventListener("click", signOut);
window.addEventListener("hashchange", render);
render();
