//! The daily summaries the dashboard reads (`invoice_daily`, `settled_daily`), kept in
//! step with every invoice write in the same transaction.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use super::allocations::movements_of;
use super::codec::date_text;
use super::conn::{params, Conn, OptionalExtension};
use super::invoices::Invoice;
use super::WriteTx;
use crate::domain::invoice::InvoiceStatus;
use crate::domain::ledger::paid_intervals;
use crate::domain::money::Money;
use crate::error::AppError;

/// Counts a new invoice (`from` = None) or its move between statuses in `invoice_daily`.
/// (When it counts as paid is `settled_daily`'s, kept by [`resettle`].)
pub(crate) fn record_status(
    tx: &WriteTx,
    invoice: &Invoice,
    from: Option<InvoiceStatus>,
    to: InvoiceStatus,
) -> Result<(), AppError> {
    if from == Some(to) {
        return Ok(());
    }
    if let Some(from) = from {
        count_in_daily(tx, (invoice.organization_id, invoice.id), from, -1)?;
    }
    count_in_daily(tx, (invoice.organization_id, invoice.id), to, 1)
}

/// The dates on which `invoice` counts as paid, as its facts stand now
/// ([`crate::domain::ledger::paid_intervals`]).
pub(crate) fn paid_intervals_now(
    conn: &Conn,
    invoice: &Invoice,
) -> Result<Vec<(NaiveDate, Option<NaiveDate>)>, AppError> {
    let whose = (invoice.organization_id, invoice.id);
    let settlements = movements_of(conn, "allocations", whose)?;
    let write_offs = movements_of(conn, "write_offs", whose)?;
    Ok(paid_intervals(invoice.total, &settlements, &write_offs))
}

/// Writes into `settled_daily` the difference between the invoice's paid intervals
/// `before` a change and now: each interval counts the invoice as settled from its start
/// (with its days from issue) until its end. A backdated event that moves or splits an
/// interval therefore keeps every date's figure exact.
pub(crate) fn resettle(
    tx: &WriteTx,
    invoice: &Invoice,
    before: &[(NaiveDate, Option<NaiveDate>)],
) -> Result<(), AppError> {
    let after = paid_intervals_now(tx, invoice)?;
    replace_intervals(tx, invoice, before, &after)
}

/// Takes every paid interval of `invoice` out of `settled_daily`: a voided invoice was
/// issued in error and counts on no date, though payments once settled it.
pub(crate) fn unsettle_all(tx: &WriteTx, invoice: &Invoice) -> Result<(), AppError> {
    let before = paid_intervals_now(tx, invoice)?;
    replace_intervals(tx, invoice, &before, &[])
}

/// One date's change to `settled_daily`: invoices counted as paid from that date, their
/// days from issue, their totals, and each total times its days (the numerator of the
/// amount-weighted mean days to pay, which can pass `i64` and is stored as text).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct SettledDelta {
    count: i64,
    days: i64,
    total: i64,
    weighted: i128,
}

impl SettledDelta {
    /// `sign` (1 or -1) times an invoice of `total` paid `days` after its issue.
    fn of(sign: i64, days: i64, total: i64) -> Self {
        SettledDelta {
            count: sign,
            days: sign * days,
            total: sign * total,
            weighted: i128::from(sign) * i128::from(days) * i128::from(total),
        }
    }

    fn add(&mut self, other: SettledDelta) {
        self.count += other.count;
        self.days += other.days;
        self.total += other.total;
        self.weighted += other.weighted;
    }
}

/// The per-date changes that turn `before` into `after` for an invoice of `total` issued on
/// `issued`.
fn interval_deltas(
    (issued, total): (NaiveDate, i64),
    before: &[(NaiveDate, Option<NaiveDate>)],
    after: &[(NaiveDate, Option<NaiveDate>)],
) -> BTreeMap<NaiveDate, SettledDelta> {
    let mut deltas: BTreeMap<NaiveDate, SettledDelta> = BTreeMap::new();
    for (intervals, sign) in [(before, -1), (after, 1)] {
        for (start, end) in intervals {
            let delta = SettledDelta::of(sign, (*start - issued).num_days(), total);
            deltas.entry(*start).or_default().add(delta);
            if let Some(end) = end {
                let undo = SettledDelta {
                    count: -delta.count,
                    days: -delta.days,
                    total: -delta.total,
                    weighted: -delta.weighted,
                };
                deltas.entry(*end).or_default().add(undo);
            }
        }
    }
    deltas.retain(|_, delta| *delta != SettledDelta::default());
    deltas
}

/// Writes the difference between two sets of paid intervals of `invoice` (for a caller
/// that knows both without reading them again).
pub(crate) fn replace_intervals(
    tx: &WriteTx,
    invoice: &Invoice,
    before: &[(NaiveDate, Option<NaiveDate>)],
    after: &[(NaiveDate, Option<NaiveDate>)],
) -> Result<(), AppError> {
    let key = (invoice.issue_date, invoice.total.minor());
    for (date, delta) in interval_deltas(key, before, after) {
        add_settled(tx, (invoice.organization_id, invoice.id), date, delta)?;
    }
    Ok(())
}

/// Adds `delta` to the `settled_daily` row of invoice `id`'s organization and currency on
/// `date`. The weighted sum is read, added in `i128` and written back as text: the write
/// holds the book's one writer, so nothing comes between.
fn add_settled(
    conn: &Conn,
    (org, id): (i64, i64),
    date: NaiveDate,
    delta: SettledDelta,
) -> Result<(), AppError> {
    let on = date_text(date);
    let stored: Option<String> = conn
        .prepare_cached(
            "SELECT s.weighted_days FROM settled_daily s JOIN invoices i
               ON s.organization_id = i.organization_id AND s.currency = i.currency
             WHERE i.organization_id = ?3 AND i.id = ?1 AND s.settled_on = ?2",
        )?
        .query_row(params![id, on, org], |row| row.get(0))
        .optional()?;
    let weighted = weighted_of(stored.as_deref())?
        .checked_add(delta.weighted)
        .ok_or_else(|| AppError::Internal(format!("settled_daily {on}: weighted days overflow")))?;
    conn.prepare_cached(
        "INSERT INTO settled_daily (organization_id, currency, settled_on, invoice_count, days_to_pay,
            paid_total_minor, weighted_days)
         SELECT organization_id, currency, ?2, ?3, ?4, ?5, ?6 FROM invoices
         WHERE organization_id = ?7 AND id = ?1
         ON CONFLICT (organization_id, currency, settled_on) DO UPDATE
         SET invoice_count = settled_daily.invoice_count + excluded.invoice_count,
             days_to_pay = settled_daily.days_to_pay + excluded.days_to_pay,
             paid_total_minor = settled_daily.paid_total_minor + excluded.paid_total_minor,
             weighted_days = excluded.weighted_days",
    )?
    .execute(params![
        id,
        on,
        delta.count,
        delta.days,
        delta.total,
        weighted.to_string(),
        org
    ])?;
    Ok(())
}

/// A stored `weighted_days` (an integer as text; none is 0).
pub(crate) fn weighted_of(stored: Option<&str>) -> Result<i128, AppError> {
    let text = stored.unwrap_or("0");
    text.parse().map_err(|_| {
        AppError::Internal(format!(
            "settled_daily: weighted_days '{text}' is not an integer"
        ))
    })
}

/// Fills in the amounts of `settled_daily` (`paid_total_minor`, `weighted_days`) for each
/// organization the upgrade that added them (migration V20) marked due: its rows are
/// written again from every paid invoice's intervals, recomputed from its allocations and
/// write-offs as a write would. Once per book, one transaction per organization; on an up-to-date book this is one
/// read of an empty table.
pub(crate) fn weigh_settled_if_due(conn: &Conn) -> Result<(), AppError> {
    let due: Vec<i64> = conn
        .prepare("SELECT organization_id FROM settled_weights_due ORDER BY 1")?
        .query_map((), |row| row.get(0))?
        .collect::<Result<_, _>>()?;
    for org in due {
        conn.execute_batch("BEGIN IMMEDIATE")?;
        match weigh_organization(conn, org) {
            Ok(None) => conn.execute_batch("ROLLBACK")?,
            Ok(Some(count)) => {
                conn.execute_batch("COMMIT")?;
                tracing::info!(
                    organization = org,
                    invoices = count,
                    "paid amounts added to the dashboard's summaries (once, after an upgrade)"
                );
            }
            Err(err) => {
                let _ = conn.execute_batch("ROLLBACK");
                return Err(err);
            }
        }
    }
    Ok(())
}

/// Writes `org`'s `settled_daily` again, counts and amounts, from its invoices' paid
/// intervals, if it is still due: the claim is made inside the transaction, so another
/// process opening the book at the same time (a `verify`, a `keys` command) finds it
/// done rather than adding the amounts twice. `None` when it was not due any more.
fn weigh_organization(conn: &Conn, org: i64) -> Result<Option<usize>, AppError> {
    let claimed = conn.execute(
        "DELETE FROM settled_weights_due WHERE organization_id = ?1",
        [org],
    )?;
    if claimed == 0 {
        return Ok(None);
    }
    // Counts too: rows written by older rules are made to agree with the amounts.
    conn.execute(
        "DELETE FROM settled_daily WHERE organization_id = ?1",
        [org],
    )?;
    settle_organization(conn, org).map(Some)
}

/// Adds every paid interval of `org`'s invoices to `settled_daily` (left empty by the
/// caller); answers how many invoices it read.
fn settle_organization(conn: &Conn, org: i64) -> Result<usize, AppError> {
    let invoices: Vec<(i64, NaiveDate, i64)> = conn
        .prepare(
            "SELECT id, issue_date, total_minor FROM invoices i
             WHERE organization_id = ?1 AND status <> 'void'
               AND EXISTS (SELECT 1 FROM allocations a INDEXED BY allocations_invoice
                           WHERE a.organization_id = i.organization_id AND a.invoice_id = i.id)",
        )?
        .query_map([org], |row| {
            let id = row.get(0)?;
            let issued = super::codec::stored_date(id, 1, "issue_date", &row.get::<_, String>(1)?)?;
            Ok((id, issued, row.get(2)?))
        })?
        .collect::<Result<_, _>>()?;
    for &(id, issued, total) in &invoices {
        let settlements = movements_of(conn, "allocations", (org, id))?;
        let write_offs = movements_of(conn, "write_offs", (org, id))?;
        let intervals = paid_intervals(Money::from_minor(total), &settlements, &write_offs);
        for (date, delta) in interval_deltas((issued, total), &[], &intervals) {
            add_settled(conn, (org, id), date, delta)?;
        }
    }
    Ok(invoices.len())
}

/// Writes both daily summaries again from the records, as every write would have kept them:
/// `invoice_daily` from the invoices, `settled_daily` from each invoice's paid intervals.
/// For `doctor --repair`: the records are read, never changed. Runs in the caller's
/// transaction.
pub(crate) fn rebuild(conn: &Conn) -> Result<(), AppError> {
    for org in organization_ids(conn)? {
        // One organization at a time, each statement scoped to it (one shard on Citus).
        for sql in [
            "DELETE FROM invoice_daily WHERE organization_id = ?1",
            "INSERT INTO invoice_daily (organization_id, currency, issue_date, status, invoice_count, total_minor)
             SELECT organization_id, currency, issue_date, status, COUNT(*), SUM(total_minor)
             FROM invoices WHERE organization_id = ?1
             GROUP BY organization_id, currency, issue_date, status",
            "DELETE FROM settled_daily WHERE organization_id = ?1",
            "DELETE FROM settled_weights_due WHERE organization_id = ?1",
        ] {
            conn.execute(sql, [org])?;
        }
        settle_organization(conn, org)?;
    }
    // Rows of no organization (written by hand, foreign keys off) go too.
    for table in ["invoice_daily", "settled_daily", "settled_weights_due"] {
        conn.execute(
            &format!(
                "DELETE /* every organization */ FROM {table}
                 WHERE organization_id NOT IN (SELECT id FROM organizations)"
            ),
            (),
        )?;
    }
    Ok(())
}

/// Adds (`sign` 1) or takes back (`sign` -1) invoice `id` in `invoice_daily` under
/// `status`, at its issue date and total as they are stored now: a draft edit takes the
/// old figures back before the change and counts the new ones after it.
pub(crate) fn count_in_daily(
    tx: &WriteTx,
    (org, id): (i64, i64),
    status: InvoiceStatus,
    sign: i64,
) -> Result<(), AppError> {
    tx.prepare_cached(
        "INSERT INTO invoice_daily (organization_id, currency, issue_date, status, invoice_count, total_minor)
         SELECT organization_id, currency, issue_date, ?2, ?3, ?3 * total_minor FROM invoices
         WHERE organization_id = ?4 AND id = ?1
         ON CONFLICT (organization_id, currency, issue_date, status) DO UPDATE
         SET invoice_count = invoice_daily.invoice_count + excluded.invoice_count,
             total_minor = invoice_daily.total_minor + excluded.total_minor",
    )?
    .execute(params![id, status.as_str(), sign, org])?;
    Ok(())
}

/// Every organization's id, in order (for the rebuilds, one organization at a time).
pub(crate) fn organization_ids(conn: &Conn) -> Result<Vec<i64>, AppError> {
    Ok(conn
        .prepare("SELECT id FROM organizations ORDER BY id")?
        .query_map((), |row| row.get(0))?
        .collect::<Result<_, _>>()?)
}
