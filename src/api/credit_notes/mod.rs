//! `/v1/credit-notes`: the handlers. The answer's wire types are in `wire`, the new credit
//! note and its checks in `input`; a later use of a note's credit takes the same bodies as
//! a payment's.

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
use crate::db::credit_notes::{self as store, CreditNoteFilter};
use crate::db::organization::Whose;
use crate::domain::credit_note::NewCreditNote;
use crate::domain::journal::EntityType;
use crate::error::FieldErrorsBuilder;

#[derive(Default)]
pub(crate) struct CreditNotesApi;

/// A credit note's row in a CSV export: its JSON answer's fields, lines left out.
const NOTE_COLUMNS: &[&str] = &[
    "id",
    "customer_id",
    "credit_note_number",
    "invoice_id",
    "issue_date",
    "reason",
    "subtotal",
    "tax_total",
    "total",
    "applied_amount",
    "refunded_amount",
    "unapplied_amount",
    "status",
    "void_date",
    "void_reason",
    "currency",
    "created_at",
];

#[OpenApi(tag = "Tag::CreditNotes")]
impl CreditNotesApi {
    /// List all credit notes
    ///
    /// Ordered by id. The date range is on `issue_date`, inclusive. `invoice_id` finds the notes issued against that invoice. As CSV (`Accept: text/csv` or `format=csv`): every match unless `limit` is given, streamed (one row a note, without its lines).
    #[allow(clippy::too_many_arguments)]
    #[oai(
        path = "/v1/credit-notes",
        method = "get",
        operation_id = "list_credit_notes"
    )]
    async fn list(
        &self,
        auth: ApiKeyAuth,
        state: Data<&Arc<AppState>>,
        customer_id: Query<Opt<i64>>,
        invoice_id: Query<Opt<i64>>,
        date_from: Query<Opt<Date>>,
        date_to: Query<Opt<Date>>,
        status: Query<Opt<CreditNoteStatus>>,
        /// 1–500, default 50.
        limit: Query<Opt<i64>>,
        /// Default 0.
        offset: Query<Opt<i64>>,
        /// `json` (default, by `Accept`) or `csv`.
        format: Query<Opt<ListFormat>>,
        headers: &HeaderMap,
    ) -> Result<Answer<Json<CreditNoteList>, false, true>, ReadError> {
        let org = auth.require(scope_of("list_credit_notes"))?.organization_id;
        let mut errors = FieldErrorsBuilder::new();
        crate::api::types::params!(errors; customer_id, invoice_id, date_from, date_to, status, limit, offset, format);
        let window = (date_from.0, date_to.0);
        crate::api::types::check_window(window, ("date_from", "date_to"), &mut errors);
        let limited = limit.0.is_some();
        let bounds = page_bounds(limit.0, offset.0, &mut errors);
        errors.finish()?;
        let filter = CreditNoteFilter {
            customer_id: customer_id.0,
            invoice_id: invoice_id.0,
            date_from: date_from.0.map(|d| d.0),
            date_to: date_to.0.map(|d| d.0),
            status: status.0.map(Into::into),
        };
        if wants_csv(format.0, headers) {
            let rows = (limited.then_some(bounds.0), bounds.1);
            let file = ("credit-notes.csv", NOTE_COLUMNS);
            let csv = export::rows(&state, file, CreditNote::from, move |conn, sink| {
                store::each(conn, org, &filter, rows, sink)
            });
            return Ok(Answer::Csv(csv));
        }
        let page = state
            .db
            .read(move |conn| store::list(conn, org, &filter, bounds))
            .await?;
        Ok(Answer::Json(Json(CreditNoteList::from_page(
            page,
            CreditNote::from,
        ))))
    }

    /// Issue a credit note
    ///
    /// Goods came back or a price was corrected: the note's lines are computed by the invoice rule. With `invoice_id` it is applied to that invoice at once, up to what the invoice has open from the note's date on; what is left (all of it, without an invoice) is the customer's unapplied credit, to apply later or refund. An invoice is never credited beyond its total across all its credit notes.
    #[oai(
        path = "/v1/credit-notes",
        method = "post",
        operation_id = "create_credit_note"
    )]
    async fn create(
        &self,
        auth: ApiKeyAuth,
        state: Data<&Arc<AppState>>,
        /// Makes a retry safe: the same key and body return the first answer and write nothing.
        #[oai(name = "Idempotency-Key")]
        idempotency_key: Header<Option<String>>,
        body: JsonBody<CreditNoteCreate>,
    ) -> Result<CreatedOne<CreditNote>, WriteError> {
        let trail = Trail::checked(
            (&auth, &state),
            "create_credit_note",
            (idempotency_key.0, None),
        )?;
        let (org, today) = (trail.org, trail.today());
        let customer = body.value.customer_id.value();
        let currency = state.currency_for(org, Whose::Customer(customer))?;
        let (received, hash) = body.received(today, currency);
        let new = NewCreditNote::try_from(received)?;
        Ok(Post::new(&trail, "/v1/credit-notes", hash)
            .create(&state, move |tx, now| {
                let note = CreditNote::from(store::create(tx, org, new, (today, now))?);
                let key = (EntityType::CreditNote, note.id);
                trail.record_answer(tx, now, key, "created", &note)?;
                Ok((note.id, note))
            })
            .await?)
    }
}

credit_source_routes! {
    CreditNoteSourceApi, tag "Tag::CreditNotes", answer CreditNote, kept by credit_notes at "/v1/credit-notes" as CreditNote;
    /// Get credit note details
    ///
    /// The note with its lines, allocations, refunds, what is left of it and its status. A note of another organization is a 404.
    get "/v1/credit-notes/:id" "get_credit_note";
    /// Apply a credit note's credit
    ///
    /// Applies unapplied credit of the note, dated `applied_date`, as `allocations` list or by `allocate: "oldest_first"`. Every amount must fit what the invoice has open, and the total what the note has unapplied, on that date and every later one.
    allocate "/v1/credit-notes/:id/allocations" "allocate_credit_note";
    /// Void a credit note
    ///
    /// A note issued in error: every allocation of it is reversed as of `void_date` and the invoices reopen; from that date the note counts nowhere. Nothing is deleted: a report dated before the void still shows it. A note with refunds is a 409, as is one already void.
    void "/v1/credit-notes/:id/void" "void_credit_note";
    /// Refund a credit note's credit
    ///
    /// Gives back money from the note's unapplied credit, dated `refund_date`: at most the credit it has on that date and every later one.
    refund "/v1/credit-notes/:id/refunds" "refund_credit_note";
}
