// The documented flow's types, from the TypeScript declarations that openapi-typescript
// generates from openapi/arvalox.json (`arvalox.d.ts`, not committed). CI compiles this
// file with `tsc --strict`, so a spec change that breaks generated TypeScript fails CI.
import type { components, paths } from "./arvalox";

type InvoiceCreate = components["schemas"]["InvoiceCreate"];
type Invoice = components["schemas"]["Invoice"];
type ErrorBody = components["schemas"]["ErrorBody"];
type AgingQuery = paths["/v1/reports/aging"]["get"]["parameters"]["query"];

export const documentedInvoice: InvoiceCreate = {
  customer_id: 1,
  invoice_number: "INV-2024-001",
  issue_date: "2024-01-15",
  due_date: "2024-02-15",
  status: "sent",
  items: [{ description: "Consulting Services", quantity: "10", unit_price: "150.00", tax_rate: "0.08" }],
};

export const agingQuery: AgingQuery = { as_of: "2024-03-01" };

/** Money arrives as exact decimal strings, never as binary floats. */
export function balanceDue(invoice: Invoice): string {
  return invoice.balance_due;
}

export function explain(error: ErrorBody): string {
  const fields = Object.entries(error.field_errors).map(([name, messages]) => `${name}: ${messages.join("; ")}`);
  return `${error.error_code}: ${error.detail}${fields.length ? ` (${fields.join(", ")})` : ""}`;
}
