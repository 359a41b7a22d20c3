//! `/v1/organization`: the calling key's organization and its settings.

use std::sync::Arc;

use poem::web::Data;
use poem_openapi::param::Header;
use poem_openapi::{Object, OpenApi};

use super::auth::ApiKeyAuth;
use super::customers::Customer;
use super::error::{ChangeError, ReadError};
use super::journal::Trail;
use super::scopes::scope_of;
use super::types::{CurrencyCode, JsonBody, Opt, PaperSize};
use super::{AppState, One, Tag};
use crate::db::organization::{self as store, Organization as Stored, OrganizationFields};
use crate::domain::currency::Currency;
use crate::domain::journal::EntityType;
use crate::domain::paper::Paper;
use crate::domain::text::{check_email, check_text};
use crate::error::FieldErrorsBuilder;

/// The organization: who it is on its documents, and the settings its books use.
#[derive(Object, Debug, Clone, serde::Serialize)]
#[oai(example)]
pub(crate) struct Organization {
    pub id: i64,
    /// The short name keys are created for (`arvalox keys create --org`); fixed.
    pub slug: String,
    pub name: String,
    pub legal_name: Option<String>,
    pub address: Option<String>,
    pub tax_id: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// Days from issue to due date of new customers that give no `payment_terms_days`.
    pub default_payment_terms_days: i64,
    /// Starts every generated invoice number: `INV-` gives `INV-2024-00001`.
    pub invoice_number_prefix: String,
    /// Starts every generated credit-note number: `CN-` gives `CN-2024-00001`.
    pub credit_note_number_prefix: String,
    /// The ISO 4217 currency of the books (default `USD`), and of every customer that was given none. Its minor unit decides how many decimals amounts have. It can change only while the organization has no documents.
    pub currency: CurrencyCode,
    /// The IANA time zone whose date is "today" for these books (default dates, overdue, the reports' default `as_of`); null: the server's own zone.
    pub timezone: Option<String>,
    /// The paper invoice and statement PDFs are laid out for, unless a request asks for another with `?paper=`.
    pub paper_size: PaperSize,
    pub created_at: String,
    pub updated_at: String,
}

impl From<Stored> for Organization {
    fn from(org: Stored) -> Self {
        let f = org.fields;
        Organization {
            id: org.id,
            slug: org.slug,
            name: f.name,
            legal_name: f.legal_name,
            address: f.address,
            tax_id: f.tax_id,
            email: f.email,
            phone: f.phone,
            default_payment_terms_days: f.default_payment_terms_days,
            invoice_number_prefix: f.invoice_number_prefix,
            credit_note_number_prefix: f.credit_note_number_prefix,
            currency: CurrencyCode(f.currency),
            timezone: f.timezone,
            paper_size: f.paper_size.into(),
            created_at: org.created_at,
            updated_at: org.updated_at,
        }
    }
}

impl poem_openapi::types::Example for Organization {
    fn example() -> Self {
        Organization {
            id: 1,
            slug: "default".into(),
            name: "Acme Supplies".into(),
            legal_name: Some("Acme Supplies LLC".into()),
            address: Some("1 Main St, Springfield".into()),
            tax_id: Some("US-12-3456789".into()),
            email: Some("billing@acme.example".into()),
            phone: Some("+1-555-0100".into()),
            default_payment_terms_days: 30,
            invoice_number_prefix: "INV-".into(),
            credit_note_number_prefix: "CN-".into(),
            currency: CurrencyCode(Currency::USD),
            timezone: Some("America/Chicago".into()),
            paper_size: PaperSize::Letter,
            created_at: "2026-01-05T09:00:00.000Z".into(),
            updated_at: "2026-11-30T09:00:00.000Z".into(),
        }
    }
}

/// A change to the settings: fields left out keep their value; `null` clears an optional one.
#[derive(Object, Debug, Clone, Default)]
pub(crate) struct OrganizationUpdate {
    /// 1–200 characters.
    pub name: Opt<String>,
    /// Up to 200 characters.
    pub legal_name: Opt<String>,
    /// Up to 500 characters.
    pub address: Opt<String>,
    /// Up to 50 characters.
    pub tax_id: Opt<String>,
    pub email: Opt<String>,
    /// Up to 50 characters.
    pub phone: Opt<String>,
    /// 0–365.
    pub default_payment_terms_days: Opt<i64>,
    /// 1–10 characters: letters, digits, `-`, `_`, `/`.
    pub invoice_number_prefix: Opt<String>,
    /// 1–10 characters: letters, digits, `-`, `_`, `/`.
    pub credit_note_number_prefix: Opt<String>,
    /// An ISO 4217 code (`EUR`, `JPY`); only while the organization has no invoices, payments or credit notes (409 otherwise). Customers without a currency of their own move with it (journaled), keeping their credit limit's number.
    pub currency: Opt<CurrencyCode>,
    /// An IANA time zone name (`Europe/Berlin`); null: the server's own zone.
    pub timezone: Opt<String>,
    /// `a4` or `letter`: the paper of the organization's PDFs.
    pub paper_size: Opt<PaperSize>,
}

/// An optional text setting: `None` keeps it, `Some(None)` clears it.
fn optional_text(
    value: Opt<String>,
    (field, max): (&str, usize),
    errors: &mut FieldErrorsBuilder,
) -> Option<Option<String>> {
    let value = value.patch(field, errors)?;
    let text = value
        .map(|text| text.trim().to_string())
        .filter(|text| !text.is_empty());
    if let Some(Err(message)) = text.as_deref().map(|text| check_text(text, 1, max, false)) {
        errors.add(field, message);
    }
    Some(text)
}

/// A required text setting: `None` keeps it. Blank is refused as blank, not as `null`
/// (found in review: `""` was told it "cannot be null").
fn required_text(
    value: Opt<String>,
    (field, max): (&str, usize),
    errors: &mut FieldErrorsBuilder,
) -> Option<String> {
    let text = kept(value.patch(field, errors), field, errors)?;
    let text = text.trim();
    match check_text(text, 1, max, false) {
        Ok(()) => Some(text.to_string()),
        Err(message) => {
            errors.add(field, message);
            None
        }
    }
}

/// A required setting that may change but never be cleared.
fn kept<T>(value: Option<Option<T>>, field: &str, errors: &mut FieldErrorsBuilder) -> Option<T> {
    match value {
        Some(None) => {
            errors.add(field, "cannot be null: leave it out to keep it");
            None
        }
        Some(Some(value)) => Some(value),
        None => None,
    }
}

/// A number prefix: 1–10 characters of letters, digits, `-`, `_` or `/`.
fn checked_prefix(
    prefix: Option<String>,
    field: &str,
    errors: &mut FieldErrorsBuilder,
) -> Option<String> {
    let prefix = prefix?;
    let allowed = |c: char| c.is_ascii_alphanumeric() || "-_/".contains(c);
    if prefix.is_empty() || prefix.chars().count() > 10 || !prefix.chars().all(allowed) {
        errors.add(
            field,
            "must be 1 to 10 characters: letters, digits, '-', '_' or '/'",
        );
    }
    Some(prefix)
}

/// The settings after `update`, every bad field named.
fn merged(
    current: OrganizationFields,
    update: OrganizationUpdate,
    errors: &mut FieldErrorsBuilder,
) -> OrganizationFields {
    let name = required_text(update.name, ("name", 200), errors);
    let email = optional_text(update.email, ("email", 254), errors);
    if let Some(Some(Err(message))) = email.as_ref().map(|e| e.as_deref().map(check_email)) {
        errors.add("email", message);
    }
    let terms = kept(
        update
            .default_payment_terms_days
            .patch("default_payment_terms_days", errors),
        "default_payment_terms_days",
        errors,
    );
    if terms.is_some_and(|days| !(0..=365).contains(&days)) {
        errors.add("default_payment_terms_days", "must be between 0 and 365");
    }
    let invoice_prefix = kept(
        update
            .invoice_number_prefix
            .patch("invoice_number_prefix", errors),
        "invoice_number_prefix",
        errors,
    );
    let currency = kept(
        update.currency.patch("currency", errors),
        "currency",
        errors,
    );
    let timezone = update.timezone.patch("timezone", errors);
    if let Some(Some(name)) = &timezone {
        if name.parse::<chrono_tz::Tz>().is_err() {
            errors.add("timezone", format!("'{name}' is not an IANA time zone name such as Europe/Berlin or America/New_York"));
        }
    }
    let credit_prefix = kept(
        update
            .credit_note_number_prefix
            .patch("credit_note_number_prefix", errors),
        "credit_note_number_prefix",
        errors,
    );
    OrganizationFields {
        name: name.unwrap_or(current.name),
        legal_name: optional_text(update.legal_name, ("legal_name", 200), errors)
            .unwrap_or(current.legal_name),
        address: optional_text(update.address, ("address", 500), errors).unwrap_or(current.address),
        tax_id: optional_text(update.tax_id, ("tax_id", 50), errors).unwrap_or(current.tax_id),
        email: email.unwrap_or(current.email),
        phone: optional_text(update.phone, ("phone", 50), errors).unwrap_or(current.phone),
        default_payment_terms_days: terms.unwrap_or(current.default_payment_terms_days),
        invoice_number_prefix: checked_prefix(invoice_prefix, "invoice_number_prefix", errors)
            .unwrap_or(current.invoice_number_prefix),
        credit_note_number_prefix: checked_prefix(
            credit_prefix,
            "credit_note_number_prefix",
            errors,
        )
        .unwrap_or(current.credit_note_number_prefix),
        timezone: timezone.unwrap_or(current.timezone),
        currency: currency.map_or(current.currency, |CurrencyCode(code)| code),
        paper_size: kept(
            update.paper_size.patch("paper_size", errors),
            "paper_size",
            errors,
        )
        .map_or(current.paper_size, Paper::from),
    }
}

#[derive(Default)]
pub(crate) struct OrganizationApi;

#[OpenApi(tag = "Tag::Organization")]
impl OrganizationApi {
    /// Get the organization
    ///
    /// The calling key's organization: its name and details for documents, the default payment terms of new customers, and the prefixes of generated numbers. Any scope.
    #[oai(
        path = "/v1/organization",
        method = "get",
        operation_id = "get_organization"
    )]
    async fn get(
        &self,
        auth: ApiKeyAuth,
        state: Data<&Arc<AppState>>,
    ) -> Result<One<Organization>, ReadError> {
        let org = auth.require(scope_of("get_organization"))?.organization_id;
        let found = state.db.read_point(|conn| store::get(conn, org))?;
        Ok(One::of(&found.into()))
    }

    /// Update the organization's settings
    ///
    /// A partial update (admin scope): fields left out keep their value. A new number prefix applies to numbers generated from then on; numbers already given stay as they are.
    #[oai(
        path = "/v1/organization",
        method = "patch",
        operation_id = "update_organization"
    )]
    async fn update(
        &self,
        auth: ApiKeyAuth,
        state: Data<&Arc<AppState>>,
        /// Change it only while its current `ETag` is this one (a 412 otherwise): the version the client last read.
        #[oai(name = "If-Match")]
        if_match: Header<Option<String>>,
        body: JsonBody<OrganizationUpdate>,
    ) -> Result<One<Organization>, ChangeError> {
        let trail = Trail::checked((&auth, &state), "update_organization", (None, if_match.0))?;
        let org = trail.org;
        let (update, errors, _) = body.into_parts();
        let now = state.now_text();
        let today = super::invoices::today_text(&state, auth.context());
        let answer = state
            .write(org, move |tx| {
                let mut errors = errors;
                let current = store::get(tx, org)?;
                let fields = merged(current.fields.clone(), update, &mut errors);
                // The body's own faults come before a stale If-Match: fix them first.
                errors.finish()?;
                trail.check_unchanged(tx, (EntityType::Organization, org))?;
                if fields == current.fields {
                    // Nothing to change: nothing is written or journaled, the ETag stays.
                    return Ok(Organization::from(current));
                }
                let (stored, moved) = store::update(tx, org, &fields, &now)?;
                let answer = Organization::from(stored);
                let key = (EntityType::Organization, org);
                trail.record_answer(tx, &now, key, "updated", &answer)?;
                // Customers that follow the organization's currency changed with it.
                for id in moved {
                    let customer = Customer::from(crate::db::customers::get(tx, org, id, &today)?);
                    let key = (EntityType::Customer, id);
                    trail.record_answer(tx, &now, key, "updated", &customer)?;
                }
                Ok(answer)
            })
            .await?;
        // Cached keys carry their organization's zone: read it afresh from now on.
        state.keys.forget(|_| true);
        Ok(One::of(&answer))
    }
}
