//! `/v1/customers`.

use crate::api::documents::Answer;
use crate::api::export::{self, wants_csv, ListFormat};
use poem::http::HeaderMap;
use std::sync::Arc;

use poem::web::Data;
use poem_openapi::param::{Header, Path, Query};
use poem_openapi::{Object, OpenApi};

use super::auth::ApiKeyAuth;
use super::error::{ChangeError, ReadError, WriteError};
use super::journal::Trail;
use super::scopes::scope_of;
use super::types::{Amount, Input, JsonBody, Opt};
use super::types::{AmountIn, CurrencyCode, Text};
use super::{page_bounds, AppState, CreatedOne, Deleted, Json, One, Post, Tag};
use crate::db::customers::{self as store, CustomerFields, CustomerFilter};
use crate::db::organization::OrganizationFields;
use crate::domain::currency::Currency;
use crate::domain::journal::EntityType;
use crate::domain::money::Money;
use crate::domain::text::{check_email, check_text};
use crate::error::{AppError, FieldErrorsBuilder};

/// A customer, with balances derived from its open invoices.
#[derive(Object, Debug, Clone, serde::Serialize)]
#[oai(example)]
pub(crate) struct Customer {
    pub id: i64,
    pub customer_code: String,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub billing_address: Option<String>,
    /// Days from issue to due date for new invoices without a `due_date`.
    pub payment_terms_days: i64,
    pub credit_limit: Option<Amount>,
    pub notes: Option<String>,
    pub is_active: bool,
    /// Sum of `balance_due` over the customer's sent and partially paid invoices.
    pub outstanding_balance: Amount,
    /// The part of `outstanding_balance` that is past due today.
    pub overdue_balance: Amount,
    pub created_at: String,
    pub updated_at: String,
    /// Unapplied credit today: payments not yet allocated to an invoice or refunded.
    pub credit_balance: Amount,
    /// `outstanding_balance` − `credit_balance`: what the customer owes, net of its credit.
    pub net_balance: Amount,
    /// The currency of the customer's documents and of every amount here: its own, or the
    /// organization's when it was given none. Fixed once it has a document.
    pub currency: CurrencyCode,
}

impl poem_openapi::types::Example for Customer {
    fn example() -> Self {
        Customer {
            id: 1,
            customer_code: "CUST001".into(),
            name: "Acme Corporation".into(),
            email: Some("contact@acme.com".into()),
            phone: Some("+1-555-123-4567".into()),
            billing_address: Some("123 Main St, City, State 12345".into()),
            payment_terms_days: 30,
            credit_limit: None,
            notes: None,
            is_active: true,
            outstanding_balance: usd(112000),
            overdue_balance: usd(0),
            created_at: "2024-01-15T09:30:00.000Z".into(),
            updated_at: "2024-01-15T09:30:00.000Z".into(),
            credit_balance: usd(0),
            net_balance: usd(112000),
            currency: CurrencyCode(Currency::USD),
        }
    }
}

fn usd(minor: i64) -> Amount {
    Amount::new(Money::from_minor(minor), Currency::USD)
}

impl From<store::Customer> for Customer {
    fn from(c: store::Customer) -> Self {
        let amount = |money| Amount::new(money, c.currency);
        Customer {
            id: c.id,
            customer_code: c.customer_code,
            name: c.name,
            email: c.email,
            phone: c.phone,
            billing_address: c.billing_address,
            payment_terms_days: c.payment_terms_days,
            credit_limit: c.credit_limit.map(amount),
            notes: c.notes,
            is_active: c.is_active,
            outstanding_balance: amount(c.outstanding_balance),
            overdue_balance: amount(c.overdue_balance),
            created_at: c.created_at,
            updated_at: c.updated_at,
            credit_balance: amount(c.credit_balance),
            net_balance: amount(Money::from_minor(
                c.outstanding_balance.minor() - c.credit_balance.minor(),
            )),
            currency: CurrencyCode(c.currency),
        }
    }
}

/// A new customer. Only `name` is required.
#[derive(Object, Debug, Clone, Default)]
#[oai(example)]
pub(crate) struct CustomerCreate {
    /// Your code for the customer (1–50 characters), unique in your organization; generated as `CUST-00001`… when absent.
    pub customer_code: Opt<Text<1, 50>>,
    /// 1–255 characters.
    pub name: Input<Text<1, 255>>,
    pub email: Opt<Text<3, 254>>,
    /// Up to 50 characters.
    pub phone: Opt<Text<1, 50>>,
    /// Up to 1000 characters; newlines allowed.
    pub billing_address: Opt<Text<0, 1000, true>>,
    /// 0–3650; default the organization's `default_payment_terms_days` (30 unless it set another).
    pub payment_terms_days: Opt<i64>,
    /// At least 0, with at most as many decimals as the customer's currency has.
    pub credit_limit: Opt<AmountIn>,
    /// Up to 5000 characters; newlines allowed.
    pub notes: Opt<Text<0, 5000, true>>,
    /// Default true.
    pub is_active: Opt<bool>,
    /// The ISO 4217 currency the customer is billed in; default (and `null`) the
    /// organization's. It can change only while the customer has no documents (409).
    pub currency: Opt<CurrencyCode>,
}

impl poem_openapi::types::Example for CustomerCreate {
    fn example() -> Self {
        CustomerCreate {
            customer_code: Input::Value("CUST001".into()),
            name: Input::Value("Acme Corporation".into()),
            email: Input::Value("contact@acme.com".into()),
            phone: Input::Value("+1-555-123-4567".into()),
            billing_address: Input::Value("123 Main St, City, State 12345".into()),
            ..Default::default()
        }
    }
}

/// A partial update: fields left out keep their value; `null` clears an optional field.
#[derive(Object, Debug, Clone, Default)]
#[oai(example)]
pub(crate) struct CustomerUpdate {
    pub customer_code: Opt<Text<1, 50>>,
    pub name: Opt<Text<1, 255>>,
    pub email: Opt<Text<3, 254>>,
    pub phone: Opt<Text<1, 50>>,
    pub billing_address: Opt<Text<0, 1000, true>>,
    /// 0–3650; `null` sets the organization's `default_payment_terms_days`.
    pub payment_terms_days: Opt<i64>,
    pub credit_limit: Opt<AmountIn>,
    pub notes: Opt<Text<0, 5000, true>>,
    pub is_active: Opt<bool>,
    /// `null`: follow the organization's currency.
    pub currency: Opt<CurrencyCode>,
}

impl poem_openapi::types::Example for CustomerUpdate {
    fn example() -> Self {
        CustomerUpdate {
            name: Input::Value("Updated Company Name".into()),
            email: Input::Value("newemail@company.com".into()),
            ..Default::default()
        }
    }
}

impl From<CustomerCreate> for CustomerUpdate {
    fn from(c: CustomerCreate) -> Self {
        CustomerUpdate {
            customer_code: c.customer_code,
            name: c.name.into_kind(),
            email: c.email,
            phone: c.phone,
            billing_address: c.billing_address,
            payment_terms_days: c.payment_terms_days,
            credit_limit: c.credit_limit,
            notes: c.notes,
            is_active: c.is_active,
            currency: c.currency,
        }
    }
}

/// Checks every field of `update`, then lays it over `base`. Collects all field errors.
fn merge(
    update: CustomerUpdate,
    (mut base, settings): (CustomerFields, &OrganizationFields),
    creating: bool,
    mut errors: FieldErrorsBuilder,
) -> Result<CustomerFields, AppError> {
    // Lengths and characters are checked by each field's `Text` type as it is read.
    match update.name.text().patch("name", &mut errors) {
        Some(Some(name)) => base.name = name.trim().to_string(),
        Some(None) => errors.add("name", "This field is required and cannot be null"),
        None if creating && !errors.has("name") => errors.add("name", "This field is required"),
        None => {}
    }
    match update
        .customer_code
        .text()
        .patch("customer_code", &mut errors)
    {
        Some(Some(code)) => base.customer_code = Some(code.trim().to_string()),
        Some(None) if creating => base.customer_code = None,
        Some(None) => errors.add(
            "customer_code",
            "cannot be null: every customer keeps a code",
        ),
        None => {}
    }
    if let Some(email) = update.email.text().patch("email", &mut errors) {
        if let Some(address) = &email {
            if let Err(message) = check_email(address.trim()) {
                errors.add("email", message);
            }
        }
        base.email = email.map(|e| e.trim().to_string());
    }
    if let Some(phone) = update.phone.text().patch("phone", &mut errors) {
        base.phone = phone;
    }
    if let Some(address) = update
        .billing_address
        .text()
        .patch("billing_address", &mut errors)
    {
        base.billing_address = address;
    }
    if let Some(notes) = update.notes.text().patch("notes", &mut errors) {
        base.notes = notes;
    }
    match update
        .payment_terms_days
        .patch("payment_terms_days", &mut errors)
    {
        Some(Some(days)) if (0..=3650).contains(&days) => base.payment_terms_days = days,
        Some(Some(days)) => errors.add(
            "payment_terms_days",
            format!("must be between 0 and 3650 (got {days})"),
        ),
        // Null asks for the default, as leaving the field out of a new customer does.
        Some(None) => base.payment_terms_days = settings.default_payment_terms_days,
        None => {}
    }
    let money = (update.credit_limit, update.currency);
    merge_money(money, (&mut base, settings.currency), &mut errors);
    match update.is_active.patch("is_active", &mut errors) {
        Some(Some(active)) => base.is_active = active,
        Some(None) if creating => base.is_active = true,
        Some(None) => errors.add("is_active", "must be true or false, not null"),
        None => {}
    }
    errors.finish()?;
    Ok(base)
}

/// Lays the credit limit and the currency over `base`, checking the limit in the currency
/// the customer ends up in.
fn merge_money(
    (limit, currency): (Opt<AmountIn>, Opt<CurrencyCode>),
    (base, org_currency): (&mut CustomerFields, Currency),
    errors: &mut FieldErrorsBuilder,
) {
    let limit_given = !matches!(limit, Input::Absent);
    let before = base.currency.unwrap_or(org_currency);
    match limit.patch("credit_limit", errors) {
        Some(Some(AmountIn(limit))) if limit.is_negative() => {
            errors.add("credit_limit", "must be 0 or more")
        }
        Some(limit) => base.credit_limit = limit.map(|AmountIn(given)| given),
        None => {}
    }
    if let Some(currency) = currency.patch("currency", errors) {
        base.currency = currency.map(|CurrencyCode(code)| code);
    }
    let Some(limit) = base.credit_limit.filter(|_| !errors.has("credit_limit")) else {
        return;
    };
    let currency = base.currency.unwrap_or(org_currency);
    if !limit_given && currency != before {
        // The limit is an amount in the old currency; no exchange rate is invented.
        errors.add(
            "credit_limit",
            format!(
                "is {} {before}, and Arvalox converts nothing between currencies: send a credit_limit in {currency} (or null) with the new currency",
                limit.0
            ),
        );
    } else if let Err(err) = limit.in_currency(currency) {
        errors.add("credit_limit", err.to_string());
    }
}

crate::api::paging::list_answer!(CustomerList of Customer, " Customers matching the filters, over all pages.");

/// A customer's row in a CSV export: its JSON answer's fields.
const CUSTOMER_COLUMNS: &[&str] = &[
    "id",
    "customer_code",
    "name",
    "email",
    "phone",
    "billing_address",
    "payment_terms_days",
    "credit_limit",
    "notes",
    "is_active",
    "outstanding_balance",
    "overdue_balance",
    "credit_balance",
    "net_balance",
    "currency",
    "created_at",
    "updated_at",
];

#[derive(Default)]
pub(crate) struct CustomersApi;

#[OpenApi(tag = "Tag::Customers")]
impl CustomersApi {
    /// List all customers
    ///
    /// Ordered by id. `search` matches name, customer code or email (case-insensitive, anywhere in the text). As CSV (`Accept: text/csv` or `format=csv`): every match unless `limit` is given, streamed.
    #[allow(clippy::too_many_arguments)]
    #[oai(
        path = "/v1/customers",
        method = "get",
        operation_id = "list_customers"
    )]
    async fn list(
        &self,
        auth: ApiKeyAuth,
        state: Data<&Arc<AppState>>,
        /// Text to find in name, customer_code or email.
        search: Query<Opt<String>>,
        is_active: Query<Opt<bool>>,
        /// 1–500, default 50.
        limit: Query<Opt<i64>>,
        /// Default 0.
        offset: Query<Opt<i64>>,
        /// `json` (default, by `Accept`) or `csv`.
        format: Query<Opt<ListFormat>>,
        headers: &HeaderMap,
    ) -> Result<Answer<Json<CustomerList>, false, true>, ReadError> {
        let org = auth.require(scope_of("list_customers"))?.organization_id;
        let mut errors = FieldErrorsBuilder::new();
        crate::api::types::params!(errors; search, is_active, limit, offset, format);
        let limited = limit.0.is_some();
        let (limit, offset) = page_bounds(limit.0, offset.0, &mut errors);
        if let Some(text) = &search.0 {
            if let Err(message) = check_text(text, 0, 200, false) {
                errors.add("search", message);
            }
        }
        errors.finish()?;
        let filter = CustomerFilter {
            search: search.0,
            is_active: is_active.0,
        };
        let today = super::invoices::today_text(&state, auth.context());
        if wants_csv(format.0, headers) {
            let bounds = (limited.then_some(limit), offset);
            let file = ("customers.csv", CUSTOMER_COLUMNS);
            let csv = export::rows(&state, file, Customer::from, move |conn, sink| {
                store::each(conn, (org, &today), &filter, bounds, sink)
            });
            return Ok(Answer::Csv(csv));
        }
        let page = state
            .db
            .read(move |conn| store::list(conn, org, &filter, limit, offset, &today))
            .await?;
        Ok(Answer::Json(Json(CustomerList::from_page(
            page,
            Customer::from,
        ))))
    }

    /// Create a new customer
    ///
    /// `customer_code` is generated (`CUST-00001`…) when absent and must be unique in your
    /// organization (409 otherwise). New invoices for the customer are due
    /// `payment_terms_days` after their issue date unless they give a `due_date`.
    #[oai(
        path = "/v1/customers",
        method = "post",
        operation_id = "create_customer"
    )]
    async fn create(
        &self,
        auth: ApiKeyAuth,
        state: Data<&Arc<AppState>>,
        /// Makes a retry safe: the same key and body return the first answer and write nothing.
        #[oai(name = "Idempotency-Key")]
        idempotency_key: Header<Option<String>>,
        body: JsonBody<CustomerCreate>,
    ) -> Result<CreatedOne<Customer>, WriteError> {
        let trail = Trail::checked(
            (&auth, &state),
            "create_customer",
            (idempotency_key.0, None),
        )?;
        let org = trail.org;
        let (value, errors, hash) = body.into_parts();
        // The organization's default terms, for a customer that gives none.
        let settings = state
            .db
            .read_point(|conn| crate::db::organization::get(conn, org))?;
        let fields = merge(
            value.into(),
            (
                CustomerFields {
                    payment_terms_days: settings.fields.default_payment_terms_days,
                    is_active: true,
                    ..Default::default()
                },
                &settings.fields,
            ),
            true,
            errors,
        )?;
        let today = super::invoices::today_text(&state, auth.context());
        Ok(Post::new(&trail, "/v1/customers", hash)
            .create(&state, move |tx, now| {
                let customer = Customer::from(store::create(tx, org, fields, now, &today)?);
                let key = (EntityType::Customer, customer.id);
                trail.record_answer(tx, now, key, "created", &customer)?;
                Ok((customer.id, customer))
            })
            .await?)
    }

    /// Get customer details
    ///
    /// With `outstanding_balance` and `overdue_balance` as of today. A customer of another
    /// organization is a 404.
    #[oai(
        path = "/v1/customers/:id",
        method = "get",
        operation_id = "get_customer"
    )]
    async fn get(
        &self,
        auth: ApiKeyAuth,
        state: Data<&Arc<AppState>>,
        id: Path<i64>,
    ) -> Result<One<Customer>, ReadError> {
        let org = auth.require(scope_of("get_customer"))?.organization_id;
        let today = super::invoices::today_text(&state, auth.context());
        let customer = state
            .db
            .read(move |conn| store::get(conn, org, id.0, &today))
            .await?;
        Ok(One::of(&customer.into()))
    }

    /// Update customer information
    ///
    /// A partial update: fields left out keep their value.
    #[oai(
        path = "/v1/customers/:id",
        method = "put",
        operation_id = "update_customer"
    )]
    async fn update(
        &self,
        auth: ApiKeyAuth,
        state: Data<&Arc<AppState>>,
        id: Path<i64>,
        /// Change it only while its current `ETag` is this one (a 412 otherwise): the version the client last read.
        #[oai(name = "If-Match")]
        if_match: Header<Option<String>>,
        body: JsonBody<CustomerUpdate>,
    ) -> Result<One<Customer>, ChangeError> {
        let trail = Trail::checked((&auth, &state), "update_customer", (None, if_match.0))?;
        let org = trail.org;
        let id = id.0;
        let today = super::invoices::today_text(&state, auth.context());
        let now = state.now_text();
        let (update, errors, _) = body.into_parts();
        let customer = state
            .write(org, move |tx| {
                let current = store::get(tx, org, id, &today)?;
                let settings = crate::db::organization::get(tx, org)?.fields;
                let stored = store::to_fields(&current);
                // The body's own faults come before a stale If-Match: fix them first.
                let fields = merge(update, (stored.clone(), &settings), false, errors)?;
                trail.check_unchanged(tx, (EntityType::Customer, id))?;
                if fields == stored {
                    // Nothing to change: nothing is written or journaled, the ETag stays.
                    return Ok(Customer::from(current));
                }
                let customer = Customer::from(store::update(tx, org, id, fields, &now, &today)?);
                trail.record_answer(tx, &now, (EntityType::Customer, id), "updated", &customer)?;
                Ok(customer)
            })
            .await?;
        Ok(One::of(&customer))
    }

    /// Delete a customer
    ///
    /// Only a customer with no invoices or payments can be deleted (409 otherwise); deactivate it with `is_active: false` instead.
    #[oai(
        path = "/v1/customers/:id",
        method = "delete",
        operation_id = "delete_customer"
    )]
    async fn delete(
        &self,
        auth: ApiKeyAuth,
        state: Data<&Arc<AppState>>,
        id: Path<i64>,
        /// Change it only while its current `ETag` is this one (a 412 otherwise): the version the client last read.
        #[oai(name = "If-Match")]
        if_match: Header<Option<String>>,
    ) -> Result<Deleted, ChangeError> {
        let trail = Trail::checked((&auth, &state), "delete_customer", (None, if_match.0))?;
        trail
            .delete(&state, (EntityType::Customer, id.0), store::delete)
            .await?;
        Ok(Deleted::NoContent)
    }
}
