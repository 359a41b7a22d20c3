//! Payments: recorded, applied to invoices through allocations, their credit used later.

use chrono::NaiveDate;

use super::allocations::{existing_invoice, open_invoices};
use super::codec::date_text;
use super::conn::{params, value::Value, Conn, OptionalExtension, Row};
use super::customers;
use super::paging::{first_id_from, Bounds, ListQuery, Page};
use super::sources::{
    allocate_plan, allocations_of, applied, planned, refunds_of, with_blame, SourceAllocation,
    SourceFacts,
};
pub(crate) use super::sources::{NewRefund, Refund};
use super::sql::Filter;
use super::WriteTx;
use crate::domain::currency::{check_stated, Currency};
use crate::domain::ledger::{oldest_first, SourceStatus};
use crate::domain::money::Money;
pub(crate) use crate::domain::payment::NewPayment;
use crate::domain::payment::{check_payment_date, Application, Blame, PaymentMethod, SourceKind};
use crate::error::AppError;

#[derive(Debug, Clone)]
pub(crate) struct Payment {
    pub id: i64,
    pub customer_id: i64,
    pub amount: Money,
    pub payment_method: String,
    pub payment_date: String,
    pub reference_number: Option<String>,
    pub notes: Option<String>,
    pub created_at: String,
    pub unapplied: Money,
    pub refunded: Money,
    pub void_date: Option<String>,
    pub void_reason: Option<String>,
    pub currency: Currency,
    /// Every allocation from the payment, reversed ones included, by date.
    pub allocations: Vec<SourceAllocation>,
    /// Money given back from the payment's credit, by date.
    pub refunds: Vec<Refund>,
}

impl Payment {
    /// What is allocated and not reversed.
    pub(crate) fn applied(&self) -> Money {
        applied(&self.allocations)
    }

    /// The payment as a source of credit.
    pub(crate) fn facts(&self) -> SourceFacts<'_> {
        SourceFacts {
            kind: SourceKind::Payment,
            id: self.id,
            customer_id: self.customer_id,
            date: &self.payment_date,
            amount: self.amount,
            refunded: self.refunded,
            void_date: self.void_date.as_deref(),
            currency: self.currency,
            allocations: &self.allocations,
            refunds: &self.refunds,
        }
    }

    /// The one invoice the payment went to, when it went to exactly one.
    pub(crate) fn invoice_id(&self) -> Option<i64> {
        let mut live = self
            .allocations
            .iter()
            .filter(|a| a.reversed_date.is_none())
            .map(|a| a.invoice_id);
        let first = live.next()?;
        live.all(|id| id == first).then_some(first)
    }

    pub(crate) fn status(&self) -> SourceStatus {
        SourceStatus::of(self.amount, self.unapplied, self.void_date.is_some())
    }
}

#[derive(Debug, Clone, Default)]
pub(crate) struct PaymentFilter {
    pub customer_id: Option<i64>,
    pub invoice_id: Option<i64>,
    pub payment_method: Option<PaymentMethod>,
    pub date_from: Option<NaiveDate>,
    pub date_to: Option<NaiveDate>,
    pub status: Option<SourceStatus>,
    pub has_unapplied: Option<bool>,
}

const SELECT_PAYMENT: &str = "SELECT id, customer_id, amount_minor, payment_method,
        payment_date, reference_number, notes, created_at, unapplied_minor, refunded_minor,
        void_date, void_reason, currency FROM payments";

fn from_row(row: &Row) -> crate::db::conn::StoreResult<Payment> {
    Ok(Payment {
        id: row.get(0)?,
        customer_id: row.get(1)?,
        amount: Money::from_minor(row.get(2)?),
        payment_method: row.get(3)?,
        payment_date: row.get(4)?,
        reference_number: row.get(5)?,
        notes: row.get(6)?,
        created_at: row.get(7)?,
        unapplied: Money::from_minor(row.get(8)?),
        refunded: Money::from_minor(row.get(9)?),
        void_date: row.get(10)?,
        void_reason: row.get(11)?,
        currency: Currency::stored(&row.get::<_, String>(12)?),
        allocations: Vec::new(),
        refunds: Vec::new(),
    })
}

pub(crate) fn not_found(id: i64) -> AppError {
    AppError::NotFound(format!("Payment {id} not found."))
}

pub(crate) fn get(conn: &Conn, org: i64, id: i64) -> Result<Payment, AppError> {
    let mut payment = conn
        .prepare_cached(&format!(
            "{SELECT_PAYMENT} WHERE id = ?1 AND organization_id = ?2"
        ))?
        .query_row(params![id, org], from_row)
        .optional()?
        .ok_or_else(|| not_found(id))?;
    attach_allocations(conn, org, std::slice::from_mut(&mut payment))?;
    Ok(payment)
}

/// Runs `change` on payment `id` as a source of credit, and reads the payment back.
pub(crate) fn change_credit(
    tx: &WriteTx,
    org: i64,
    id: i64,
    change: impl FnOnce(&SourceFacts) -> Result<(), AppError>,
) -> Result<Payment, AppError> {
    let payment = get(tx, org, id)?;
    change(&payment.facts())?;
    get(tx, org, id)
}

/// Loads the allocations and refunds of all `payments`, a query for each.
fn attach_allocations(conn: &Conn, org: i64, payments: &mut [Payment]) -> Result<(), AppError> {
    let ids: Vec<i64> = payments.iter().map(|p| p.id).collect();
    let mut allocations = allocations_of(conn, (org, SourceKind::Payment), &ids)?;
    let mut refunds = refunds_of(conn, (org, SourceKind::Payment), &ids)?;
    for payment in payments.iter_mut() {
        payment.allocations = allocations.remove(&payment.id).unwrap_or_default();
        payment.refunds = refunds.remove(&payment.id).unwrap_or_default();
    }
    Ok(())
}

/// Records a payment and applies it as `new.application` says, in the caller's IMMEDIATE
/// transaction: what is read here cannot change before the write, so no invoice is paid
/// past its total and no credit is used twice.
pub(crate) fn record(
    tx: &WriteTx,
    org: i64,
    new: NewPayment,
    today: NaiveDate,
    now: &str,
) -> Result<Payment, AppError> {
    let currency = customers::currency_of(tx, org, new.customer_id)?;
    check_stated(new.currency, new.customer_id, currency)?;
    let amount = new
        .amount
        .in_currency(currency)
        .map_err(|err| AppError::field("amount", err.to_string()))?;
    if matches!(
        new.application,
        Application::OnAccount | Application::OldestFirst
    ) {
        check_payment_date(new.payment_date, today)?;
    }
    let single_invoice = match &new.application {
        Application::Invoice(id) => Some(*id),
        Application::Allocations(list) if list.len() == 1 => list.first().map(|(id, _)| *id),
        _ => None,
    };
    let plan = plan_of(tx, (org, &new), amount, currency)?;
    // The payment is written once, as it will stand: its unapplied credit without what the
    // plan uses, and its invoice. A missing invoice must be the 400 that names it, not a
    // foreign-key failure of this insert, so it is looked up first.
    let known = match (single_invoice, plan.first()) {
        (Some(id), Some((_, _, blame))) => Some(existing_invoice(tx, org, id, blame)?),
        _ => None,
    };
    let payment_id: i64 = tx
        .prepare_cached(
            "INSERT INTO payments (organization_id, customer_id, amount_minor, payment_method,
            payment_date, reference_number, notes, created_at, unapplied_minor, currency,
            invoice_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
         RETURNING id",
        )?
        .query_row(
            params![
                org,
                new.customer_id,
                amount.minor(),
                new.payment_method.as_str(),
                date_text(new.payment_date),
                new.reference_number,
                new.notes,
                now,
                amount.minor() - planned(&plan),
                currency.code(),
                single_invoice
            ],
            |row| row.get(0),
        )?;
    let source = (
        org,
        new.customer_id,
        (SourceKind::Payment, payment_id),
        currency,
    );
    let date = new.payment_date;
    allocate_plan(tx, (source, known.as_ref()), plan, date, (today, now))?;
    get(tx, org, payment_id)
}

/// The allocations `new` asks for: the one invoice, the list (checked against the
/// amount), the customer's oldest open invoices, or none (on account).
fn plan_of(
    tx: &WriteTx,
    (org, new): (i64, &NewPayment),
    amount: Money,
    currency: Currency,
) -> Result<Vec<(i64, Money, Blame)>, AppError> {
    Ok(match &new.application {
        Application::Invoice(id) => vec![(*id, amount, Blame::documented())],
        Application::Allocations(list) => {
            let plan = with_blame(list.clone(), "payment_date", currency)?;
            let limit = (amount, currency);
            check_total("allocations", &plan, limit, "the payment's amount")?;
            plan
        }
        Application::OldestFirst => {
            let open = open_invoices(tx, org, new.customer_id, new.payment_date)?;
            let (chosen, _rest) = oldest_first(amount, open);
            let blame = Blame::oldest_first("payment_date");
            chosen
                .into_iter()
                .map(|(id, a)| (id, a, blame.clone()))
                .collect()
        }
        Application::OnAccount => Vec::new(),
    })
}

/// Refuses allocations that add up to more than `limit`.
fn check_total(
    field: &str,
    plan: &[(i64, Money, Blame)],
    (limit, currency): (Money, Currency),
    what: &str,
) -> Result<(), AppError> {
    let total: i64 = plan.iter().map(|(_, amount, _)| amount.minor()).sum();
    if total > limit.minor() {
        return Err(AppError::field(
            field,
            format!(
                "add up to {}, more than {what} ({})",
                Money::from_minor(total).shown(currency),
                limit.shown(currency)
            ),
        ));
    }
    Ok(())
}

pub(crate) fn list(
    conn: &Conn,
    org: i64,
    filter: &PaymentFilter,
    limit: i64,
    offset: i64,
) -> Result<Page<Payment>, AppError> {
    let (query, where_) = listing(org, filter);
    let mut page = query.page(conn, &where_, (limit, offset), from_row)?;
    attach_allocations(conn, org, &mut page.items)?;
    Ok(page)
}

/// The payments `list` would answer, one at a time (see `ListQuery::each`).
pub(crate) fn each(
    conn: &Conn,
    org: i64,
    filter: &PaymentFilter,
    bounds: Bounds,
    each: impl FnMut(Payment) -> bool,
) -> Result<(), AppError> {
    let (query, where_) = listing(org, filter);
    let complete = |rows: &mut Vec<Payment>| attach_allocations(conn, org, rows);
    query.each_completed(conn, &where_, bounds, (from_row, complete), each)
}

pub(super) fn listing(org: i64, filter: &PaymentFilter) -> (ListQuery<'static>, Filter) {
    let mut where_ = Filter::new("organization_id", org);
    if let Some(customer_id) = filter.customer_id {
        where_.push("customer_id = ?", Value::Integer(customer_id));
    }
    if let Some(invoice_id) = filter.invoice_id {
        // Driven from the invoice's allocations (its index), not a check of every payment
        // of the organization: an invoice paid in thousands of instalments pages quickly.
        where_.push_all(
            "id IN (SELECT a.payment_id FROM allocations a
             WHERE a.organization_id = ? AND a.invoice_id = ?)",
            [Value::Integer(org), Value::Integer(invoice_id)],
        );
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
    if let Some(status) = filter.status {
        where_.push_all(status_sql(status), []);
    }
    match filter.has_unapplied {
        Some(true) => where_.push_all("unapplied_minor > 0", []),
        Some(false) => where_.push_all("unapplied_minor = 0", []),
        None => {}
    }
    let query = ListQuery {
        from: "payments",
        select: SELECT_PAYMENT,
        leading: vec![],
        order_by: "id",
        index: None,
        first_id: first_id_from(
            ("payments", "payments_org_date", "payment_date"),
            org,
            filter.date_from,
        ),
    };
    (query, where_)
}

/// [`SourceStatus::of`] as SQL over a payment row.
fn status_sql(status: SourceStatus) -> &'static str {
    match status {
        SourceStatus::Void => "void_date IS NOT NULL",
        SourceStatus::Unapplied => "void_date IS NULL AND unapplied_minor = amount_minor",
        SourceStatus::PartiallyApplied => {
            "void_date IS NULL AND unapplied_minor > 0 AND unapplied_minor < amount_minor"
        }
        SourceStatus::Applied => "void_date IS NULL AND unapplied_minor = 0",
    }
}
