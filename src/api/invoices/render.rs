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
    let mut text = Vec::with_capacity(row.items_json.len() + row.payments_json.len() + 600);
    write_invoice(&mut text, row, today, Some(ledger));
    // Only `&str`s and serde_json's output went in.
    String::from_utf8(text).unwrap_or_default()
}

/// The list answer for one page written from its stored rows: the bytes serializing
/// [`super::InvoiceList`] gives (the same test compares them). `None` when a row on the
/// page is not rendered (see `store::with_list_rows`).
pub(crate) fn list_text(
    conn: &crate::db::conn::Conn,
    (org, today): (i64, chrono::NaiveDate),
    filter: &store::InvoiceFilter,
    (limit, offset): (i64, i64),
) -> Result<Option<String>, crate::error::AppError> {
    let mut text = Vec::with_capacity(16 * 1024);
    text.extend_from_slice(b"{\"items\":[");
    let first = text.len();
    let total = store::with_list_rows(conn, (org, today), filter, (limit, offset), |row| {
        if text.len() > first {
            text.push(b',');
        }
        write_invoice(&mut text, row, today, None);
    })?;
    let Some(total) = total else {
        return Ok(None);
    };
    let _ = std::io::Write::write_fmt(
        &mut text,
        format_args!("],\"total\":{total},\"limit\":{limit},\"offset\":{offset}}}"),
    );
    Ok(String::from_utf8(text).ok())
}

/// One invoice as [`super::Invoice`] serializes, appended to `text`: the detail view's
/// payments, credit notes and write-offs only with their `ledger` (a list leaves them out).
fn write_invoice(
    text: &mut Vec<u8>,
    row: &store::DetailRow,
    today: chrono::NaiveDate,
    ledger: Option<&store::InvoiceLedger>,
) {
    let balance = row.balance_due();
    let overdue_days = days_overdue(row.status, row.due, balance, today);
    let mut out = JsonObject::open(text);
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
    if let Some(ledger) = ledger {
        out.raw("payments", row.payments_json);
        out.serialized(
            "credit_notes",
            &super::credit_notes_to_api(ledger, currency),
        );
        out.serialized("write_offs", &super::write_offs_to_api(ledger, currency));
    }
    out.string("created_at", row.created_at);
    out.string("updated_at", row.updated_at);
    out.string("currency", currency.code());
    out.close();
}

/// Writes one JSON object, member by member, as serde_json's compact form does.
struct JsonObject<'a> {
    text: &'a mut Vec<u8>,
    /// Where the object's first member goes.
    members: usize,
}

impl<'a> JsonObject<'a> {
    fn open(text: &'a mut Vec<u8>) -> Self {
        text.push(b'{');
        let members = text.len();
        JsonObject { text, members }
    }

    /// Keys are field names: plain ASCII that needs no escaping.
    fn key(&mut self, key: &str) {
        if self.text.len() > self.members {
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

    fn close(self) {
        self.text.push(b'}');
    }
}
