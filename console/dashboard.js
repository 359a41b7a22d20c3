// The dashboard: KPIs with their formulas, aging (a bar lists its invoices), invoiced and
// collected by month, top debtors and the overdue worklist, oldest first.

import { all, api, date, el, legend, link, money, plural, table } from "./lib.js";
import { agingBuckets, barChart } from "./charts.js";

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

function agingCard(report) {
  const currency = report.currency;
  const buckets = agingBuckets(report.aging);
  const asOf = report.as_of;
  return el("section", { class: "card", "aria-labelledby": "aging-title" },
    el("h2", { id: "aging-title" }, "Aging"),
    barChart("Aging", ["Amount"], buckets.map(([, name, amount]) => [name.replace(" days", ""), amount]),
      (i) => `#/aging?as_of=${asOf}&bucket=${buckets[i][0]}`),
    table("Aging buckets", ["Bucket", "Amount"], buckets.map(([key, name, amount]) =>
      [link(`#/aging?as_of=${asOf}&bucket=${key}`, name), money(amount, currency)]), [1]));
}

function monthsCard(report) {
  const currency = report.currency;
  const months = (report.series || []).map((m) => [m.month_start.slice(0, 7), m.invoiced, m.collected]);
  return el("section", { class: "card", "aria-labelledby": "months-title" },
    el("h2", { id: "months-title" }, "Invoiced and collected by month"),
    barChart("Invoiced and collected by month", ["Invoiced", "Collected"], months.map(([m, i, c]) => [m.slice(5), i, c])),
    legend(["Invoiced", "Collected"]),
    table("Invoiced and collected by month", ["Month", "Invoiced", "Collected"],
      months.map(([m, i, c]) => [m, money(i, currency), money(c, currency)]), [1, 2]));
}

export async function dashboard() {
  const [report, overdue, customers] = await Promise.all([
    api("/v1/reports/dashboard?include=kpis,series"),
    all("/v1/invoices?status=overdue"),
    all("/v1/customers"),
  ]);
  const currency = report.currency;
  const names = new Map(customers.map((c) => [c.id, c.name]));
  const worklist = [...overdue].sort((a, b) => a.due_date.localeCompare(b.due_date) || a.id - b.id);
  return [
    el("h1", {}, `Dashboard, ${date(report.as_of)}`),
    el("section", { class: "card", "aria-labelledby": "kpi-title" },
      el("h2", { id: "kpi-title" }, "Key figures"),
      el("p", {}, `Outstanding ${money(report.total_outstanding, currency)}, of which overdue ${money(report.total_overdue, currency)} on ${plural(report.overdue_invoice_count, "invoice", "invoices")}.`),
      report.kpis ? kpiCards(report.kpis) : null),
    el("div", { class: "grid" }, agingCard(report), monthsCard(report)),
    el("section", { class: "card", "aria-labelledby": "debtors-title" },
      el("h2", { id: "debtors-title" }, "Top debtors"),
      table("Top debtors", ["Customer", "Outstanding", "Overdue"],
        report.top_debtors.map((d) => [link(`#/customers/${d.customer_id}`, d.name),
          money(d.outstanding, currency), money(d.overdue, currency)]), [1, 2])),
    el("section", { class: "card", "aria-labelledby": "overdue-title" },
      el("h2", { id: "overdue-title" }, "Overdue, oldest first"),
      worklist.length
        ? table("Overdue invoices", ["Invoice", "Customer", "Due", "Days overdue", "Balance due"],
          worklist.map((i) => [link(`#/invoices/${i.id}`, i.invoice_number),
            names.get(i.customer_id) || `#${i.customer_id}`, date(i.due_date),
            String(i.days_overdue), money(i.balance_due, i.currency)]), [3, 4])
        : el("p", {}, "Nothing is overdue.")),
  ];
}
