//! Credit notes: issued with lines like an invoice, linked to an invoice or not, and from
//! then on a source of credit like a payment (allocated, refunded, voided as of a date).

use chrono::{Datelike, NaiveDate};

use super::codec::date_text;
use super::conn::{params, value::Value, Conn, OptionalExtension, Row};
use super::customers;
use super::invoices::{get_header, item_from_row, store_lines, InvoiceItem};
use super::next_sequence;
use super::paging::{first_id_from, Bounds, ListQuery, Page};
use super::sources::{
    allocations_of, applied, apply_plan, refunds_of, Refund, SourceAllocation, SourceFacts,
};
use super::sql::Filter;
use super::WriteTx;
use crate::domain::credit_note::{
    check_invoice_not_overcredited, check_issue_date, check_total, generated_credit_note_number,
    CreditNoteStatus, NewCreditNote,
};
use crate::domain::currency::{check_stated, Currency};
use crate::domain::invoice::{invoice_totals, price_lines, LineAmounts};
use crate::domain::ledger::least_from;
use crate::domain::money::Money;
use crate::domain::payment::{Blame, SourceKind};
use crate::error::AppError;

#[derive(Debug, Clone)]
pub(crate) struct CreditNote {
    pub id: i64,
    pub customer_id: i64,
    pub credit_note_number: String,
    pub invoice_id: Option<i64>,
    pub issue_date: String,
    pub reason: String,
    pub subtotal: Money,
    pub tax_total: Money,
    pub total: Money,
    pub unapplied: Money,
    pub refunded: Money,
    pub void_date: Option<String>,
    pub void_reason: Option<String>,
    pub currency: Currency,
    pub created_at: String,
    pub items: Vec<InvoiceItem>,
    /// Every allocation from it, reversed ones included, by date.
    pub allocations: Vec<SourceAllocation>,
    pub refunds: Vec<Refund>,
}

impl CreditNote {
    pub(crate) fn applied(&self) -> Money {
        applied(&self.allocations)
    }

    pub(crate) fn status(&self) -> CreditNoteStatus {
        CreditNoteStatus::of(self.total, self.unapplied, self.void_date.is_some())
    }

    /// The credit note as a source of credit.
    pub(crate) fn facts(&self) -> SourceFacts<'_> {
        SourceFacts {
            kind: SourceKind::CreditNote,
            id: self.id,
            customer_id: self.customer_id,
            date: &self.issue_date,
            amount: self.total,
            refunded: self.refunded,
            void_date: self.void_date.as_deref(),
            currency: self.currency,
            allocations: &self.allocations,
            refunds: &self.refunds,
        }
    }
}

#[derive(Debug, Clone, Default)]
pub(crate) struct CreditNoteFilter {
    pub customer_id: Option<i64>,
    pub invoice_id: Option<i64>,
    pub date_from: Option<NaiveDate>,
    pub date_to: Option<NaiveDate>,
    pub status: Option<CreditNoteStatus>,
}

const SELECT_CREDIT_NOTE: &str = "SELECT id, customer_id, credit_note_number, invoice_id,
        issue_date, reason, subtotal_minor, tax_total_minor, total_minor, unapplied_minor,
        refunded_minor, void_date, void_reason, created_at, currency FROM credit_notes";

fn from_row(row: &Row) -> crate::db::conn::StoreResult<CreditNote> {
    Ok(CreditNote {
        id: row.get(0)?,
        customer_id: row.get(1)?,
        credit_note_number: row.get(2)?,
        invoice_id: row.get(3)?,
        issue_date: row.get(4)?,
        reason: row.get(5)?,
        subtotal: Money::from_minor(row.get(6)?),
        tax_total: Money::from_minor(row.get(7)?),
        total: Money::from_minor(row.get(8)?),
        unapplied: Money::from_minor(row.get(9)?),
        refunded: Money::from_minor(row.get(10)?),
        void_date: row.get(11)?,
        void_reason: row.get(12)?,
        created_at: row.get(13)?,
        currency: Currency::stored(&row.get::<_, String>(14)?),
        items: Vec::new(),
        allocations: Vec::new(),
        refunds: Vec::new(),
    })
}

pub(crate) fn not_found(id: i64) -> AppError {
    AppError::NotFound(format!("Credit note {id} not found."))
}

pub(crate) fn get(conn: &Conn, org: i64, id: i64) -> Result<CreditNote, AppError> {
    let mut note = conn
        .prepare_cached(&format!(
            "{SELECT_CREDIT_NOTE} WHERE id = ?1 AND organization_id = ?2"
        ))?
        .query_row(params![id, org], from_row)
        .optional()?
        .ok_or_else(|| not_found(id))?;
    attach(conn, org, std::slice::from_mut(&mut note))?;
    Ok(note)
}

/// Loads the lines, allocations and refunds of all `notes`, a query for each.
fn attach(conn: &Conn, org: i64, notes: &mut [CreditNote]) -> Result<(), AppError> {
    let ids: Vec<i64> = notes.iter().map(|n| n.id).collect();
    let mut allocations = allocations_of(conn, (org, SourceKind::CreditNote), &ids)?;
    let mut refunds = refunds_of(conn, (org, SourceKind::CreditNote), &ids)?;
    let mut items = conn.prepare_cached(&format!(
        "SELECT credit_note_id, id, description, quantity, unit_price, tax_rate,
                line_subtotal_minor, line_tax_minor, line_total_minor
         FROM credit_note_items WHERE {}credit_note_id = ?1
         ORDER BY position",
        super::sql::owner_filter(conn, super::sql::CREDIT_NOTE_ITEMS, "", "?2")
    ))?;
    for note in notes.iter_mut() {
        note.allocations = allocations.remove(&note.id).unwrap_or_default();
        note.refunds = refunds.remove(&note.id).unwrap_or_default();
        note.items = items
            .query_map([note.id, org], |row| {
                item_from_row(row).map(|(_, item)| item)
            })?
            .collect::<Result<_, _>>()?;
    }
    Ok(())
}

/// Runs `change` on credit note `id` as a source of credit, and reads it back.
pub(crate) fn change_credit(
    tx: &WriteTx,
    org: i64,
    id: i64,
    change: impl FnOnce(&SourceFacts) -> Result<(), AppError>,
) -> Result<CreditNote, AppError> {
    let note = get(tx, org, id)?;
    change(&note.facts())?;
    get(tx, org, id)
}

fn number_taken(conn: &Conn, org: i64, number: &str) -> Result<bool, AppError> {
    Ok(conn
        .prepare_cached(
            "SELECT 1 FROM credit_notes WHERE organization_id = ?1 AND credit_note_number = ?2",
        )?
        .query_row(params![org, number], |_| Ok(()))
        .optional()?
        .is_some())
}

/// The number given, if free, or the next free `CN-YYYY-NNNNN` of the issue year.
fn number_for(tx: &WriteTx, org: i64, new: &NewCreditNote) -> Result<String, AppError> {
    if let Some(number) = &new.credit_note_number {
        if number_taken(tx, org, number)? {
            return Err(AppError::conflict_on(
                "credit_note_number",
                format!("A credit note with credit_note_number '{number}' already exists."),
            ));
        }
        return Ok(number.clone());
    }
    let year = new.issue_date.year();
    let prefix = super::organization::get(tx, org)?
        .fields
        .credit_note_number_prefix;
    loop {
        let sequence = next_sequence(tx, org, &format!("credit-note-{year}"))?;
        let candidate = generated_credit_note_number(&prefix, year, sequence);
        if !number_taken(tx, org, &candidate)? {
            return Ok(candidate);
        }
    }
}

/// What the live (not voided) credit notes linked to invoice `id` credit it for.
pub(crate) fn credited_by_notes(conn: &Conn, (org, id): (i64, i64)) -> Result<Money, AppError> {
    Ok(Money::from_minor(
        conn.prepare_cached(
            "SELECT COALESCE(SUM(total_minor), 0) FROM credit_notes INDEXED BY credit_notes_invoice
             WHERE invoice_id = ?1 AND organization_id = ?2 AND void_date IS NULL",
        )?
        .query_row([id, org], |row| row.get(0))?,
    ))
}

/// Issues a credit note in the caller's IMMEDIATE transaction. Linked to an invoice, it is
/// allocated to it at once, up to what the invoice has open from the note's date on; the
/// rest is the customer's credit.
pub(crate) fn create(
    tx: &WriteTx,
    org: i64,
    mut new: NewCreditNote,
    (today, now): (NaiveDate, &str),
) -> Result<CreditNote, AppError> {
    let currency = customers::currency_of(tx, org, new.customer_id)?;
    check_stated(new.currency, new.customer_id, currency)?;
    check_issue_date(new.issue_date, today)?;
    let lines = price_lines(std::mem::take(&mut new.lines), currency)?;
    let amounts: Vec<LineAmounts> = lines.iter().map(|(_, amounts)| *amounts).collect();
    let totals = invoice_totals(&amounts, currency)
        .map_err(|err| AppError::field("items", format!("credit note total {err}")))?;
    check_total(totals.total, currency)?;
    let invoice = match new.invoice_id {
        Some(id) => Some(get_header(tx, org, id)?.ok_or_else(|| {
            AppError::field("invoice_id", format!("invoice {id} does not exist"))
        })?),
        None => None,
    };
    if let Some(invoice) = &invoice {
        if invoice.customer_id != new.customer_id {
            return Err(AppError::field(
                "invoice_id",
                format!(
                    "invoice {} belongs to customer {}, not to customer {}",
                    invoice.id, invoice.customer_id, new.customer_id
                ),
            ));
        }
        // Dated no earlier than what it credits, even when nothing of it is applied.
        if new.issue_date < invoice.issue_date {
            return Err(AppError::field(
                "issue_date",
                format!(
                    "must not be before the invoice's issue_date ({})",
                    date_text(invoice.issue_date)
                ),
            ));
        }
        let already = credited_by_notes(tx, (org, invoice.id))?;
        let invoice_total = (invoice.id, invoice.total);
        check_invoice_not_overcredited(invoice_total, already, totals.total, currency)?;
    }
    let number = number_for(tx, org, &new)?;
    let id: i64 = tx
        .prepare_cached(
        "INSERT INTO credit_notes (organization_id, customer_id, credit_note_number, invoice_id,
            issue_date, reason, subtotal_minor, tax_total_minor, total_minor, unapplied_minor,
            created_at, currency)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9, ?10, ?11)
         RETURNING id",
    )?
    .query_row(
        params![
        org,
        new.customer_id,
        number,
        new.invoice_id,
        date_text(new.issue_date),
        new.reason,
        totals.subtotal.minor(),
        totals.tax_total.minor(),
        totals.total.minor(),
            now,
            currency.code()
        ],
        |row| row.get(0),
    )?;
    store_lines(tx, org, ("credit_note_items", "credit_note_id", id), &lines)?;
    if let Some(invoice) = invoice {
        let open = super::allocations::invoice_movements(tx, (org, invoice.id))?;
        let (can_take, _) = least_from(invoice.total, &open, new.issue_date);
        let amount = can_take.min(totals.total);
        // A closed invoice takes nothing: the whole note is credit. A draft or void one is
        // refused by the allocation rules, naming invoice_id.
        if amount.is_positive() || !invoice.status.is_issued() {
            let blame = Blame {
                invoice: "invoice_id".into(),
                amount: "items".into(),
                date: "issue_date",
                documented: false,
            };
            let plan = vec![(invoice.id, amount, blame)];
            let source = (org, new.customer_id, (SourceKind::CreditNote, id), currency);
            apply_plan(tx, source, plan, new.issue_date, (today, now))?;
        }
    }
    get(tx, org, id)
}

pub(crate) fn list(
    conn: &Conn,
    org: i64,
    filter: &CreditNoteFilter,
    (limit, offset): (i64, i64),
) -> Result<Page<CreditNote>, AppError> {
    let (query, where_) = listing(org, filter);
    let mut page = query.page(conn, &where_, (limit, offset), from_row)?;
    attach(conn, org, &mut page.items)?;
    Ok(page)
}

/// The credit notes `list` would answer, one at a time (see `ListQuery::each`).
pub(crate) fn each(
    conn: &Conn,
    org: i64,
    filter: &CreditNoteFilter,
    bounds: Bounds,
    each: impl FnMut(CreditNote) -> bool,
) -> Result<(), AppError> {
    let (query, where_) = listing(org, filter);
    let complete = |rows: &mut Vec<CreditNote>| attach(conn, org, rows);
    query.each_completed(conn, &where_, bounds, (from_row, complete), each)
}

pub(super) fn listing(org: i64, filter: &CreditNoteFilter) -> (ListQuery<'static>, Filter) {
    let mut where_ = Filter::new("organization_id", org);
    if let Some(customer_id) = filter.customer_id {
        where_.push("customer_id = ?", Value::Integer(customer_id));
    }
    if let Some(invoice_id) = filter.invoice_id {
        where_.push("invoice_id = ?", Value::Integer(invoice_id));
    }
    if let Some(from) = filter.date_from {
        where_.push("issue_date >= ?", Value::Text(date_text(from)));
    }
    if let Some(to) = filter.date_to {
        where_.push("issue_date <= ?", Value::Text(date_text(to)));
    }
    if let Some(status) = filter.status {
        where_.push_all(
            match status {
                CreditNoteStatus::Void => "void_date IS NOT NULL",
                CreditNoteStatus::Open => "void_date IS NULL AND unapplied_minor > 0",
                CreditNoteStatus::Applied => "void_date IS NULL AND unapplied_minor = 0",
            },
            [],
        );
    }
    let query = ListQuery {
        from: "credit_notes",
        select: SELECT_CREDIT_NOTE,
        leading: vec![],
        order_by: "id",
        index: None,
        first_id: first_id_from(
            ("credit_notes", "credit_notes_org_date", "issue_date"),
            org,
            filter.date_from,
        ),
    };
    (query, where_)
}
