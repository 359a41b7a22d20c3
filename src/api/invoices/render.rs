//! The invoice detail answer written straight from its stored row.

use crate::db::invoices as store;
use crate::domain::invoice::days_overdue;

/// The detail answer written from one stored row: the bytes serializing [`super::Invoice`] gives
/// (a test compares the two over a seeded book), without building an `Invoice` first.
pub(crate) fn detail_text(
    row: &store::DetailRow,
    ledger: &store::InvoiceLedger,
    today: chrono::NaiveDate,
) -> String {
    let balance = row.balance_due();
    let overdue_days = days_overdue(row.status, row.due, balance, today);
    let mut out = JsonObject::with_capacity(row.items_json.len() + row.payments_json.len() + 600);
    out.number("id", row.id);
    out.number("customer_id", row.customer_id);
    out.string("invoice_number", row.invoice_number);
    out.string("status", row.status.as_str());
    out.string("issue_date", row.issue_date);
    out.string("due_date", row.due_date);
    out.optional_string("notes", row.notes);
    out.raw("items", row.items_json);
    let currency = row.currency;
    out.string("subtotal", row.subtotal.text(currency).as_str());
    out.string("tax_total", row.tax_total.text(currency).as_str());
    out.string("total", row.total.text(currency).as_str());
    out.string("amount_paid", row.settled.paid.text(currency).as_str());
    out.string(
        "amount_credited",
        row.settled.credited.text(currency).as_str(),
    );
    out.string(
        "amount_written_off",
        row.settled.written_off.text(currency).as_str(),
    );
    out.string("balance_due", balance.text(currency).as_str());
    out.raw(
        "is_overdue",
        if overdue_days > 0 { "true" } else { "false" },
    );
    out.number("days_overdue", overdue_days);
    out.raw("payments", row.payments_json);
    out.serialized(
        "credit_notes",
        &super::credit_notes_to_api(ledger, currency),
    );
    out.serialized("write_offs", &super::write_offs_to_api(ledger, currency));
    out.string("created_at", row.created_at);
    out.string("updated_at", row.updated_at);
    out.string("currency", currency.code());
    out.finish()
}

/// Writes one JSON object, member by member, as serde_json's compact form does.
struct JsonObject {
    text: Vec<u8>,
}

impl JsonObject {
    fn with_capacity(capacity: usize) -> Self {
        let mut text = Vec::with_capacity(capacity);
        text.push(b'{');
        JsonObject { text }
    }

    /// Keys are field names: plain ASCII that needs no escaping.
    fn key(&mut self, key: &str) {
        if self.text.len() > 1 {
            self.text.push(b',');
        }
        self.text.push(b'"');
        self.text.extend_from_slice(key.as_bytes());
        self.text.extend_from_slice(b"\":");
    }

    /// `value` must already be JSON.
    fn raw(&mut self, key: &str, value: &str) {
        self.key(key);
        self.text.extend_from_slice(value.as_bytes());
    }

    fn number(&mut self, key: &str, value: i64) {
        self.key(key);
        let _ = std::io::Write::write_fmt(&mut self.text, format_args!("{value}"));
    }

    fn string(&mut self, key: &str, value: &str) {
        self.key(key);
        // Writing a string to a Vec cannot fail.
        let _ = serde_json::to_writer(&mut self.text, value);
    }

    fn serialized(&mut self, key: &str, value: &impl serde::Serialize) {
        self.key(key);
        // Writing our own wire types to a Vec cannot fail.
        let _ = serde_json::to_writer(&mut self.text, value);
    }

    fn optional_string(&mut self, key: &str, value: Option<&str>) {
        match value {
            Some(value) => self.string(key, value),
            None => self.raw(key, "null"),
        }
    }

    fn finish(mut self) -> String {
        self.text.push(b'}');
        // Only `&str`s and serde_json's output went in.
        String::from_utf8(self.text).unwrap_or_default()
    }
}
