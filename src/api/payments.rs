//! `/v1/payments`.

use std::sync::Arc;

use poem::web::Data;
use poem_openapi::param::{Header, Path, Query};
use poem_openapi::{Object, OpenApi};

use super::auth::ApiKeyAuth;
use super::error::{ReadError, WriteError};
use super::scopes::scope_of;
use super::types::Received;
use super::types::{Amount, Date, Input, JsonBody, Opt};
use super::types::{AmountIn, Text};
use super::{page_bounds, AppState, Created, Json, Post, Tag};
use crate::db::payments::{self as store, PaymentFilter};
use crate::domain::money::Money;
use crate::domain::payment::NewPayment;
use crate::domain::payment::PaymentMethod;
use crate::error::{AppError, FieldErrorsBuilder};

crate::api::types::wire_enum!(
    Method <=> PaymentMethod {
        BankTransfer, Cash, Check, CreditCard, DebitCard, MobileMoney, Online, Other
    }
);

#[derive(Object, Debug, Clone, serde::Serialize)]
#[oai(example)]
pub(crate) struct Payment {
    pub id: i64,
    pub customer_id: i64,
    pub invoice_id: Option<i64>,
    pub amount: Amount,
    pub payment_method: String,
    pub payment_date: String,
    pub reference_number: Option<String>,
    pub notes: Option<String>,
    pub created_at: String,
}

impl poem_openapi::types::Example for Payment {
    fn example() -> Self {
        Payment {
            id: 1,
            customer_id: 1,
            invoice_id: Some(1),
            amount: Amount(Money::from_minor(50000)),
            payment_method: "bank_transfer".into(),
            payment_date: "2024-01-20".into(),
            reference_number: Some("TXN123456".into()),
            notes: None,
            created_at: "2024-01-20T10:00:00.000Z".into(),
        }
    }
}

impl From<store::Payment> for Payment {
    fn from(p: store::Payment) -> Self {
        Payment {
            id: p.id,
            customer_id: p.customer_id,
            invoice_id: p.invoice_id,
            amount: Amount(p.amount),
            payment_method: p.payment_method,
            payment_date: p.payment_date,
            reference_number: p.reference_number,
            notes: p.notes,
            created_at: p.created_at,
        }
    }
}

/// A payment against one invoice of the customer.
#[derive(Object, Debug, Clone, Default)]
#[oai(example)]
pub(crate) struct PaymentCreate {
    pub customer_id: Input<i64>,
    /// An invoice of that customer, sent or partially paid.
    pub invoice_id: Input<i64>,
    /// More than 0, at most 2 decimals, at most the invoice's balance_due.
    pub amount: Input<AmountIn>,
    pub payment_method: Input<Method>,
    /// Default today; not in the future, not before the invoice's issue_date.
    pub payment_date: Opt<Date>,
    /// Up to 100 characters.
    pub reference_number: Opt<Text<1, 100>>,
    /// Up to 5000 characters.
    pub notes: Opt<Text<0, 5000, true>>,
}

impl poem_openapi::types::Example for PaymentCreate {
    fn example() -> Self {
        PaymentCreate {
            customer_id: Input::Value(1),
            invoice_id: Input::Value(1),
            amount: Input::Value(AmountIn(Money::from_minor(50000))),
            payment_method: Input::Value(Method::BankTransfer),
            payment_date: Input::Value(Date(
                chrono::NaiveDate::from_ymd_opt(2024, 1, 20).unwrap_or_default(),
            )),
            reference_number: Input::Value("TXN123456".into()),
            notes: Input::Absent,
        }
    }
}

impl TryFrom<Received<PaymentCreate>> for NewPayment {
    type Error = AppError;

    fn try_from(received: Received<PaymentCreate>) -> Result<Self, AppError> {
        let Received {
            body,
            today,
            mut errors,
        } = received;
        let customer_id = body.customer_id.required("customer_id", &mut errors);
        let invoice_id = body.invoice_id.required("invoice_id", &mut errors);
        let amount = body.amount.required("amount", &mut errors).map(|a| a.0);
        if let Some(amount) = amount {
            if !amount.is_positive() {
                errors.add("amount", format!("must be more than 0 (got {amount})"));
            }
        }
        let method = match body.payment_method {
            Input::Invalid(_) => {
                errors.add(
                    "payment_method",
                    format!("must be one of: {}", PaymentMethod::names()),
                );
                None
            }
            other => other.required("payment_method", &mut errors),
        };
        let payment_date = body.payment_date.optional("payment_date", &mut errors);
        let reference_number = body
            .reference_number
            .text()
            .optional("reference_number", &mut errors);
        let notes = body.notes.text().optional("notes", &mut errors);
        errors.finish()?;
        Ok(NewPayment {
            customer_id: customer_id.unwrap_or_default(),
            invoice_id: invoice_id.unwrap_or_default(),
            amount: amount.unwrap_or_default(),
            payment_method: method
                .map(PaymentMethod::from)
                .unwrap_or(PaymentMethod::Other),
            payment_date: payment_date.map(|d| d.0).unwrap_or(today),
            reference_number,
            notes,
        })
    }
}

crate::api::paging::list_answer!(PaymentList of Payment, " Payments matching the filters, over all pages.");

#[derive(Default)]
pub(crate) struct PaymentsApi;

#[OpenApi(tag = "Tag::Payments")]
impl PaymentsApi {
    /// List all payments
    ///
    /// Ordered by id. Date ranges are inclusive.
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
        /// 1–500, default 50.
        limit: Query<Opt<i64>>,
        /// Default 0.
        offset: Query<Opt<i64>>,
    ) -> Result<Json<PaymentList>, ReadError> {
        let org = auth.require(scope_of("list_payments"))?.organization_id;
        let mut errors = FieldErrorsBuilder::new();
        crate::api::types::params!(errors; customer_id, invoice_id, payment_method, date_from, date_to, limit, offset);
        let (limit, offset) = page_bounds(limit.0, offset.0, &mut errors);
        errors.finish()?;
        let filter = PaymentFilter {
            customer_id: customer_id.0,
            invoice_id: invoice_id.0,
            payment_method: payment_method.0.map(PaymentMethod::from),
            date_from: date_from.0.map(|d| d.0),
            date_to: date_to.0.map(|d| d.0),
        };
        let page = state
            .db
            .read(move |conn| store::list(conn, org, &filter, limit, offset))
            .await?;
        Ok(Json(PaymentList::from_page(page, Payment::from)))
    }

    /// Record a new payment
    ///
    /// Applies the payment to its invoice in the same transaction: the invoice becomes `partially_paid` or `paid`. Concurrent payments never take an invoice past its total.
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
    ) -> Result<Created<Payment>, WriteError> {
        let org = auth.require(scope_of("create_payment"))?.organization_id;
        let today = state.clock.today();
        let (received, hash) = body.received(today);
        let new = NewPayment::try_from(received)?;
        Ok(Post::new(org, "/v1/payments", idempotency_key.0, hash)
            .create(&state, move |tx, now| {
                let payment = store::record(tx, org, new, today, now)?;
                Ok((payment.id, Payment::from(payment)))
            })
            .await?)
    }

    /// Get payment details
    ///
    /// The payment as recorded, with the invoice it was applied to. A payment of another
    /// organization is a 404.
    #[oai(
        path = "/v1/payments/:id",
        method = "get",
        operation_id = "get_payment"
    )]
    async fn get(
        &self,
        auth: ApiKeyAuth,
        state: Data<&Arc<AppState>>,
        id: Path<i64>,
    ) -> Result<Json<Payment>, ReadError> {
        let org = auth.require(scope_of("get_payment"))?.organization_id;
        let payment = state.db.read_point(|conn| store::get(conn, org, id.0))?;
        Ok(Json(payment.into()))
    }
}
