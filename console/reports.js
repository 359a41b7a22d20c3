// The aging report: `as_of`, bucket edges and what age counts from, chosen on the page;
// the totals as a chart and a table, each customer's buckets, one bucket's invoices (the
// dashboard's bars link here), and the CSV download of exactly what is shown.

import { actionButton, api, date, download, el, field, hashParams, input, link, money, query, select, table } from "./lib.js";
import { agingBuckets, barChart } from "./charts.js";

function choices(params) {
  return {
    as_of: params.as_of || "",
    buckets: params.buckets || "",
    age_by: params.age_by || "due_date",
  };
}

function filterForm(chosen) {
  const form = el("form", { class: "card filters", "aria-label": "Aging report settings" },
    field("As of", "as_of", input({ type: "date", value: chosen.as_of }), "Empty: today."),
    field("Bucket edges in days", "buckets", input({ value: chosen.buckets, placeholder: "30,60,90", inputmode: "numeric" }),
      "Increasing, up to 10; empty: 30,60,90."),
    field("Age counted from", "age_by", select([["due_date", "Due date"], ["issue_date", "Issue date"]], chosen.age_by)),
    el("div", { class: "actions" }, el("button", { type: "submit" }, "Show")));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const values = Object.fromEntries(new FormData(form));
    location.hash = `#/aging${query(values)}`;
  });
  return form;
}

function bucketInvoices(report, bucket, names) {
  const rows = report.customers.flatMap((c) => (c.invoices || [])
    .filter((i) => i.bucket === bucket)
    .map((i) => [link(`#/invoices/${i.invoice_id}`, i.invoice_number), names(c), date(i.due_date),
      String(i.days), money(i.open_amount, report.currency)]));
  const title = `Invoices in ${agingBuckets(report.totals).find(([k]) => k === bucket)?.[1] || bucket}`;
  return el("section", { class: "card", "aria-labelledby": "bucket-title" },
    el("h2", { id: "bucket-title" }, title),
    rows.length ? table(title, ["Invoice", "Customer", "Due", "Days", "Open"], rows, [3, 4])
      : el("p", {}, "No invoice is in this bucket."));
}

export async function aging() {
  const params = hashParams();
  const chosen = choices(params);
  const asked = { ...chosen, age_by: chosen.age_by === "due_date" ? "" : chosen.age_by };
  const report = await api(`/v1/reports/aging${query({ ...asked, detail: "invoices" })}`);
  const buckets = agingBuckets(report.totals);
  const here = (bucket) => `#/aging${query({ ...chosen, bucket })}`;
  const customerName = (c) => link(`#/customers/${c.customer_id}`, c.name);
  const csv = actionButton("Download CSV", () => download(`/v1/reports/aging${query({ ...asked, format: "csv" })}`, "aging.csv"));
  return [
    el("div", { class: "page-head" }, el("h1", {}, `Aging, ${date(report.as_of)}`), el("div", { class: "actions" }, csv)),
    filterForm(chosen),
    el("section", { class: "card", "aria-labelledby": "totals-title" },
      el("h2", { id: "totals-title" }, `Totals in ${report.currency}`),
      barChart("Aging totals", ["Amount"], buckets.map(([, name, amount]) => [name.replace(" days", ""), amount]),
        (i) => here(buckets[i][0])),
      table("Aging totals", ["Bucket", "Amount"], [
        ...buckets.map(([key, name, amount]) => [link(here(key), name), money(amount, report.currency)]),
        ["Total open", money(report.totals.total, report.currency)],
        ["Unapplied credit", money(report.totals.unapplied_credit, report.currency)],
        ["Net", money(report.totals.net, report.currency)],
      ], [1])),
    params.bucket ? bucketInvoices(report, params.bucket, customerName) : null,
    el("section", { class: "card", "aria-labelledby": "customers-title" },
      el("h2", { id: "customers-title" }, "By customer"),
      table("Aging by customer", ["Customer", ...buckets.map(([, name]) => name), "Total", "Credit", "Net"],
        report.customers.map((c) => [customerName(c),
          ...agingBuckets(c).map(([, , amount]) => money(amount, report.currency)),
          money(c.total, report.currency), money(c.unapplied_credit, report.currency), money(c.net, report.currency)]),
        buckets.map((_, i) => i + 1).concat([buckets.length + 1, buckets.length + 2, buckets.length + 3]))),
  ];
}
