//! E-mailed documents: an invoice (`POST /v1/invoices/{id}/send` with `email`) and a
//! statement (`POST /v1/customers/{id}/statement/email`). The mail goes out first, outside
//! any write: only a message the mail server accepted marks a draft sent. Each try, sent or
//! failed, is a journal event whose `detail` holds the recipients and the outcome.

use chrono::NaiveDate;
use poem_openapi::types::Example;
use poem_openapi::Object;
use serde_json::{json, Value};

use super::auth::AuthContext;
use super::invoices::{invoice_document, to_api, Invoice, Status};
use super::journal::render::{current_answer, current_text};
use super::journal::Trail;
use super::statements::{period, read_statement, statement_pdf};
use super::types::{Amount, CurrencyCode, Date, MaybeJsonBody, Opt, PaperSize, Text};
use super::{AppState, Done, One, Post};
use crate::db::invoices as store;
use crate::domain::invoice::Transition;
use crate::domain::journal::EntityType;
use crate::domain::mailing::{
    invoice_mail, recipients, statement_mail, InvoiceFacts, RecipientError, MAX_RECIPIENTS,
};
use crate::error::{AppError, FieldErrorsBuilder};
use crate::mail::{is_address, Outgoing};

/// Who an e-mailed document goes to, and a note for them.
#[derive(Object, Debug, Clone, Default)]
#[oai(example)]
pub(crate) struct EmailRequest {
    /// Recipients: `jane@example.com` or `Jane Doe <jane@example.com>`. Default: the customer's `email` (a 400 when it has none).
    pub to: Opt<Vec<String>>,
    /// Copies. At most 20 addresses, `to` and `cc` together; an address named twice is sent once.
    pub cc: Opt<Vec<String>>,
    /// Up to 5000 characters of plain text, above the document's summary.
    pub message: Opt<Text<0, 5000, true>>,
}

impl Example for EmailRequest {
    fn example() -> Self {
        EmailRequest {
            to: Opt::Value(vec!["Accounts Payable <ap@globex.example>".into()]),
            cc: Opt::Value(vec!["owner@acme.example".into()]),
            message: Opt::Value("Thank you for your business.".into()),
        }
    }
}

/// `POST /v1/invoices/{id}/send`: nothing, or `email`, to e-mail the invoice PDF (left out,
/// the invoice is only marked sent).
#[derive(Object, Debug, Clone, Default)]
#[oai(example)]
pub(crate) struct SendInvoice {
    pub email: Opt<EmailRequest>,
}

impl Example for SendInvoice {
    fn example() -> Self {
        SendInvoice {
            email: Opt::Value(EmailRequest::example()),
        }
    }
}

/// An e-mail as asked for, its addresses checked.
#[derive(Debug, Clone)]
pub(crate) struct EmailAsk {
    to: Option<Vec<String>>,
    cc: Vec<String>,
    message: Option<String>,
}

impl SendInvoice {
    /// The e-mail asked for, if any, and the body's hash (none without an e-mail, as
    /// before bodies were taken, so a retry of such a send is the same request).
    pub(crate) fn email_of(
        body: MaybeJsonBody<SendInvoice>,
    ) -> Result<Option<(EmailAsk, String)>, AppError> {
        let Some(body) = body.0 else {
            return Ok(None);
        };
        let (body, mut errors, hash) = body.into_parts();
        let email = body.email.object_or_absent("email", &mut errors);
        let ask = email.map(|email| EmailAsk::read(email, "email", &mut errors));
        errors.finish()?;
        Ok(ask.map(|ask| (ask, hash)))
    }
}

impl EmailAsk {
    /// `request`, with every address that is not one named (`email.to[1]`).
    pub(crate) fn read(request: EmailRequest, at: &str, errors: &mut FieldErrorsBuilder) -> Self {
        let mut addresses = |list: Opt<Vec<String>>, name: &str| {
            let field = format!("{at}.{name}");
            let list = list.optional(&field, errors)?;
            for (n, address) in list.iter().enumerate() {
                if !is_address(address.trim()) {
                    errors.add(
                        format!("{field}[{n}]"),
                        format!("'{address}' is not an e-mail address: write jane@example.com or 'Jane Doe <jane@example.com>'"),
                    );
                }
            }
            Some(list)
        };
        let to = addresses(request.to, "to");
        let cc = addresses(request.cc, "cc").unwrap_or_default();
        // The recipients are checked here with the body's other faults (before an
        // `If-Match` is). Without `to`, the customer's address comes in when the mail is
        // made; counted as one of `cc` (the fewest it can add), too many `cc` already fail.
        let early = match (&to, cc.first()) {
            (Some(given), _) => recipients(Some(given.clone()), cc.clone(), None)
                .err()
                .map(|err| recipient_message(&err)),
            (None, Some(first)) => match recipients(None, cc.clone(), Some(first)) {
                Err(RecipientError::TooMany(n)) => Some(format!(
                    "`cc` alone names {n} addresses: at most {MAX_RECIPIENTS} together with the customer's e-mail"
                )),
                _ => None,
            },
            (None, None) => None,
        };
        if let Some(message) = early {
            errors.add(format!("{at}.to"), message);
        }
        let message = request
            .message
            .text()
            .optional(&format!("{at}.message"), errors);
        EmailAsk { to, cc, message }
    }

    /// The recipients: `to`, or the customer's address (when a message can go to it).
    fn recipients(
        &self,
        customer_email: Option<&str>,
    ) -> Result<(Vec<String>, Vec<String>), AppError> {
        if let (None, Some(email)) = (&self.to, customer_email) {
            if !email.trim().is_empty() && !is_address(email.trim()) {
                return Err(AppError::field(
                    "email.to",
                    format!("is required: the customer's e-mail '{email}' is not an address a message can go to (give `to`, or correct the customer's `email`)"),
                ));
            }
        }
        recipients(self.to.clone(), self.cc.clone(), customer_email)
            .map_err(|err| AppError::field("email.to", recipient_message(&err)))
    }
}

/// What to fix when the recipients cannot be made.
fn recipient_message(err: &RecipientError) -> String {
    match err {
        RecipientError::NoAddress => "is required: the customer has no e-mail address (give `to`, or set the customer's `email`)".to_owned(),
        RecipientError::EmptyTo => "must name at least one address".to_owned(),
        RecipientError::TooMany(n) => {
            format!("{n} addresses with `cc`: at most {MAX_RECIPIENTS} together")
        }
    }
}

/// One try at sending, as the journal records it.
struct Delivery {
    detail: Value,
    outcome: Result<String, String>,
}

/// Sends `mail` (`document` describes it for the journal) and says how it went.
async fn deliver(state: &AppState, document: Value, mail: Outgoing) -> Result<Delivery, AppError> {
    let mailer = state.mailer.clone().ok_or(AppError::EmailNotConfigured)?;
    // A mail cannot be taken back: what it shows (read before this call) must be on disk.
    state.db.until_durable().await?;
    let (to, cc, subject) = (mail.to.clone(), mail.cc.clone(), mail.subject.clone());
    let outcome = mailer.send(mail).await;
    let mut detail = json!({"to": to, "cc": cc, "subject": subject});
    if let (Some(fields), Value::Object(document)) = (detail.as_object_mut(), document) {
        fields.extend(document);
        match &outcome {
            Ok(message_id) => {
                fields.insert("outcome".into(), "sent".into());
                fields.insert("message_id".into(), message_id.as_str().into());
            }
            Err(reason) => {
                fields.insert("outcome".into(), "failed".into());
                fields.insert("reason".into(), reason.as_str().into());
            }
        }
    }
    let sent = if outcome.is_ok() { "sent" } else { "failed" };
    tracing::info!(
        recipients = to.len() + cc.len(),
        outcome = sent,
        "document e-mailed"
    );
    Ok(Delivery { detail, outcome })
}

/// Appends `action` with `detail` to `key`'s history while the entity exists (an event
/// after its deletion would read as its coming back, and `verify` would rightly object);
/// answers whether it did.
fn record_on(
    tx: &crate::db::WriteTx,
    trail: &Trail,
    now: &str,
    (key, action): ((EntityType, i64), &str),
    detail: Value,
) -> Result<bool, AppError> {
    let Some(answer) = current_answer(tx, trail.org, key, trail.today())? else {
        tracing::warn!(
            entity = key.0.as_str(),
            id = key.1,
            action,
            "e-mail try not journaled: the entity was deleted meanwhile"
        );
        return Ok(false);
    };
    trail.record_detail(tx, now, (key, action), &answer, detail)?;
    Ok(true)
}

/// Records a failed try on `key`'s history, then answers the 502.
async fn failed(
    state: &AppState,
    trail: Trail,
    (key, action): ((EntityType, i64), &'static str),
    delivery: Delivery,
) -> AppError {
    let reason = delivery.outcome.clone().err().unwrap_or_default();
    let now = state.now_text();
    let recorded = state
        .write(trail.org, move |tx| {
            record_on(tx, &trail, &now, (key, action), delivery.detail)
        })
        .await;
    match recorded {
        Ok(_) => AppError::EmailFailed(reason),
        Err(err) => err,
    }
}

/// The invoice's answer as its `ETag` is made from: the version a send printed.
async fn version_of(
    state: &AppState,
    trail: &Trail,
    key: (EntityType, i64),
) -> Result<Option<String>, AppError> {
    let check = trail.clone();
    state
        .db
        .read(move |conn| {
            check.check_unchanged(conn, key)?;
            current_text(conn, check.org, key, check.today())
        })
        .await
}

/// E-mails invoice `id` (see `send_invoice`): the PDF, then the write that marks a draft
/// sent and records `invoice.emailed`; or `invoice.email_failed` and the 502. A draft
/// changed or deleted while the mail was on its way is not marked sent (the customer has
/// the version before the change): the send is recorded, and the answer is a 409.
pub(crate) async fn email_invoice(
    state: &AppState,
    ctx: &AuthContext,
    trail: Trail,
    id: i64,
    (ask, hash): (EmailAsk, String),
) -> Result<One<Invoice>, AppError> {
    state.mailer.as_ref().ok_or(AppError::EmailNotConfigured)?;
    let post = Post::new(&trail, format!("/v1/invoices/{id}/send"), hash);
    if let Some(first) = post.replay(state).await? {
        return Ok(first);
    }
    let key = (EntityType::Invoice, id);
    let printed = version_of(state, &trail, key).await?;
    let document = invoice_document(state, ctx, id, None, true).await?;
    let invoice = &document.invoice;
    if invoice.status == Status::Void {
        return Err(AppError::conflict(format!(
            "Invoice {} is void: a void invoice is not sent.",
            invoice.invoice_number
        )));
    }
    let (to, cc) = ask.recipients(document.customer.email.as_deref())?;
    let seller = &document.organization.fields;
    let (subject, text) = invoice_mail(&seller.name, &facts(invoice), ask.message.as_deref());
    let mail = Outgoing {
        to,
        cc,
        reply_to: seller.email.clone().filter(|email| is_address(email)),
        subject,
        text,
        attachment: (document.pdf.file_name, document.pdf.bytes),
    };
    let number = invoice.invoice_number.clone();
    let about = json!({"document": "invoice", "invoice_number": number});
    let delivery = deliver(state, about, mail).await?;
    let message_id = match &delivery.outcome {
        Ok(message_id) => message_id.clone(),
        Err(_) => return Err(failed(state, trail, (key, "email_failed"), delivery).await),
    };
    let late = (trail.clone(), delivery.detail.clone());
    let (org, today) = (trail.org, trail.today());
    let marked = post
        .run(state, move |tx, now| {
            let now_text = current_text(tx, org, key, today)?;
            if now_text.is_none() {
                return Err(AppError::conflict(format!(
                    "Invoice {number} was deleted while it was being e-mailed: the e-mail went out ({message_id}), and nothing else was done."
                )));
            }
            if store::get(tx, org, id)?.status == crate::domain::invoice::InvoiceStatus::Draft {
                if now_text != printed {
                    return Err(AppError::conflict(format!(
                        "Invoice {number} changed while it was being e-mailed: the customer received the version before the change ({message_id}, in the invoice's history), and it was not marked sent. Send it again to mail this version."
                    )));
                }
                let sent = to_api(store::transition(tx, org, id, now, Transition::Send)?, today, true);
                trail.record_answer(tx, now, key, "sent", &sent)?;
            }
            let invoice = to_api(store::get(tx, org, id)?, today, true);
            trail.record_detail(tx, now, (key, "emailed"), &invoice, delivery.detail)?;
            Ok((invoice, None))
        })
        .await;
    if let Err(conflict @ AppError::Conflict { .. }) = marked {
        // The mail went out all the same: it goes on the history of what is there now.
        let now = state.now_text();
        let (trail, detail) = late;
        state
            .write(trail.org, move |tx| {
                record_on(tx, &trail, &now, (key, "emailed"), detail)
            })
            .await?;
        return Err(conflict);
    }
    marked
}

/// The figures an invoice's e-mail names, as its JSON gives them.
fn facts(invoice: &Invoice) -> InvoiceFacts {
    InvoiceFacts {
        number: invoice.invoice_number.clone(),
        total: invoice.total.json_text(),
        balance_due: invoice.balance_due.json_text(),
        currency: invoice.currency.0.to_string(),
        issue_date: invoice.issue_date.0.to_string(),
        due_date: invoice.due_date.0.to_string(),
    }
}

/// `POST /v1/customers/{id}/statement/email`: the period, the `paper` (default the
/// organization's `paper_size`) and the `email` (default: to the customer's `email`, without a
/// note).
#[derive(Object, Debug, Clone, Default)]
#[oai(example)]
pub(crate) struct StatementEmail {
    /// First day of the period; default the first day of `to`'s month.
    pub from: Opt<Date>,
    /// Last day of the period; default today.
    pub to: Opt<Date>,
    pub paper: Opt<PaperSize>,
    pub email: Opt<EmailRequest>,
}

impl Example for StatementEmail {
    fn example() -> Self {
        let day = |m, d| {
            Opt::Value(Date(
                NaiveDate::from_ymd_opt(2026, m, d).unwrap_or_default(),
            ))
        };
        StatementEmail {
            from: day(10, 1),
            to: day(12, 31),
            paper: Opt::Absent,
            email: Opt::Value(EmailRequest::example()),
        }
    }
}

/// A statement, as asked for.
pub(crate) struct StatementAsk {
    period: (NaiveDate, NaiveDate),
    paper: Option<PaperSize>,
    email: EmailAsk,
}

impl StatementEmail {
    /// The statement asked for (a request without a body: this month's, to the customer)
    /// and the body's hash.
    pub(crate) fn read(
        body: MaybeJsonBody<StatementEmail>,
        today: NaiveDate,
    ) -> Result<(StatementAsk, String), AppError> {
        let (body, mut errors, mut hash) = match body.0 {
            Some(body) => body.into_parts(),
            None => (
                StatementEmail::default(),
                FieldErrorsBuilder::new(),
                String::new(),
            ),
        };
        // `{}` asks for what no body asks for: a retry may send either.
        let given = [
            body.from.is_absent(),
            body.to.is_absent(),
            body.paper.is_absent(),
        ];
        if given.into_iter().all(|absent| absent) && body.email.is_absent() {
            hash.clear();
        }
        let from = body.from.optional("from", &mut errors);
        let to = body.to.optional("to", &mut errors);
        let period = period((from, to), today, &mut errors);
        let paper = body.paper.optional("paper", &mut errors);
        let email = body
            .email
            .object_or_absent("email", &mut errors)
            .unwrap_or_default();
        let email = EmailAsk::read(email, "email", &mut errors);
        errors.finish()?;
        Ok((
            StatementAsk {
                period,
                paper,
                email,
            },
            hash,
        ))
    }
}

/// The e-mail that went out.
#[derive(Object, Debug, Clone, serde::Serialize)]
pub(crate) struct EmailSent {
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub subject: String,
    /// The message's `Message-ID` header, to find it in the mail server's log.
    pub message_id: String,
}

/// A statement e-mailed: its period, what it says is owed, and the e-mail.
#[derive(Object, Debug, Clone, serde::Serialize)]
#[oai(example)]
pub(crate) struct EmailedStatement {
    pub customer_id: i64,
    pub from: Date,
    pub to: Date,
    /// What the customer owed net of credit at the end of `to`, as the statement says.
    pub closing_balance: Amount,
    pub currency: CurrencyCode,
    pub email: EmailSent,
}

impl Example for EmailedStatement {
    fn example() -> Self {
        let day = |m, d| Date(NaiveDate::from_ymd_opt(2026, m, d).unwrap_or_default());
        let currency = crate::domain::currency::Currency::default();
        EmailedStatement {
            customer_id: 3,
            from: day(10, 1),
            to: day(12, 31),
            closing_balance: Amount::new(
                crate::domain::money::Money::from_minor(125_000),
                currency,
            ),
            currency: CurrencyCode(currency),
            email: EmailSent {
                to: vec!["Accounts Payable <ap@globex.example>".into()],
                cc: vec![],
                subject: "Statement 2026-10-01 to 2026-12-31 from Acme".into(),
                message_id: "<176497.3f2a@mail.acme.example>".into(),
            },
        }
    }
}

/// E-mails customer `id`'s statement: the PDF, then `customer.statement_emailed`; or
/// `customer.statement_email_failed` and the 502.
pub(crate) async fn email_statement(
    state: &AppState,
    trail: Trail,
    id: i64,
    ask: StatementAsk,
    hash: String,
) -> Result<Done<EmailedStatement>, AppError> {
    state.mailer.as_ref().ok_or(AppError::EmailNotConfigured)?;
    let post = Post::new(&trail, format!("/v1/customers/{id}/statement/email"), hash);
    if let Some(first) = post.replay(state).await? {
        return Ok(first);
    }
    let read = read_statement(state, (trail.org, id), ask.period).await?;
    let (to, cc) = ask.email.recipients(read.customer.email.as_deref())?;
    let pdf = statement_pdf(state, &read, ask.paper).await?;
    let (s, seller) = (&read.statement, &read.organization.fields);
    let (from_text, to_text) = (s.from.0.to_string(), s.to.0.to_string());
    let closing = (s.closing_balance.json_text(), s.currency.0.to_string());
    let (subject, text) = statement_mail(
        &seller.name,
        (&from_text, &to_text),
        (&closing.0, &closing.1),
        ask.email.message.as_deref(),
    );
    let mail = Outgoing {
        to: to.clone(),
        cc: cc.clone(),
        reply_to: seller.email.clone().filter(|email| is_address(email)),
        subject: subject.clone(),
        text,
        attachment: (pdf.file_name, pdf.bytes),
    };
    let about = json!({"document": "statement", "period": {"from": from_text, "to": to_text}});
    let key = (EntityType::Customer, id);
    let delivery = deliver(state, about, mail).await?;
    let message_id = match &delivery.outcome {
        Ok(message_id) => message_id.clone(),
        Err(_) => {
            return Err(failed(state, trail, (key, "statement_email_failed"), delivery).await)
        }
    };
    let answer = EmailedStatement {
        customer_id: id,
        from: s.from,
        to: s.to,
        closing_balance: s.closing_balance,
        currency: s.currency,
        email: EmailSent {
            to,
            cc,
            subject,
            message_id,
        },
    };
    let sent_as = answer.email.message_id.clone();
    post.run(state, move |tx, now| {
        if !record_on(tx, &trail, now, (key, "statement_emailed"), delivery.detail)? {
            return Err(AppError::conflict(format!(
                "Customer {id} was deleted while its statement was being e-mailed: the e-mail went out ({sent_as})."
            )));
        }
        Ok((answer, None))
    })
    .await
}
