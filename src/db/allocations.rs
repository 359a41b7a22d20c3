//! Allocations: money of a credit source applied to an invoice on a date. Each one moves
//! the invoice's settled sums and status in the same transaction (write-offs move them
//! through the same function); which allocation is allowed
//! is `domain::payment::allocate` and `domain::ledger`.

use std::collections::HashMap;

use chrono::NaiveDate;

use super::codec::{date_text, stored_date};
use super::conn::{params, Conn};
use super::invoices::{get_header, Invoice};
use super::rules;
use super::summaries::{paid_intervals_now, record_status, replace_intervals, resettle};
use super::WriteTx;
use crate::domain::currency::Currency;
use crate::domain::invoice::{InvoiceStatus, SettledBy};
use crate::domain::ledger::{least_from, paid_intervals, Movement, OpenInvoice};
use crate::domain::money::Money;
use crate::domain::payment::{self, Blame, PayableInvoice, PaymentToApply, SourceKind};
use crate::error::AppError;

/// The movements of invoice `id`'s open amount: each allocation on its date, each
/// reversal back on its own.
pub(crate) fn invoice_movements(conn: &Conn, whose: (i64, i64)) -> Result<Vec<Movement>, AppError> {
    let mut movements = movements_of(conn, "allocations", whose)?;
    movements.extend(movements_of(conn, "write_offs", whose)?);
    Ok(movements)
}

/// The movements of invoice `id`'s open amount from one kind of fact (`allocations` or
/// `write_offs`) alone, one a date, summed (`invoice_movements`: SQLite's migration V22,
/// PostgreSQL's V3): every rule that reads them depends only on the sums by date, and an
/// invoice paid in thousands of instalments has few dates.
pub(crate) fn movements_of(
    conn: &Conn,
    facts: &str,
    (org, id): (i64, i64),
) -> Result<Vec<Movement>, AppError> {
    let mut stmt = conn.prepare_cached(
        "SELECT moved_on, delta_minor FROM invoice_movements
         WHERE organization_id = ?1 AND invoice_id = ?2 AND facts = ?3",
    )?;
    let mut rows = stmt.query(params![org, id, facts])?;
    let mut movements = Vec::new();
    while let Some(row) = rows.next()? {
        let moved_on: String = row.get(0)?;
        let date = stored_date(id, 0, "invoice_movements.moved_on", &moved_on)?;
        movements.push(Movement::new(date, row.get(1)?));
    }
    Ok(movements)
}

/// Adds `delta` to invoice `id`'s movements of `facts` on `on` (a date's text), right
/// after the statement that wrote the fact. On SQLite the triggers of V22 do it, so this
/// does nothing there; PostgreSQL has no triggers (the Citus-ready schema keeps none), so
/// every statement that inserts an allocation or a write-off, or sets its `reversed_date`,
/// is followed by this one.
pub(crate) fn moved(
    conn: &Conn,
    (org, id): (i64, i64),
    facts: &str,
    (on, delta): (&str, i64),
) -> Result<(), AppError> {
    if !conn.is_postgres() {
        return Ok(());
    }
    conn.prepare_cached(
        "INSERT INTO invoice_movements (organization_id, invoice_id, facts, moved_on, delta_minor)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (organization_id, invoice_id, facts, moved_on)
         DO UPDATE SET delta_minor = invoice_movements.delta_minor + excluded.delta_minor",
    )?
    .execute(params![org, id, facts, on, delta])?;
    Ok(())
}

/// The date column of the facts that lower an invoice's open amount.
fn dated_by(facts: &str) -> &'static str {
    if facts == "write_offs" {
        "write_off_date"
    } else {
        "applied_date"
    }
}

/// The invoice column that sums what `kind` settled of it.
pub(crate) fn settled_column(kind: SettledBy) -> &'static str {
    match kind {
        SettledBy::Payment => "amount_paid_minor",
        SettledBy::CreditNote => "amount_credited_minor",
        SettledBy::WriteOff => "amount_written_off_minor",
    }
}

/// The allocations column naming a source of `kind`.
pub(crate) fn source_column(kind: SourceKind) -> &'static str {
    match kind {
        SourceKind::Payment => "payment_id",
        SourceKind::CreditNote => "credit_note_id",
    }
}

/// Moves what `by` settled of `invoice` by `delta` minor units (negative: a reversal),
/// with its status and `invoice_daily`. (The caller keeps `settled_daily` with
/// [`resettle`] once the fact is written.)
pub(crate) fn move_settled(
    tx: &WriteTx,
    invoice: &Invoice,
    (by, delta): (SettledBy, i64),
    now: &str,
) -> Result<InvoiceStatus, AppError> {
    let settled = invoice.settled.moved(by, delta);
    let status = settled.status(invoice.total);
    let column = settled_column(by);
    tx.prepare_cached(&format!(
        "UPDATE invoices SET {column} = {column} + ?2, status = ?3, updated_at = ?4
         WHERE organization_id = ?5 AND id = ?1"
    ))?
    .execute(params![
        invoice.id,
        delta,
        status.as_str(),
        now,
        invoice.organization_id
    ])?;
    tx.note_invoice_moved(invoice.id);
    record_status(tx, invoice, Some(invoice.status), status)?;
    Ok(status)
}

/// Adds each row (invoice, applied date, amount, reversed date) as its movements to the
/// invoice's list.
fn add_movements(
    mut rows: crate::db::conn::Rows,
    movements: &mut HashMap<i64, Vec<Movement>>,
) -> Result<(), AppError> {
    while let Some(row) = rows.next()? {
        let id: i64 = row.get(0)?;
        let applied: String = row.get(1)?;
        let amount: i64 = row.get(2)?;
        let list = movements.entry(id).or_default();
        list.push(Movement::new(
            stored_date(id, 1, "applied_date", &applied)?,
            -amount,
        ));
        if let Some(reversed) = row.get::<_, Option<String>>(3)? {
            list.push(Movement::new(
                stored_date(id, 3, "reversed_date", &reversed)?,
                amount,
            ));
        }
    }
    Ok(())
}

/// An allocation about to be made from a credit source.
pub(crate) struct Allocation<'a> {
    pub org: i64,
    pub customer_id: i64,
    pub source: (SourceKind, i64),
    pub invoice_id: i64,
    pub amount: Money,
    /// The source's currency: an invoice in another is refused.
    pub currency: Currency,
    pub date: NaiveDate,
    pub blame: &'a Blame,
    /// The invoice's header when the caller has just read it (so it is not read again).
    pub known: Option<&'a Invoice>,
}

/// Invoice `invoice_id` of `org`, or the 400 that names it at `blame`'s field.
pub(crate) fn existing_invoice(
    tx: &WriteTx,
    org: i64,
    invoice_id: i64,
    blame: &Blame,
) -> Result<Invoice, AppError> {
    get_header(tx, org, invoice_id)?.ok_or_else(|| {
        AppError::field(
            &blame.invoice,
            format!("invoice {invoice_id} does not exist"),
        )
    })
}

/// Applies `allocation` after the rules, and moves its invoice's settled sums and status.
/// The invoice's movements are read once: the rules, and its paid intervals before and
/// after (the new allocation added in memory), all come from that one read.
pub(crate) fn allocate(
    tx: &WriteTx,
    allocation: &Allocation,
    today: NaiveDate,
    now: &str,
) -> Result<(), AppError> {
    let Allocation {
        org,
        customer_id,
        source: (kind, source_id),
        invoice_id,
        amount,
        currency,
        date,
        blame,
        known,
    } = *allocation;
    let read;
    let invoice = match known {
        Some(invoice) => invoice,
        None => {
            read = existing_invoice(tx, org, invoice_id, blame)?;
            &read
        }
    };
    let mut settlements = movements_of(tx, "allocations", (org, invoice_id))?;
    let write_offs = movements_of(tx, "write_offs", (org, invoice_id))?;
    let movements: Vec<Movement> = settlements.iter().chain(&write_offs).copied().collect();
    let payable = PayableInvoice {
        id: invoice.id,
        customer_id: invoice.customer_id,
        status: invoice.status,
        issue_date: invoice.issue_date,
        total: invoice.total,
        settled: invoice.settled,
        currency: invoice.currency,
    };
    let to_apply = PaymentToApply {
        source: kind,
        customer_id,
        amount,
        payment_date: date,
        currency,
    };
    payment::allocate(&payable, &movements, &to_apply, today, blame)?;
    let before = paid_intervals(invoice.total, &settlements, &write_offs);
    tx.prepare_cached(&format!(
        "INSERT INTO allocations (organization_id, customer_id, {}, invoice_id,
            amount_minor, applied_date, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        source_column(kind)
    ))?
    .execute(params![
        org,
        customer_id,
        source_id,
        invoice_id,
        amount.minor(),
        date_text(date),
        now
    ])?;
    moved(
        tx,
        (org, invoice_id),
        "allocations",
        (&date_text(date), -amount.minor()),
    )?;
    move_settled(tx, invoice, (kind.into(), amount.minor()), now)?;
    // The new allocation as `movements_of` would read it back: applied on `date`.
    settlements.push(Movement::new(date, -amount.minor()));
    let after = paid_intervals(invoice.total, &settlements, &write_offs);
    replace_intervals(tx, invoice, &before, &after)
}

/// The customer's invoices open on `date` (issued by then), each with what it can take
/// from then on, for "oldest first". Their allocations are read in one statement.
pub(crate) fn open_invoices(
    conn: &Conn,
    org: i64,
    customer_id: i64,
    date: NaiveDate,
) -> Result<Vec<OpenInvoice>, AppError> {
    let open = format!(
        "FROM invoices INDEXED BY invoices_open_by_customer
         WHERE organization_id = ?1 AND customer_id = ?2 AND {} AND issue_date <= ?3",
        rules::is_open("")
    );
    let bound = params![org, customer_id, date_text(date)];
    let mut movements = HashMap::new();
    for facts in ["allocations", "write_offs"] {
        let mut lowering = conn.prepare_cached(&format!(
            "SELECT invoice_id, {}, amount_minor, reversed_date FROM {facts} INDEXED BY {facts}_invoice
             WHERE organization_id = ?1 AND invoice_id IN (SELECT id {open})",
            dated_by(facts)
        ))?;
        add_movements(lowering.query(bound)?, &mut movements)?;
    }
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT id, due_date, issue_date, total_minor {open} ORDER BY due_date, issue_date, id"
    ))?;
    let mut rows = stmt.query(bound)?;
    let mut invoices = Vec::new();
    while let Some(row) = rows.next()? {
        let id: i64 = row.get(0)?;
        let due: String = row.get(1)?;
        let issue: String = row.get(2)?;
        let total = Money::from_minor(row.get(3)?);
        let moves = movements.remove(&id).unwrap_or_default();
        invoices.push(OpenInvoice {
            id,
            due_date: stored_date(id, 1, "due_date", &due)?,
            issue_date: stored_date(id, 2, "issue_date", &issue)?,
            can_take: least_from(total, &moves, date).0,
        });
    }
    Ok(invoices)
}

/// Reverses every live allocation of the source on `date`, moving each invoice's settled
/// sums, status and summaries back.
pub(crate) fn reverse_all(
    tx: &WriteTx,
    org: i64,
    (kind, source_id): (SourceKind, i64),
    (date, reason): (NaiveDate, &str),
    now: &str,
) -> Result<(), AppError> {
    let column = source_column(kind);
    let mut stmt = tx.prepare_cached(&format!(
        "SELECT invoice_id, SUM(amount_minor), COUNT(*) FROM allocations
         WHERE organization_id = ?2 AND {column} = ?1 AND reversed_date IS NULL
         GROUP BY invoice_id"
    ))?;
    let per_invoice: Vec<(i64, i64, i64)> = stmt
        .query_map([source_id, org], |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?))
        })?
        .collect::<Result<_, _>>()?;
    let on = date_text(date);
    for (invoice_id, amount, allocations) in per_invoice {
        let invoice = get_header(tx, org, invoice_id)?.ok_or_else(|| {
            AppError::Internal(format!("allocation to missing invoice {invoice_id}"))
        })?;
        let before = paid_intervals_now(tx, &invoice)?;
        move_settled(tx, &invoice, (kind.into(), -amount), now)?;
        let reversed_now = tx
            .prepare_cached(&format!(
                "UPDATE allocations SET reversed_date = ?3, reversal_reason = ?4
                 WHERE organization_id = ?5 AND {column} = ?1 AND invoice_id = ?2
                   AND reversed_date IS NULL"
            ))?
            .execute(params![source_id, invoice_id, on, reason, org])?;
        // The sum moved above must be of exactly the rows reversed here.
        if i64::try_from(reversed_now).ok() != Some(allocations) {
            return Err(AppError::conflict(format!(
                "The allocations of invoice {invoice_id} changed while they were being reversed; nothing was changed. Send the request again."
            )));
        }
        moved(tx, (org, invoice_id), "allocations", (&on, amount))?;
        resettle(tx, &invoice, &before)?;
    }
    Ok(())
}

/// `invoice_movements` as the facts make it (what the migrations filled it with): the sums
/// by invoice, kind of fact and date, of the facts that `filter` (a condition on their
/// columns) admits.
fn movements_from_facts(filter: &str) -> String {
    format!(
        "SELECT organization_id, invoice_id, facts, moved_on, SUM(delta_minor) FROM (
            SELECT organization_id, invoice_id, 'allocations' AS facts, applied_date AS moved_on,
                   -amount_minor AS delta_minor FROM allocations WHERE {filter}
            UNION ALL
            SELECT organization_id, invoice_id, 'allocations', reversed_date, amount_minor
            FROM allocations WHERE {filter} AND reversed_date IS NOT NULL
            UNION ALL
            SELECT organization_id, invoice_id, 'write_offs', write_off_date, -amount_minor
            FROM write_offs WHERE {filter}
            UNION ALL
            SELECT organization_id, invoice_id, 'write_offs', reversed_date, amount_minor
            FROM write_offs WHERE {filter} AND reversed_date IS NOT NULL
        ) AS movement
        GROUP BY organization_id, invoice_id, facts, moved_on"
    )
}

/// How many of the `invoice_movements` sums (an invoice's, of one kind, on one date) differ
/// from what the facts make, or are missing from either (a doctor's check: reads every
/// fact of every organization).
pub(crate) fn stale_movements(conn: &Conn) -> Result<i64, AppError> {
    let stored = "SELECT organization_id, invoice_id, facts, moved_on, delta_minor
                  FROM invoice_movements";
    let key = "SELECT organization_id, invoice_id, facts, moved_on FROM";
    let made = movements_from_facts("TRUE");
    let sql = format!(
        "/* every organization */ SELECT COUNT(*) FROM (
             {key} ({stored} EXCEPT {made}) AS stale
             UNION {key} ({made} EXCEPT {stored}) AS missing) AS differing"
    );
    Ok(conn.query_row(&sql, (), |row| row.get(0))?)
}

/// The statement that fills organization `$1`'s `invoice_movements` from its facts, in
/// PostgreSQL's own form (`migrate-db` speaks to PostgreSQL directly).
pub(crate) fn movements_of_one_organization() -> String {
    fill_movements("organization_id = $1")
}

/// The statement that fills `invoice_movements` from the facts `filter` admits.
fn fill_movements(filter: &str) -> String {
    format!(
        "INSERT INTO invoice_movements (organization_id, invoice_id, facts, moved_on, delta_minor)
         {}",
        movements_from_facts(filter)
    )
}

/// Writes organization `org`'s `invoice_movements` again from its facts (`doctor --repair`
/// on PostgreSQL, one organization at a time).
pub(crate) fn rebuild_movements_of(conn: &Conn, org: i64) -> Result<(), AppError> {
    conn.execute(
        "DELETE FROM invoice_movements WHERE organization_id = ?1",
        [org],
    )?;
    conn.execute(&fill_movements("organization_id = ?1"), [org])?;
    Ok(())
}

/// Writes SQLite's `invoice_movements` again from the facts (`doctor --repair`).
pub(crate) fn rebuild_movements(conn: &Conn) -> Result<(), AppError> {
    conn.execute_batch(&format!(
        "DELETE FROM invoice_movements; {};",
        fill_movements("TRUE")
    ))?;
    Ok(())
}
