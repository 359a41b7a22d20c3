//! The scope each operation needs, in one table a test walks over every operation of the
//! spec. Handlers ask for theirs by operation id; an id missing here needs `admin`, so a
//! forgotten entry fails closed (and the test names it). [`refuse_out_of_scope`] asks
//! first, before anything else about the request is judged.

use std::sync::Arc;

use poem::{Endpoint, IntoResponse, Request, Response};

use crate::api::auth::AuthContext;
use crate::api::middleware::{refuse_after_body, RouteTable};
use crate::domain::keys::Scope;

/// (operation id, the least scope that may call it), for every operation behind a key.
pub const OPERATION_SCOPES: [(&str, Scope); 52] = [
    ("ping", Scope::Read),
    ("get_organization", Scope::Read),
    ("update_organization", Scope::Admin),
    ("list_customers", Scope::Read),
    ("get_customer", Scope::Read),
    ("create_customer", Scope::Write),
    ("update_customer", Scope::Write),
    ("delete_customer", Scope::Write),
    ("customer_statement", Scope::Read),
    ("email_customer_statement", Scope::Write),
    ("list_invoices", Scope::Read),
    ("get_invoice", Scope::Read),
    ("get_invoice_pdf", Scope::Read),
    ("create_invoice", Scope::Write),
    ("preview_invoice", Scope::Write),
    ("update_invoice", Scope::Write),
    ("delete_invoice", Scope::Write),
    ("send_invoice", Scope::Write),
    ("void_invoice", Scope::Write),
    ("write_off_invoice", Scope::Write),
    ("reverse_write_off", Scope::Write),
    ("list_payments", Scope::Read),
    ("get_payment", Scope::Read),
    ("create_payment", Scope::Write),
    ("allocate_payment", Scope::Write),
    ("void_payment", Scope::Write),
    ("refund_payment", Scope::Write),
    ("list_credit_notes", Scope::Read),
    ("get_credit_note", Scope::Read),
    ("create_credit_note", Scope::Write),
    ("allocate_credit_note", Scope::Write),
    ("void_credit_note", Scope::Write),
    ("refund_credit_note", Scope::Write),
    ("aging_report", Scope::Read),
    ("dashboard_report", Scope::Read),
    ("list_events", Scope::Read),
    ("customer_history", Scope::Read),
    ("invoice_history", Scope::Read),
    ("payment_history", Scope::Read),
    ("credit_note_history", Scope::Read),
    ("create_webhook_endpoint", Scope::Admin),
    ("list_webhook_endpoints", Scope::Admin),
    ("get_webhook_endpoint", Scope::Admin),
    ("update_webhook_endpoint", Scope::Admin),
    ("delete_webhook_endpoint", Scope::Admin),
    ("list_webhook_deliveries", Scope::Admin),
    ("retry_webhook_delivery", Scope::Admin),
    ("list_api_keys", Scope::Admin),
    ("get_api_key", Scope::Admin),
    ("create_api_key", Scope::Admin),
    ("revoke_api_key", Scope::Admin),
    ("create_backup", Scope::Admin),
];

/// The scope `operation_id` needs.
pub fn scope_of(operation_id: &str) -> Scope {
    declared(operation_id).unwrap_or(Scope::Admin)
}

fn declared(operation_id: &str) -> Option<Scope> {
    OPERATION_SCOPES
        .iter()
        .find(|(id, _)| *id == operation_id)
        .map(|(_, scope)| *scope)
}

/// Answers the 403 to a key whose scope does not allow the operation it calls, before its
/// query, path id, `Idempotency-Key` or body are looked at: a read-only key is told that
/// it may not write, not how to mend a body it may not send. It runs once the key is
/// authenticated (no key, or a bad one, is the 401 before it); operations without a key
/// (`/health`, `/ready`) are not in the table and pass. Each handler asks again.
pub(crate) async fn refuse_out_of_scope<E: Endpoint>(
    table: Arc<RouteTable>,
    inner: E,
    req: Request,
) -> poem::Result<Response> {
    // An admin key may call every operation: only a narrower one needs the route looked up.
    let narrower = req
        .extensions()
        .get::<Arc<AuthContext>>()
        .filter(|context| context.scope != Scope::Admin);
    if let Some(context) = narrower {
        let operation = table.operation_id(req.method().as_str(), req.uri().path());
        if let Some(Err(refused)) = operation.and_then(declared).map(|s| context.require(s)) {
            return Ok(refuse_after_body(&refused, req).await);
        }
    }
    Ok(inner.call(req).await?.into_response())
}
