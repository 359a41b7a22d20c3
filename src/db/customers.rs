//! Customers.

use std::sync::LazyLock;

use super::conn::{params, value::Value, Conn, OptionalExtension, Row};
use super::next_sequence;
use super::paging::{Bounds, ListQuery, Page};
use super::rules;
use super::sql::{contains_pattern, Filter};
use super::WriteTx;
use crate::domain::currency::Currency;
use crate::domain::money::{GivenAmount, Money};
use crate::error::AppError;

#[derive(Debug, Clone)]
pub(crate) struct Customer {
    pub id: i64,
    pub customer_code: String,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub billing_address: Option<String>,
    pub payment_terms_days: i64,
    pub credit_limit: Option<Money>,
    pub notes: Option<String>,
    pub is_active: bool,
    pub created_at: String,
    pub updated_at: String,
    pub outstanding_balance: Money,
    pub overdue_balance: Money,
    /// Unapplied credit of the customer's payments today.
    pub credit_balance: Money,
    /// The currency its documents are in: its own, or the organization's.
    pub currency: Currency,
    /// The currency it was given; `None` follows the organization's.
    pub own_currency: Option<Currency>,
}

/// Every field of a customer a client may set; `None` code means "generate one".
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct CustomerFields {
    pub customer_code: Option<String>,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub billing_address: Option<String>,
    pub payment_terms_days: i64,
    /// In the customer's currency, which decides its places.
    pub credit_limit: Option<GivenAmount>,
    pub notes: Option<String>,
    pub is_active: bool,
    /// `None`: the organization's currency.
    pub currency: Option<Currency>,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct CustomerFilter {
    pub search: Option<String>,
    pub is_active: Option<bool>,
}

// Balances are derived from open invoices, so they can never disagree with them. ?1 is
// today.
static SELECT_CUSTOMER: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT c.id, c.customer_code, c.name, c.email, c.phone, c.billing_address,
            c.payment_terms_days, c.credit_limit_minor, c.notes, c.is_active, c.created_at,
            c.updated_at,
            (SELECT COALESCE(SUM({open_amount}), 0) FROM invoices i
              WHERE i.organization_id = c.organization_id AND i.customer_id = c.id
                AND {open}),
            (SELECT COALESCE(SUM({open_amount}), 0) FROM invoices i
              WHERE i.organization_id = c.organization_id AND i.customer_id = c.id
                AND {overdue}),
            {credit},
            COALESCE(c.currency, (SELECT currency FROM organizations o WHERE o.id = c.organization_id)),
            c.currency
         FROM customers c",
        open = rules::is_open("i."),
        overdue = rules::is_overdue("i.", "?1"),
        credit = super::balances::CREDIT_TODAY,
        open_amount = rules::open_amount("i."),
    )
});

fn from_row(row: &Row) -> crate::db::conn::StoreResult<Customer> {
    Ok(Customer {
        id: row.get(0)?,
        customer_code: row.get(1)?,
        name: row.get(2)?,
        email: row.get(3)?,
        phone: row.get(4)?,
        billing_address: row.get(5)?,
        payment_terms_days: row.get(6)?,
        credit_limit: row.get::<_, Option<i64>>(7)?.map(Money::from_minor),
        notes: row.get(8)?,
        is_active: row.get(9)?,
        created_at: row.get(10)?,
        updated_at: row.get(11)?,
        outstanding_balance: Money::from_minor(row.get(12)?),
        overdue_balance: Money::from_minor(row.get(13)?),
        credit_balance: Money::from_minor(row.get(14)?),
        currency: Currency::stored(&row.get::<_, String>(15)?),
        own_currency: row
            .get::<_, Option<String>>(16)?
            .map(|code| Currency::stored(&code)),
    })
}

pub(crate) fn get(conn: &Conn, org: i64, id: i64, today: &str) -> Result<Customer, AppError> {
    static GET_CUSTOMER: LazyLock<String> = LazyLock::new(|| {
        format!(
            "{} WHERE c.id = ?2 AND c.organization_id = ?3",
            *SELECT_CUSTOMER
        )
    });
    conn.prepare_cached(&GET_CUSTOMER)?
        .query_row(params![today, id, org], from_row)
        .optional()?
        .ok_or_else(|| not_found(id))
}

pub(crate) fn not_found(id: i64) -> AppError {
    AppError::NotFound(format!("Customer {id} not found."))
}

pub(crate) fn exists(conn: &Conn, org: i64, id: i64) -> Result<bool, AppError> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM customers WHERE id = ?1 AND organization_id = ?2")?
        .query_row(params![id, org], |_| Ok(()))
        .optional()?
        .is_some())
}

/// A customer's payment terms and the currency its documents are in, or `None` when it
/// is not the organization's.
pub(crate) fn billing(conn: &Conn, org: i64, id: i64) -> Result<Option<(i64, Currency)>, AppError> {
    Ok(conn
        .prepare_cached(
            "SELECT c.payment_terms_days, COALESCE(c.currency, o.currency)
             FROM customers c JOIN organizations o ON o.id = c.organization_id
             WHERE c.id = ?1 AND c.organization_id = ?2",
        )?
        .query_row(params![id, org], |row| {
            Ok((row.get(0)?, Currency::stored(&row.get::<_, String>(1)?)))
        })
        .optional()?)
}

/// The currency customer `id`'s documents are in; a 400 naming `customer_id` when the
/// customer is not the organization's.
pub(crate) fn currency_of(conn: &Conn, org: i64, id: i64) -> Result<Currency, AppError> {
    billing(conn, org, id)?
        .map(|(_, currency)| currency)
        .ok_or_else(|| AppError::field("customer_id", format!("customer {id} does not exist")))
}

pub(crate) fn list(
    conn: &Conn,
    org: i64,
    filter: &CustomerFilter,
    limit: i64,
    offset: i64,
    today: &str,
) -> Result<Page<Customer>, AppError> {
    let (query, where_) = listing(org, filter, today);
    query.page(conn, &where_, (limit, offset), from_row)
}

/// The customers `list` would answer, one at a time.
pub(crate) fn each(
    conn: &Conn,
    (org, today): (i64, &str),
    filter: &CustomerFilter,
    bounds: Bounds,
    each: impl FnMut(Customer) -> bool,
) -> Result<(), AppError> {
    let (query, where_) = listing(org, filter, today);
    query.each(conn, &where_, bounds, from_row, each)
}

pub(super) fn listing(
    org: i64,
    filter: &CustomerFilter,
    today: &str,
) -> (ListQuery<'static>, Filter) {
    let mut where_ = Filter::default();
    where_.push("c.organization_id = ?", Value::Integer(org));
    if let Some(search) = filter.search.as_deref().filter(|s| !s.is_empty()) {
        let pattern = contains_pattern(search);
        where_.push_all(
            "(c.name LIKE ? ESCAPE '\\' OR c.customer_code LIKE ? ESCAPE '\\' OR c.email LIKE ? ESCAPE '\\')",
            [pattern.clone(), pattern.clone(), pattern],
        );
    }
    if let Some(active) = filter.is_active {
        where_.push("c.is_active = ?", Value::Integer(active.into()));
    }
    // ?1 in the SELECT is today; the filter's anonymous parameters follow it.
    let query = ListQuery {
        from: "customers c",
        select: &SELECT_CUSTOMER,
        leading: vec![Value::Text(today.to_string())],
        order_by: "c.id",
        index: None,
        first_id: None,
    };
    (query, where_)
}

fn code_taken(conn: &Conn, org: i64, code: &str, except_id: Option<i64>) -> Result<bool, AppError> {
    Ok(conn
        .prepare_cached(
            "SELECT 1 FROM customers WHERE organization_id = ?1 AND customer_code = ?2 AND id IS DISTINCT FROM ?3",
)?
.query_row(
            params![org, code, except_id],
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}

fn duplicate_code(code: &str) -> AppError {
    AppError::conflict_on(
        "customer_code",
        format!("A customer with customer_code '{code}' already exists."),
    )
}

pub(crate) fn create(
    tx: &WriteTx,
    org: i64,
    fields: CustomerFields,
    now: &str,
    today: &str,
) -> Result<Customer, AppError> {
    let code = match fields.customer_code.clone() {
        Some(code) => {
            if code_taken(tx, org, &code, None)? {
                return Err(duplicate_code(&code));
            }
            code
        }
        // Skip numbers a client already chose by hand.
        None => loop {
            let candidate = format!("CUST-{:05}", next_sequence(tx, org, "customer")?);
            if !code_taken(tx, org, &candidate, None)? {
                break candidate;
            }
        },
    };
    // ?2 (the id) is for updates; an insert gets its id from the database.
    let id = write_fields(
        tx,
        "INSERT INTO customers (organization_id, customer_code, name, email, phone,
            billing_address, payment_terms_days, credit_limit_minor, notes, is_active,
            created_at, updated_at, currency)
         VALUES (?1, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12, ?13)
         RETURNING id",
        (org, None),
        &code,
        &fields,
        now,
    )?
    .ok_or_else(|| AppError::Internal("a customer insert answered no id".into()))?;
    get(tx, org, id, today)
}

/// Replaces every settable field (the caller merged the partial update into `fields`).
pub(crate) fn update(
    tx: &WriteTx,
    org: i64,
    id: i64,
    fields: CustomerFields,
    now: &str,
    today: &str,
) -> Result<Customer, AppError> {
    let code = fields.customer_code.clone().unwrap_or_default();
    if code_taken(tx, org, &code, Some(id))? {
        return Err(duplicate_code(&code));
    }
    check_currency_change(tx, org, id, fields.currency)?;
    let changed = write_fields(
        tx,
        "UPDATE customers SET customer_code = ?3, name = ?4, email = ?5, phone = ?6,
            billing_address = ?7, payment_terms_days = ?8, credit_limit_minor = ?9, notes = ?10,
            is_active = ?11, updated_at = ?12, currency = ?13
         WHERE organization_id = ?1 AND id = ?2
         RETURNING id",
        (org, Some(id)),
        &code,
        &fields,
        now,
    )?;
    if changed.is_none() {
        return Err(not_found(id));
    }
    get(tx, org, id, today)
}

/// Runs `sql` with the customer's settable fields bound in one order for inserts and
/// updates: ?1 organization, ?2 id, ?3 code, ?4–?11 the fields, ?12 now. `sql` answers
/// the id it wrote (`RETURNING id`); `None` when it wrote no row.
fn write_fields(
    tx: &WriteTx,
    sql: &str,
    (org, id): (i64, Option<i64>),
    code: &str,
    fields: &CustomerFields,
    now: &str,
) -> Result<Option<i64>, AppError> {
    let currency = match fields.currency {
        Some(own) => own,
        None => super::organization::currency(tx, org)?,
    };
    let credit_limit = fields
        .credit_limit
        .map(|limit| limit.in_currency(currency))
        .transpose()
        .map_err(|err| AppError::field("credit_limit", err.to_string()))?;
    Ok(tx
        .prepare_cached(sql)?
        .query_row(
            params![
                org,
                id,
                code,
                fields.name,
                fields.email,
                fields.phone,
                fields.billing_address,
                fields.payment_terms_days,
                credit_limit.map(Money::minor),
                fields.notes,
                fields.is_active,
                now,
                fields.currency.as_ref().map(Currency::code)
            ],
            |row| row.get(0),
        )
        .optional()?)
}

/// A customer's currency is fixed once it has a document: its documents are in it.
fn check_currency_change(
    tx: &WriteTx,
    org: i64,
    id: i64,
    wanted: Option<Currency>,
) -> Result<(), AppError> {
    let Some((_, current)) = billing(tx, org, id)? else {
        return Err(not_found(id));
    };
    let wanted = match wanted {
        Some(own) => own,
        None => super::organization::currency(tx, org)?,
    };
    if wanted == current {
        return Ok(());
    }
    let documents = super::organization::documents_in(tx, org, Some(id))?;
    if documents > 0 {
        return Err(AppError::conflict_on(
            "currency",
            format!(
                "Customer {id} has {documents} document(s) in {current} (invoices, payments, credit notes); its currency can change only while it has none."
            ),
        ));
    }
    Ok(())
}

pub(crate) fn delete(tx: &WriteTx, org: i64, id: i64) -> Result<(), AppError> {
    if !exists(tx, org, id)? {
        return Err(not_found(id));
    }
    let invoices: i64 = tx.query_row(
        "SELECT COUNT(*) FROM invoices WHERE organization_id = ?1 AND customer_id = ?2",
        params![org, id],
        |row| row.get(0),
    )?;
    let payments: i64 = tx.query_row(
        "SELECT COUNT(*) FROM payments WHERE organization_id = ?1 AND customer_id = ?2",
        params![org, id],
        |row| row.get(0),
    )?;
    let credit_notes: i64 = tx.query_row(
        "SELECT COUNT(*) FROM credit_notes WHERE organization_id = ?1 AND customer_id = ?2",
        params![org, id],
        |row| row.get(0),
    )?;
    if invoices > 0 || payments > 0 || credit_notes > 0 {
        return Err(AppError::conflict(format!(
            "Customer {id} has {invoices} invoice(s), {payments} payment(s) and {credit_notes} credit note(s) and cannot be deleted; set is_active to false instead."
        )));
    }
    tx.prepare_cached("DELETE FROM customers WHERE id = ?1 AND organization_id = ?2")?
        .execute(params![id, org])?;
    Ok(())
}

pub(crate) fn to_fields(customer: &Customer) -> CustomerFields {
    CustomerFields {
        customer_code: Some(customer.customer_code.clone()),
        name: customer.name.clone(),
        email: customer.email.clone(),
        phone: customer.phone.clone(),
        billing_address: customer.billing_address.clone(),
        payment_terms_days: customer.payment_terms_days,
        credit_limit: customer
            .credit_limit
            .map(|limit| GivenAmount(limit.to_decimal(customer.currency))),
        notes: customer.notes.clone(),
        is_active: customer.is_active,
        currency: customer.own_currency,
    }
}

/// Moves the customers that follow organization `org`'s currency to its new one (allowed
/// only while the organization has no documents). A credit limit is an amount in the old
/// currency and Arvalox invents no exchange rate, so a follower that has one stops the
/// change (409): clear it, change the currency, and set it again in the new one. Answers
/// the customers moved.
pub(crate) fn follow_currency(
    tx: &WriteTx,
    org: i64,
    (from, to): (Currency, Currency),
    now: &str,
) -> Result<Vec<i64>, AppError> {
    let limited: Vec<(i64, i64)> = tx
        .prepare_cached(
            "SELECT id, credit_limit_minor FROM customers
             WHERE organization_id = ?1 AND currency IS NULL AND credit_limit_minor IS NOT NULL
             ORDER BY id LIMIT 6",
        )?
        .query_map([org], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<Result<_, _>>()?;
    if let Some((id, limit)) = limited.first() {
        let others = match limited.len() - 1 {
            0 => String::new(),
            n if n < 5 => format!(" (and {n} more)"),
            _ => " (and 5 or more others)".to_string(),
        };
        return Err(AppError::conflict_on(
            "currency",
            format!(
                "Customer {id}{others} follows the organization's currency and has a credit_limit of {} {from}; Arvalox converts nothing between currencies, so set its credit_limit to null, change the currency to {to}, then set the limit again in {to}.",
                Money::from_minor(*limit).shown(from)
            ),
        ));
    }
    let moved: Vec<i64> = tx
        .prepare_cached(
            "UPDATE customers SET updated_at = ?2
             WHERE organization_id = ?1 AND currency IS NULL RETURNING id",
        )?
        .query_map(params![org, now], |row| row.get(0))?
        .collect::<Result<_, _>>()?;
    Ok(moved)
}
