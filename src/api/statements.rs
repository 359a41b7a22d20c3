//! `/v1/customers/{id}/statement`: a customer's account over a period, as JSON, CSV or a
//! PDF. The rule (what each event does to the balance) is `domain::statement`.

use std::sync::Arc;

use chrono::{Datelike, NaiveDate};
use poem::http::HeaderMap;
use poem::web::Data;
use poem_openapi::param::{Header, Path, Query};
use poem_openapi::{Object, OpenApi};

use super::auth::ApiKeyAuth;
use super::documents::{inert, paper_or, preferred, render, Answer, CsvFile, Format, PdfFile};
use super::error::{MailError, ReadError};
use super::journal::Trail;
use super::mailing::{email_statement, EmailedStatement, StatementEmail};
use super::reports::AgingBuckets;
use super::scopes::scope_of;
use super::types::{Amount, CurrencyCode, Date, MaybeJsonBody, Opt, PaperSize};
use super::{AppState, Done, Tag};
use crate::db::customers::Customer;
use crate::db::organization::Organization;
use crate::db::report_scope::ReportScope;
use crate::documents::statement::{StatementRow, StatementSheet};
use crate::domain::currency::Currency;
use crate::domain::money::Money;
use crate::domain::statement::{running, EntryKind, Line};
use crate::error::{AppError, FieldErrorsBuilder};

crate::api::types::wire_enum!(
    /// What happened: an invoice issued (`invoice`), a void one (`invoice_void`, no effect), a payment, credit applied to an invoice (`allocation`, no effect on the balance), a credit note, a refund, a write-off, or the void or reversal of one.
    StatementKind <=> EntryKind {
        Invoice, InvoiceVoid, CreditNote, Payment, Allocation, Refund, WriteOff,
        AllocationReversal, WriteOffReversal, CreditNoteVoid, PaymentVoid
    }
);

/// One dated event of the account.
#[derive(Object, Debug, Clone, serde::Serialize)]
pub(crate) struct StatementLine {
    pub date: Date,
    pub kind: StatementKind,
    /// The invoice or credit note number, or the payment's reference.
    pub reference: String,
    pub description: String,
    /// Its effect on what the customer owes: positive charges, negative credits.
    pub amount: Amount,
    /// For credit applied (or that reversed) and a void invoice: the amount concerned.
    pub applied_amount: Option<Amount>,
    /// What the customer owes net of credit after this line.
    pub balance: Amount,
}

/// A customer's account over a period: `closing_balance` = `opening_balance` + the lines'
/// amounts, and equals `aging.net`: `aging` is the customer's aging at `to`.
#[derive(Object, Debug, Clone, serde::Serialize)]
pub(crate) struct CustomerStatement {
    pub customer_id: i64,
    pub customer_code: String,
    pub name: String,
    pub from: Date,
    pub to: Date,
    /// What the customer owed net of credit at the end of the day before `from`.
    pub opening_balance: Amount,
    /// Every event dated `from` to `to`, by date.
    pub lines: Vec<StatementLine>,
    /// What the customer owed net of credit at the end of `to`.
    pub closing_balance: Amount,
    pub aging: AgingBuckets,
    /// The customer's currency: every amount here is in it.
    pub currency: CurrencyCode,
}

/// The form of the answer, when not left to `Accept`.
#[derive(poem_openapi::Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[oai(rename_all = "snake_case")]
pub(crate) enum FileFormat {
    Json,
    Csv,
    Pdf,
}

#[derive(Default)]
pub(crate) struct StatementsApi;

#[OpenApi(tag = "Tag::Customers")]
impl StatementsApi {
    /// Get a customer's statement
    ///
    /// The opening balance at the end of the day before `from`, every dated event from `from` to `to` (invoices, payments, credit applied, credit notes, refunds, write-offs, and the voids and reversals of each) with a running balance, the closing balance at `to`, and the customer's aging at `to`. Balances are what the customer owes net of unapplied credit, so the closing balance equals the aging report's `net`. As CSV (`Accept: text/csv` or `?format=csv`) or a PDF (`Accept: application/pdf` or `?format=pdf`) too.
    #[oai(
        path = "/v1/customers/:id/statement",
        method = "get",
        operation_id = "customer_statement"
    )]
    #[allow(clippy::too_many_arguments)]
    async fn statement(
        &self,
        auth: ApiKeyAuth,
        state: Data<&Arc<AppState>>,
        id: Path<i64>,
        /// First day of the period; default the first day of `to`'s month.
        from: Query<Opt<Date>>,
        /// Last day of the period; default today.
        to: Query<Opt<Date>>,
        /// `json`, `csv` or `pdf`; default by `Accept`, else JSON.
        format: Query<Opt<FileFormat>>,
        /// For a PDF: the paper; default the organization's `paper_size`.
        paper: Query<Opt<PaperSize>>,
        headers: &HeaderMap,
    ) -> Result<Answer<Done<CustomerStatement>, true, true>, ReadError> {
        let ctx = auth.require(scope_of("customer_statement"))?;
        let mut errors = FieldErrorsBuilder::new();
        crate::api::types::params!(errors; from, to, format, paper);
        let (from, to) = period((from.0, to.0), state.today_for(ctx), &mut errors);
        errors.finish()?;
        let read = read_statement(&state, (ctx.organization_id, id.0), (from, to)).await?;
        let format = match format.0 {
            Some(FileFormat::Json) => Format::Json,
            Some(FileFormat::Csv) => Format::Csv,
            Some(FileFormat::Pdf) => Format::Pdf,
            None => preferred(headers, &[Format::Json, Format::Pdf, Format::Csv]),
        };
        Ok(match format {
            Format::Json => Answer::Json(Done::of(&read.statement)),
            Format::Csv => Answer::Csv(statement_csv(&read.statement, read.file_name("csv"))?),
            Format::Pdf => Answer::Pdf(statement_pdf(&state, &read, paper.0).await?),
        })
    }

    /// E-mail a customer's statement
    ///
    /// The statement PDF for `from`..`to` (the same defaults as `GET /v1/customers/{id}/statement`) e-mailed to `email.to` (default the customer's `email`) and `email.cc`. Each try is recorded on the customer's history and in the journal (`customer.statement_emailed` or `customer.statement_email_failed`, with the recipients and outcome in `detail`). A 502 `EMAIL_FAILED` gives the mail server's reason; a server started without `--smtp-url` answers 409 `EMAIL_NOT_CONFIGURED`.
    #[oai(
        path = "/v1/customers/:id/statement/email",
        method = "post",
        operation_id = "email_customer_statement"
    )]
    async fn email(
        &self,
        auth: ApiKeyAuth,
        state: Data<&Arc<AppState>>,
        id: Path<i64>,
        /// Makes a retry safe: the same key returns the first answer and sends no second e-mail.
        #[oai(name = "Idempotency-Key")]
        idempotency_key: Header<Option<String>>,
        body: MaybeJsonBody<StatementEmail>,
    ) -> Result<Done<EmailedStatement>, MailError> {
        let key = (idempotency_key.0, None);
        let trail = Trail::checked((&auth, &state), "email_customer_statement", key)?;
        let today = trail.today();
        let (ask, hash) = StatementEmail::read(body, today)?;
        Ok(email_statement(&state, trail, id.0, ask, hash).await?)
    }
}

/// The period asked for: `to` default today, `from` default the first of `to`'s month.
pub(crate) fn period(
    (from, to): (Option<Date>, Option<Date>),
    today: NaiveDate,
    errors: &mut FieldErrorsBuilder,
) -> (NaiveDate, NaiveDate) {
    let to = to.map_or(today, |d| d.0);
    let from = from.map_or_else(|| to.with_day(1).unwrap_or(to), |d| d.0);
    if from > to {
        errors.add("from", format!("must be on or before `to` ({to})"));
    }
    (from, to)
}

/// Customer `id`'s statement for the period: a report's turn, as it reads the whole history.
pub(crate) async fn read_statement(
    state: &AppState,
    (org, customer): (i64, i64),
    (from, to): (NaiveDate, NaiveDate),
) -> Result<Read, AppError> {
    let _build = state.report_permit().await?;
    state
        .db
        .read(move |conn| statement_of(conn, (org, customer), (from, to)))
        .await
}

/// The statement laid out as a PDF on `paper` (default the organization's).
pub(crate) async fn statement_pdf(
    state: &AppState,
    read: &Read,
    paper: Option<PaperSize>,
) -> Result<PdfFile, AppError> {
    let sheet = statement_sheet(read);
    let paper = paper_or(paper, read.organization.fields.paper_size);
    let pdf = render(state, move || {
        crate::documents::statement::statement_pdf(&sheet, paper)
    });
    PdfFile::of(read.file_name("pdf"), pdf.await?)
}

/// A statement and what its PDF prints around it.
pub(crate) struct Read {
    pub statement: CustomerStatement,
    pub organization: Organization,
    pub customer: Customer,
}

impl Read {
    /// `statement-C0001-2024-01-01-2024-03-31.pdf`
    fn file_name(&self, ext: &str) -> String {
        let s = &self.statement;
        format!(
            "statement-{}-{}-{}.{ext}",
            s.customer_code, s.from.0, s.to.0
        )
    }
}

fn statement_of(
    conn: &crate::db::conn::Conn,
    (org, id): (i64, i64),
    (from, to): (NaiveDate, NaiveDate),
) -> Result<Read, AppError> {
    let customer = crate::db::customers::get(conn, org, id, &crate::db::codec::date_text(to))?;
    let organization = crate::db::organization::get(conn, org)?;
    let currency = customer.currency;
    let (opening, entries) = crate::db::statement::period(conn, (org, id), (from, to), currency)?;
    let (lines, closing) = running(opening, entries)
        .ok_or_else(|| AppError::Internal(format!("customer {id}: statement balance overflow")))?;
    let (scope, _) = ReportScope::of(conn, org, Some(currency), Some(id))?;
    let aging = crate::db::reports::aging(conn, &scope, to, Some(id))?;
    let amount = |money| Amount::new(money, currency);
    let statement = CustomerStatement {
        customer_id: id,
        customer_code: customer.customer_code.clone(),
        name: customer.name.clone(),
        from: Date(from),
        to: Date(to),
        opening_balance: amount(opening),
        lines: lines
            .into_iter()
            .map(|line| line_to_api(line, currency))
            .collect(),
        closing_balance: amount(closing),
        aging: AgingBuckets::of(aging.totals, aging.unapplied_credit, currency),
        currency: CurrencyCode(currency),
    };
    Ok(Read {
        statement,
        organization,
        customer,
    })
}

fn line_to_api(line: Line, currency: Currency) -> StatementLine {
    let amount = |money: Money| Amount::new(money, currency);
    StatementLine {
        date: Date(line.entry.date),
        kind: line.entry.kind.into(),
        reference: line.entry.reference,
        description: line.entry.description,
        amount: amount(line.entry.amount),
        applied_amount: line.entry.applied.map(amount),
        balance: amount(line.balance),
    }
}

/// The statement as CSV: an opening row, a row per line, a closing row.
fn statement_csv(s: &CustomerStatement, file_name: String) -> Result<CsvFile, AppError> {
    let header = [
        "date",
        "kind",
        "reference",
        "description",
        "amount",
        "applied_amount",
        "balance",
        "currency",
    ];
    // At the first date there is no day before: the books open with `from` itself.
    let day_before = crate::domain::dates::sub_days(s.from.0, 1)
        .unwrap_or(s.from.0)
        .to_string();
    let edge = |date: String, kind: &str, words: &str, balance: &Amount| {
        let words = words.to_owned();
        vec![
            date,
            kind.into(),
            String::new(),
            words,
            String::new(),
            String::new(),
            balance.json_text(),
            s.currency.0.to_string(),
        ]
    };
    let mut rows = vec![edge(
        day_before,
        "opening_balance",
        "Opening balance",
        &s.opening_balance,
    )];
    rows.extend(s.lines.iter().map(|l| {
        vec![
            l.date.0.to_string(),
            EntryKind::from(l.kind).code().to_owned(),
            inert(&l.reference),
            inert(&l.description),
            l.amount.json_text(),
            l.applied_amount
                .as_ref()
                .map(Amount::json_text)
                .unwrap_or_default(),
            l.balance.json_text(),
            s.currency.0.to_string(),
        ]
    }));
    rows.push(edge(
        s.to.0.to_string(),
        "closing_balance",
        "Closing balance",
        &s.closing_balance,
    ));
    CsvFile::of(file_name, &header, rows)
}

/// Everything the statement PDF prints.
fn statement_sheet(read: &Read) -> StatementSheet {
    let s = &read.statement;
    let edge = |date: String, words: &str, balance: &Amount| StatementRow {
        date,
        reference: String::new(),
        description: words.to_owned(),
        amount: String::new(),
        balance: balance.json_text(),
    };
    let a = &s.aging;
    StatementSheet {
        seller: super::invoices::seller(&read.organization),
        buyer: super::invoices::buyer(&read.customer),
        facts: vec![
            ("From".into(), s.from.0.to_string()),
            ("To".into(), s.to.0.to_string()),
            ("Currency".into(), s.currency.0.to_string()),
            ("Amount due".into(), s.closing_balance.json_text()),
        ],
        currency: s.currency.0.to_string(),
        opening: edge(s.from.0.to_string(), "Opening balance", &s.opening_balance),
        rows: s
            .lines
            .iter()
            .map(|l| StatementRow {
                date: l.date.0.to_string(),
                reference: l.reference.clone(),
                description: l.description.clone(),
                amount: l.amount.json_text(),
                balance: l.balance.json_text(),
            })
            .collect(),
        closing: edge(s.to.0.to_string(), "Closing balance", &s.closing_balance),
        aging: [
            ("Current", &a.current),
            ("1–30 days", &a.days_1_30),
            ("31–60 days", &a.days_31_60),
            ("61–90 days", &a.days_61_90),
            ("Over 90 days", &a.days_over_90),
            ("Credit", &a.unapplied_credit),
            ("Net due", &a.net),
        ]
        .into_iter()
        .map(|(label, amount)| (label.to_owned(), amount.json_text()))
        .collect(),
    }
}
