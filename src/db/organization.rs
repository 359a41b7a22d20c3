//! The organization's own settings: who it is, the default terms of new customers, the
//! prefixes of generated numbers.

use rusqlite::{params, Connection, OptionalExtension, Row};

use super::WriteTx;
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
}

fn organization_from_row(row: &Row) -> rusqlite::Result<Organization> {
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
        },
        updated_at: row
            .get::<_, Option<String>>(12)?
            .unwrap_or_else(|| created_at.clone()),
        created_at,
    })
}

/// Organization `id`'s settings.
pub(crate) fn get(conn: &Connection, id: i64) -> Result<Organization, AppError> {
    conn.prepare_cached(
        "SELECT id, slug, name, legal_name, address, tax_id, email, phone,
                default_payment_terms_days, invoice_number_prefix, credit_note_number_prefix,
                created_at, updated_at, timezone
         FROM organizations WHERE id = ?1",
    )?
    .query_row([id], organization_from_row)
    .optional()?
    .ok_or_else(|| AppError::NotFound(format!("Organization {id} not found.")))
}

/// Sets every setting of organization `id`.
pub(crate) fn update(
    tx: &WriteTx,
    id: i64,
    fields: &OrganizationFields,
    now: &str,
) -> Result<Organization, AppError> {
    tx.prepare_cached(
        "UPDATE organizations SET name = ?2, legal_name = ?3, address = ?4, tax_id = ?5,
            email = ?6, phone = ?7, default_payment_terms_days = ?8, invoice_number_prefix = ?9,
            credit_note_number_prefix = ?10, updated_at = ?11, timezone = ?12
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
        fields.timezone
    ])?;
    get(tx, id)
}
