//! Whether the books balance: every stored sum equals a recount from the facts (an
//! invoice's paid, credited and written-off sums are its live allocations by source and its
//! live write-offs, and its status follows from them; a source's unapplied credit is its
//! amount less live allocations and refunds, 0 once void). Grouped joins, as a recount of
//! a large book must be. `arvalox verify` reports each drift.

use super::conn::Conn;
use crate::error::AppError;

/// Invoices whose sums or status differ from the recount.
const INVOICE_DRIFT: &str = "
    /* every organization */ WITH a AS (SELECT invoice_id,
                  SUM(CASE WHEN payment_id IS NOT NULL THEN amount_minor ELSE 0 END) AS paid,
                  SUM(CASE WHEN credit_note_id IS NOT NULL THEN amount_minor ELSE 0 END) AS credited
               FROM allocations WHERE reversed_date IS NULL GROUP BY invoice_id),
         w AS (SELECT invoice_id, SUM(amount_minor) AS written_off FROM write_offs
               WHERE reversed_date IS NULL GROUP BY invoice_id)
    SELECT i.id FROM invoices i
    LEFT JOIN a ON a.invoice_id = i.id LEFT JOIN w ON w.invoice_id = i.id
    WHERE i.amount_paid_minor <> COALESCE(a.paid, 0)
       OR i.amount_credited_minor <> COALESCE(a.credited, 0)
       OR i.amount_written_off_minor <> COALESCE(w.written_off, 0)
       OR i.amount_paid_minor + i.amount_credited_minor + i.amount_written_off_minor > i.total_minor
       OR (i.status IN ('sent', 'partially_paid', 'paid', 'written_off') AND i.status <>
           CASE WHEN i.amount_paid_minor + i.amount_credited_minor + i.amount_written_off_minor >= i.total_minor
                THEN CASE WHEN i.amount_written_off_minor > 0 THEN 'written_off' ELSE 'paid' END
                WHEN i.amount_paid_minor + i.amount_credited_minor + i.amount_written_off_minor > 0
                THEN 'partially_paid' ELSE 'sent' END)
    ORDER BY i.id";

/// Sources (`table`, named in allocations by `column`, their amount in `amount`) whose
/// unapplied or refunded sums differ from the recount, or that gave out more than they hold.
fn source_drift(table: &str, column: &str, amount: &str) -> String {
    format!(
        "/* every organization */ WITH a AS (SELECT {column} AS id, SUM(amount_minor) AS used FROM allocations
                    WHERE {column} IS NOT NULL AND reversed_date IS NULL GROUP BY 1),
              r AS (SELECT {column} AS id, SUM(amount_minor) AS refunded FROM refunds
                    WHERE {column} IS NOT NULL GROUP BY 1)
         SELECT s.id FROM {table} s
         LEFT JOIN a ON a.id = s.id LEFT JOIN r ON r.id = s.id
         WHERE s.refunded_minor <> COALESCE(r.refunded, 0)
            OR COALESCE(a.used, 0) + COALESCE(r.refunded, 0) > s.{amount}
            OR s.unapplied_minor <> CASE WHEN s.void_date IS NOT NULL THEN 0
               ELSE s.{amount} - COALESCE(a.used, 0) - COALESCE(r.refunded, 0) END
         ORDER BY s.id"
    )
}

/// (organization, currency, issue date, status) groups where `invoice_daily` differs from
/// the invoices it summarises.
const INVOICE_DAILY_DRIFT: &str = "
    /* every organization */ WITH counted AS (SELECT organization_id, currency, issue_date, status, COUNT(*) AS n,
                            SUM(total_minor) AS t
                     FROM invoices GROUP BY 1, 2, 3, 4),
         kept AS (SELECT organization_id, currency, issue_date, status, invoice_count, total_minor
                  FROM invoice_daily WHERE invoice_count <> 0)
    SELECT (SELECT COUNT(*) FROM (SELECT * FROM counted EXCEPT SELECT * FROM kept) missing)
         + (SELECT COUNT(*) FROM (SELECT * FROM kept EXCEPT SELECT * FROM counted) extra)";

/// Paid invoices counted in `settled_daily` against the paid invoices with allocations.
const SETTLED_DAILY_DRIFT: &str = "
    /* every organization */ SELECT (SELECT COALESCE(SUM(invoice_count), 0) FROM settled_daily)
         - (SELECT COUNT(*) FROM invoices i WHERE status = 'paid'
              AND EXISTS (SELECT 1 FROM allocations a WHERE a.invoice_id = i.id))";

/// The totals of the paid invoices in `settled_daily` against the invoices themselves
/// (books whose amounts are still to be filled in after an upgrade are left out).
const SETTLED_TOTAL_DRIFT: &str = "
    /* every organization */ SELECT (SELECT COALESCE(SUM(paid_total_minor), 0) FROM settled_daily
              WHERE organization_id NOT IN (SELECT organization_id FROM settled_weights_due))
         - (SELECT COALESCE(SUM(total_minor), 0) FROM invoices i WHERE status = 'paid'
              AND organization_id NOT IN (SELECT organization_id FROM settled_weights_due)
              AND EXISTS (SELECT 1 FROM allocations a WHERE a.invoice_id = i.id))";

/// Documents not in their customer's currency, and allocations across two currencies:
/// each customer's documents are in one currency, and credit is only applied within it.
fn currency_drift() -> String {
    let documents = [
        ("invoices", "invoice"),
        ("payments", "payment"),
        ("credit_notes", "credit note"),
    ]
    .map(|(table, name)| {
        format!(
            "SELECT '{name} ' || d.id FROM {table} d
               JOIN customers c ON c.id = d.customer_id AND c.organization_id = d.organization_id
               JOIN organizations o ON o.id = d.organization_id
              WHERE d.currency <> COALESCE(c.currency, o.currency)"
        )
    });
    format!(
        "/* every organization */ {} UNION ALL
         SELECT 'allocation ' || a.id FROM allocations a
           JOIN invoices i ON i.id = a.invoice_id
           LEFT JOIN payments p ON p.id = a.payment_id
           LEFT JOIN credit_notes n ON n.id = a.credit_note_id
          WHERE i.currency <> COALESCE(p.currency, n.currency)",
        documents.join(" UNION ALL ")
    )
}

/// Each drift found, as a sentence naming the row.
pub(crate) fn drift(conn: &Conn) -> Result<Vec<String>, AppError> {
    let mut found = Vec::new();
    let ids = |sql: &str| -> Result<Vec<i64>, AppError> {
        let ids = conn
            .prepare(sql)?
            .query_map((), |row| row.get(0))?
            .collect::<Result<_, _>>()?;
        Ok(ids)
    };
    for id in ids(INVOICE_DRIFT)? {
        found.push(format!(
            "invoice {id}: its paid, credited or written-off sum or its status differs from its allocations and write-offs"
        ));
    }
    for (table, column, amount, name) in [
        ("payments", "payment_id", "amount_minor", "payment"),
        (
            "credit_notes",
            "credit_note_id",
            "total_minor",
            "credit note",
        ),
    ] {
        for id in ids(&source_drift(table, column, amount))? {
            found.push(format!(
                "{name} {id}: its unapplied or refunded sum differs from its allocations and refunds"
            ));
        }
    }
    let count =
        |sql: &str| -> Result<i64, AppError> { Ok(conn.query_row(sql, (), |row| row.get(0))?) };
    let groups = count(INVOICE_DAILY_DRIFT)?;
    if groups != 0 {
        found.push(format!(
            "the dashboard's daily summaries (invoice_daily) differ from the invoices in {groups} groups of organization, currency, issue date and status"
        ));
    }
    let mismatched: Vec<String> = conn
        .prepare(&currency_drift())?
        .query_map((), |row| row.get(0))?
        .collect::<Result<_, _>>()?;
    for row in mismatched {
        found.push(format!(
            "{row}: its currency is not its customer's (or, for an allocation, its invoice's is not its payment's or credit note's)"
        ));
    }
    let settled = count(SETTLED_DAILY_DRIFT)?;
    if settled != 0 {
        found.push(format!(
            "the dashboard's daily summaries (settled_daily) count {settled} paid invoices more or fewer than the invoices hold"
        ));
    }
    let amount = count(SETTLED_TOTAL_DRIFT)?;
    if amount != 0 {
        found.push(format!(
            "the dashboard's daily summaries (settled_daily) hold paid totals {amount} minor units away from the paid invoices' totals"
        ));
    }
    Ok(found)
}
