//! `/v1/invoices`: the handlers. The answer's wire types are in `wire`, the detail and list
//! answers' writer in `render`, the new invoice and its checks in `input`.

mod input;
mod pdf;
mod render;
mod wire;
mod write_offs;

pub(crate) use input::*;
pub(crate) use pdf::{buyer, seller};
pub(crate) use render::*;
pub(crate) use wire::*;
pub(crate) use write_offs::WriteOffsApi;

use std::sync::Arc;

use poem::http::HeaderMap;
use poem::web::Data;
use poem_openapi::param::{Header, Path, Query};
use poem_openapi::OpenApi;

use crate::api::auth::{ApiKeyAuth, AuthContext};
use crate::api::documents::{paper_or, render, wants_pdf, Answer, OneOrPdf, PdfFile};
use crate::api::error::{ChangeError, MailError, ReadError, WriteError};
use crate::api::export::{self, wants_csv, ListFormat};
use crate::api::journal::Trail;
use crate::api::mailing::SendInvoice;
use crate::api::scopes::scope_of;
use crate::api::types::{Date, JsonBody, MaybeJsonBody, Opt, PaperSize};
use crate::api::{
    page_bounds, to_json_text, AppState, CreatedOne, Deleted, Done, JsonText, One, Post, Tag,
};
use crate::db::invoice_changes as changes;
use crate::db::invoices::{self as store, Detail, InvoiceFilter, StatusFilter};
use crate::db::organization::Whose;
use crate::db::WriteScope;
use crate::domain::invoice::{InvoiceStatus, NewInvoice, Transition};
use crate::domain::invoice_changes::InvoiceChanges;
use crate::domain::journal::EntityType;
use crate::error::{AppError, FieldErrorsBuilder};

/// "Today" for the calling key's organization, as stored dates are written.
pub(crate) fn today_text(state: &AppState, ctx: &crate::api::auth::AuthContext) -> String {
    crate::db::codec::date_text(state.today_for(ctx))
}

#[derive(Default)]
pub(crate) struct InvoicesApi;

#[OpenApi(tag = "Tag::Invoices")]
impl InvoicesApi {
    /// List all invoices
    ///
    /// Ordered by id, with their lines. Date ranges are inclusive. As CSV (`Accept: text/csv` or `format=csv`; one row an invoice, without its lines): every matching invoice unless `limit` is given, streamed.
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
        /// `json` (default, by `Accept`) or `csv`.
        format: Query<Opt<ListFormat>>,
        headers: &HeaderMap,
    ) -> Result<Answer<JsonText<InvoiceList>, false, true>, ReadError> {
        let org = auth.require(scope_of("list_invoices"))?.organization_id;
        let mut errors = FieldErrorsBuilder::new();
        crate::api::types::params!(errors; customer_id, status, issue_date_from, issue_date_to, due_date_from, due_date_to, limit, offset, format);
        let issued = (issue_date_from.0, issue_date_to.0);
        crate::api::types::check_window(issued, ("issue_date_from", "issue_date_to"), &mut errors);
        let due = (due_date_from.0, due_date_to.0);
        crate::api::types::check_window(due, ("due_date_from", "due_date_to"), &mut errors);
        let limited = limit.0.is_some();
        let (limit, offset) = page_bounds(limit.0, offset.0, &mut errors);
        errors.finish()?;
        let filter = InvoiceFilter {
            customer_id: customer_id.0,
            status: status.0.map(|s| match s {
                StatusQuery::Draft => StatusFilter::Is(InvoiceStatus::Draft),
                StatusQuery::Sent => StatusFilter::Is(InvoiceStatus::Sent),
                StatusQuery::PartiallyPaid => StatusFilter::Is(InvoiceStatus::PartiallyPaid),
                StatusQuery::Paid => StatusFilter::Is(InvoiceStatus::Paid),
                StatusQuery::WrittenOff => StatusFilter::Is(InvoiceStatus::WrittenOff),
                StatusQuery::Void => StatusFilter::Is(InvoiceStatus::Void),
                StatusQuery::Overdue => StatusFilter::Overdue,
            }),
            issue_date_from: issue_date_from.0.map(|d| d.0),
            issue_date_to: issue_date_to.0.map(|d| d.0),
            due_date_from: due_date_from.0.map(|d| d.0),
            due_date_to: due_date_to.0.map(|d| d.0),
        };
        let today = state.today_for(auth.context());
        if wants_csv(format.0, headers) {
            let bounds = (limited.then_some(limit), offset);
            let file = ("invoices.csv", INVOICE_COLUMNS);
            let answer = move |invoice| to_api(invoice, today, false);
            let csv = export::rows(&state, file, answer, move |conn, sink| {
                store::each(conn, (org, today), &filter, bounds, sink)
            });
            return Ok(Answer::Csv(csv));
        }
        // From the stored copies in one statement; from the rows when a copy is missing.
        let text = state
            .db
            .read(move |conn| {
                if let Some(text) = list_text(conn, (org, today), &filter, (limit, offset))? {
                    return Ok(text);
                }
                let page = store::list(conn, org, &filter, limit, offset, today)?;
                let list = InvoiceList::from_page(page, |invoice| to_api(invoice, today, false));
                Ok(to_json_text(&list))
            })
            .await?;
        Ok(Answer::Json(JsonText::from_text(text)))
    }

    /// Create a new invoice
    ///
    /// Totals follow the rounding rule: each line's subtotal and tax are rounded to the currency's minor unit (cents in USD, whole yen in JPY; half away from zero), and the invoice totals are sums of the rounded lines.
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
    ) -> Result<CreatedOne<Invoice>, WriteError> {
        let trail = Trail::checked((&auth, &state), "create_invoice", (idempotency_key.0, None))?;
        let (org, today) = (trail.org, trail.today());
        let customer = body.value.customer_id.value();
        let currency = state.currency_for(org, Whose::Customer(customer))?;
        let (received, hash) = body.received(today, currency);
        let new = NewInvoice::try_from(received)?;
        Ok(Post::new(&trail, "/v1/invoices", hash)
            .create(&state, move |tx, now| {
                let invoice = to_api(store::create(tx, org, new, now)?, today, true);
                let key = (EntityType::Invoice, invoice.id);
                trail.record_answer(tx, now, key, "created", &invoice)?;
                Ok((invoice.id, invoice))
            })
            .await?)
    }

    /// Preview a new invoice
    ///
    /// The invoice `POST /v1/invoices` would create from this body, computed by the same engine (defaults, due date, rounding, totals, number) and answered in the same shape, with nothing stored: a form can show the server's totals while the user types. `id` and `invoice_number` are the ones a create would take now; they are not reserved.
    #[oai(
        path = "/v1/invoices/preview",
        method = "post",
        operation_id = "preview_invoice"
    )]
    async fn preview(
        &self,
        auth: ApiKeyAuth,
        state: Data<&Arc<AppState>>,
        body: JsonBody<InvoiceCreate>,
    ) -> Result<Done<Invoice>, WriteError> {
        let ctx = auth.require(scope_of("preview_invoice"))?;
        let (org, today) = (ctx.organization_id, state.today_for(ctx));
        let customer = body.value.customer_id.value();
        let currency = state.currency_for(org, Whose::Customer(customer))?;
        let (received, _) = body.received(today, currency);
        let new = NewInvoice::try_from(received)?;
        let now = state.now_text();
        // `db.write`, not `state.write`: nothing is kept, so no one waiting for events
        // is woken. The whole book's turn: on PostgreSQL the preview gives back the ids
        // it took, which no other write may take meanwhile (see `store::preview`).
        let invoice = state
            .db
            .write(WriteScope::Book, move |tx| {
                store::preview(tx, org, new, &now)
            })
            .await?;
        Ok(Done::of(&to_api(invoice, today, true)))
    }

    /// Get invoice details
    ///
    /// With its lines and the payments applied to it. With `Accept: application/pdf`, the printable invoice instead (as `GET /v1/invoices/{id}/pdf`).
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
        /// For a PDF: the paper to lay it out for; default the organization's `paper_size`.
        paper: Query<Opt<PaperSize>>,
        headers: &HeaderMap,
    ) -> Result<OneOrPdf<Invoice>, ReadError> {
        let ctx = auth.require(scope_of("get_invoice"))?;
        let mut errors = FieldErrorsBuilder::new();
        let paper = paper.0.param("paper", &mut errors);
        errors.finish()?;
        if wants_pdf(headers) {
            let pdf = invoice_pdf(&state, ctx, id.0, paper).await?;
            return Ok(OneOrPdf::Pdf(pdf));
        }
        let org = ctx.organization_id;
        let today = state.today_for(ctx);
        let id = id.0;
        // One snapshot: an invoice whose copy is not rendered (every invoice on
        // PostgreSQL) is read from its rows in the same read.
        let text = state.db.read_point(|conn| {
            let rendered = store::with_detail_row(conn, org, id, |row, parts| {
                store::ledger_holding(conn, (org, id), parts)
                    .map(|ledger| detail_text(row, &ledger, today))
            })?;
            match rendered {
                Detail::Rendered(text) => text,
                Detail::Missing => Err(store::not_found(id)),
                Detail::Unrendered => Ok(to_json_text(&to_api(
                    store::get(conn, org, id)?,
                    today,
                    true,
                ))),
            }
        })?;
        Ok(OneOrPdf::Json(One::from_text(text)))
    }

    /// Get the invoice as a PDF
    ///
    /// The printable invoice: the organization and the customer, the lines with quantity, unit price, tax rate and line total, subtotal, tax and total, the payments, credit notes and write-offs applied, and the balance due, in the invoice's currency. Long invoices break across pages, each repeating the table's column titles.
    #[oai(
        path = "/v1/invoices/:id/pdf",
        method = "get",
        operation_id = "get_invoice_pdf"
    )]
    async fn pdf(
        &self,
        auth: ApiKeyAuth,
        state: Data<&Arc<AppState>>,
        id: Path<i64>,
        /// The paper to lay it out for; default the organization's `paper_size`.
        paper: Query<Opt<PaperSize>>,
    ) -> Result<PdfFile, ReadError> {
        let ctx = auth.require(scope_of("get_invoice_pdf"))?;
        let mut errors = FieldErrorsBuilder::new();
        let paper = paper.0.param("paper", &mut errors);
        errors.finish()?;
        Ok(invoice_pdf(&state, ctx, id.0, paper).await?)
    }

    /// Update an invoice
    ///
    /// A partial update. A draft may change every field, its `items` replaced whole and its totals computed again by the rounding rule; a new `issue_date` or `customer_id` without a `due_date` derives the due date again from the customer's terms. A sent invoice may change only `notes` and `due_date`, and only while nothing is applied to it. Any other change to an issued invoice is a 409 naming each field: issue a credit note, or void the invoice and issue a new one.
    #[oai(
        path = "/v1/invoices/:id",
        method = "put",
        operation_id = "update_invoice"
    )]
    async fn update(
        &self,
        auth: ApiKeyAuth,
        state: Data<&Arc<AppState>>,
        id: Path<i64>,
        /// Change it only while its current `ETag` is this one (a 412 otherwise): the version the client last read.
        #[oai(name = "If-Match")]
        if_match: Header<Option<String>>,
        body: JsonBody<InvoiceUpdate>,
    ) -> Result<One<Invoice>, ChangeError> {
        let trail = Trail::checked((&auth, &state), "update_invoice", (None, if_match.0))?;
        let (org, today) = (trail.org, trail.today());
        let now = state.now_text();
        let currency = state.currency_for(org, Whose::Invoice(id.0))?;
        let (received, _) = body.received(today, currency);
        let changes = InvoiceChanges::try_from(received)?;
        let id = id.0;
        let invoice = state
            .write(org, move |tx| {
                trail.check_unchanged(tx, (EntityType::Invoice, id))?;
                let invoice = to_api(changes::update(tx, org, id, changes, &now)?, today, true);
                trail.record_answer(tx, &now, (EntityType::Invoice, id), "updated", &invoice)?;
                Ok(invoice)
            })
            .await?;
        Ok(One::of(&invoice))
    }

    /// Delete a draft invoice
    ///
    /// Only a draft can be deleted (409 otherwise): an issued invoice is voided instead, so it stays on record.
    #[oai(
        path = "/v1/invoices/:id",
        method = "delete",
        operation_id = "delete_invoice"
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
        let trail = Trail::checked((&auth, &state), "delete_invoice", (None, if_match.0))?;
        trail
            .delete(&state, (EntityType::Invoice, id.0), changes::delete_draft)
            .await?;
        Ok(Deleted::NoContent)
    }

    /// Send an invoice
    ///
    /// Without a body (or without `email`): moves a `draft` to `sent`; any other status is a 409. With `email`: e-mails the invoice PDF to `email.to` (default the customer's `email`) and `email.cc`, then marks a draft `sent`; an invoice already sent is sent again (a reminder), a void one is a 409. The mail goes out first: only a message the mail server accepted marks the draft sent. Each try is recorded on the invoice's history and in the journal (`invoice.emailed` or `invoice.email_failed`, with the recipients and outcome in `detail`). A 502 `EMAIL_FAILED` gives the mail server's reason; a server started without `--smtp-url` answers 409 `EMAIL_NOT_CONFIGURED`.
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
        /// Makes a retry safe: the same key returns the first answer (and sends no second e-mail).
        #[oai(name = "Idempotency-Key")]
        idempotency_key: Header<Option<String>>,
        /// Change it only while its current `ETag` is this one (a 412 otherwise): the version the client last read.
        #[oai(name = "If-Match")]
        if_match: Header<Option<String>>,
        body: MaybeJsonBody<SendInvoice>,
    ) -> Result<One<Invoice>, MailError> {
        let trail = Trail::checked(
            (&auth, &state),
            "send_invoice",
            (idempotency_key.0, if_match.0),
        )?;
        let Some((ask, hash)) = SendInvoice::email_of(body)? else {
            return move_invoice(&state, trail, id.0, Transition::Send)
                .await
                .map_err(|err| err.0.into());
        };
        Ok(
            crate::api::mailing::email_invoice(&state, auth.context(), trail, id.0, (ask, hash))
                .await?,
        )
    }

    /// Void an invoice
    ///
    /// Only an invoice with nothing applied to it (no payments, no credit notes) and nothing written off can be voided (409 otherwise). A void invoice takes no payments and counts in no report.
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
        /// Change it only while its current `ETag` is this one (a 412 otherwise): the version the client last read.
        #[oai(name = "If-Match")]
        if_match: Header<Option<String>>,
    ) -> Result<One<Invoice>, ChangeError> {
        let trail = Trail::checked(
            (&auth, &state),
            "void_invoice",
            (idempotency_key.0, if_match.0),
        )?;
        move_invoice(&state, trail, id.0, Transition::Void).await
    }
}

/// An invoice's row in a CSV export: its JSON answer's fields, lines left out.
const INVOICE_COLUMNS: &[&str] = &[
    "id",
    "invoice_number",
    "customer_id",
    "status",
    "issue_date",
    "due_date",
    "subtotal",
    "tax_total",
    "total",
    "amount_paid",
    "amount_credited",
    "amount_written_off",
    "balance_due",
    "is_overdue",
    "days_overdue",
    "currency",
    "notes",
    "created_at",
    "updated_at",
];

/// An invoice, and the PDF made of it.
pub(crate) struct InvoiceDocument {
    pub invoice: Invoice,
    pub organization: crate::db::organization::Organization,
    pub customer: crate::db::customers::Customer,
    pub pdf: PdfFile,
}

/// Invoice `id` laid out as a PDF, with the organization and the customer as they are now.
async fn invoice_pdf(
    state: &AppState,
    ctx: &AuthContext,
    id: i64,
    paper: Option<PaperSize>,
) -> Result<PdfFile, AppError> {
    Ok(invoice_document(state, ctx, id, paper, false).await?.pdf)
}

/// Invoice `id` and its PDF; `as_sent`: a draft printed as it reads once sent, for the
/// customer who receives it.
pub(crate) async fn invoice_document(
    state: &AppState,
    ctx: &AuthContext,
    id: i64,
    paper: Option<PaperSize>,
    as_sent: bool,
) -> Result<InvoiceDocument, AppError> {
    let (org, today) = (ctx.organization_id, state.today_for(ctx));
    let (mut invoice, organization, customer) = state
        .db
        .read(move |conn| {
            let invoice = to_api(store::get(conn, org, id)?, today, true);
            let organization = crate::db::organization::get(conn, org)?;
            let today_text = crate::db::codec::date_text(today);
            let customer = crate::db::customers::get(conn, org, invoice.customer_id, &today_text)?;
            Ok((invoice, organization, customer))
        })
        .await?;
    if as_sent && invoice.status == Status::Draft {
        // What sending makes of it: a zero total is paid at once (`domain::invoice`).
        invoice.status = match invoice.total.money.is_positive() {
            true => Status::Sent,
            false => Status::Paid,
        };
    }
    let paper = paper_or(paper, organization.fields.paper_size);
    let sheet = pdf::invoice_sheet(&invoice, &organization, &customer);
    let file_name = format!("{}.pdf", invoice.invoice_number);
    let pdf = render(state, move || {
        crate::documents::invoice::invoice_pdf(&sheet, paper)
    });
    let pdf = PdfFile::of(file_name, pdf.await?)?;
    Ok(InvoiceDocument {
        invoice,
        organization,
        customer,
        pdf,
    })
}

/// Sends or voids invoice `id` in one idempotent write (see `domain::invoice::transition`).
async fn move_invoice(
    state: &AppState,
    trail: Trail,
    id: i64,
    move_to: Transition,
) -> Result<One<Invoice>, ChangeError> {
    let (org, today) = (trail.org, trail.today());
    let (action, done) = match move_to {
        Transition::Send => ("send", "sent"),
        Transition::Void => ("void", "voided"),
    };
    let post = Post::new(&trail, format!("/v1/invoices/{id}/{action}"), String::new());
    Ok(post
        .run(state, move |tx, now| {
            trail.check_unchanged(tx, (EntityType::Invoice, id))?;
            let invoice = to_api(store::transition(tx, org, id, now, move_to)?, today, true);
            trail.record_answer(tx, now, (EntityType::Invoice, id), done, &invoice)?;
            Ok((invoice, None))
        })
        .await?)
}
