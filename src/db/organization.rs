//! The organization's own settings: who it is, the default terms of new customers, the
//! prefixes of generated numbers.

use super::conn::{params, Conn, OptionalExtension, Row};
use super::WriteTx;
use crate::domain::currency::Currency;
use crate::domain::paper::Paper;
use crate::error::AppError;

#[derive(Debug, Clone)]
pub(crate) struct Organization {
    pub id: i64,
    pub slug: String,
    pub fields: OrganizationFields,
    pub created_at: String,
    pub updated_at: String,
}

/// Every setting a client may change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OrganizationFields {
    pub name: String,
    pub legal_name: Option<String>,
    pub address: Option<String>,
    pub tax_id: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub default_payment_terms_days: i64,
    pub invoice_number_prefix: String,
    pub credit_note_number_prefix: String,
    /// IANA time zone name; `None`: the server's.
    pub timezone: Option<String>,
    /// The books' currency, and every customer's that has none of its own.
    pub currency: Currency,
    /// The paper its documents are laid out for.
    pub paper_size: Paper,
}

fn organization_from_row(row: &Row) -> crate::db::conn::StoreResult<Organization> {
    let created_at: String = row.get(11)?;
    Ok(Organization {
        id: row.get(0)?,
        slug: row.get(1)?,
        fields: OrganizationFields {
            name: row.get(2)?,
            legal_name: row.get(3)?,
            address: row.get(4)?,
            tax_id: row.get(5)?,
            email: row.get(6)?,
            phone: row.get(7)?,
            default_payment_terms_days: row.get(8)?,
            invoice_number_prefix: row.get(9)?,
            credit_note_number_prefix: row.get(10)?,
            timezone: row.get(13)?,
            currency: Currency::stored(&row.get::<_, String>(14)?),
            paper_size: Paper::stored(&row.get::<_, String>(15)?),
        },
        updated_at: row
            .get::<_, Option<String>>(12)?
            .unwrap_or_else(|| created_at.clone()),
        created_at,
    })
}

/// Organization `id`'s settings.
pub(crate) fn get(conn: &Conn, id: i64) -> Result<Organization, AppError> {
    conn.prepare_cached(
        "SELECT id, slug, name, legal_name, address, tax_id, email, phone,
                default_payment_terms_days, invoice_number_prefix, credit_note_number_prefix,
                created_at, updated_at, timezone, currency, paper_size
         FROM organizations WHERE id = ?1",
    )?
    .query_row([id], organization_from_row)
    .optional()?
    .ok_or_else(|| AppError::NotFound(format!("Organization {id} not found.")))
}

/// Sets every setting of organization `id`; answers it and the customers whose currency
/// moved with it (those that follow the organization's), for the journal.
pub(crate) fn update(
    tx: &WriteTx,
    id: i64,
    fields: &OrganizationFields,
    now: &str,
) -> Result<(Organization, Vec<i64>), AppError> {
    let before = currency(tx, id)?;
    let mut moved = Vec::new();
    if fields.currency != before {
        let documents = documents_in(tx, id, None)?;
        if documents > 0 {
            return Err(AppError::conflict_on(
                "currency",
                format!(
                    "The organization's books are in {before} and hold {documents} document(s) (invoices, payments, credit notes); its currency can change only while it has none."
                ),
            ));
        }
        moved = super::customers::follow_currency(tx, id, (before, fields.currency), now)?;
    }
    tx.prepare_cached(
        "UPDATE organizations SET name = ?2, legal_name = ?3, address = ?4, tax_id = ?5,
            email = ?6, phone = ?7, default_payment_terms_days = ?8, invoice_number_prefix = ?9,
            credit_note_number_prefix = ?10, updated_at = ?11, timezone = ?12, currency = ?13,
            paper_size = ?14
         WHERE id = ?1",
    )?
    .execute(params![
        id,
        fields.name,
        fields.legal_name,
        fields.address,
        fields.tax_id,
        fields.email,
        fields.phone,
        fields.default_payment_terms_days,
        fields.invoice_number_prefix,
        fields.credit_note_number_prefix,
        now,
        fields.timezone,
        fields.currency.code(),
        fields.paper_size.code()
    ])?;
    Ok((get(tx, id)?, moved))
}

/// The organization's currency.
pub(crate) fn currency(conn: &Conn, id: i64) -> Result<Currency, AppError> {
    let code: String = conn
        .prepare_cached("SELECT currency FROM organizations WHERE id = ?1")?
        .query_row([id], |row| row.get(0))?;
    Ok(Currency::stored(&code))
}

/// The invoices, payments and credit notes of organization `org` (of one customer, when
/// given): what fixes a currency.
pub(crate) fn documents_in(conn: &Conn, org: i64, customer: Option<i64>) -> Result<i64, AppError> {
    let whose = if customer.is_some() {
        "organization_id = ?1 AND customer_id = ?2"
    } else {
        "organization_id = ?1 AND CAST(?2 AS BIGINT) IS NULL"
    };
    let sql = format!(
        "SELECT (SELECT COUNT(*) FROM invoices WHERE {whose})
              + (SELECT COUNT(*) FROM payments WHERE {whose})
              + (SELECT COUNT(*) FROM credit_notes WHERE {whose})"
    );
    Ok(conn
        .prepare_cached(&sql)?
        .query_row(params![org, customer], |row| row.get(0))?)
}

/// What an amount in a request belongs to, and so which currency it is in.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Whose {
    /// A new document of this customer (`None`: the organization's currency; one not the
    /// organization's: a 400 naming `customer_id`, as the write would answer).
    Customer(Option<i64>),
    Invoice(i64),
    Payment(i64),
    CreditNote(i64),
}

/// The currency amounts of `whose` are in: what a request's amounts are checked against
/// before the write, which converts them again in its own transaction. One statement
/// (see [`crate::db::Db::read_statement`]).
pub(crate) fn currency_for(conn: &Conn, org: i64, whose: Whose) -> Result<Currency, AppError> {
    // The organization's currency, the row if any, and the row's own currency if it has
    // one (a customer's may be null).
    macro_rules! with_own_currency {
        ($table:literal) => {
            concat!(
                "SELECT o.currency, x.id, x.currency FROM organizations o LEFT JOIN ",
                $table,
                " x ON x.organization_id = ?1 AND x.id = ?2 WHERE o.id = ?1"
            )
        };
    }
    let (sql, id) = match whose {
        Whose::Customer(id) => (with_own_currency!("customers"), id),
        Whose::Invoice(id) => (with_own_currency!("invoices"), Some(id)),
        Whose::Payment(id) => (with_own_currency!("payments"), Some(id)),
        Whose::CreditNote(id) => (with_own_currency!("credit_notes"), Some(id)),
    };
    let Some(id) = id else {
        return currency(conn, org);
    };
    let (own_org, found, own): (String, Option<i64>, Option<String>) = conn
        .prepare_cached(sql)?
        .query_row(params![org, id], |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?))
        })?;
    let row = found.map(|_| own);
    match (row, whose) {
        (Some(Some(code)), _) => Ok(Currency::stored(&code)),
        // A customer named that is not one of the organization's: said now, as the write
        // would say it, rather than as a currency the customer is not billed in.
        (None, Whose::Customer(Some(id))) => Err(AppError::field(
            "customer_id",
            format!("customer {id} does not exist"),
        )),
        _ => Ok(Currency::stored(&own_org)),
    }
}
