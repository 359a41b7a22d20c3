//! Payments and their application to invoices.

use chrono::NaiveDate;
use rusqlite::types::Value;
use rusqlite::{params, Connection, OptionalExtension, Row};

use super::codec::date_text;
use super::customers;
use super::invoices;
use super::paging::{ListQuery, Page};
use super::sql::Filter;
use super::WriteTx;
use crate::domain::money::Money;
pub(crate) use crate::domain::payment::NewPayment;
use crate::domain::payment::{self, PayableInvoice, PaymentMethod, PaymentToApply};
use crate::error::AppError;

#[derive(Debug, Clone)]
pub(crate) struct Payment {
    pub id: i64,
    pub customer_id: i64,
    pub invoice_id: Option<i64>,
    pub amount: Money,
    pub payment_method: String,
    pub payment_date: String,
    pub reference_number: Option<String>,
    pub notes: Option<String>,
    pub created_at: String,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct PaymentFilter {
    pub customer_id: Option<i64>,
    pub invoice_id: Option<i64>,
    pub payment_method: Option<PaymentMethod>,
    pub date_from: Option<NaiveDate>,
    pub date_to: Option<NaiveDate>,
}

const SELECT_PAYMENT: &str = "SELECT id, customer_id, invoice_id, amount_minor, payment_method,
        payment_date, reference_number, notes, created_at FROM payments";

fn from_row(row: &Row) -> rusqlite::Result<Payment> {
    Ok(Payment {
        id: row.get(0)?,
        customer_id: row.get(1)?,
        invoice_id: row.get(2)?,
        amount: Money::from_minor(row.get(3)?),
        payment_method: row.get(4)?,
        payment_date: row.get(5)?,
        reference_number: row.get(6)?,
        notes: row.get(7)?,
        created_at: row.get(8)?,
    })
}

pub(crate) fn get(conn: &Connection, org: i64, id: i64) -> Result<Payment, AppError> {
    conn.prepare_cached(&format!(
        "{SELECT_PAYMENT} WHERE id = ?1 AND organization_id = ?2"
    ))?
    .query_row(params![id, org], from_row)
    .optional()?
    .ok_or_else(|| AppError::NotFound(format!("Payment {id} not found.")))
}

/// Records a payment and applies it to its invoice, in the caller's IMMEDIATE transaction:
/// the balance read here cannot change before the write, so no invoice is paid past its total.
pub(crate) fn record(
    tx: &WriteTx,
    org: i64,
    new: NewPayment,
    today: NaiveDate,
    now: &str,
) -> Result<Payment, AppError> {
    if !customers::exists(tx, org, new.customer_id)? {
        return Err(AppError::field(
            "customer_id",
            format!("customer {} does not exist", new.customer_id),
        ));
    }
    let invoice = invoices::get_header(tx, org, new.invoice_id)?.ok_or_else(|| {
        AppError::field(
            "invoice_id",
            format!("invoice {} does not exist", new.invoice_id),
        )
    })?;
    let applied = payment::apply(
        &PayableInvoice {
            id: invoice.id,
            customer_id: invoice.customer_id,
            status: invoice.status,
            issue_date: invoice.issue_date,
            total: invoice.total,
            amount_paid: invoice.amount_paid,
        },
        &PaymentToApply {
            customer_id: new.customer_id,
            amount: new.amount,
            payment_date: new.payment_date,
        },
        today,
    )?;
    let payment_date = date_text(new.payment_date);
    tx.prepare_cached(
        "INSERT INTO payments (organization_id, customer_id, invoice_id, amount_minor, payment_method,
            payment_date, reference_number, notes, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
)?.execute(
        params![
            org,
            new.customer_id,
            new.invoice_id,
            new.amount.minor(),
            new.payment_method.as_str(),
            payment_date,
            new.reference_number,
            new.notes,
            now
        ],
    )?;
    let payment_id = tx.last_insert_rowid();
    tx.prepare_cached(
        "INSERT INTO allocations (organization_id, customer_id, payment_id, invoice_id,
            amount_minor, applied_date, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        org,
        new.customer_id,
        payment_id,
        new.invoice_id,
        new.amount.minor(),
        payment_date,
        now
    ])?;
    tx.prepare_cached(
        "UPDATE invoices SET amount_paid_minor = ?2, status = ?3, updated_at = ?4 WHERE id = ?1",
    )?
    .execute(params![
        invoice.id,
        applied.amount_paid.minor(),
        applied.status.as_str(),
        now
    ])?;
    super::summaries::record_status(tx, &invoice, Some(invoice.status), applied.status)?;
    get(tx, org, payment_id)
}

pub(crate) fn list(
    conn: &Connection,
    org: i64,
    filter: &PaymentFilter,
    limit: i64,
    offset: i64,
) -> Result<Page<Payment>, AppError> {
    let mut where_ = Filter::new("organization_id", org);
    if let Some(customer_id) = filter.customer_id {
        where_.push("customer_id = ?", Value::Integer(customer_id));
    }
    if let Some(invoice_id) = filter.invoice_id {
        where_.push("invoice_id = ?", Value::Integer(invoice_id));
    }
    if let Some(method) = filter.payment_method {
        where_.push("payment_method = ?", Value::Text(method.as_str().into()));
    }
    if let Some(from) = filter.date_from {
        where_.push("payment_date >= ?", Value::Text(date_text(from)));
    }
    if let Some(to) = filter.date_to {
        where_.push("payment_date <= ?", Value::Text(date_text(to)));
    }
    let query = ListQuery {
        from: "payments",
        select: SELECT_PAYMENT,
        leading: vec![],
        order_by: "id",
    };
    query.page(conn, &where_, (limit, offset), from_row)
}
