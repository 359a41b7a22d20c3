//! `/v1/invoices/{id}/write-offs`: writing off what is left of an invoice, and reversing a
//! write-off when the debt is recovered. Both answer the invoice as it then stands.

use std::sync::Arc;

use poem::web::Data;
use poem_openapi::param::{Header, Path};
use poem_openapi::{Object, OpenApi};

use super::{to_api, Invoice};
use crate::api::auth::ApiKeyAuth;
use crate::api::error::ChangeError;
use crate::api::journal::Trail;
use crate::api::types::{
    check_positive, event_date, AmountIn, Date, DatedReason, Input, JsonBody, Opt, Received, Text,
};
use crate::api::{AppState, One, Post, Tag};
use crate::db::organization::Whose;
use crate::db::write_offs as store;
use crate::domain::journal::EntityType;
use crate::domain::write_off::NewWriteOff;
use crate::error::AppError;

/// Writing off an invoice's open amount, in whole or in part.
#[derive(Object, Debug, Clone, Default)]
#[oai(example)]
pub(crate) struct WriteOffCreate {
    /// More than 0, with at most as many decimals as the invoice's currency has, at most what the invoice has open on
    /// `write_off_date` and every later date. Default: exactly that, the whole open amount.
    pub amount: Opt<AmountIn>,
    /// Default today; not before the invoice's issue_date, not in the future.
    pub write_off_date: Opt<Date>,
    /// 1–500 characters: why (the debtor went bankrupt, the amount is too small to chase).
    pub reason: Input<Text<1, 500>>,
}

impl poem_openapi::types::Example for WriteOffCreate {
    fn example() -> Self {
        WriteOffCreate {
            amount: Input::Absent,
            write_off_date: Input::Value(Date(
                chrono::NaiveDate::from_ymd_opt(2024, 6, 30).unwrap_or_default(),
            )),
            reason: Input::Value("Customer declared bankrupt".into()),
        }
    }
}

impl TryFrom<Received<WriteOffCreate>> for NewWriteOff {
    type Error = AppError;

    fn try_from(received: Received<WriteOffCreate>) -> Result<Self, AppError> {
        let (body, today, currency, mut errors) = received.into_parts();
        let amount = body.amount.optional("amount", &mut errors).map(|a| a.0);
        if let Some(amount) = amount {
            check_positive(&mut errors, "amount", amount, currency);
        }
        let date = body.write_off_date.optional("write_off_date", &mut errors);
        let reason = body.reason.text().required("reason", &mut errors);
        let date = event_date("write_off_date", date, today, errors)?;
        Ok(NewWriteOff {
            amount,
            date,
            reason: reason.unwrap_or_default().trim().to_string(),
        })
    }
}

/// Taking a write-off back as of a date: the debt was recovered after all.
#[derive(Object, Debug, Clone, Default)]
#[oai(example)]
pub(crate) struct WriteOffReverse {
    /// The day the invoice reopens; not before the write-off, not in the future.
    pub reverse_date: Input<Date>,
    /// 1–500 characters: why, for whoever reads the books later.
    pub reason: Input<Text<1, 500>>,
}

impl poem_openapi::types::Example for WriteOffReverse {
    fn example() -> Self {
        WriteOffReverse {
            reverse_date: Input::Value(Date(
                chrono::NaiveDate::from_ymd_opt(2024, 9, 15).unwrap_or_default(),
            )),
            reason: Input::Value("Paid in full by the receiver".into()),
        }
    }
}

impl DatedReason for WriteOffReverse {
    const DATE_FIELD: &'static str = "reverse_date";

    fn into_date_and_reason(self) -> (Input<Date>, Input<Text<1, 500>>) {
        (self.reverse_date, self.reason)
    }
}

#[derive(Default)]
pub(crate) struct WriteOffsApi;

#[OpenApi(tag = "Tag::Invoices")]
impl WriteOffsApi {
    /// Write off an invoice
    ///
    /// Gives up on part or all of what the invoice has open, as of `write_off_date`; without `amount`, exactly what is open from that date on. An invoice closed by a write-off is `written_off` (closed by payments and credit notes alone it is `paid`). Answers the invoice, whose `write_offs` lists the new one with its id.
    #[oai(
        path = "/v1/invoices/:id/write-offs",
        method = "post",
        operation_id = "write_off_invoice"
    )]
    async fn create(
        &self,
        auth: ApiKeyAuth,
        state: Data<&Arc<AppState>>,
        id: Path<i64>,
        /// Makes a retry safe: the same key and body return the first answer and write nothing.
        #[oai(name = "Idempotency-Key")]
        idempotency_key: Header<Option<String>>,
        /// Change it only while its current `ETag` is this one (a 412 otherwise): the version the client last read.
        #[oai(name = "If-Match")]
        if_match: Header<Option<String>>,
        body: JsonBody<WriteOffCreate>,
    ) -> Result<One<Invoice>, ChangeError> {
        let trail = Trail::checked(
            (&auth, &state),
            "write_off_invoice",
            (idempotency_key.0, if_match.0),
        )?;
        let (org, today) = (trail.org, trail.today());
        let id = id.0;
        let currency = state.currency_for(org, Whose::Invoice(id))?;
        let (received, hash) = body.received(today, currency);
        let new = NewWriteOff::try_from(received)?;
        let path = format!("/v1/invoices/{id}/write-offs");
        Ok(Post::new(&trail, path, hash)
            .run(&state, move |tx, now| {
                trail.check_unchanged(tx, (EntityType::Invoice, id))?;
                let invoice = to_api(store::create(tx, org, id, new, (today, now))?, today, true);
                let key = (EntityType::Invoice, id);
                trail.record_answer(tx, now, key, "written_off", &invoice)?;
                Ok((invoice, None))
            })
            .await?)
    }

    /// Reverse a write-off
    ///
    /// A recovered bad debt: the write-off stops counting as of `reverse_date` and the invoice reopens from that date. Nothing is deleted: a report dated before the reversal still shows the write-off. A write-off already reversed is a 409.
    #[oai(
        path = "/v1/invoices/:id/write-offs/:write_off_id/reverse",
        method = "post",
        operation_id = "reverse_write_off"
    )]
    #[allow(clippy::too_many_arguments)]
    async fn reverse(
        &self,
        auth: ApiKeyAuth,
        state: Data<&Arc<AppState>>,
        id: Path<i64>,
        write_off_id: Path<i64>,
        /// Makes a retry safe: the same key and body return the first answer and write nothing.
        #[oai(name = "Idempotency-Key")]
        idempotency_key: Header<Option<String>>,
        /// Change it only while its current `ETag` is this one (a 412 otherwise): the version the client last read.
        #[oai(name = "If-Match")]
        if_match: Header<Option<String>>,
        body: JsonBody<WriteOffReverse>,
    ) -> Result<One<Invoice>, ChangeError> {
        let trail = Trail::checked(
            (&auth, &state),
            "reverse_write_off",
            (idempotency_key.0, if_match.0),
        )?;
        let (org, today) = (trail.org, trail.today());
        let (received, hash) = body.received_plain(today);
        let reversal: (chrono::NaiveDate, String) = received.try_into()?;
        let ids = (id.0, write_off_id.0);
        let path = format!("/v1/invoices/{}/write-offs/{}/reverse", ids.0, ids.1);
        Ok(Post::new(&trail, path, hash)
            .run(&state, move |tx, now| {
                trail.check_unchanged(tx, (EntityType::Invoice, ids.0))?;
                let invoice = to_api(
                    store::reverse(tx, org, ids, reversal, (today, now))?,
                    today,
                    true,
                );
                let key = (EntityType::Invoice, ids.0);
                trail.record_answer(tx, now, key, "write_off_reversed", &invoice)?;
                Ok((invoice, None))
            })
            .await?)
    }
}
