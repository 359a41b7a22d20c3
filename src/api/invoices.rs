//! `/v1/invoices`.

use std::sync::Arc;

use poem::web::Data;
use poem_openapi::param::{Header, Path, Query};
use poem_openapi::{Enum, Object, OpenApi};
use rust_decimal::Decimal;

use super::auth::ApiKeyAuth;
use super::error::{ReadError, WriteError};
use super::scopes::scope_of;
use super::types::Text;
use super::types::{Amount, Date, DecimalIn, DecimalOut, Input, JsonBody, Opt};
use super::{page_bounds, post_write, to_json_text, AppState, Created, Done, Json, Tag};
use crate::db::invoices::{self as store, Detail, InvoiceFilter, NewInvoice, StatusFilter};
use crate::domain::invoice::{
    days_overdue, line_amounts, InvoiceStatus, LineInput, MAX_ITEMS, MAX_QUANTITY,
    MAX_QUANTITY_DECIMALS, MAX_TAX_RATE_DECIMALS,
};
use crate::domain::money::Money;
use crate::error::{AppError, FieldErrorsBuilder};

pub fn today_text(state: &AppState) -> String {
    store::date_text(state.clock.today())
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[oai(rename_all = "snake_case")]
pub enum Status {
    Draft,
    Sent,
    PartiallyPaid,
    Paid,
    Void,
}

impl From<InvoiceStatus> for Status {
    fn from(status: InvoiceStatus) -> Self {
        match status {
            InvoiceStatus::Draft => Status::Draft,
            InvoiceStatus::Sent => Status::Sent,
            InvoiceStatus::PartiallyPaid => Status::PartiallyPaid,
            InvoiceStatus::Paid => Status::Paid,
            InvoiceStatus::Void => Status::Void,
        }
    }
}

/// A list filter on status; `overdue` selects sent or partially paid invoices past due with a balance open.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[oai(rename_all = "snake_case")]
pub enum StatusQuery {
    Draft,
    Sent,
    PartiallyPaid,
    Paid,
    Void,
    Overdue,
}

/// The status a new invoice starts in.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[oai(rename_all = "snake_case")]
pub enum NewStatus {
    Draft,
    Sent,
}

#[derive(Object, Debug, Clone, serde::Serialize)]
pub struct InvoiceItem {
    pub id: i64,
    pub description: String,
    pub quantity: DecimalOut,
    pub unit_price: DecimalOut,
    /// A fraction: 0.08 is 8%.
    pub tax_rate: DecimalOut,
    /// round(quantity × unit_price, 2), half away from zero.
    pub line_subtotal: Amount,
    /// round(line_subtotal × tax_rate, 2), half away from zero.
    pub line_tax: Amount,
    pub line_total: Amount,
}

/// A payment applied to the invoice.
#[derive(Object, Debug, Clone, serde::Serialize)]
pub struct InvoicePayment {
    pub payment_id: i64,
    pub amount: Amount,
    pub payment_date: String,
    pub payment_method: String,
    pub reference_number: Option<String>,
}

#[derive(Object, Debug, Clone, serde::Serialize)]
#[oai(example)]
pub struct Invoice {
    pub id: i64,
    pub customer_id: i64,
    pub invoice_number: String,
    pub status: Status,
    pub issue_date: Date,
    pub due_date: Date,
    pub notes: Option<String>,
    pub items: Vec<InvoiceItem>,
    /// Sum of line subtotals.
    pub subtotal: Amount,
    /// Sum of line taxes.
    pub tax_total: Amount,
    /// subtotal + tax_total.
    pub total: Amount,
    pub amount_paid: Amount,
    /// total − amount_paid (0.00 when void).
    pub balance_due: Amount,
    /// Sent or partially paid, past its due date, with a balance open.
    pub is_overdue: bool,
    pub days_overdue: i64,
    /// Payments applied to this invoice (detail view only).
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payments: Option<Vec<InvoicePayment>>,
    pub created_at: String,
    pub updated_at: String,
}

impl poem_openapi::types::Example for Invoice {
    fn example() -> Self {
        let d =
            |s: &str| Date(chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_default());
        let m = |minor| Amount(Money::from_minor(minor));
        Invoice {
            id: 1,
            customer_id: 1,
            invoice_number: "INV-2024-001".into(),
            status: Status::PartiallyPaid,
            issue_date: d("2024-01-15"),
            due_date: d("2024-02-15"),
            notes: None,
            items: vec![InvoiceItem {
                id: 1,
                description: "Consulting Services".into(),
                quantity: DecimalOut(Decimal::new(10, 0)),
                unit_price: DecimalOut(Decimal::new(15000, 2)),
                tax_rate: DecimalOut(Decimal::new(8, 2)),
                line_subtotal: m(150000),
                line_tax: m(12000),
                line_total: m(162000),
            }],
            subtotal: m(150000),
            tax_total: m(12000),
            total: m(162000),
            amount_paid: m(50000),
            balance_due: m(112000),
            is_overdue: false,
            days_overdue: 0,
            payments: Some(vec![InvoicePayment {
                payment_id: 1,
                amount: m(50000),
                payment_date: "2024-01-20".into(),
                payment_method: "bank_transfer".into(),
                reference_number: Some("TXN123456".into()),
            }]),
            created_at: "2024-01-15T09:30:00.000Z".into(),
            updated_at: "2024-01-20T10:00:00.000Z".into(),
        }
    }
}

pub fn to_api(invoice: store::Invoice, today: chrono::NaiveDate, detail: bool) -> Invoice {
    let balance = invoice.balance_due();
    let overdue_days = days_overdue(invoice.status, invoice.due_date, balance, today);
    Invoice {
        id: invoice.id,
        customer_id: invoice.customer_id,
        invoice_number: invoice.invoice_number,
        status: invoice.status.into(),
        issue_date: Date(invoice.issue_date),
        due_date: Date(invoice.due_date),
        notes: invoice.notes,
        items: invoice.items.into_iter().map(item_to_api).collect(),
        subtotal: Amount(invoice.subtotal),
        tax_total: Amount(invoice.tax_total),
        total: Amount(invoice.total),
        amount_paid: Amount(invoice.amount_paid),
        balance_due: Amount(balance),
        is_overdue: overdue_days > 0,
        days_overdue: overdue_days,
        payments: detail.then(|| invoice.payments.into_iter().map(payment_to_api).collect()),
        created_at: invoice.created_at,
        updated_at: invoice.updated_at,
    }
}

fn item_to_api(item: store::InvoiceItem) -> InvoiceItem {
    InvoiceItem {
        id: item.id,
        description: item.description,
        quantity: DecimalOut::plain(item.quantity),
        unit_price: DecimalOut::price(item.unit_price),
        tax_rate: DecimalOut::plain(item.tax_rate),
        line_subtotal: Amount(item.line_subtotal),
        line_tax: Amount(item.line_tax),
        line_total: Amount(item.line_total),
    }
}

fn payment_to_api(payment: store::AppliedPayment) -> InvoicePayment {
    InvoicePayment {
        payment_id: payment.payment_id,
        amount: Amount(payment.amount),
        payment_date: payment.payment_date,
        payment_method: payment.payment_method,
        reference_number: payment.reference_number,
    }
}

/// The detail answer written from one stored row: the bytes serializing [`Invoice`] gives
/// (a test compares the two over a seeded book), without building an `Invoice` first.
pub fn detail_text(row: &store::DetailRow, today: chrono::NaiveDate) -> String {
    let balance = row.balance_due();
    let overdue_days = days_overdue(row.status, row.due, balance, today);
    let mut out = JsonObject::with_capacity(row.items_json.len() + row.payments_json.len() + 600);
    out.number("id", row.id);
    out.number("customer_id", row.customer_id);
    out.string("invoice_number", row.invoice_number);
    out.string("status", row.status.as_str());
    out.string("issue_date", row.issue_date);
    out.string("due_date", row.due_date);
    out.optional_string("notes", row.notes);
    out.raw("items", row.items_json);
    out.string("subtotal", row.subtotal.text().as_str());
    out.string("tax_total", row.tax_total.text().as_str());
    out.string("total", row.total.text().as_str());
    out.string("amount_paid", row.amount_paid.text().as_str());
    out.string("balance_due", balance.text().as_str());
    out.raw(
        "is_overdue",
        if overdue_days > 0 { "true" } else { "false" },
    );
    out.number("days_overdue", overdue_days);
    out.raw("payments", row.payments_json);
    out.string("created_at", row.created_at);
    out.string("updated_at", row.updated_at);
    out.finish()
}

/// Writes one JSON object, member by member, as serde_json's compact form does.
struct JsonObject {
    text: Vec<u8>,
}

impl JsonObject {
    fn with_capacity(capacity: usize) -> Self {
        let mut text = Vec::with_capacity(capacity);
        text.push(b'{');
        JsonObject { text }
    }

    /// Keys are field names: plain ASCII that needs no escaping.
    fn key(&mut self, key: &str) {
        if self.text.len() > 1 {
            self.text.push(b',');
        }
        self.text.push(b'"');
        self.text.extend_from_slice(key.as_bytes());
        self.text.extend_from_slice(b"\":");
    }

    /// `value` must already be JSON.
    fn raw(&mut self, key: &str, value: &str) {
        self.key(key);
        self.text.extend_from_slice(value.as_bytes());
    }

    fn number(&mut self, key: &str, value: i64) {
        self.key(key);
        let _ = std::io::Write::write_fmt(&mut self.text, format_args!("{value}"));
    }

    fn string(&mut self, key: &str, value: &str) {
        self.key(key);
        // Writing a string to a Vec cannot fail.
        let _ = serde_json::to_writer(&mut self.text, value);
    }

    fn optional_string(&mut self, key: &str, value: Option<&str>) {
        match value {
            Some(value) => self.string(key, value),
            None => self.raw(key, "null"),
        }
    }

    fn finish(mut self) -> String {
        self.text.push(b'}');
        // Only `&str`s and serde_json's output went in.
        String::from_utf8(self.text).unwrap_or_default()
    }
}

#[derive(Object, Debug, Clone, Default)]
pub struct InvoiceItemCreate {
    /// 1–500 characters.
    pub description: Input<Text<1, 500>>,
    /// More than 0, at most 4 decimals.
    pub quantity: Input<DecimalIn>,
    /// 0 or more, at most 4 decimals.
    pub unit_price: Input<DecimalIn>,
    /// A fraction from 0 to 1 (0.08 is 8%, 0.08875 is 8.875%), at most 6 decimals; default 0.
    pub tax_rate: Opt<DecimalIn>,
}

/// A new invoice.
#[derive(Object, Debug, Clone, Default)]
#[oai(example)]
pub struct InvoiceCreate {
    /// One of your customers.
    pub customer_id: Input<i64>,
    /// 1–50 characters, unique in your organization; generated as `INV-YYYY-00001`… when absent.
    pub invoice_number: Opt<Text<1, 50>>,
    /// Default today.
    pub issue_date: Opt<Date>,
    /// Default issue_date plus the customer's payment_terms_days; not before issue_date.
    pub due_date: Opt<Date>,
    /// `sent` (default) or `draft`.
    pub status: Opt<NewStatus>,
    /// Up to 5000 characters.
    pub notes: Opt<Text<0, 5000, true>>,
    /// 1–500 lines.
    pub items: Input<Vec<InvoiceItemCreate>>,
}

impl poem_openapi::types::Example for InvoiceCreate {
    fn example() -> Self {
        let d =
            |s: &str| Date(chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_default());
        InvoiceCreate {
            customer_id: Input::Value(1),
            invoice_number: Input::Value("INV-2024-001".into()),
            issue_date: Input::Value(d("2024-01-15")),
            due_date: Input::Value(d("2024-02-15")),
            status: Input::Absent,
            notes: Input::Absent,
            items: Input::Value(vec![InvoiceItemCreate {
                description: Input::Value("Consulting Services".into()),
                quantity: Input::Value(DecimalIn(Decimal::new(10, 0))),
                unit_price: Input::Value(DecimalIn(Decimal::new(15000, 2))),
                tax_rate: Input::Value(DecimalIn(Decimal::new(8, 2))),
            }]),
        }
    }
}

fn check_decimals(
    errors: &mut FieldErrorsBuilder,
    field: &str,
    value: Decimal,
    places: u32,
) -> bool {
    if value.normalize().scale() > places {
        errors.add(
            field,
            format!("must have at most {places} decimal places (got {value})"),
        );
        return false;
    }
    true
}

fn check_line(
    item: InvoiceItemCreate,
    index: usize,
    errors: &mut FieldErrorsBuilder,
) -> Option<LineInput> {
    let field = |name: &str| format!("items[{index}].{name}");
    let description = item
        .description
        .text()
        .required(&field("description"), errors);
    let quantity = item
        .quantity
        .required(&field("quantity"), errors)
        .map(|d| d.0);
    if let Some(q) = quantity {
        if q <= Decimal::ZERO {
            errors.add(field("quantity"), format!("must be more than 0 (got {q})"));
        }
        if q > MAX_QUANTITY {
            errors.add(
                field("quantity"),
                format!("must be at most {MAX_QUANTITY} (got {q})"),
            );
        }
        check_decimals(errors, &field("quantity"), q, MAX_QUANTITY_DECIMALS);
    }
    let unit_price = item
        .unit_price
        .required(&field("unit_price"), errors)
        .map(|d| d.0);
    if let Some(p) = unit_price {
        if p < Decimal::ZERO {
            errors.add(field("unit_price"), format!("must be 0 or more (got {p})"));
        }
        if p > Money::from_minor(crate::domain::money::MAX_MINOR).to_decimal() {
            errors.add(field("unit_price"), "must not exceed 999999999999.99");
        }
        check_decimals(errors, &field("unit_price"), p, MAX_QUANTITY_DECIMALS);
    }
    let tax_rate = item
        .tax_rate
        .optional(&field("tax_rate"), errors)
        .map(|d| d.0)
        .unwrap_or(Decimal::ZERO);
    if tax_rate < Decimal::ZERO || tax_rate > Decimal::ONE {
        errors.add(
            field("tax_rate"),
            format!("must be a fraction from 0 to 1 (got {tax_rate}): for 8% send 0.08"),
        );
    }
    check_decimals(errors, &field("tax_rate"), tax_rate, MAX_TAX_RATE_DECIMALS);
    Some(LineInput {
        description: description?.trim().to_string(),
        quantity: quantity?,
        unit_price: unit_price?,
        tax_rate,
    })
}

/// Checks the whole body, naming every bad field, and computes each line's amounts.
fn check_create(
    body: InvoiceCreate,
    today: chrono::NaiveDate,
    mut errors: FieldErrorsBuilder,
) -> Result<NewInvoice, AppError> {
    let customer_id = body.customer_id.required("customer_id", &mut errors);
    let invoice_number = body
        .invoice_number
        .text()
        .optional("invoice_number", &mut errors);
    let issue_date = body.issue_date.optional("issue_date", &mut errors);
    let due_date = body.due_date.optional("due_date", &mut errors);
    let status = match body.status {
        Input::Invalid(_) => {
            errors.add(
                "status",
                "must be 'draft' or 'sent' (payments set the other statuses)",
            );
            None
        }
        other => other.optional("status", &mut errors),
    };
    let notes = body.notes.text().optional("notes", &mut errors);
    let mut lines = Vec::new();
    match body.items.required("items", &mut errors) {
        Some(items) if items.is_empty() => errors.add("items", "must hold at least one line"),
        Some(items) if items.len() > MAX_ITEMS => errors.add(
            "items",
            format!("must hold at most {MAX_ITEMS} lines (got {})", items.len()),
        ),
        Some(items) => {
            for (index, item) in items.into_iter().enumerate() {
                if let Some(line) = check_line(item, index, &mut errors) {
                    match line_amounts(line.quantity, line.unit_price, line.tax_rate) {
                        Ok(amounts) => lines.push((line, amounts)),
                        Err(err) => {
                            errors.add(format!("items[{index}]"), format!("line amount {err}"))
                        }
                    }
                }
            }
        }
        None => {}
    }
    if let (Some(Date(issue)), Some(Date(due))) = (issue_date, due_date) {
        if due < issue {
            errors.add(
                "due_date",
                format!("must not be before issue_date ({issue})"),
            );
        }
    }
    errors.finish()?;
    Ok(NewInvoice {
        customer_id: customer_id.unwrap_or_default(),
        invoice_number: invoice_number.map(|n| n.trim().to_string()),
        issue_date: issue_date.map(|d| d.0).unwrap_or(today),
        due_date: due_date.map(|d| d.0),
        status: match status {
            Some(NewStatus::Draft) => InvoiceStatus::Draft,
            _ => InvoiceStatus::Sent,
        },
        notes,
        lines,
    })
}

#[derive(Object, Debug, Clone, serde::Serialize)]
pub struct InvoiceList {
    pub items: Vec<Invoice>,
    /// Invoices matching the filters, over all pages.
    pub total: i64,
    pub limit: i64,
    pub offset: i64,
}

pub struct InvoicesApi;

#[OpenApi(tag = "Tag::Invoices")]
impl InvoicesApi {
    /// List all invoices
    ///
    /// Ordered by id, with their lines. Date ranges are inclusive.
    #[allow(clippy::too_many_arguments)]
    #[oai(path = "/v1/invoices", method = "get", operation_id = "list_invoices")]
    async fn list(
        &self,
        auth: ApiKeyAuth,
        state: Data<&Arc<AppState>>,
        customer_id: Query<Opt<i64>>,
        /// A status, or `overdue`.
        status: Query<Opt<StatusQuery>>,
        issue_date_from: Query<Opt<Date>>,
        issue_date_to: Query<Opt<Date>>,
        due_date_from: Query<Opt<Date>>,
        due_date_to: Query<Opt<Date>>,
        /// 1–500, default 50.
        limit: Query<Opt<i64>>,
        /// Default 0.
        offset: Query<Opt<i64>>,
    ) -> Result<Json<InvoiceList>, ReadError> {
        let org = auth.require(scope_of("list_invoices"))?.organization_id;
        let mut errors = FieldErrorsBuilder::new();
        crate::params!(errors; customer_id, status, issue_date_from, issue_date_to, due_date_from, due_date_to, limit, offset);
        let (limit, offset) = page_bounds(limit.0, offset.0, &mut errors);
        errors.finish()?;
        let filter = InvoiceFilter {
            customer_id: customer_id.0,
            status: status.0.map(|s| match s {
                StatusQuery::Draft => StatusFilter::Is(InvoiceStatus::Draft),
                StatusQuery::Sent => StatusFilter::Is(InvoiceStatus::Sent),
                StatusQuery::PartiallyPaid => StatusFilter::Is(InvoiceStatus::PartiallyPaid),
                StatusQuery::Paid => StatusFilter::Is(InvoiceStatus::Paid),
                StatusQuery::Void => StatusFilter::Is(InvoiceStatus::Void),
                StatusQuery::Overdue => StatusFilter::Overdue,
            }),
            issue_date_from: issue_date_from.0.map(|d| d.0),
            issue_date_to: issue_date_to.0.map(|d| d.0),
            due_date_from: due_date_from.0.map(|d| d.0),
            due_date_to: due_date_to.0.map(|d| d.0),
        };
        let today = state.clock.today();
        let page = state
            .db
            .read(move |conn| store::list(conn, org, &filter, limit, offset, today))
            .await?;
        Ok(Json(InvoiceList {
            items: page
                .items
                .into_iter()
                .map(|i| to_api(i, today, false))
                .collect(),
            total: page.total,
            limit: page.limit,
            offset: page.offset,
        }))
    }

    /// Create a new invoice
    ///
    /// Totals follow the rounding rule: each line's subtotal and tax are rounded to cents (half away from zero), and the invoice totals are sums of the rounded lines.
    #[oai(
        path = "/v1/invoices",
        method = "post",
        operation_id = "create_invoice"
    )]
    async fn create(
        &self,
        auth: ApiKeyAuth,
        state: Data<&Arc<AppState>>,
        /// Makes a retry safe: the same key and body return the first answer and write nothing.
        #[oai(name = "Idempotency-Key")]
        idempotency_key: Header<Option<String>>,
        body: JsonBody<InvoiceCreate>,
    ) -> Result<Created<Invoice>, WriteError> {
        let org = auth.require(scope_of("create_invoice"))?.organization_id;
        let today = state.clock.today();
        let (value, errors, hash) = body.into_parts();
        let new = check_create(value, today, errors)?;
        Ok(post_write(
            &state,
            org,
            "/v1/invoices".into(),
            idempotency_key.0,
            hash,
            move |tx, now| {
                let invoice = store::create(tx, org, new, now)?;
                let location = format!("/v1/invoices/{}", invoice.id);
                Ok((to_api(invoice, today, true), Some(location)))
            },
        )
        .await?)
    }

    /// Get invoice details
    ///
    /// With its lines and the payments applied to it.
    #[oai(
        path = "/v1/invoices/:id",
        method = "get",
        operation_id = "get_invoice"
    )]
    async fn get(
        &self,
        auth: ApiKeyAuth,
        state: Data<&Arc<AppState>>,
        id: Path<i64>,
    ) -> Result<Done<Invoice>, ReadError> {
        let org = auth.require(scope_of("get_invoice"))?.organization_id;
        let today = state.clock.today();
        let id = id.0;
        let stored = state.db.read_point(|conn| {
            store::with_detail_row(conn, org, id, |row| detail_text(row, today))
        })?;
        let text = match stored {
            Detail::Rendered(text) => text,
            Detail::Missing => return Err(store::not_found(id).into()),
            Detail::Unrendered => {
                let invoice = state.db.read_point(|conn| store::get(conn, org, id))?;
                to_json_text(&to_api(invoice, today, true))
            }
        };
        Ok(Done::from_text(text))
    }

    /// Send a draft invoice
    ///
    /// Moves a `draft` to `sent`; any other status is a 409.
    #[oai(
        path = "/v1/invoices/:id/send",
        method = "post",
        operation_id = "send_invoice"
    )]
    async fn send(
        &self,
        auth: ApiKeyAuth,
        state: Data<&Arc<AppState>>,
        id: Path<i64>,
        /// Makes a retry safe: the same key returns the first answer.
        #[oai(name = "Idempotency-Key")]
        idempotency_key: Header<Option<String>>,
    ) -> Result<Done<Invoice>, WriteError> {
        let org = auth.require(scope_of("send_invoice"))?.organization_id;
        let today = state.clock.today();
        let id = id.0;
        Ok(post_write(
            &state,
            org,
            format!("/v1/invoices/{id}/send"),
            idempotency_key.0,
            String::new(),
            move |tx, now| Ok((to_api(store::send(tx, org, id, now)?, today, true), None)),
        )
        .await?)
    }

    /// Void an invoice
    ///
    /// Only an invoice with no payments can be voided (409 otherwise). A void invoice takes no payments and counts in no report.
    #[oai(
        path = "/v1/invoices/:id/void",
        method = "post",
        operation_id = "void_invoice"
    )]
    async fn void(
        &self,
        auth: ApiKeyAuth,
        state: Data<&Arc<AppState>>,
        id: Path<i64>,
        /// Makes a retry safe: the same key returns the first answer.
        #[oai(name = "Idempotency-Key")]
        idempotency_key: Header<Option<String>>,
    ) -> Result<Done<Invoice>, WriteError> {
        let org = auth.require(scope_of("void_invoice"))?.organization_id;
        let today = state.clock.today();
        let id = id.0;
        Ok(post_write(
            &state,
            org,
            format!("/v1/invoices/{id}/void"),
            idempotency_key.0,
            String::new(),
            move |tx, now| Ok((to_api(store::void(tx, org, id, now)?, today, true), None)),
        )
        .await?)
    }
}
