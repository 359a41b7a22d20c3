//! A customer's account events, dated, with their effect on what it owes (the rule and
//! its proof are in `domain::statement`): the balance before a date, and the events in a
//! period.

use std::sync::LazyLock;

use chrono::{Days, NaiveDate};

use super::codec::{date_text, unreadable};
use super::conn::{params, Conn, Row};
use crate::domain::money::Money;
use crate::domain::statement::{describe, Entry, EntryKind, Facts};
use crate::error::AppError;

/// Every event of customer `?2` of organization `?1`: (date, kind, id, effect, applied,
/// reference, a, b), `a` and `b` being the words `domain::statement::describe` uses.
static EVENTS: LazyLock<String> = LazyLock::new(|| {
    let source = "CASE WHEN s.payment_id IS NOT NULL THEN 'payment #' || s.payment_id
                       ELSE 'credit note ' || (SELECT credit_note_number FROM credit_notes n
                                               WHERE n.organization_id = ?1
                                                 AND n.id = s.credit_note_id) END";
    // A void invoice counts on no date: its write-offs change nothing, and credit applied
    // to it (before the void, since reversed) was held there, so it counted as owed.
    let if_void = "(CASE WHEN i.status = 'void' THEN 1 ELSE 0 END)";
    // A void invoice is listed when the customer ever had it: it was sent (or created
    // sent), or it predates the journal. A draft voided unsent never reached them.
    let was_issued = "EXISTS (SELECT 1 FROM journal_events e
                             WHERE e.organization_id = ?1 AND e.entity_type = 'invoice'
                               AND e.entity_id = v.id
                               AND (e.type IN ('invoice.sent', 'invoice.imported')
                                    OR (e.type = 'invoice.created'
                                        AND json_extract(e.data, '$.status') <> 'draft')))";
    let unless_void = "(CASE WHEN i.status <> 'void' THEN 1 ELSE 0 END)";
    format!(
        "SELECT issue_date AS day, 'invoice' AS kind, id, total_minor AS effect, NULL AS applied,
                invoice_number AS reference, CAST(due_date AS TEXT) AS a, NULL AS b
         FROM invoices WHERE organization_id = ?1 AND customer_id = ?2
           AND status NOT IN ('draft', 'void')
         UNION ALL
         SELECT issue_date, 'invoice_void', id, 0, total_minor, invoice_number, NULL, NULL
         FROM invoices v WHERE organization_id = ?1 AND customer_id = ?2 AND status = 'void'
           AND {was_issued}
         UNION ALL
         SELECT payment_date, 'payment', id, -amount_minor, NULL,
                COALESCE(reference_number, ''), payment_method, NULL
         FROM payments WHERE organization_id = ?1 AND customer_id = ?2
         UNION ALL
         SELECT void_date, 'payment_void', id, amount_minor, NULL,
                COALESCE(reference_number, ''), NULL, NULL
         FROM payments WHERE organization_id = ?1 AND customer_id = ?2 AND void_date IS NOT NULL
         UNION ALL
         SELECT issue_date, 'credit_note', id, -total_minor, NULL, credit_note_number, reason, NULL
         FROM credit_notes WHERE organization_id = ?1 AND customer_id = ?2
         UNION ALL
         SELECT void_date, 'credit_note_void', id, total_minor, NULL, credit_note_number,
                NULL, NULL
         FROM credit_notes
         WHERE organization_id = ?1 AND customer_id = ?2 AND void_date IS NOT NULL
         UNION ALL
         SELECT s.refund_date, 'refund', s.id, s.amount_minor, NULL,
                COALESCE(s.reference_number, ''), s.payment_method, {source}
         FROM refunds s WHERE s.organization_id = ?1 AND s.customer_id = ?2
         UNION ALL
         SELECT w.write_off_date, 'write_off', w.id, {unless_void} * -w.amount_minor, NULL,
                i.invoice_number,
                w.reason, NULL
         FROM write_offs w JOIN invoices i ON i.organization_id = ?1 AND i.id = w.invoice_id
         WHERE w.organization_id = ?1 AND w.customer_id = ?2
         UNION ALL
         SELECT w.reversed_date, 'write_off_reversal', w.id, {unless_void} * w.amount_minor, NULL,
                i.invoice_number, w.reversal_reason, NULL
         FROM write_offs w JOIN invoices i ON i.organization_id = ?1 AND i.id = w.invoice_id
         WHERE w.organization_id = ?1 AND w.customer_id = ?2 AND w.reversed_date IS NOT NULL
         UNION ALL
         SELECT s.applied_date, 'allocation', s.id, {if_void} * s.amount_minor, s.amount_minor,
                i.invoice_number,
                NULL, {source}
         FROM allocations s JOIN invoices i ON i.organization_id = ?1 AND i.id = s.invoice_id
         WHERE s.organization_id = ?1 AND s.customer_id = ?2
         UNION ALL
         SELECT s.reversed_date, 'allocation_reversal', s.id, {if_void} * -s.amount_minor,
                s.amount_minor,
                i.invoice_number, s.reversal_reason, {source}
         FROM allocations s JOIN invoices i ON i.organization_id = ?1 AND i.id = s.invoice_id
         WHERE s.organization_id = ?1 AND s.customer_id = ?2 AND s.reversed_date IS NOT NULL"
    )
});

/// What customer `customer` of `org` owed net of credit at the end of `date`.
pub(crate) fn balance_at(
    conn: &Conn,
    (org, customer): (i64, i64),
    date: NaiveDate,
) -> Result<Money, AppError> {
    let sql = format!(
        "SELECT COALESCE(SUM(effect), 0) FROM ({}) events WHERE day <= ?3",
        *EVENTS
    );
    let sum = conn
        .prepare_cached(&sql)?
        .query_row(params![org, customer, date_text(date)], |row| row.get(0))?;
    Ok(Money::from_minor(sum))
}

/// The balance at the end of the day before `from`, and the events dated `from`..=`to`.
pub(crate) fn period(
    conn: &Conn,
    (org, customer): (i64, i64),
    (from, to): (NaiveDate, NaiveDate),
    currency: crate::domain::currency::Currency,
) -> Result<(Money, Vec<Entry>), AppError> {
    let opening = match from.checked_sub_days(Days::new(1)) {
        Some(day_before) => balance_at(conn, (org, customer), day_before)?,
        None => Money::ZERO,
    };
    let sql = format!(
        "SELECT * FROM ({}) events WHERE day BETWEEN ?3 AND ?4",
        *EVENTS
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(
        params![org, customer, date_text(from), date_text(to)],
        |row| entry_from_row(row, currency),
    )?;
    let entries = rows.collect::<Result<Vec<_>, _>>()?;
    Ok((opening, entries))
}

fn entry_from_row(
    row: &Row,
    currency: crate::domain::currency::Currency,
) -> crate::db::conn::StoreResult<Entry> {
    let (day, kind, id): (String, String, i64) = (row.get(0)?, row.get(1)?, row.get(2)?);
    let date = NaiveDate::parse_from_str(&day, "%Y-%m-%d")
        .map_err(|_| unreadable(0, format!("{kind} {id}: date '{day}' is not a date")))?;
    let kind = EntryKind::from_code(&kind)
        .ok_or_else(|| unreadable(1, format!("unknown statement event '{kind}'")))?;
    let applied: Option<i64> = row.get(4)?;
    let effect: i64 = row.get(3)?;
    let facts = Facts {
        held: effect != 0,
        id,
        reference: row.get(5)?,
        a: row.get(6)?,
        b: row.get(7)?,
        applied: applied.map(Money::from_minor),
    };
    Ok(Entry {
        date,
        kind,
        id,
        amount: Money::from_minor(effect),
        applied: facts.applied,
        description: describe(kind, &facts, currency),
        reference: facts.reference,
    })
}
