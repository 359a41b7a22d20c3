//! `/v1/payments`: the handlers. The answer's wire types are in `wire`, the bodies and
//! their checks in `input`.

mod input;
mod wire;

pub(crate) use input::*;
pub(crate) use wire::*;

use crate::api::documents::Answer;
use crate::api::export::{self, wants_csv, ListFormat};
use poem::http::HeaderMap;
use std::sync::Arc;

use poem::web::Data;
use poem_openapi::param::{Header, Query};
use poem_openapi::OpenApi;

use crate::api::auth::ApiKeyAuth;
use crate::api::credit_use::credit_source_routes;
use crate::api::error::{ReadError, WriteError};
use crate::api::journal::Trail;
use crate::api::scopes::scope_of;
use crate::api::types::{Date, JsonBody, Opt};
use crate::api::{page_bounds, AppState, CreatedOne, Json, Post, Tag};
use crate::db::organization::Whose;
use crate::db::payments::{self as store, PaymentFilter};
use crate::domain::journal::EntityType;
use crate::domain::payment::{NewPayment, PaymentMethod};
use crate::error::FieldErrorsBuilder;

#[derive(Default)]
pub(crate) struct PaymentsApi;

/// A payment's row in a CSV export: its JSON answer's fields, allocations and refunds summed.
const PAYMENT_COLUMNS: &[&str] = &[
    "id",
    "customer_id",
    "invoice_id",
    "amount",
    "payment_method",
    "payment_date",
    "reference_number",
    "notes",
    "applied_amount",
    "refunded_amount",
    "unapplied_amount",
    "status",
    "void_date",
    "void_reason",
    "currency",
    "created_at",
];

#[OpenApi(tag = "Tag::Payments")]
impl PaymentsApi {
    /// List all payments
    ///
    /// Ordered by id. Date ranges are inclusive. `invoice_id` finds the payments allocated to that invoice, whether or not they went to others too. As CSV (`Accept: text/csv` or `format=csv`): every match unless `limit` is given, streamed (one row a payment, its allocations and refunds summed).
    #[allow(clippy::too_many_arguments)]
    #[oai(path = "/v1/payments", method = "get", operation_id = "list_payments")]
    async fn list(
        &self,
        auth: ApiKeyAuth,
        state: Data<&Arc<AppState>>,
        customer_id: Query<Opt<i64>>,
        invoice_id: Query<Opt<i64>>,
        payment_method: Query<Opt<Method>>,
        date_from: Query<Opt<Date>>,
        date_to: Query<Opt<Date>>,
        status: Query<Opt<PaymentStatus>>,
        /// `true`: only payments with credit left to apply or refund.
        has_unapplied: Query<Opt<bool>>,
        /// 1–500, default 50.
        limit: Query<Opt<i64>>,
        /// Default 0.
        offset: Query<Opt<i64>>,
        /// `json` (default, by `Accept`) or `csv`.
        format: Query<Opt<ListFormat>>,
        headers: &HeaderMap,
    ) -> Result<Answer<Json<PaymentList>, false, true>, ReadError> {
        let org = auth.require(scope_of("list_payments"))?.organization_id;
        let mut errors = FieldErrorsBuilder::new();
        crate::api::types::params!(errors; customer_id, invoice_id, payment_method, date_from, date_to, status, has_unapplied, limit, offset, format);
        let window = (date_from.0, date_to.0);
        crate::api::types::check_window(window, ("date_from", "date_to"), &mut errors);
        let limited = limit.0.is_some();
        let (limit, offset) = page_bounds(limit.0, offset.0, &mut errors);
        errors.finish()?;
        let filter = PaymentFilter {
            customer_id: customer_id.0,
            invoice_id: invoice_id.0,
            payment_method: payment_method.0.map(PaymentMethod::from),
            date_from: date_from.0.map(|d| d.0),
            date_to: date_to.0.map(|d| d.0),
            status: status.0.map(Into::into),
            has_unapplied: has_unapplied.0,
        };
        if wants_csv(format.0, headers) {
            let bounds = (limited.then_some(limit), offset);
            let file = ("payments.csv", PAYMENT_COLUMNS);
            let csv = export::rows(&state, file, Payment::from, move |conn, sink| {
                store::each(conn, org, &filter, bounds, sink)
            });
            return Ok(Answer::Csv(csv));
        }
        let page = state
            .db
            .read(move |conn| store::list(conn, org, &filter, limit, offset))
            .await?;
        Ok(Answer::Json(Json(PaymentList::from_page(
            page,
            Payment::from,
        ))))
    }

    /// Record a new payment
    ///
    /// Applies the payment in the same transaction: the whole of it to `invoice_id` (never more than its balance_due), split as `allocations` list, or by `allocate: "oldest_first"`; with none of them the payment is on account. What is not applied is the customer's unapplied credit. Each invoice becomes `partially_paid` or `paid`; concurrent payments never take an invoice past its total.
    #[oai(
        path = "/v1/payments",
        method = "post",
        operation_id = "create_payment"
    )]
    async fn create(
        &self,
        auth: ApiKeyAuth,
        state: Data<&Arc<AppState>>,
        /// Makes a retry safe: the same key and body return the first answer and write nothing.
        #[oai(name = "Idempotency-Key")]
        idempotency_key: Header<Option<String>>,
        body: JsonBody<PaymentCreate>,
    ) -> Result<CreatedOne<Payment>, WriteError> {
        let trail = Trail::checked((&auth, &state), "create_payment", (idempotency_key.0, None))?;
        let (org, today) = (trail.org, trail.today());
        let customer = body.value.customer_id.value();
        let currency = state.currency_for(org, Whose::Customer(customer))?;
        let (received, hash) = body.received(today, currency);
        let new = NewPayment::try_from(received)?;
        Ok(Post::new(&trail, "/v1/payments", hash)
            .create(&state, move |tx, now| {
                let payment = Payment::from(store::record(tx, org, new, today, now)?);
                let key = (EntityType::Payment, payment.id);
                trail.record_answer(tx, now, key, "created", &payment)?;
                Ok((payment.id, payment))
            })
            .await?)
    }
}

credit_source_routes! {
    PaymentSourceApi, tag "Tag::Payments", answer Payment, kept by payments at "/v1/payments" as Payment;
    /// Get payment details
    ///
    /// The payment as recorded, with its allocations, what is left of it and its status. A
    /// payment of another organization is a 404.
    get "/v1/payments/:id" "get_payment";
    /// Apply a payment's credit
    ///
    /// Applies unapplied credit of the payment, dated `applied_date`: to the invoices listed in `allocations`, or by `allocate: "oldest_first"` (as much as the customer's open invoices take). Every amount must fit what the invoice has open, and the total what the payment has unapplied, on that date and every later one.
    allocate "/v1/payments/:id/allocations" "allocate_payment";
    /// Void a payment
    ///
    /// A bounced check, a payment keyed twice: every allocation of the payment is reversed as of `void_date`, the invoices' statuses follow, and from that date the payment counts nowhere. Nothing is deleted: a report dated before the void still shows the payment. A payment with refunds is a 409, as is one already void.
    void "/v1/payments/:id/void" "void_payment";
    /// Refund a payment's credit
    ///
    /// Gives back money from the payment's unapplied credit, dated `refund_date`: at most the credit it has on that date and every later one.
    refund "/v1/payments/:id/refunds" "refund_payment";
}
