//! Invoices and their lines.

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate};

use super::codec::{date_text, decimal_column, stored_date, stored_status};
use super::conn::{params, params_from_iter, value::Value, Conn, OptionalExtension, Row};
use super::customers;
pub(crate) use super::details::{
    clear_copies_of_another_format, count_unrendered, render_details, store_details,
    with_detail_row, Detail, DetailRow,
};
use super::details::{detail_row, Copies, DETAIL_SELECT};
pub(crate) use super::invoice_ledger::{
    ledger_holding, ledger_of, InvoiceCredit, InvoiceLedger, WriteOff,
};
use super::next_sequence;
use super::paging::{first_id_from, Bounds, ListQuery, Page};
use super::rules;
use super::sql::Filter;
use super::summaries::record_status;
use super::WriteTx;
use crate::domain::currency::{check_stated, Currency};
use crate::domain::detail::PAYMENTS_SHOWN;
pub(crate) use crate::domain::detail::{AppliedPayment, InvoiceItem};
pub(crate) use crate::domain::invoice::NewInvoice;
use crate::domain::invoice::{
    self, balance_due, generated_invoice_number, invoice_totals, InvoiceStatus, InvoiceTotals,
    LineAmounts, LineInput, Settled, Transition,
};
use crate::domain::money::Money;
use crate::error::AppError;

#[derive(Debug, Clone)]
pub(crate) struct Invoice {
    pub id: i64,
    /// Whose books it is in: every statement about it names the organization too.
    pub organization_id: i64,
    pub customer_id: i64,
    pub invoice_number: String,
    pub status: InvoiceStatus,
    pub issue_date: NaiveDate,
    pub due_date: NaiveDate,
    pub notes: Option<String>,
    pub subtotal: Money,
    pub tax_total: Money,
    pub total: Money,
    pub settled: Settled,
    /// The customer's currency when the invoice was written; every amount is in it.
    pub currency: Currency,
    pub created_at: String,
    pub updated_at: String,
    pub items: Vec<InvoiceItem>,
    /// Filled for the detail view only: the latest applied, see [`payments_of`].
    pub payments: Vec<AppliedPayment>,
    /// Filled for the detail view only.
    pub ledger: InvoiceLedger,
}

impl Invoice {
    pub(crate) fn balance_due(&self) -> Money {
        balance_due(self.status, self.total, self.settled.sum())
    }
}

#[derive(Debug, Clone, Default)]
pub(crate) struct InvoiceFilter {
    pub customer_id: Option<i64>,
    pub status: Option<StatusFilter>,
    pub issue_date_from: Option<NaiveDate>,
    pub issue_date_to: Option<NaiveDate>,
    pub due_date_from: Option<NaiveDate>,
    pub due_date_to: Option<NaiveDate>,
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum StatusFilter {
    Is(InvoiceStatus),
    Overdue,
}

const SELECT_INVOICE: &str =
    "SELECT id, customer_id, invoice_number, status, issue_date, due_date, notes,
        subtotal_minor, tax_total_minor, total_minor, amount_paid_minor, created_at, updated_at,
        amount_credited_minor, amount_written_off_minor, currency, organization_id
     FROM invoices";

fn from_row(row: &Row) -> crate::db::conn::StoreResult<Invoice> {
    let id: i64 = row.get(0)?;
    Ok(Invoice {
        id,
        organization_id: row.get(16)?,
        customer_id: row.get(1)?,
        invoice_number: row.get(2)?,
        status: stored_status(id, 3, &row.get::<_, String>(3)?)?,
        issue_date: stored_date(id, 4, "issue_date", &row.get::<_, String>(4)?)?,
        due_date: stored_date(id, 5, "due_date", &row.get::<_, String>(5)?)?,
        notes: row.get(6)?,
        subtotal: Money::from_minor(row.get(7)?),
        tax_total: Money::from_minor(row.get(8)?),
        total: Money::from_minor(row.get(9)?),
        settled: Settled {
            paid: Money::from_minor(row.get(10)?),
            credited: Money::from_minor(row.get(13)?),
            written_off: Money::from_minor(row.get(14)?),
        },
        currency: Currency::stored(&row.get::<_, String>(15)?),
        created_at: row.get(11)?,
        updated_at: row.get(12)?,
        items: Vec::new(),
        payments: Vec::new(),
        ledger: InvoiceLedger::default(),
    })
}

pub(crate) fn not_found(id: i64) -> AppError {
    AppError::NotFound(format!("Invoice {id} not found."))
}

/// The invoice row alone, without items or payments.
pub(crate) fn get_header(conn: &Conn, org: i64, id: i64) -> Result<Option<Invoice>, AppError> {
    Ok(conn
        .prepare_cached(&format!(
            "{SELECT_INVOICE} WHERE id = ?1 AND organization_id = ?2"
        ))?
        .query_row(params![id, org], from_row)
        .optional()?)
}

/// The items query, filtered by `filter`.
fn items_where(filter: &str) -> String {
    format!(
        "SELECT invoice_id, id, description, quantity, unit_price, tax_rate,
                line_subtotal_minor, line_tax_minor, line_total_minor
         FROM invoice_items WHERE {filter} ORDER BY invoice_id, position"
    )
}

/// The detail view: items and the payments applied to it, from the normalized tables.
pub(crate) fn get(conn: &Conn, org: i64, id: i64) -> Result<Invoice, AppError> {
    let mut invoice = get_header(conn, org, id)?.ok_or_else(|| not_found(id))?;
    invoice.items = items_of(conn, (org, id))?;
    invoice.payments = payments_of(conn, (org, id))?;
    invoice.ledger = ledger_of(conn, (org, id))?;
    Ok(invoice)
}

pub(super) fn items_of(conn: &Conn, (org, id): (i64, i64)) -> Result<Vec<InvoiceItem>, AppError> {
    let whose = super::sql::owner_filter(conn, super::sql::INVOICE_ITEMS, "", "?2");
    let mut stmt = conn.prepare_cached(&items_where(&format!("{whose}invoice_id = ?1")))?;
    let items = stmt
        .query_map([id, org], |row| item_from_row(row).map(|(_, item)| item))?
        .collect::<Result<_, _>>()?;
    Ok(items)
}

/// The latest payments applied to invoice `id`, oldest first: at most one more than the
/// detail lists ([`PAYMENTS_SHOWN`]), so it can say whether earlier ones are left out, and
/// a payment against an invoice with thousands costs what the first did.
pub(super) fn payments_of(
    conn: &Conn,
    (org, id): (i64, i64),
) -> Result<Vec<AppliedPayment>, AppError> {
    let mut stmt = conn.prepare_cached(
        "SELECT p.id, a.amount_minor, a.applied_date, p.payment_method, p.reference_number
         FROM allocations a INDEXED BY allocations_invoice
         JOIN payments p ON p.organization_id = a.organization_id AND p.id = a.payment_id
         WHERE a.organization_id = ?2 AND a.invoice_id = ?1 AND a.reversed_date IS NULL
         ORDER BY a.applied_date DESC, a.id DESC LIMIT ?3",
    )?;
    let read = PAYMENTS_SHOWN as i64 + 1;
    let mut payments: Vec<AppliedPayment> = stmt
        .query_map([id, org, read], |row| {
            Ok(AppliedPayment {
                payment_id: row.get(0)?,
                amount: Money::from_minor(row.get(1)?),
                payment_date: row.get(2)?,
                payment_method: row.get(3)?,
                reference_number: row.get(4)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    payments.reverse();
    Ok(payments)
}

pub(crate) fn item_from_row(row: &Row) -> crate::db::conn::StoreResult<(i64, InvoiceItem)> {
    Ok((
        row.get(0)?,
        InvoiceItem {
            id: row.get(1)?,
            description: row.get(2)?,
            quantity: decimal_column(row, 3)?,
            unit_price: decimal_column(row, 4)?,
            tax_rate: decimal_column(row, 5)?,
            line_subtotal: Money::from_minor(row.get(6)?),
            line_tax: Money::from_minor(row.get(7)?),
            line_total: Money::from_minor(row.get(8)?),
        },
    ))
}

/// Loads the items of all `invoices` in one query.
fn attach_items(conn: &Conn, org: i64, invoices: &mut [Invoice]) -> Result<(), AppError> {
    match invoices {
        [] => Ok(()),
        [invoice] => {
            invoice.items = items_of(conn, (org, invoice.id))?;
            Ok(())
        }
        _ => {
            let ids: Vec<Value> = std::iter::once(org)
                .chain(invoices.iter().map(|i| i.id))
                .map(Value::Integer)
                .collect();
            let placeholders = vec!["?"; invoices.len()].join(",");
            let whose = super::sql::owner_filter(conn, super::sql::INVOICE_ITEMS, "", "?");
            let filter = format!("{whose}invoice_id IN ({placeholders})");
            let mut stmt = conn.prepare_cached(&items_where(&filter))?;
            let mut by_invoice: HashMap<i64, Vec<InvoiceItem>> = HashMap::new();
            for row in stmt.query_map(params_from_iter(ids.iter()), item_from_row)? {
                let (invoice_id, item) = row?;
                by_invoice.entry(invoice_id).or_default().push(item);
            }
            for invoice in invoices.iter_mut() {
                invoice.items = by_invoice.remove(&invoice.id).unwrap_or_default();
            }
            Ok(())
        }
    }
}

pub(crate) fn list(
    conn: &Conn,
    org: i64,
    filter: &InvoiceFilter,
    limit: i64,
    offset: i64,
    today: NaiveDate,
) -> Result<Page<Invoice>, AppError> {
    let (query, where_) = listing(org, filter, today);
    let mut page = query.page(conn, &where_, (limit, offset), from_row)?;
    attach_items(conn, org, &mut page.items)?;
    Ok(page)
}

/// The hot list: [`list`]'s page read from the stored copies in one statement, each row
/// handed to `render` while the statement holds it. `None` (and the rows rendered so far
/// are to be dropped) when a row on the page has no rendered lines, or on PostgreSQL,
/// which keeps no copies: read [`list`] then.
pub(crate) fn with_list_rows(
    conn: &Conn,
    (org, today): (i64, NaiveDate),
    filter: &InvoiceFilter,
    bounds: (i64, i64),
    mut render: impl FnMut(&DetailRow),
) -> Result<Option<i64>, AppError> {
    if conn.is_postgres() {
        return Ok(None);
    }
    let (mut query, where_) = listing(org, filter, today);
    query.select = DETAIL_SELECT;
    let mut rendered = true;
    let total = query.page_rows(conn, &where_, bounds, |row| {
        match detail_row(row, Copies::Items)? {
            Some(detail) => render(&detail),
            None => rendered = false,
        }
        Ok(rendered)
    })?;
    Ok(rendered.then_some(total))
}

/// The invoices `list` would answer, without their lines, one at a time (see
/// `ListQuery::each`).
pub(crate) fn each(
    conn: &Conn,
    (org, today): (i64, NaiveDate),
    filter: &InvoiceFilter,
    bounds: Bounds,
    each: impl FnMut(Invoice) -> bool,
) -> Result<(), AppError> {
    let (query, where_) = listing(org, filter, today);
    query.each(conn, &where_, bounds, from_row, each)
}

pub(super) fn listing(
    org: i64,
    filter: &InvoiceFilter,
    today: NaiveDate,
) -> (ListQuery<'static>, Filter) {
    let mut where_ = Filter::new("organization_id", org);
    if let Some(customer_id) = filter.customer_id {
        where_.push("customer_id = ?", Value::Integer(customer_id));
    }
    match filter.status {
        Some(StatusFilter::Is(status)) => {
            where_.push("status = ?", Value::Text(status.as_str().into()))
        }
        Some(StatusFilter::Overdue) => {
            where_.push(&rules::is_overdue("", "?"), Value::Text(date_text(today)));
        }
        None => {}
    }
    let ranges = [
        ("issue_date >= ?", filter.issue_date_from),
        ("issue_date <= ?", filter.issue_date_to),
        ("due_date >= ?", filter.due_date_from),
        ("due_date <= ?", filter.due_date_to),
    ];
    for (clause, date) in ranges {
        if let Some(date) = date {
            where_.push(clause, Value::Text(date_text(date)));
        }
    }
    let query = ListQuery {
        from: "invoices",
        select: SELECT_INVOICE,
        leading: vec![],
        order_by: "id",
        // A status alone reads its own range, already in id order (V24); left to itself
        // SQLite may walk every invoice of the organization to find a rare status.
        index: match filter.status {
            Some(StatusFilter::Is(_)) if filter.customer_id.is_none() => {
                Some("invoices_org_status")
            }
            _ => None,
        },
        first_id: first_id_from(
            ("invoices", "invoices_org_issue", "issue_date"),
            org,
            filter.issue_date_from,
        ),
    };
    (query, where_)
}

pub(super) fn number_taken(conn: &Conn, org: i64, number: &str) -> Result<bool, AppError> {
    Ok(conn
        .prepare_cached(
            "SELECT 1 FROM invoices WHERE organization_id = ?1 AND invoice_number = ?2",
        )?
        .query_row(params![org, number], |_| Ok(()))
        .optional()?
        .is_some())
}

/// The invoice [`create`] would make of `new`, made inside a savepoint that is then
/// rolled back: the same engine, nothing kept (not even the number's sequence, nor on
/// PostgreSQL the ids it took: see [`identities`]).
pub(crate) fn preview(
    tx: &WriteTx,
    org: i64,
    new: NewInvoice,
    now: &str,
) -> Result<Invoice, AppError> {
    let before = identities(tx)?;
    tx.execute_batch("SAVEPOINT invoice_preview")?;
    let made = create(tx, org, new, now);
    let undone = tx.execute_batch("ROLLBACK TO invoice_preview; RELEASE invoice_preview");
    tx.take_moved_invoices();
    // Given back whether `create` succeeded or not, once its rows are gone.
    let given_back = match &undone {
        Ok(()) => give_back_identities(tx, &before),
        Err(_) => Ok(()),
    };
    // `create`'s own error first; a failed rollback is the writer's to clean up (its job
    // savepoint is rolled back on any error).
    let invoice = made?;
    undone?;
    given_back?;
    Ok(invoice)
}

/// The tables whose ids a preview answers with.
const PREVIEWED_IDS: [&str; 2] = ["invoices", "invoice_items"];

/// Where the identities of [`PREVIEWED_IDS`] stand on PostgreSQL: each sequence's name,
/// last value and whether that value was handed out (`migrate-db` leaves "the next is N,
/// none handed out yet"). A rollback does not give back what a sequence handed out, so a
/// preview sets them back itself, in a write that holds the whole book
/// (`WriteScope::Book`): no other write can have taken an id meanwhile. Nothing on SQLite,
/// whose ids roll back with the rows.
fn identities(tx: &WriteTx) -> Result<Vec<(String, i64, bool)>, AppError> {
    if !tx.is_postgres() {
        return Ok(Vec::new());
    }
    let mut identities = Vec::new();
    for table in PREVIEWED_IDS {
        let name: String =
            tx.query_row("SELECT pg_get_serial_sequence(?1, 'id')", [table], |row| {
                row.get(0)
            })?;
        // The name comes from the catalog, quoted by it; it cannot be a parameter here.
        let (last, called) = tx.query_row(
            &format!("SELECT last_value, is_called FROM {name}"),
            params![],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )?;
        identities.push((name, last, called));
    }
    Ok(identities)
}

fn give_back_identities(tx: &WriteTx, before: &[(String, i64, bool)]) -> Result<(), AppError> {
    for (now, was) in identities(tx)?.iter().zip(before) {
        if now != was {
            let (name, last, called) = was;
            tx.query_row(
                "SELECT setval(CAST(?1 AS TEXT)::regclass, ?2, ?3)",
                params![name, last, called],
                |_| Ok(()),
            )?;
        }
    }
    Ok(())
}

pub(crate) fn create(
    tx: &WriteTx,
    org: i64,
    new: NewInvoice,
    now: &str,
) -> Result<Invoice, AppError> {
    let (terms, currency) = customers::billing(tx, org, new.customer_id)?.ok_or_else(|| {
        AppError::field(
            "customer_id",
            format!("customer {} does not exist", new.customer_id),
        )
    })?;
    check_stated(new.currency, new.customer_id, currency)?;
    let due_date = invoice::due_date(new.issue_date, new.due_date, terms)?;
    let lines = invoice::price_lines(new.lines, currency)?;
    let amounts: Vec<LineAmounts> = lines.iter().map(|(_, amounts)| *amounts).collect();
    let totals: InvoiceTotals = invoice_totals(&amounts, currency)
        .map_err(|err| AppError::field("items", format!("invoice total {err}")))?;
    // Nothing to collect on a zero total: it is settled as soon as it is issued.
    let status = match new.status {
        InvoiceStatus::Sent => InvoiceStatus::from_payments(totals.total, Money::ZERO),
        other => other,
    };
    let number = match new.invoice_number {
        Some(number) => {
            if number_taken(tx, org, &number)? {
                return Err(AppError::conflict_on(
                    "invoice_number",
                    format!("An invoice with invoice_number '{number}' already exists."),
                ));
            }
            number
        }
        None => {
            let year = new.issue_date.year();
            let prefix = super::organization::get(tx, org)?
                .fields
                .invoice_number_prefix;
            loop {
                let sequence = next_sequence(tx, org, &format!("invoice-{year}"))?;
                let candidate = generated_invoice_number(&prefix, year, sequence);
                if !number_taken(tx, org, &candidate)? {
                    break candidate;
                }
            }
        }
    };
    let invoice_id: i64 = tx
        .prepare_cached(
        "INSERT INTO invoices (organization_id, customer_id, invoice_number, status, issue_date,
            due_date, notes, subtotal_minor, tax_total_minor, total_minor, created_at, updated_at,
            currency)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11, ?12)
         RETURNING id",
    )?
    .query_row(
        params![
        org,
        new.customer_id,
        number,
        status.as_str(),
        date_text(new.issue_date),
        date_text(due_date),
        new.notes,
        totals.subtotal.minor(),
        totals.tax_total.minor(),
        totals.total.minor(),
            now,
            currency.code()
        ],
        |row| row.get(0),
    )?;
    insert_lines(tx, (org, invoice_id), &lines)?;
    let created = get(tx, org, invoice_id)?;
    record_status(tx, &created, None, created.status)?;
    Ok(created)
}

/// Stores an invoice's lines; the seeder shares it, so demo rows are the API's rows.
/// Returns them as [`items_of`] would read them back.
pub(crate) fn insert_lines(
    conn: &crate::db::conn::Conn,
    (org, invoice_id): (i64, i64),
    lines: &[(LineInput, LineAmounts)],
) -> Result<Vec<InvoiceItem>, AppError> {
    store_lines(
        conn,
        org,
        ("invoice_items", "invoice_id", invoice_id),
        lines,
    )
}

/// Stores the lines of a document (`table`, its `column` naming the owner `id`): an
/// invoice's or a credit note's, which share the shape and the rounding rule.
pub(crate) fn store_lines(
    conn: &crate::db::conn::Conn,
    org: i64,
    (table, column, id): (&str, &str, i64),
    lines: &[(LineInput, LineAmounts)],
) -> Result<Vec<InvoiceItem>, AppError> {
    let invoice_id = id;
    let (org_column, org_value) = super::sql::owner_column(conn, super::sql::INVOICE_ITEMS, 10);
    let mut insert = conn.prepare_cached(&format!(
        "INSERT INTO {table} ({org_column}{column}, position, description, quantity,
            unit_price, tax_rate, line_subtotal_minor, line_tax_minor, line_total_minor)
         VALUES ({org_value}?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
         RETURNING id"
    ))?;
    let mut items = Vec::with_capacity(lines.len());
    for (position, (line, amounts)) in lines.iter().enumerate() {
        // Stored as normalized text, which reads back as this same value and scale.
        let (quantity, unit_price, tax_rate) = (
            line.quantity.normalize(),
            line.unit_price.normalize(),
            line.tax_rate.normalize(),
        );
        let (position, texts) = (
            position as i64,
            [quantity, unit_price, tax_rate].map(|value| value.to_string()),
        );
        let minor = [amounts.subtotal, amounts.tax, amounts.total].map(|money| money.minor());
        let mut values: Vec<&dyn super::conn::value::ToSql> = params![
            invoice_id,
            position,
            line.description,
            texts[0],
            texts[1],
            texts[2],
            minor[0],
            minor[1],
            minor[2]
        ]
        .to_vec();
        if conn.is_postgres() {
            values.push(&org);
        }
        let id = insert.query_row(values.as_slice(), |row| row.get(0))?;
        items.push(InvoiceItem {
            id,
            description: line.description.clone(),
            quantity,
            unit_price,
            tax_rate,
            line_subtotal: amounts.subtotal,
            line_tax: amounts.tax,
            line_total: amounts.total,
        });
    }
    Ok(items)
}

/// Sends or voids invoice `id`, as `domain::invoice::transition` allows.
pub(crate) fn transition(
    tx: &WriteTx,
    org: i64,
    id: i64,
    now: &str,
    move_to: Transition,
) -> Result<Invoice, AppError> {
    let invoice = get_header(tx, org, id)?.ok_or_else(|| not_found(id))?;
    let linked_notes = super::credit_notes::credited_by_notes(tx, (org, id))?;
    let settled = (invoice.settled, linked_notes);
    let total = (invoice.total, invoice.currency);
    let status = invoice::transition(id, invoice.status, total, settled, move_to)?;
    if status == InvoiceStatus::Void {
        super::summaries::unsettle_all(tx, &invoice)?;
    }
    set_status(tx, &invoice, status, now)?;
    get(tx, org, id)
}

/// Moves `invoice` to `status`, keeping the daily summaries in step.
pub(crate) fn set_status(
    tx: &WriteTx,
    invoice: &Invoice,
    status: InvoiceStatus,
    now: &str,
) -> Result<(), AppError> {
    tx.prepare_cached(
        "UPDATE invoices SET status = ?2, updated_at = ?3 WHERE organization_id = ?4 AND id = ?1",
    )?
    .execute(params![
        invoice.id,
        status.as_str(),
        now,
        invoice.organization_id
    ])?;
    record_status(tx, invoice, Some(invoice.status), status)
}
