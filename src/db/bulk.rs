//! Bulk loading for `seed-demo`: large transactions over prepared statements.

use rusqlite::{params, Connection};

use super::conn::Conn;

use super::codec::date_text;
use super::invoices::AppliedPayment;
use crate::domain::currency::Currency;
use crate::error::AppError;
use crate::seed::{SeedCustomer, SeedInvoice};

/// Where a seeded book goes, and the ids its customers got.
pub(crate) struct BookTarget {
    pub organization_id: i64,
    pub customer_ids: Vec<i64>,
    /// The organization's currency, which its customers follow.
    pub currency: Currency,
}

fn timestamp_for(date: chrono::NaiveDate) -> String {
    format!("{}T09:00:00.000Z", date_text(date))
}

/// Refuses to seed an organization that already has customers: a demo book starts empty.
pub(crate) fn ensure_empty(conn: &Connection, organization_id: i64) -> Result<(), AppError> {
    let count: i64 = conn.query_row(
        "SELECT COUNT(*) FROM customers WHERE organization_id = ?1",
        [organization_id],
        |row| row.get(0),
    )?;
    if count > 0 {
        return Err(AppError::conflict(format!(
            "the organization already has {count} customers; seed-demo fills an empty book, so use a fresh --db file"
        )));
    }
    Ok(())
}

pub(crate) fn insert_customers(
    conn: &mut Connection,
    (organization_id, currency): (i64, Currency),
    customers: &[SeedCustomer],
    created: chrono::NaiveDate,
) -> Result<BookTarget, AppError> {
    let tx = conn.transaction()?;
    let now = timestamp_for(created);
    let mut ids = Vec::with_capacity(customers.len());
    {
        let mut insert = tx.prepare_cached(
            "INSERT INTO customers (organization_id, customer_code, name, email, phone, billing_address,
                payment_terms_days, credit_limit_minor, notes, is_active, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, NULL, 1, ?9, ?9)",
        )?;
        for c in customers {
            insert.execute(params![
                organization_id,
                c.code,
                c.name,
                c.email,
                c.phone,
                c.billing_address,
                c.payment_terms_days,
                c.credit_limit.map(|m| m.minor()),
                now
            ])?;
            ids.push(tx.last_insert_rowid());
        }
    }
    set_sequence(&tx, organization_id, "customer", customers.len() as i64 + 1)?;
    tx.commit()?;
    Ok(BookTarget {
        organization_id,
        customer_ids: ids,
        currency,
    })
}

/// One transaction for the whole chunk.
pub(crate) fn insert_invoices(
    conn: &mut Connection,
    target: &BookTarget,
    invoices: &[SeedInvoice],
) -> Result<(), AppError> {
    let tx = conn.transaction()?;
    {
        let mut invoice_stmt = tx.prepare_cached(
            "INSERT INTO invoices (organization_id, customer_id, invoice_number, status, issue_date,
                due_date, notes, subtotal_minor, tax_total_minor, total_minor, amount_paid_minor,
                created_at, updated_at, currency)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, NULL, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
        )?;
        let org = target.organization_id;
        for invoice in invoices {
            let customer_id = *target.customer_ids.get(invoice.customer).ok_or_else(|| {
                AppError::Internal(format!(
                    "seeded invoice names customer {}",
                    invoice.customer
                ))
            })?;
            let created = timestamp_for(invoice.issue_date);
            let updated = invoice
                .payments
                .last()
                .map(|p| timestamp_for(p.date))
                .unwrap_or_else(|| created.clone());
            invoice_stmt.execute(params![
                org,
                customer_id,
                invoice.number,
                invoice.status.as_str(),
                date_text(invoice.issue_date),
                date_text(invoice.due_date),
                invoice.totals.subtotal.minor(),
                invoice.totals.tax_total.minor(),
                invoice.totals.total.minor(),
                invoice.amount_paid().minor(),
                created,
                updated,
                target.currency.code()
            ])?;
            let invoice_id = tx.last_insert_rowid();
            let items = super::invoices::insert_lines(
                &Conn::sqlite(&tx),
                (org, invoice_id),
                &invoice.lines,
            )?;
            let whose = (org, customer_id, target.currency);
            let mut applied = insert_payments(&tx, whose, invoice_id, invoice)?;
            // In the detail's order: by date, then as recorded.
            applied.sort_by(|a, b| a.payment_date.cmp(&b.payment_date));
            let copies = (items, applied);
            super::invoices::store_details(
                &Conn::sqlite(&tx),
                invoice_id,
                copies,
                target.currency,
            )?;
        }
    }
    // Nothing, unless a copy was missed above; then the rule that renders it is the writer's.
    super::invoices::render_details(&Conn::sqlite(&tx), i64::MAX)?;
    tx.commit()?;
    Ok(())
}

/// The seeded invoice's payments, each applied in full to it, as its detail lists them.
fn insert_payments(
    tx: &rusqlite::Transaction,
    (org, customer_id, currency): (i64, i64, Currency),
    invoice_id: i64,
    invoice: &SeedInvoice,
) -> Result<Vec<AppliedPayment>, AppError> {
    let mut payment_stmt = tx.prepare_cached(
        "INSERT INTO payments (organization_id, customer_id, invoice_id, amount_minor,
            payment_method, payment_date, reference_number, notes, created_at, currency)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, NULL, ?8, ?9)",
    )?;
    let mut application_stmt = tx.prepare_cached(
        "INSERT INTO allocations (organization_id, customer_id, payment_id, invoice_id,
            amount_minor, applied_date, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    let mut applied = Vec::with_capacity(invoice.payments.len());
    for payment in &invoice.payments {
        let date = date_text(payment.date);
        let created = timestamp_for(payment.date);
        payment_stmt.execute(params![
            org,
            customer_id,
            invoice_id,
            payment.amount.minor(),
            payment.method.as_str(),
            date,
            payment.reference,
            created,
            currency.code()
        ])?;
        let payment_id = tx.last_insert_rowid();
        application_stmt.execute(params![
            org,
            customer_id,
            payment_id,
            invoice_id,
            payment.amount.minor(),
            date,
            created
        ])?;
        applied.push(AppliedPayment {
            payment_id,
            amount: payment.amount,
            payment_date: date,
            payment_method: payment.method.as_str().to_string(),
            reference_number: Some(payment.reference.clone()),
        });
    }
    Ok(applied)
}

/// Fills the report summaries for the seeded organization (the API keeps them per write).
/// Payments on account, with their refunds and bounces, in one transaction.
fn insert_credits(
    conn: &mut Connection,
    target: &BookTarget,
    credits: &[crate::seed::SeedCredit],
) -> Result<(), AppError> {
    let tx = conn.transaction()?;
    for credit in credits {
        let customer_id = *target.customer_ids.get(credit.customer).ok_or_else(|| {
            AppError::Internal(format!("seeded credit names customer {}", credit.customer))
        })?;
        let amount = credit.payment.amount.minor();
        let refunded = credit.refund.map_or(0, |(part, _)| part.minor());
        let unapplied = if credit.void_date.is_some() {
            0
        } else {
            amount - refunded
        };
        tx.prepare_cached(
            "INSERT INTO payments (organization_id, customer_id, amount_minor, payment_method,
                payment_date, reference_number, created_at, unapplied_minor, refunded_minor,
                void_date, void_reason, currency)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        )?
        .execute(params![
            target.organization_id,
            customer_id,
            amount,
            credit.payment.method.as_str(),
            date_text(credit.payment.date),
            credit.payment.reference,
            timestamp_for(credit.payment.date),
            unapplied,
            refunded,
            credit.void_date.map(date_text),
            credit.void_date.map(|_| "Returned unpaid by the bank"),
            target.currency.code(),
        ])?;
        let payment_id = tx.last_insert_rowid();
        if let Some((part, date)) = credit.refund {
            tx.prepare_cached(
                "INSERT INTO refunds (organization_id, customer_id, payment_id, amount_minor,
                    refund_date, payment_method, reason, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, 'bank_transfer', 'Overpayment returned', ?6)",
            )?
            .execute(params![
                target.organization_id,
                customer_id,
                payment_id,
                part.minor(),
                date_text(date),
                timestamp_for(date)
            ])?;
        }
    }
    tx.commit()?;
    Ok(())
}

fn summarize(conn: &mut Connection, organization_id: i64) -> Result<(), AppError> {
    let tx = conn.transaction()?;
    tx.execute(
        "INSERT INTO invoice_daily (organization_id, currency, issue_date, status, invoice_count, total_minor)
         SELECT organization_id, currency, issue_date, status, COUNT(*), SUM(total_minor)
         FROM invoices WHERE organization_id = ?1 GROUP BY currency, issue_date, status",
        [organization_id],
    )?;
    tx.execute(
        "INSERT INTO settled_daily (organization_id, currency, settled_on, invoice_count, days_to_pay,
            paid_total_minor, weighted_days)
         SELECT i.organization_id, i.currency, s.settled_on, COUNT(*),
                SUM(CAST(julianday(s.settled_on) - julianday(i.issue_date) AS INTEGER)),
                SUM(i.total_minor),
                CAST(SUM(i.total_minor * CAST(julianday(s.settled_on) - julianday(i.issue_date) AS INTEGER)) AS TEXT)
         FROM invoices i
         JOIN (SELECT invoice_id, MAX(applied_date) AS settled_on FROM allocations
               WHERE organization_id = ?1 GROUP BY invoice_id) s ON s.invoice_id = i.id
         WHERE i.status = 'paid'
         GROUP BY i.currency, s.settled_on",
        [organization_id],
    )?;
    tx.commit()?;
    Ok(())
}

/// Moves the API's number sequences past what was seeded.
pub(crate) fn set_invoice_sequences(
    conn: &mut Connection,
    organization_id: i64,
    per_year: &std::collections::BTreeMap<i32, i64>,
) -> Result<(), AppError> {
    let tx = conn.transaction()?;
    for (year, count) in per_year {
        set_sequence(&tx, organization_id, &format!("invoice-{year}"), count + 1)?;
    }
    tx.commit()?;
    Ok(())
}

fn set_sequence(
    conn: &Connection,
    organization_id: i64,
    name: &str,
    next: i64,
) -> Result<(), AppError> {
    conn.execute(
        "INSERT INTO sequences (organization_id, name, next_value) VALUES (?1, ?2, ?3)
         ON CONFLICT (organization_id, name) DO UPDATE SET next_value = MAX(next_value, excluded.next_value)",
        params![organization_id, name, next],
    )?;
    Ok(())
}

pub struct SeedRequest<'a> {
    pub organization: &'a str,
    pub customers: usize,
    pub invoices: u64,
    pub seed: u64,
    pub as_of: chrono::NaiveDate,
}

#[derive(Debug, Clone, Copy)]
pub struct SeedSummary {
    pub customers: usize,
    pub invoices: u64,
    pub payments: u64,
    pub credit_notes: u64,
    pub write_offs: u64,
}

/// Invoices per transaction: large enough to amortise the commit, small enough to show progress.
const CHUNK: u64 = 20_000;

/// Invoices between two checkpoints: about a gigabyte of WAL. Checkpointing only at the end
/// would grow the WAL to the size of the book, and the checkpoint would then need as much
/// free disk again (a 10M-invoice book is over 40 GB).
const CHECKPOINT_EVERY: u64 = 200_000;
// Checked after whole chunks only: a checkpoint every so many chunks.
const _: () = assert!(CHECKPOINT_EVERY.is_multiple_of(CHUNK));

/// Fills an empty organization of the file at `path` with a generated book.
/// `progress(done, total)` is called after every chunk.
pub fn seed_book(
    path: &std::path::Path,
    request: &SeedRequest,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<SeedSummary, AppError> {
    // Migrates the file first; then one plain connection does the bulk work.
    let db = super::Db::open(path, super::Synchronous::Normal)?;
    let (organization_id, currency) = db.write_blocking(super::WriteScope::Book, |tx| {
        let org = super::keys::ensure_organization(
            tx,
            request.organization,
            &timestamp_for(request.as_of),
        )?;
        // The bulk rows are journaled after they are written; should the seed stop in
        // between, the next open journals them (as rows from before the journal).
        super::journal::mark_import_due(tx, org)?;
        Ok((org, super::organization::currency(tx, org)?))
    })?;
    drop(db);
    let mut conn = Connection::open(path)?;
    // A bulk load that fails is simply run again on a fresh file, so commits need not
    // fsync, and the WAL is checkpointed every `CHECKPOINT_EVERY` invoices rather than
    // every 4 MB.
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = OFF; PRAGMA foreign_keys = ON;
         PRAGMA wal_autocheckpoint = 0; PRAGMA cache_size = -131072; PRAGMA temp_store = MEMORY;",
    )?;
    ensure_empty(&conn, organization_id)?;
    let mut generator =
        crate::seed::Generator::new(request.seed, request.as_of, request.customers, currency);
    let customers = generator.customers();
    let book = (organization_id, currency);
    let target = insert_customers(&mut conn, book, &customers, request.as_of)?;
    let mut done = 0;
    let mut payments = 0;
    while done < request.invoices {
        let size = CHUNK.min(request.invoices - done);
        let chunk: Vec<_> = (0..size).map(|_| generator.invoice()).collect();
        payments += chunk.iter().map(|i| i.payments.len() as u64).sum::<u64>();
        insert_invoices(&mut conn, &target, &chunk)?;
        done += size;
        if done % CHECKPOINT_EVERY == 0 {
            conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")?;
        }
        progress(done, request.invoices);
    }
    let credits = generator.credits();
    payments += credits.len() as u64;
    insert_credits(&mut conn, &target, &credits)?;
    set_invoice_sequences(&mut conn, organization_id, generator.invoices_per_year())?;
    summarize(&mut conn, organization_id)?;
    // The credits and the summaries are the last bulk writes: their WAL goes into the book
    // before the events are written through the server's own connections.
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")?;
    let db = super::Db::open(path, super::Synchronous::Normal)?;
    let events = super::seed_events::write_events(&db, organization_id, request.as_of)?;
    drop(db);
    payments += events.split_payments;
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE); ANALYZE;")?;
    // Keep ANALYZE's row counts (sqlite_stat1) but drop its samples: with samples present,
    // every statement comparing an indexed column to a bound value is re-planned each time
    // it is bound, which costs point reads a third of their throughput. The planner does
    // not need samples here: the report queries name their indexes.
    let has_samples: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_schema WHERE name = 'sqlite_stat4')",
        [],
        |row| row.get(0),
    )?;
    if has_samples {
        conn.execute_batch("DELETE FROM sqlite_stat4;")?;
    }
    Ok(SeedSummary {
        customers: customers.len(),
        invoices: done,
        payments,
        credit_notes: events.credit_notes,
        write_offs: events.write_offs,
    })
}
